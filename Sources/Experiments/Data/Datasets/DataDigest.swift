import Foundation
import Nets

/// The files a run's data was read from, summed up in one digest, so that a run records exactly
/// which data it saw and two runs can be told to have seen the same.
public struct DataDigest: Codable, Equatable, Sendable {
    /// How many distinct files, and their bytes.
    public var files: Int
    public var bytes: Int
    /// SHA-256 of the lines `<file's SHA-256>  <path>\n`, sorted by path, with each path relative
    /// to the data root, so the digest does not depend on where the data lies.
    public var sha256: String

    /// The digest of every file of `datasets`, or nil when none is read from files (generated data).
    /// Throws, naming the file, when one cannot be read.
    static func of(_ datasets: [any Dataset], root: String) throws -> DataDigest? {
        var paths = Set<String>()
        for case let dataset as any FileDataset in datasets {
            for i in 0..<dataset.count { paths.formUnion(dataset.files(of: i)) }
        }
        guard !paths.isEmpty else { return nil }
        let sorted = paths.sorted()
        let prefix = root.hasSuffix("/") ? root : root + "/"
        var lines = [String](repeating: "", count: sorted.count)
        var sizes = [Int](repeating: 0, count: sorted.count)
        var failed = [String?](repeating: nil, count: sorted.count)
        lines.withUnsafeMutableBufferPointer { lineBuffer in
            sizes.withUnsafeMutableBufferPointer { sizeBuffer in
                failed.withUnsafeMutableBufferPointer { failedBuffer in
                    let (l, s, f) = (lineBuffer.baseAddress!, sizeBuffer.baseAddress!, failedBuffer.baseAddress!)
                    parallelFor(sorted.count) { i in
                        let path = sorted[i]
                        guard let data = FileManager.default.contents(atPath: path) else {
                            f[i] = "\(path): cannot read the file"
                            return
                        }
                        let name = path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
                        l[i] = SHA256.hex(data) + "  " + name + "\n"
                        s[i] = data.count
                    }
                }
            }
        }
        if let problem = failed.compactMap({ $0 }).first { throw DataPipelineError(problem) }
        return DataDigest(files: sorted.count, bytes: sizes.reduce(0, +), sha256: SHA256.hex(lines.joined()))
    }
}
