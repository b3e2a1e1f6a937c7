import Foundation
import Nets

/// Every image and mask file of a run's datasets read before the first epoch, with every
/// problem reported in one list, each naming its file: files that do not decode (truncated,
/// not an image), masks whose size differs from their image's, colour masks without
/// `data.palette`, mask values that are no class id, images with more colour channels than
/// `model.in_channels` reads, and (without a crop) training images smaller than the model's
/// minimum input at the smallest random scale.
///
/// Files are decoded in full, not only their headers: a truncated file is only found that way.
/// That costs about what one epoch's data loading does (DRIVE's 120 files: under a second).
public struct DataCheck {
    /// One problem: the file it concerns, and the line that says what is wrong (starting with the file).
    public struct Problem: Equatable, Sendable, CustomStringConvertible {
        public let file: String
        public let description: String

        init(_ file: String, _ message: String) {
            self.file = file
            description = "\(file): \(message)"
        }

        /// A problem from an error whose text already starts with `file` (ImageError, LabelError).
        init(_ file: String, error: Error) {
            self.file = file
            let text = "\(error)"
            description = text.hasPrefix(file + ": ") ? text : "\(file): \(text)"
        }
    }

    /// What the check found; `files` counts the files read.
    public struct Report: Sendable {
        public var problems: [Problem] = []
        public var files = 0
        public var samples = 0
    }

    /// What a dataset's samples must satisfy beyond decoding.
    struct Requirements {
        var channels: Int
        /// Images smaller than this (after `minScale`) cannot pass the network; 0: no limit.
        var minimumSide: Int
        var minScale: Double
    }

    /// Checks the training and validation data of `config` for a model needing `minimumSide`
    /// (a cross-validation fold as `splits` has it). Throws a `ConfigError` when the datasets
    /// cannot even be listed (a missing folder) or the fold cannot be found.
    public static func run(_ config: ExperimentConfig, at locations: ConfigLocations, minimumSide: Int,
                           splits: SplitsStore? = nil) throws -> Report {
        let (train, val) = try RunSetup.datasets(config, at: locations, splits: splits)
        let channels = config.model.inChannels
        // With a crop, small images are padded up to the crop; without one they must fit the network.
        let trainNeeds = Requirements(channels: channels, minimumSide: config.data.crop == nil ? minimumSide : 0,
                                      minScale: config.data.scale?.lowerBound ?? 1)
        var report = Report()
        for (dataset, needs) in [(train, trainNeeds), (val, Requirements(channels: channels, minimumSide: 0, minScale: 1))] {
            for r in checkAll(dataset, needs) {
                report.problems += r.problems
                report.files += r.files
            }
            report.samples += dataset.count
        }
        return report
    }

    /// One sample's files checked: their problems and how many files were read.
    struct SampleCheck: Sendable {
        var problems: [Problem] = []
        var files = 0
    }

    /// Every sample of `dataset`, on all threads, in sample order.
    static func checkAll(_ dataset: any Dataset, _ needs: Requirements) -> [SampleCheck] {
        var results = [SampleCheck](repeating: SampleCheck(), count: dataset.count)
        results.withUnsafeMutableBufferPointer { buffer in
            let out = buffer.baseAddress!
            parallelFor(dataset.count) { i in out[i] = check(dataset, i, needs) }
        }
        return results
    }

    /// The files of sample `index`; generated data (the synthetic set) has none and is right
    /// by construction.
    static func check(_ dataset: any Dataset, _ index: Int, _ needs: Requirements) -> SampleCheck {
        guard let files = dataset as? any FileDataset else { return SampleCheck() }
        let paths = files.files(of: index)
        return checkFiles(image: paths[0], masks: Array(paths.dropFirst()), needs) { masks in
            // Vessel masks are binary by construction; other masks must hold class ids.
            if let d = dataset as? ImageMaskDataset { _ = try d.rules.classIds(masks[0], file: paths[1]) }
        }
    }

    /// Reads an image and its masks, reporting each unreadable file, each mask whose size
    /// differs from the image's, what `labels` throws for the masks, and the image's fit.
    static func checkFiles(image path: String, masks maskPaths: [String], _ needs: Requirements,
                           labels: ([Image]) throws -> Void) -> SampleCheck {
        var result = SampleCheck()
        func read(_ file: String) -> Image? {
            result.files += 1
            do {
                return try ImageCodec.read(file)
            } catch {
                result.problems.append(Problem(file, error: error))
                return nil
            }
        }
        let image = read(path)
        let masks = maskPaths.map(read)
        if let image {
            if let problem = fit(image, needs) { result.problems.append(Problem(path, problem)) }
            for (file, mask) in zip(maskPaths, masks) {
                if let mask, mask.width != image.width || mask.height != image.height {
                    result.problems.append(Problem(file, "the mask is \(mask.width)x\(mask.height) but its image "
                                                   + "\(path) is \(image.width)x\(image.height)"))
                }
            }
        }
        let decoded = masks.compactMap { $0 }
        if decoded.count == masks.count {
            do {
                try labels(decoded)
            } catch {
                let file = maskPaths.first { "\(error)".hasPrefix($0 + ": ") } ?? maskPaths[0]
                result.problems.append(Problem(file, error: error))
            }
        }
        return result
    }

    /// Why `image` does not suit the model, or nil: colour that `in_channels` would drop
    /// (gray images are widened to RGB, as torchvision's `convert("RGB")` does), or a size below
    /// the network's minimum.
    static func fit(_ image: Image, _ needs: Requirements) -> String? {
        let colour = image.colorModel == .rgb || image.colorModel == .rgba
            || (image.colorModel == .indexed && !image.palette.allSatisfy { $0.red == $0.green && $0.green == $0.blue })
        if colour && needs.channels < 3 {
            return "a colour image, but model.in_channels is \(needs.channels), which would read it as gray; "
                + "set model.in_channels: 3, or convert the images to gray"
        }
        let side = min(image.width, image.height)
        if needs.minimumSide > 0, Double(side) * needs.minScale < Double(needs.minimumSide) {
            let scaled = needs.minScale < 1 ? " (\(Int(Double(side) * needs.minScale)) at the smallest data.scale)" : ""
            return "\(image.width)x\(image.height)\(scaled) is smaller than the model's minimum input of "
                + "\(needs.minimumSide)x\(needs.minimumSide); set data.crop, or a larger data.scale"
        }
        return nil
    }
}
