import Foundation

/// File-system helpers shared by the file-based datasets: listing a folder's image files and
/// writing the lists of problems their errors carry.
enum DataFiles {
    /// Extensions of the formats `ImageCodec` reads (the codec itself goes by content).
    static let imageExtensions: Set<String> = ["png", "jpg", "jpeg", "tif", "tiff", "gif", "ppm", "pgm"]

    static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }

    static func isFile(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && !isDir.boolValue
    }

    /// The names of the visible entries of `folder` that are not folders, sorted.
    static func files(in folder: String) throws -> [String] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder)
        } catch {
            throw DataPipelineError("\(folder): cannot list the folder (\(error.localizedDescription))")
        }
        return names.filter { !$0.hasPrefix(".") && !isDirectory(folder + "/" + $0) }.sorted()
    }

    /// The visible subfolders of `folder`, sorted; none when it cannot be listed.
    static func subfolders(of folder: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter { !$0.hasPrefix(".") && isDirectory(folder + "/" + $0) }.sorted()
    }

    /// `name` split at its last dot: ("21_training", "tif"); no extension gives "". A gzip
    /// file keeps its inner extension: "im0001.ppm.gz" is ("im0001", "ppm.gz").
    static func split(_ name: String) -> (stem: String, ext: String) {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return (name, "") }
        let stem = String(name[..<dot]), ext = String(name[name.index(after: dot)...])
        if ext.lowercased() == "gz", case let inner = split(stem), !inner.ext.isEmpty, !inner.ext.contains(".") {
            return (inner.stem, inner.ext + "." + ext)
        }
        return (stem, ext)
    }

    /// Whether `name` has the extension of a readable image format (any letter case), gzipped or not.
    static func isImage(_ name: String) -> Bool {
        var ext = split(name).ext.lowercased()
        if ext.hasSuffix(".gz") { ext.removeLast(3) }
        return imageExtensions.contains(ext)
    }

    /// The first `limit` items joined by `separator`, then "and N more" when some are left out.
    static func listing(_ items: [String], limit: Int = 10, separator: String = ", ") -> String {
        let shown = items.prefix(limit).joined(separator: separator)
        return items.count > limit ? shown + "\(separator)and \(items.count - limit) more" : shown
    }
}
