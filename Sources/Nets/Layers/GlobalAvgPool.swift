/// Global average pooling, `nn.AdaptiveAvgPool2d(1)`: [N, C, H, W] → [N, C, 1, 1], each
/// channel's mean over its image (DeepLab's ASPP image-pooling branch).
public final class GlobalAvgPool2d: Module, Layer {
    public override init() {}

    public func forward(_ x: Tensor) -> Tensor {
        let x = x.float32()  // no bf16 kernel
        precondition(x.layout == .nhwc, "GlobalAvgPool2d expects an NHWC activation, got \(x)")
        let (N, C, pixels) = (x.n, x.c, x.h * x.w)
        let out = Tensor.activation(N, C, 1, 1)
        let src = x.data, dst = out.data
        let area = Float(pixels)
        // One task per image and block of channels, so a single large image still uses every thread;
        // each task sums its channels over the pixels in order (contiguous, vectorisable).
        let blockC = 64
        let blocks = (C + blockC - 1) / blockC
        parallelFor(N * blocks) { task in
            let n = task / blocks, c0 = (task % blocks) * blockC, width = min(blockC, C - c0)
            let sum = dst + n * C + c0
            var s = src + n * pixels * C + c0
            for _ in 0..<pixels {
                for c in 0..<width { sum[c] += s[c] }
                s += C
            }
            for c in 0..<width { sum[c] /= area }
        }
        Tape.op(inputs: [x])?.record(out) { [H = x.h, W = x.w] dy in [globalAvgPoolBackward(dy, height: H, width: W)] }
        return out
    }
}

/// Global average pooling's backward: every pixel of a channel gets that channel's output
/// gradient divided by H·W.
func globalAvgPoolBackward(_ dy: Tensor, height H: Int, width W: Int) -> Tensor {
    precondition(dy.shape.count == 4 && dy.h == 1 && dy.w == 1, "GlobalAvgPool2d backward: \(dy)")
    let (N, C, pixels) = (dy.n, dy.c, H * W)
    let dx = Tensor.activation(N, C, H, W)
    let g = dy.data, dst = dx.data
    let area = Float(pixels)
    parallelChunks(N * pixels, minChunk: rowsPerChunk(C)) { lo, hi in
        for pixel in lo..<hi {
            let gc = g + (pixel / pixels) * C, d = dst + pixel * C
            for c in 0..<C { d[c] = gc[c] / area }
        }
    }
    return dx
}
