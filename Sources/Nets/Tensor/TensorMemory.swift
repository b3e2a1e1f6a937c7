import CDNNL

/// Where tensor storage comes from: 64-byte aligned blocks from the C heap.
///
/// A training step allocates and frees the same large activations every iteration.
/// glibc serves blocks above its mmap threshold (at most 32 MiB) with fresh mmaps, so
/// every step would page-fault its activations in again — measured at ~17% of a UNet
/// step. Raising the threshold keeps freed blocks in the heap for the next step.
enum TensorMemory {
    private static let configured: Bool = {
        _ = mallopt(M_MMAP_THRESHOLD, 1 << 30)
        _ = mallopt(M_TRIM_THRESHOLD, 1 << 30)
        return true
    }()

    static func allocate(_ bytes: Int) -> UnsafeMutableRawPointer {
        _ = configured
        return UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
    }

    static func free(_ pointer: UnsafeMutablePointer<Float>) {
        pointer.deallocate()
    }
}
