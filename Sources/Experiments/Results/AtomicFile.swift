#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Whole-file writes that a kill, a crash or a full disk never leave half done: readers see the
/// old contents or the new ones.
///
/// The bytes go to `.NAME.tmp-PID` in the same folder (a rename is only atomic within one file
/// system), are flushed with fsync, and the temporary file is renamed over `NAME`; the folder
/// is then fsynced so the rename itself survives a power loss. On any failure the temporary file
/// is removed and the old file is untouched. One writer per path per process at a time.
public enum AtomicFile {
    /// Replaces the file at `path` with `text` (UTF-8).
    public static func write(_ text: String, to path: String) throws {
        try write(Array(text.utf8), to: path)
    }

    /// Replaces the file at `path` with `bytes`.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        try write(bytes, to: path, failing: nil)
    }

    /// The steps of a write, named so tests can make one of them fail.
    enum Step { case open, write, sync, rename }

    /// `write`, failing on purpose at `failing` (tests only).
    static func write(_ bytes: [UInt8], to path: String, failing: Step?) throws {
        let (dir, name) = split(path)
        let temp = "\(dir)/.\(name).tmp-\(getpid())"
        let fd = failing == .open ? -1 : open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { throw ResultsError(path, "cannot create a temporary file in \(dir)", errno: failing == .open ? EACCES : errno) }
        var ok = false
        defer {
            if !ok { unlink(temp) }
        }
        do {
            defer { close(fd) }
            if failing == .write { throw ResultsError(path, "cannot write", errno: ENOSPC) }
            try writeAll(fd, bytes, path: path)
            if failing == .sync || fsync(fd) != 0 { throw ResultsError(path, "cannot sync", errno: failing == .sync ? EIO : errno) }
        }
        if failing == .rename || rename(temp, path) != 0 {
            throw ResultsError(path, "cannot replace", errno: failing == .rename ? EACCES : errno)
        }
        ok = true
        syncDirectory(dir)
    }

    /// Writes all of `bytes` at the file offset of `fd`, retrying partial writes and EINTR.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
        try bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = posixWrite(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ResultsError(path, "cannot write", errno: errno)
                }
                done += n
            }
        }
    }

    /// Makes a completed rename or file creation in `dir` durable. Best effort: some file
    /// systems refuse fsync on a folder, and the data itself is already safe.
    static func syncDirectory(_ dir: String) {
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            _ = fsync(fd)
            close(fd)
        }
    }

    /// The folder (`.` when none) and the last component of `path`.
    static func split(_ path: String) -> (dir: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let dir = String(path[..<slash])
        return (dir.isEmpty ? "/" : dir, String(path[path.index(after: slash)...]))
    }
}

#if canImport(Glibc)
private let posixWrite = Glibc.write
#else
private let posixWrite = Darwin.write
#endif

/// A failed operation on a result file, or one that cannot be read back: one line that starts with the path.
public struct ResultsError: Error, CustomStringConvertible, Equatable {
    public let description: String

    init(_ path: String, _ message: String) { description = "\(path): \(message)" }

    init(_ path: String, _ message: String, errno code: Int32) {
        self.init(path, "\(message): \(String(cString: strerror(code)))")
    }
}
