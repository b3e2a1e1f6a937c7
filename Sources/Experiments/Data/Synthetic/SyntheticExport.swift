import Foundation
import Nets

extension SyntheticDataset {
    /// Writes generator samples `indices` to `directory` in the `folder` dataset's layout, so
    /// people can look at the built-in data and train on it as files:
    /// `images/synthetic_0007.png` (RGB) and `masks/synthetic_0007.png`, a palette PNG whose
    /// pixel values are the class ids (0 background, 1 vessel, `ignoreIndex` outside the field
    /// of view) shown in the VOC colours. Read back, the files give exactly the samples this
    /// dataset serves. Samples are generated and encoded on all threads.
    public static func export(_ generator: SyntheticFundus, indices: Range<Int>, to directory: String,
                              ignoreIndex: Int32 = 255) throws {
        guard indices.lowerBound >= 0 else {
            throw DataPipelineError("synthetic sample indices \(indices) must not be negative")
        }
        guard (2...255).contains(ignoreIndex) else {
            throw DataPipelineError("ignore index \(ignoreIndex) must be 2...255 to be stored in an 8-bit mask")
        }
        let fm = FileManager.default
        for sub in ["images", "masks"] {
            try fm.createDirectory(atPath: directory + "/" + sub, withIntermediateDirectories: true)
        }
        let ignore = UInt8(ignoreIndex)
        // In chunks of a few samples per thread, so a large set never sits in memory at once.
        let chunk = max(1, 2 * Threads.count)
        for start in stride(from: indices.lowerBound, to: indices.upperBound, by: chunk) {
            let range = start..<min(start + chunk, indices.upperBound)
            var errors = [Error?](repeating: nil, count: range.count)
            errors.withUnsafeMutableBufferPointer { errors in
                let errors = errors.baseAddress!
                parallelFor(range.count) { k in
                    do {
                        let i = range.lowerBound + k
                        let s = generator.sample(i)
                        var mask = s.label
                        for p in 0..<mask.count where !s.fov[p] { mask[p] = ignore }
                        let name = SyntheticDataset.name(i) + ".png"
                        try ImageCodec.writePNG(Image(width: s.size, height: s.size, colorModel: .rgb, samples: s.image),
                                                to: directory + "/images/" + name)
                        try ImageCodec.writePNG(Image(width: s.size, height: s.size, colorModel: .indexed, samples: mask,
                                                      palette: Image.Color.vocColorMap),
                                                to: directory + "/masks/" + name)
                    } catch {
                        errors[k] = error
                    }
                }
            }
            if let error = errors.compactMap({ $0 }).first { throw error }
        }
    }
}

extension SyntheticDataset {
    /// The generator seed of a config's `synthetic` dataset: the same images for every run and
    /// every seed of a sweep, and what `runexp data synthetic` writes by default.
    public static let configSeed: UInt64 = RunSetup.syntheticDataSeed
}
