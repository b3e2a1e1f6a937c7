#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Whole-file writes that a kill, a crash or a full disk never leave half done: readers see the
/// old contents or the new ones. Every result file and checkpoint is written through it.
///
/// The bytes go to `.NAME.tmp-PID-RANDOM` in the same folder (a rename is only atomic within one
/// file system; the random part keeps two machines sharing a folder apart), are flushed with
/// fsync, and the temporary file is renamed over `NAME`; the folder is then fsynced so the rename
/// itself survives a power loss. On any failure the temporary file is removed and the old file is
/// untouched, and the error names the path and the OS's reason ("No space left on device").
public enum AtomicFile {
    /// A write that failed; `code` is the errno behind it.
    public struct WriteError: Error, CustomStringConvertible {
        public let path: String
        public let code: Int32
        public let description: String

        public init(_ path: String, _ message: String, errno code: Int32) {
            self.path = path
            self.code = code
            description = "\(path): \(message): \(String(cString: strerror(code)))"
        }
    }

    /// Replaces the file at `path` with `text` (UTF-8).
    public static func write(_ text: String, to path: String) throws {
        try write(Array(text.utf8), to: path)
    }

    /// Replaces the file at `path` with `bytes`.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        try write(to: path) { sink in
            try bytes.withUnsafeBytes { raw in
                if let base = raw.baseAddress { try sink(base, raw.count) }
            }
        }
    }

    /// Replaces the file at `path` with what `body` sends to the sink it is given, streamed
    /// (a checkpoint is never held twice in memory).
    public static func write(to path: String,
                             _ body: (_ sink: (UnsafeRawPointer, Int) throws -> Void) throws -> Void) throws {
        let failing = injectedFailure(for: path)
        let (dir, name) = split(path)
        let temp = "\(dir)/.\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = failing == .open ? -1 : open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if fd < 0 {
            throw WriteError(path, "cannot create a temporary file in \(dir)", errno: failing == .open ? EACCES : errno)
        }
        var ok = false
        defer {
            if !ok { unlink(temp) }
        }
        do {
            defer { close(fd) }
            try body { bytes, count in
                if failing == .write { throw WriteError(path, "cannot write", errno: ENOSPC) }
                try writeAll(fd, bytes, count, path: path)
            }
            if failing == .sync || fsync(fd) != 0 { throw WriteError(path, "cannot sync", errno: failing == .sync ? EIO : errno) }
        }
        if failing == .rename || rename(temp, path) != 0 {
            throw WriteError(path, "cannot replace", errno: failing == .rename ? EACCES : errno)
        }
        ok = true
        syncDirectory(dir)
    }

    /// Writes `count` bytes at the file offset of `fd`, retrying partial writes and EINTR.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int, path: String) throws {
        var done = 0
        while done < count {
            let n = posixWrite(fd, bytes + done, count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw WriteError(path, "cannot write", errno: errno)
            }
            done += n
        }
    }

    /// `writeAll` of a byte array.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
        try bytes.withUnsafeBytes { raw in
            if let base = raw.baseAddress { try writeAll(fd, base, raw.count, path: path) }
        }
    }

    /// Makes a completed rename or file creation in `dir` durable. Best effort: some file
    /// systems refuse fsync on a folder, and the data itself is already safe.
    public static func syncDirectory(_ dir: String) {
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            _ = fsync(fd)
            close(fd)
        }
    }

    /// The folder (`.` when none) and the last component of `path`.
    public static func split(_ path: String) -> (dir: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let dir = String(path[..<slash])
        return (dir.isEmpty ? "/" : dir, String(path[path.index(after: slash)...]))
    }

    // MARK: Failure injection (tests)

    /// The steps of a write, named so tests can make one of them fail.
    enum Step: Sendable { case open, write, sync, rename }

    /// A planned failure: writes to paths ending in `suffix` succeed `after` more times, then
    /// fail at `step` (a write step fails with ENOSPC, as on a full disk), every time.
    struct Failure: Sendable {
        var suffix: String
        var step: Step
        var after: Int
    }

    nonisolated(unsafe) static var failure: Failure?

    private static func injectedFailure(for path: String) -> Step? {
        guard var f = failure, path.hasSuffix(f.suffix) else { return nil }
        if f.after > 0 {
            f.after -= 1
            failure = f
            return nil
        }
        return f.step
    }
}

#if canImport(Glibc)
private let posixWrite = Glibc.write
#else
private let posixWrite = Darwin.write
#endif
