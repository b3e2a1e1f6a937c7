import Foundation

/// The DRIVE retinal-vessel dataset in its distributed layout:
/// `ROOT/training/{images/NN_training.tif, 1st_manual/NN_manual1.gif, mask/NN_training_mask.gif}`
/// and the same under `ROOT/test/` with `_test`, the three files of an image paired by the
/// number `NN` in front of their names.
///
/// Labels follow the PyTorch recipe (WZMIAOMIAO's `DriveDataset`): `manual / 255 + (255 - fov)`
/// clipped to 255, so a vessel pixel (manual 255) is 1, background 0, and every pixel outside
/// the field of view (FOV mask 0) is 255 — a vessel pixel outside the FOV too. The recipe's
/// arithmetic only makes sense for 0/255 files, which DRIVE's are; here a pixel is vessel when
/// the manual's gray value is at least 128 and inside the FOV when the mask's is, which gives
/// the same labels on DRIVE and no nonsense class ids on a re-saved, blurred copy.
public struct DriveDataset: FieldOfViewDataset {
    /// One image's three files; `name` is the image's stem (`21_training`).
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let image: String
        public let manual: String
        public let fov: String
    }

    /// The two folders of the distribution: `training/` trains, `test/` validates.
    public enum Split: String, Sendable {
        case training, test
    }

    public let entries: [Entry]
    /// Channels of the images as the model reads them (3: the RGB of the TIFFs).
    public let channels: Int
    /// The label of pixels outside the field of view.
    public let ignoreIndex: Int32

    /// The images of `split` under `root`, sorted by number; throws one error listing every
    /// missing folder, image without an annotation or mask, and annotation without an image.
    public init(root: String, split: Split, channels: Int = 3, ignoreIndex: Int32 = 255) throws {
        _ = try Sample.colorModel(channels: channels)
        let folder = root + "/" + split.rawValue
        let kinds = [("images", "_\(split.rawValue)"), ("1st_manual", "_manual1"), ("mask", "_\(split.rawValue)_mask")]
        let missing = kinds.map(\.0).filter { !DataFiles.isDirectory(folder + "/" + $0) }
        guard missing.isEmpty else {
            var message = DataFiles.isDirectory(folder)
                ? "\(folder): no \(missing.joined(separator: ", ")) folder\(missing.count > 1 ? "s" : ""); "
                : "\(root): no \(split.rawValue)/ folder; "
            message += "DRIVE is read as distributed: training/ and test/, each with images/, 1st_manual/ and mask/"
            if DataFiles.isDirectory(root + "/DRIVE") { message += " (did you mean data.root: \(root)/DRIVE?)" }
            throw DataPipelineError(message)
        }
        // number → file name, for each of the three folders.
        var problems: [String] = []
        let files = try kinds.map { kind, suffix in
            try Self.numbered(folder + "/" + kind, suffix: suffix, problems: &problems)
        }
        for (number, image) in files[0].sorted(by: { $0.key < $1.key }) {
            for k in 1...2 where files[k][number] == nil { problems.append("no \(kinds[k].0) for \(image)") }
        }
        for k in 1...2 {
            for (number, name) in files[k].sorted(by: { $0.key < $1.key }) where files[0][number] == nil {
                problems.append("\(kinds[k].0)/\(name) has no image")
            }
        }
        guard problems.isEmpty else {
            throw DataPipelineError("\(folder): " + DataFiles.listing(problems, separator: "; "))
        }
        guard !files[0].isEmpty else {
            throw DataPipelineError("\(folder)/images: no NN\(kinds[0].1).tif images")
        }
        entries = files[0].keys.sorted().map { number in
            Entry(name: DataFiles.split(files[0][number]!).stem,
                  image: folder + "/images/" + files[0][number]!,
                  manual: folder + "/1st_manual/" + files[1][number]!,
                  fov: folder + "/mask/" + files[2][number]!)
        }
        self.channels = channels
        self.ignoreIndex = ignoreIndex
    }

    /// Training (`training/`) and validation (`test/`) sets; with `valFraction`, both are
    /// drawn from `training/` by `HoldOutSplit` instead and `test/` is left alone.
    public static func splits(root: String, channels: Int = 3, ignoreIndex: Int32 = 255, valFraction: Double? = nil)
        throws -> (train: DriveDataset, val: DriveDataset) {
        let training = try DriveDataset(root: root, split: .training, channels: channels, ignoreIndex: ignoreIndex)
        if let valFraction {
            let (train, val) = try HoldOutSplit.indices(count: training.count, fraction: valFraction)
            return (training.subset(train), training.subset(val))
        }
        return (training, try DriveDataset(root: root, split: .test, channels: channels, ignoreIndex: ignoreIndex))
    }

    private init(entries: [Entry], channels: Int, ignoreIndex: Int32) {
        self.entries = entries
        self.channels = channels
        self.ignoreIndex = ignoreIndex
    }

    /// The entries `indices`, same settings.
    public func subset(_ indices: [Int]) -> DriveDataset {
        DriveDataset(entries: indices.map { entries[$0] }, channels: channels, ignoreIndex: ignoreIndex)
    }

    public var count: Int { entries.count }

    /// The same images with the second observer's annotations (`2nd_manual/NN_manual2.gif`,
    /// distributed for the test images only) as their labels, for scoring against them; throws
    /// one error listing every image without one.
    public func secondObserver() throws -> DriveDataset {
        var problems: [String] = []
        let second = entries.map { entry -> Entry in
            let folder = URL(fileURLWithPath: entry.image).deletingLastPathComponent().deletingLastPathComponent().path
            let number = entry.name.prefix { $0 != "_" }
            let manual = "\(folder)/2nd_manual/\(number)_manual2.gif"
            if !DataFiles.isFile(manual) { problems.append(manual) }
            return Entry(name: entry.name, image: entry.image, manual: manual, fov: entry.fov)
        }
        guard problems.isEmpty else {
            throw DataPipelineError("no second observer's annotation: " + DataFiles.listing(problems, separator: ", ")
                                    + " (DRIVE distributes 2nd_manual/ for the test images only)")
        }
        return DriveDataset(entries: second, channels: channels, ignoreIndex: ignoreIndex)
    }

    public func sample(_ index: Int) throws -> Sample {
        precondition(index >= 0 && index < count, "DRIVE sample \(index) of \(count)")
        let entry = entries[index]
        let image = try ImageCodec.read(entry.image)
        // The GIFs are palette images; their colours (0/255), not their indices, are the values.
        let manual = try ImageCodec.read(entry.manual).converted(to: .gray)
        let fov = try ImageCodec.read(entry.fov).converted(to: .gray)
        for (file, other) in [(entry.manual, manual), (entry.fov, fov)]
            where other.width != image.width || other.height != image.height {
            throw DataPipelineError("\(file) is \(other.width)x\(other.height) but its image \(entry.image) "
                                    + "is \(image.width)x\(image.height)")
        }
        var label = [Int32](repeating: ignoreIndex, count: image.width * image.height)
        manual.samples.withUnsafeBufferPointer { m in
            fov.samples.withUnsafeBufferPointer { f in
                label.withUnsafeMutableBufferPointer { out in
                    for i in 0..<out.count where f[i] >= 128 { out[i] = m[i] >= 128 ? 1 : 0 }
                }
            }
        }
        return try Sample(image: image, channels: channels, label: label, name: entry.name, file: entry.image)
    }

    /// The image files of `folder` named `NN<suffix>.<image extension>`, by NN; other files
    /// (DRIVE has none, a copy may have `Thumbs.db`) are passed over.
    private static func numbered(_ folder: String, suffix: String, problems: inout [String]) throws -> [Int: String] {
        var out: [Int: String] = [:]
        for name in try DataFiles.files(in: folder) where DataFiles.isImage(name) {
            let stem = DataFiles.split(name).stem
            guard stem.hasSuffix(suffix), let number = Int(stem.dropLast(suffix.count)), number >= 0 else { continue }
            if let earlier = out[number] {
                problems.append("\(earlier) and \(name) in \(folder) have the same number")
                continue
            }
            out[number] = name
        }
        return out
    }
}
