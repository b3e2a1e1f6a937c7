import Foundation
import Nets

/// An exclusive `flock` on a file, held until `release()` or until the process ends.
///
/// The kernel drops the lock when the holder dies, even by SIGKILL, so a killed worker's run is
/// taken up by the next process that asks, with nothing to clean up. flock works across the
/// machines of an NFSv4 share. Two opens in one process conflict as two processes do.
final class FileLock {
    let path: String
    private var fd: Int32

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    deinit { release() }

    /// Takes the lock without waiting; nil when another holder has it. A lock found taken is
    /// asked for twice more, 20 ms apart, so that `isHeld`'s brief look never makes a process
    /// pass over a free run.
    static func tryLock(_ path: String) throws -> FileLock? {
        for attempt in 0..<3 {
            if let lock = try acquire(path, wait: false) { return lock }
            if attempt < 2 { usleep(20_000) }
        }
        return nil
    }

    /// Whether some process (this one included) holds the lock at `path`, without taking it
    /// or changing the file: a shared lock is tried for an instant and given back at once.
    static func isHeld(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return false }
        defer { close(fd) }
        var result: Int32
        repeat { result = flock(fd, LOCK_SH | LOCK_NB) } while result != 0 && errno == EINTR
        return result != 0 && errno == EWOULDBLOCK
    }

    /// Takes the lock, waiting for the current holder to release it.
    static func lock(_ path: String) throws -> FileLock {
        try acquire(path, wait: true)!
    }

    private static func acquire(_ path: String, wait: Bool) throws -> FileLock? {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        if fd < 0 { throw ResultsError(path, "cannot open the lock file", errno: errno) }
        while flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0 {
            let code = errno
            if code == EINTR { continue }
            close(fd)
            if code == EWOULDBLOCK { return nil }
            throw ResultsError(path, "cannot lock", errno: code)
        }
        // Who holds it, for the messages of the processes that find it taken.
        let holder = "pid \(getpid()) on \(Host.name)"
            + (ProcessInfo.processInfo.environment["SLURM_JOB_ID"].map { ", Slurm job \($0)" } ?? "")
            + " since " + ISO8601DateFormatter().string(from: Date())
        if ftruncate(fd, 0) == 0 { _ = try? AtomicFile.writeAll(fd, Array((holder + "\n").utf8), path: path) }
        return FileLock(path: path, fd: fd)
    }

    /// What the holder of the lock at `path` wrote about itself
    /// ("pid 123 on node7, Slurm job 42 since 2026-12-05T09:12:00Z").
    static func holder(_ path: String) -> String {
        let text = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        return text.flatMap { $0.isEmpty ? nil : $0 } ?? "unknown holder"
    }

    /// Gives the lock up (also done when the object goes away).
    func release() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
    }
}
