import CKernels

/// Whether the C kernels (`Sources/CKernels`, AVX-512 with its bf16 conversions) run here.
/// Where they do not, their callers use portable code of their own that gives the same bits
/// (tests turn this off to check that).
enum VectorKernels {
    nonisolated(unsafe) static var enabled = rx_avx512_bf16_supported() != 0
}
