import Foundation

/// Tensor bytes live and at peak, and the process's peak resident set (what benchmarks report).
public enum MemoryStats {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var live = 0
    nonisolated(unsafe) private static var peak = 0

    static func allocated(_ bytes: Int) {
        lock.lock(); live += bytes; if live > peak { peak = live }; lock.unlock()
    }

    static func freed(_ bytes: Int) {
        lock.lock(); live -= bytes; lock.unlock()
    }

    /// Bytes held by tensors now.
    public static var liveTensorBytes: Int { lock.lock(); defer { lock.unlock() }; return live }

    /// Highest `liveTensorBytes` since start or the last `resetPeak()`.
    public static var peakTensorBytes: Int { lock.lock(); defer { lock.unlock() }; return peak }

    public static func resetPeak() { lock.lock(); peak = live; lock.unlock() }

    /// Peak resident set size of the process in bytes (VmHWM), or nil where /proc is absent.
    public static var peakResidentBytes: Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kb = line.split(separator: " ").compactMap { Int($0) }.first
            return kb.map { $0 * 1024 }
        }
        return nil
    }
}
