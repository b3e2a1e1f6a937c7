/// Concatenates NHWC activations of the same N, H and W along channels, like `torch.cat(xs, dim=1)`.
///
/// Channels are innermost in NHWC, so each pixel of the result is the inputs' channel vectors
/// one after another. Records its backward, `splitChannels`, on the recording tape.
public func concatChannels(_ xs: [Tensor]) -> Tensor {
    precondition(!xs.isEmpty, "concatChannels: no inputs")
    // A branch that ran in fp32 (a convolution without a bf16 kernel here) joins bf16 ones in fp32.
    if Set(xs.map(\.precision)).count > 1 { return concatChannels(xs.map { $0.float32() }) }
    let (N, H, W) = (xs[0].n, xs[0].h, xs[0].w)
    let precision = xs[0].precision
    for x in xs {
        precondition(x.layout == .nhwc && x.n == N && x.h == H && x.w == W && x.precision == precision,
                     "concatChannels: \(x) does not match \(xs[0]) in N, H, W and format (or is not NHWC)")
    }
    let sizes = xs.map(\.c)
    let total = sizes.reduce(0, +)
    let out = Tensor.uninitialized(shape: [N, total, H, W], layout: .nhwc, precision: precision)
    // Byte copies, whatever the element format.
    let size = precision.size
    let sources = xs.map(\.storage), dst = out.storage
    parallelChunks(N * H * W, minChunk: rowsPerChunk(total)) { lo, hi in
        for pixel in lo..<hi {
            var o = dst + pixel * total * size
            for (k, c) in sizes.enumerated() {
                o.copyMemory(from: sources[k] + pixel * c * size, byteCount: c * size)
                o += c * size
            }
        }
    }
    Tape.op(inputs: xs)?.record(out) { dy in splitChannels(dy, sizes: sizes) }
    return out
}

/// The backward of `concatChannels`: splits an NHWC gradient into consecutive channel groups of `sizes`.
public func splitChannels(_ dy: Tensor, sizes: [Int]) -> [Tensor] {
    precondition(dy.layout == .nhwc && sizes.reduce(0, +) == dy.c && sizes.allSatisfy { $0 >= 0 },
                 "splitChannels: sizes \(sizes) do not add up to the channels of \(dy)")
    let (N, C, H, W) = (dy.n, dy.c, dy.h, dy.w)
    let outs = sizes.map { Tensor.uninitialized(shape: [N, $0, H, W], layout: .nhwc, precision: dy.precision) }
    let size = dy.precision.size
    let targets = outs.map(\.storage), src = dy.storage
    parallelChunks(N * H * W, minChunk: rowsPerChunk(C)) { lo, hi in
        for pixel in lo..<hi {
            var s = src + pixel * C * size
            for (k, c) in sizes.enumerated() {
                (targets[k] + pixel * c * size).copyMemory(from: s, byteCount: c * size)
                s += c * size
            }
        }
    }
    return outs
}

/// Where a UNet decoder stage meets its skip connections: the upsampled map is padded (or
/// cropped) to the skips' size (`ZeroPad2d.matching`) and `[skips..., upsampled]` concatenated,
/// as every UNet variant does (UNet++ joins several skips of one level).
func joinSkips(_ skips: [Tensor], upsampled: Tensor) -> Tensor {
    let u = ZeroPad2d.matching(height: upsampled.h, width: upsampled.w, to: skips[0])?.forward(upsampled) ?? upsampled
    return concatChannels(skips + [u])
}
