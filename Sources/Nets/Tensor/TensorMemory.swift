import CDNNL
import Foundation

/// Where tensor storage comes from: 64-byte aligned blocks.
///
/// A training step allocates and frees the same large activations every iteration. Blocks of
/// a mebibyte and more are mapped from the system, rounded to 64 KiB, and kept when freed (as
/// address ranges, joined with kept neighbours) for the next requests: an exact fit first,
/// else a piece of a larger range. A step thus reuses the previous step's pages, without
/// glibc's fragmentation (its heap grew 45% beyond the live tensors) and without
/// page-faulting fresh mappings in every step (measured at ~17% of a UNet step with a fresh
/// mapping per tensor, ~5% with exact-size reuse alone). What is mapped, live and kept
/// together, never exceeds the most the tensors ever held at once: a request no kept range
/// fits first returns the longest-unused kept ranges to the system. So peak memory is the
/// tensors' own peak, and a loop whose sizes change (evaluation on images of different sizes)
/// does not hoard. Smaller blocks come from the C heap.
enum TensorMemory {
    static let pooledMinimum = 1 << 20
    private static let granule = 1 << 16

    private static let lock = NSLock()
    /// Free address ranges in the order they were freed, oldest first.
    nonisolated(unsafe) private static var kept: [(size: Int, block: UnsafeMutableRawPointer)] = []
    nonisolated(unsafe) private static var keptBytes = 0
    nonisolated(unsafe) private static var liveBytes = 0
    nonisolated(unsafe) private static var peakLiveBytes = 0
    nonisolated(unsafe) private static var mappings = 0

    /// Bytes of pooled blocks in use, kept for reuse, and the most ever in use at once; and the
    /// number of fresh mappings made so far.
    static var usage: (live: Int, kept: Int, peakLive: Int, mappings: Int) {
        lock.lock()
        defer { lock.unlock() }
        return (liveBytes, keptBytes, peakLiveBytes, mappings)
    }

    private static func rounded(_ bytes: Int) -> Int { (bytes + granule - 1) / granule * granule }

    static func allocate(_ bytes: Int) -> UnsafeMutableRawPointer {
        guard bytes >= pooledMinimum else { return UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64) }
        let size = rounded(bytes)
        lock.lock()
        liveBytes += size
        peakLiveBytes = max(peakLiveBytes, liveBytes)
        // The most recently freed range of this size (the likeliest still in cache), else the
        // smallest larger one, split: its pages are already faulted in and zeroed, which a
        // fresh mapping does again (that churn was ~5% of a UNet step).
        var best: Int?
        for (i, k) in kept.enumerated().reversed() where k.size >= size {
            if k.size == size { best = i; break }
            if best == nil || k.size < kept[best!].size { best = i }
        }
        if let i = best {
            let (keptSize, block) = kept[i]
            if keptSize == size { kept.remove(at: i) } else { kept[i] = (keptSize - size, block + size) }
            keptBytes -= size
            lock.unlock()
            return block
        }
        var returned: [(size: Int, block: UnsafeMutableRawPointer)] = []
        while keptBytes > 0 && liveBytes + keptBytes > peakLiveBytes {
            let oldest = kept.removeFirst()
            keptBytes -= oldest.size
            returned.append(oldest)
        }
        mappings += 1
        lock.unlock()
        for r in returned { munmap(r.block, r.size) }
        return map(size)
    }

    /// A fresh mapping of `size` bytes. From 2 MiB on it starts on a 2 MiB boundary and asks for
    /// transparent huge pages, where the system offers them on request: one fault (and one TLB
    /// entry) per 2 MiB instead of 512.
    private static func map(_ size: Int) -> UnsafeMutableRawPointer {
        let huge = 1 << 21
        let padding = size >= huge ? huge : 0
        guard let region = mmap(nil, size + padding, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              region != MAP_FAILED else {
            fatalError("out of memory: could not map \(size >> 20) MiB for a tensor")
        }
        guard padding > 0 else { return region }
        let start = Int(bitPattern: region), aligned = (start + huge - 1) / huge * huge
        if aligned > start { munmap(region, aligned - start) }
        let end = aligned + size, regionEnd = start + size + padding
        if regionEnd > end { munmap(UnsafeMutableRawPointer(bitPattern: end), regionEnd - end) }
        let block = UnsafeMutableRawPointer(bitPattern: aligned)!
        _ = madvise(block, size, MADV_HUGEPAGE)
        return block
    }

    static func free(_ pointer: UnsafeMutableRawPointer, bytes: Int) {
        guard bytes >= pooledMinimum else { return pointer.deallocate() }
        var range = (size: rounded(bytes), block: pointer)
        lock.lock()
        liveBytes -= range.size
        keptBytes += range.size
        // Joined with the kept ranges on either side, so that a larger request fits later.
        if let i = kept.firstIndex(where: { $0.block + $0.size == range.block }) {
            range = (kept[i].size + range.size, kept[i].block)
            kept.remove(at: i)
        }
        if let i = kept.firstIndex(where: { range.block + range.size == $0.block }) {
            range.size += kept[i].size
            kept.remove(at: i)
        }
        kept.append(range)
        lock.unlock()
    }
}
