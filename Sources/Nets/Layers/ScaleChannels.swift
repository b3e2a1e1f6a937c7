/// `x * s` for an activation x [N, C, H, W] and one factor per image and channel s [N, C, 1, 1]
/// (squeeze-and-excitation's and LR-ASPP's gating), recording both gradients:
/// dx = dy · s and ds = Σ over pixels of dy · x.
public func scaleChannels(_ x: Tensor, by s: Tensor) -> Tensor {
    let x = x.float32(), s = s.float32()  // no bf16 kernel
    precondition(x.layout == .nhwc && s.count == x.n * x.c && (s.shape.count == 2 || (s.h == 1 && s.w == 1)),
                 "scaleChannels: \(x) by \(s)")
    let (N, C, pixels) = (x.n, x.c, x.h * x.w)
    let y = Tensor.uninitialized(shape: x.shape, layout: .nhwc)
    let src = x.data, factors = s.data, dst = y.data
    parallelChunks(N * pixels, minChunk: rowsPerChunk(C)) { lo, hi in
        for pixel in lo..<hi {
            let f = factors + (pixel / pixels) * C, a = src + pixel * C, b = dst + pixel * C
            for c in 0..<C { b[c] = a[c] * f[c] }
        }
    }
    guard let op = Tape.op(inputs: [x, s]) else { return y }
    let (needsInput, needsFactors) = (op.needsGradient[0], op.needsGradient[1])
    op.record(y) { dy in
        let g = dy.data, input = x.data, factors = s.data
        var dx: Tensor?
        if needsInput {
            let out = Tensor.uninitialized(shape: x.shape, layout: .nhwc)
            let d = out.data
            parallelChunks(N * pixels, minChunk: rowsPerChunk(C)) { lo, hi in
                for pixel in lo..<hi {
                    let f = factors + (pixel / pixels) * C, gp = g + pixel * C, dp = d + pixel * C
                    for c in 0..<C { dp[c] = gp[c] * f[c] }
                }
            }
            dx = out
        }
        guard needsFactors else { return [dx, nil] }
        // Each image's channel sums in pixel order, one task per image: deterministic.
        let ds = Tensor(shape: s.shape, layout: s.layout)
        let sums = ds.data
        parallelFor(N) { n in
            let acc = sums + n * C
            for p in 0..<pixels {
                let gp = g + (n * pixels + p) * C, xp = input + (n * pixels + p) * C
                for c in 0..<C { acc[c] += gp[c] * xp[c] }
            }
        }
        return [dx, ds]
    }
    return y
}
