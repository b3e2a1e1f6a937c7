import CDNNL
import Foundation

/// Where tensor storage comes from: 64-byte aligned blocks.
///
/// A training step allocates and frees the same large activations every iteration. Blocks of
/// a mebibyte and more are mapped from the system, page-rounded, and kept when freed for the
/// next request of the same size: a step reuses the previous step's blocks, without glibc's
/// fragmentation (its heap grew 45% beyond the live tensors) and without page-faulting fresh
/// mappings in every step (measured at ~17% of a UNet step). Kept blocks never exceed the
/// most the tensors ever held at once, so a loop whose sizes change (evaluation on images of
/// different sizes) returns the surplus to the system. Smaller blocks come from the C heap.
enum TensorMemory {
    static let pooledMinimum = 1 << 20
    private static let granule = 1 << 16

    private static let lock = NSLock()
    nonisolated(unsafe) private static var kept: [Int: [UnsafeMutableRawPointer]] = [:]
    nonisolated(unsafe) private static var keptBytes = 0
    nonisolated(unsafe) private static var liveBytes = 0
    nonisolated(unsafe) private static var peakLiveBytes = 0

    private static func rounded(_ bytes: Int) -> Int { (bytes + granule - 1) / granule * granule }

    static func allocate(_ bytes: Int) -> UnsafeMutableRawPointer {
        guard bytes >= pooledMinimum else { return UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64) }
        let size = rounded(bytes)
        lock.lock()
        liveBytes += size
        peakLiveBytes = max(peakLiveBytes, liveBytes)
        if let block = kept[size]?.popLast() {
            keptBytes -= size
            lock.unlock()
            return block
        }
        lock.unlock()
        guard let block = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              block != MAP_FAILED else {
            fatalError("out of memory: could not map \(size >> 20) MiB for a tensor")
        }
        return block
    }

    static func free(_ pointer: UnsafeMutableRawPointer, bytes: Int) {
        guard bytes >= pooledMinimum else { return pointer.deallocate() }
        let size = rounded(bytes)
        lock.lock()
        liveBytes -= size
        if keptBytes + size <= peakLiveBytes {
            kept[size, default: []].append(pointer)
            keptBytes += size
            lock.unlock()
            return
        }
        lock.unlock()
        munmap(pointer, size)
    }
}
