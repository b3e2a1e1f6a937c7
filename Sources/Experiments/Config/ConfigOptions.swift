import Foundation

/// How a config is checked against the file system.
///
/// Relative paths in a config (`data.root`, `init.checkpoint`, `model.pretrained`) are
/// looked up first relative to the folder of the YAML file that wrote them, then relative
/// to `currentDirectory`; the first that exists is what the resolved config stores
/// (relative to `currentDirectory` when the YAML path was relative, so a run's
/// `config.yaml` re-runs from the project folder). A value given with `--set` is relative
/// to `currentDirectory` only. `~/` means the home folder.
public struct ConfigOptions: Sendable {
    /// Report a missing data folder, checkpoint or pretrained file as an error. The CLI
    /// (also for `--dry-run`) keeps this on; tests of configs without data turn it off.
    public var checkPaths: Bool
    /// The folder relative paths (including YAML file paths) are taken from.
    public var currentDirectory: String

    public init(checkPaths: Bool = true, currentDirectory: String? = nil) {
        self.checkPaths = checkPaths
        self.currentDirectory = currentDirectory ?? FileManager.default.currentDirectoryPath
    }
}

/// Finds the paths a config names, as `ConfigOptions` describes.
struct PathResolver {
    let options: ConfigOptions

    /// The resolved path, or nil with the candidates tried.
    func resolve(_ path: String, writtenAt location: SourceLocation, directory: Bool) -> (found: String?, tried: [String]) {
        var candidates: [String]
        if path.hasPrefix("~/"), let home = ProcessInfo.processInfo.environment["HOME"] {
            candidates = [home + String(path.dropFirst(1))]
        } else if path.hasPrefix("/") || !location.isInFile {
            candidates = [path]
        } else {
            candidates = [joinPath(parentFolder(location.file), path), path]
        }
        candidates = candidates.map(normalizePath).reduce(into: []) { if !$0.contains($1) { $0.append($1) } }
        for candidate in candidates {
            let absolute = candidate.hasPrefix("/") ? candidate : joinPath(options.currentDirectory, candidate)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: absolute, isDirectory: &isDirectory), isDirectory.boolValue == directory {
                return (candidate, candidates)
            }
        }
        return (nil, candidates)
    }

    /// Resolves the path at `key` of a reader, recording an error when it is missing.
    func resolve(_ path: String, key: String, in r: SectionReader, directory: Bool) -> String {
        let (found, tried) = resolve(path, writtenAt: r.location(key), directory: directory)
        if let found { return found }
        if options.checkPaths {
            let what = directory ? "folder" : "file"
            let looked = tried.count == 1 && tried[0] == path ? "" : " (looked for \(tried.joined(separator: " and ")))"
            r.error(key, "\(what) '\(path)' not found\(looked); give it with --set \(r.fullPath(key))=PATH")
        }
        return path
    }
}

/// The folder part of a path ("" for a bare file name).
func parentFolder(_ path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "" }
    return path[..<slash].isEmpty ? "/" : String(path[..<slash])
}

/// `folder/path`, or `path` itself when it is absolute or `folder` is empty.
func joinPath(_ folder: String, _ path: String) -> String {
    if path.hasPrefix("/") || folder.isEmpty { return path }
    return folder.hasSuffix("/") ? folder + path : folder + "/" + path
}

/// Drops `.` segments and folds `name/..` lexically (the paths name config files and
/// data folders, where following symlinks first would only change how messages read).
func normalizePath(_ path: String) -> String {
    let absolute = path.hasPrefix("/")
    var parts: [Substring] = []
    for part in path.split(separator: "/") where part != "." {
        if part == "..", let last = parts.last, last != ".." { parts.removeLast() }
        else if part == "..", absolute { continue }
        else { parts.append(part) }
    }
    let joined = parts.joined(separator: "/")
    return absolute ? "/" + joined : (joined.isEmpty ? "." : joined)
}
