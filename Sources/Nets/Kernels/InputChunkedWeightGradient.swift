import CDNNL

/// The weight gradient of a bf16 convolution with more than 1024 input channels, computed 1024
/// input channels at a time: each chunk of the input copied out (dense NHWC) and run through the
/// backward-weights kernel of its own geometry, whose gradient is written into its columns of the
/// whole one.
///
/// oneDNN 3.2's AMX backward-weights kernel slows down sharply past 1024 input channels with a
/// large 3×3 weight (batch 4, 32×32, bf16, 2 threads, cold caches, ms): 2048→512 67 against
/// 21 for 1024→512 (twice that is 42), 4096→512 324 against 83, 2048→512 at 64×64 253 against
/// 154; without the cliff (2048→128 15 against 2×7, 1×1 2048→1024 11.5 against 2×5.7) a split
/// gains nothing, so only wider kernels split. It is the head of FCN-ResNet50 (2048→512 3×3),
/// whose bf16 step the split makes 5% faster on 3.2 and 14% on 2.6 (its avx512_core_bf16
/// kernel has the cliff too).
/// The chunks' sums are the whole kernel's, over fewer channels each: the same gradient up to
/// the order of fp32 additions.
struct InputChunkedWeightGradient {
    static let chunk = 1024
    let geometry: ConvGeometry

    /// nil where one kernel serves: fp32, ≤ 1024 input channels (or not a multiple of 1024),
    /// 1×1, grouped, transposed or with a bias.
    init?(_ g: ConvGeometry) {
        guard g.precision == .bf16, g.inputPrecision == .bf16, g.inChannels > Self.chunk, g.inChannels % Self.chunk == 0,
              g.kernel > 1, g.groups == 1, !g.transposed, !g.bias else { return nil }
        geometry = g
    }

    /// The geometry of one chunk.
    private var part: ConvGeometry {
        var p = geometry
        p.inChannels = Self.chunk
        return p
    }

    /// dW in PyTorch's layout (fp32 holding bf16-rounded values) from the bf16 NHWC input and
    /// output gradient; nil where the chunk has no bf16 kernel (the whole one runs instead).
    func callAsFunction(_ x: Tensor, _ dy: Tensor) -> Tensor? {
        let g = geometry, k2 = g.kernel * g.kernel
        let kernel = ConvolutionKernel.get(part)
        guard kernel.geometry.precision == .bf16 else { return nil }
        let want = kernel.backwardWeights.md(dnnl_query_diff_weights_md)
        // One chunk's columns of the [out, in, k, k] gradient.
        let columns = DNNL.desc([g.outChannels, Self.chunk, g.kernel, g.kernel],
                                strides: [g.inChannels * k2, k2, g.kernel, 1])
        let dw = Tensor.uninitialized(shape: g.userWeightShape)
        let input = Tensor.uninitialized(shape: part.inputShape, layout: .nhwc, precision: .bf16)
        let blocked = DNNL.storage(for: want)
        let pixels = g.n * g.height * g.width, bytes = Self.chunk * 2, pixelBytes = g.inChannels * 2
        for first in stride(from: 0, to: g.inChannels, by: Self.chunk) {
            let from = x.storage + first * 2, to = input.storage
            parallelChunks(pixels, minChunk: rowsPerChunk(Self.chunk)) { lo, hi in
                for p in lo..<hi { (to + p * bytes).copyMemory(from: from + p * pixelBytes, byteCount: bytes) }
            }
            kernel.backwardWeights.execute([
                (DNNL_ARG_SRC, kernel.srcOperand, input.storage),
                (DNNL_ARG_DIFF_DST, kernel.dst, dy.storage),
                (DNNL_ARG_DIFF_WEIGHTS, want, blocked.storage),
            ])
            DNNL.reorder(from: want, blocked.storage, to: columns, UnsafeMutableRawPointer(dw.data + first * k2))
        }
        return dw
    }
}
