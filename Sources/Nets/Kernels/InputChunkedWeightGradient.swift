import CDNNL

/// The weight gradient of a bf16 convolution with 2048 or more input channels, computed 1024
/// input channels at a time (the last chunk what is left): each chunk of the input copied out
/// (dense NHWC) and run through the backward-weights kernel of its own geometry, whose
/// gradient is written into its columns of the whole one.
///
/// oneDNN 3.2's AMX backward-weights kernel slows down sharply with the input channels of a
/// 3×3 weight (batch 4, 32×32, bf16, 2 threads, caches flushed, ms, →512 outputs): 1024 inputs
/// 21, 1536 33, 2048 63, 2560 219, 3072 231 (→256: 11, 20, 29, –, 126; →64: 3.5, 5.6, 9.1, –,
/// 45), where chunks of 1024 cost about 21 each: from 2048 inputs on they win, dilated ones too
/// (DeepLabV3+'s rate-6 ASPP branch, 2048→256: 42 whole against 2×15 at 32×32, 9.7 against
/// 2×3.6 at 16×16). 1×1 kernels have no such cliff (2048→1024 11.5 against 2×5.7) and run
/// whole, up to 2560 inputs: from there oneDNN 3.2's whole kernel dies (SIGFPE) with 16
/// outputs, 3×3 and 1×1 alike, and chunks do not. It is the head of FCN-ResNet50 (2048→512
/// 3×3), whose bf16 step the split makes 5% faster on 3.2 and 14% on 2.6 (its avx512_core_bf16
/// kernel has the cliff too).
/// The chunks' sums are the whole kernel's, over fewer channels each: the same gradient up to
/// the order of fp32 additions.
struct InputChunkedWeightGradient {
    static let chunk = 1024
    let geometry: ConvGeometry

    /// nil where one kernel serves: fp32, fewer than 2048 input channels (2560 for 1×1), grouped,
    /// transposed or with a bias.
    init?(_ g: ConvGeometry) {
        guard g.precision == .bf16, g.inputPrecision == .bf16, g.inChannels >= 2 * Self.chunk,
              g.kernel > 1 || g.inChannels >= 2560, g.groups == 1, !g.transposed, !g.bias else { return nil }
        geometry = g
    }

    /// The kernel of the chunk of `width` input channels.
    private func kernel(_ width: Int) -> ConvolutionKernel {
        var part = geometry
        part.inChannels = width
        return ConvolutionKernel.get(part)
    }

    /// dW in PyTorch's layout (fp32 holding bf16-rounded values) from the bf16 NHWC input and
    /// output gradient; nil where a chunk has no bf16 kernel (the whole one runs instead).
    func callAsFunction(_ x: Tensor, _ dy: Tensor) -> Tensor? {
        let g = geometry, k2 = g.kernel * g.kernel
        let widths = stride(from: 0, to: g.inChannels, by: Self.chunk).map { min(Self.chunk, g.inChannels - $0) }
        let kernels = widths.map(kernel)
        guard kernels.allSatisfy({ $0.geometry.precision == .bf16 }) else { return nil }
        let dw = Tensor.uninitialized(shape: g.userWeightShape)
        let input = Tensor.uninitialized(shape: [g.n, Self.chunk, g.height, g.width], layout: .nhwc, precision: .bf16)
        let pixels = g.n * g.height * g.width, pixelBytes = g.inChannels * 2
        var first = 0
        for (width, kernel) in zip(widths, kernels) {
            let want = kernel.backwardWeights.md(dnnl_query_diff_weights_md)
            let blocked = DNNL.storage(for: want)
            let from = x.storage + first * 2, to = input.storage, bytes = width * 2
            parallelChunks(pixels, minChunk: rowsPerChunk(width)) { lo, hi in
                for p in lo..<hi { (to + p * bytes).copyMemory(from: from + p * pixelBytes, byteCount: bytes) }
            }
            kernel.backwardWeights.execute([
                (DNNL_ARG_SRC, kernel.srcOperand, input.storage),
                (DNNL_ARG_DIFF_DST, kernel.dst, dy.storage),
                (DNNL_ARG_DIFF_WEIGHTS, want, blocked.storage),
            ])
            // The chunk's columns of the [out, in, k, k] gradient.
            let columns = DNNL.desc([g.outChannels, width, g.kernel, g.kernel], strides: [g.inChannels * k2, k2, g.kernel, 1])
            DNNL.reorder(from: want, blocked.storage, to: columns, UnsafeMutableRawPointer(dw.data + first * k2))
            first += width
        }
        return dw
    }
}
