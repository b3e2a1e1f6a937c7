/// Dropout (Srivastava et al., 2014), like `nn.Dropout(p)`: in training each element is zeroed
/// with probability `p` and the rest are scaled by 1/(1-p); in eval mode it is the identity.
/// With `channelwise` it is `nn.Dropout2d(p)`: whole channels of each image are dropped together.
///
/// The masks come from a generator the layer owns, seeded at construction, so a run's dropout
/// pattern follows from its seed alone (it differs from PyTorch's, which no one can match bit for bit).
/// `generatorState` is what a resumable checkpoint saves, so a resumed run drops what an
/// uninterrupted one would.
public final class Dropout: Module, Layer {
    public let p: Float
    public let channelwise: Bool
    private var rng: SeededRandom

    /// Where the mask generator stands: one draw per training forward advances it.
    public var generatorState: UInt64 {
        get { rng.state }
        set { rng = SeededRandom(state: newValue) }
    }

    public init(p: Float = 0.5, seed: UInt64, channelwise: Bool = false) {
        precondition(p >= 0 && p <= 1, "Dropout: probability \(p) is outside [0, 1]")
        self.p = p
        self.channelwise = channelwise
        self.rng = SeededRandom(seed: seed)
    }

    public func forward(_ x: Tensor) -> Tensor {
        guard training && p > 0 else { return x }
        let x = x.float32()  // no bf16 kernel
        precondition(!channelwise || (x.layout == .nhwc), "Dropout2d expects an NHWC activation, got \(x)")
        // The factor applied to each element (to each image's channel when `channelwise`,
        // shape [N, C]), 0 or 1/(1-p); drawn in every training forward, recorded or not, so
        // the generator advances the same way whatever is frozen.
        let mask = channelwise ? drawMask(shape: [x.n, x.c]) : drawMask(shape: [x.count])
        let y = apply(mask, to: x)
        Tape.op(inputs: [x])?.record(y) { dy in [self.apply(mask, to: dy)] }
        return y
    }

    /// Elements of a mask block come from one generator; blocks run in parallel.
    static let block = 65_536

    /// A fresh mask of 0 and 1/(1-p) values: element i keeps when the i-th uniform draw of a
    /// generator seeded with one draw from the layer's own is below 1-p (PyTorch's bernoulli(1-p)).
    ///
    /// SplitMix64 advances its state by a constant per draw, so a generator seeded `k` constants
    /// further on starts exactly at draw `k`: each block jumps to its place in that one stream, and
    /// the mask is the same for any thread count.
    private func drawMask(shape: [Int]) -> Tensor {
        let m = Tensor(shape: shape)
        let base = rng.next()
        let keep = 1 - p
        let scale: Float = p < 1 ? 1 / keep : 0
        let count = m.count, data = m.data, block = Dropout.block
        parallelFor((count + block - 1) / block) { b in
            let lo = b * block, hi = min(count, lo + block)
            var r = SeededRandom(seed: base &+ UInt64(lo) &* 0x9E37_79B9_7F4A_7C15)
            for i in lo..<hi { data[i] = r.nextFloat() < keep ? scale : 0 }
        }
        return m
    }

    /// x ⊙ mask, broadcasting a [N, C] mask over each image's pixels when channelwise.
    private func apply(_ m: Tensor, to x: Tensor) -> Tensor {
        let out = x.zerosLike()
        let src = x.data, dst = out.data, f = m.data
        if !channelwise {
            parallelChunks(x.count) { lo, hi in
                for i in lo..<hi { dst[i] = src[i] * f[i] }
            }
            return out
        }
        precondition(x.layout == .nhwc && m.shape == [x.n, x.c], "Dropout2d: mask \(m.shape) for \(x)")
        let C = x.c, pixels = x.h * x.w
        parallelChunks(x.n * pixels, minChunk: rowsPerChunk(C)) { lo, hi in
            for pixel in lo..<hi {
                let fc = f + (pixel / pixels) * C, s = src + pixel * C, d = dst + pixel * C
                for c in 0..<C { d[c] = s[c] * fc[c] }
            }
        }
        return out
    }
}
