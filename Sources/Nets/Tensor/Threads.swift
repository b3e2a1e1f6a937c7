import CDNNL
import Dispatch

/// The thread count shared by oneDNN (through OpenMP) and the engine's own loops.
public enum Threads {
    nonisolated(unsafe) private static var current = Int(omp_get_max_threads())

    /// Threads used by every kernel; defaults to OpenMP's setting (OMP_NUM_THREADS, else all cores).
    public static var count: Int { current }

    /// Sets the thread count for oneDNN and the engine's own loops.
    public static func set(_ n: Int) {
        precondition(n >= 1)
        current = n
        omp_set_num_threads(Int32(n))
    }
}

/// Runs `body(lo, hi)` over `0..<count` split into contiguous chunks, one per thread.
///
/// Chunk boundaries depend only on `count` and the thread count, so a reduction
/// that combines per-chunk results in chunk order is reproducible for a given
/// thread count.
@inline(__always)
public func parallelChunks(_ count: Int, minChunk: Int = 32_768, _ body: (Int, Int) -> Void) {
    let threads = Threads.count
    if threads <= 1 || count < 2 * minChunk {
        if count > 0 { body(0, count) }
        return
    }
    let chunks = min(threads, (count + minChunk - 1) / minChunk)
    let size = (count + chunks - 1) / chunks
    withoutActuallyEscaping(body) { body in
        DispatchQueue.concurrentPerform(iterations: chunks) { i in
            let lo = i * size, hi = min(count, lo + size)
            if lo < hi { body(lo, hi) }
        }
    }
}

/// Rows per parallel chunk so that each chunk moves at least ~16K floats.
@inline(__always)
func rowsPerChunk(_ rowElements: Int) -> Int { max(1, 16_384 / max(rowElements, 1)) }

/// Runs `body(i)` for each `i` in `0..<count` on all threads (for work already split into big items).
@inline(__always)
public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
    if Threads.count <= 1 || count <= 1 {
        for i in 0..<count { body(i) }
        return
    }
    withoutActuallyEscaping(body) { body in
        DispatchQueue.concurrentPerform(iterations: count, execute: body)
    }
}
