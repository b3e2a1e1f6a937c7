/// Concatenates NHWC activations of the same N, H and W along channels, like `torch.cat(xs, dim=1)`.
///
/// Channels are innermost in NHWC, so each pixel of the result is the inputs' channel vectors
/// one after another. Records its backward, `splitChannels`, on the recording tape.
public func concatChannels(_ xs: [Tensor]) -> Tensor {
    precondition(!xs.isEmpty, "concatChannels: no inputs")
    // A branch that ran in fp32 (a convolution without a bf16 kernel here) joins bf16 ones in fp32.
    if Set(xs.map(\.precision)).count > 1 { return concatChannels(xs.map { $0.float32() }) }
    let out = concatenation(xs, reserving: 0)
    let sizes = xs.map(\.c)
    Tape.op(inputs: xs)?.record(out) { dy in splitChannels(dy, sizes: sizes) }
    return out
}

/// The concatenation of `xs` followed by `reserved` channels left for the caller to write, not recorded.
private func concatenation(_ xs: [Tensor], reserving reserved: Int) -> Tensor {
    let (N, H, W) = (xs[0].n, xs[0].h, xs[0].w)
    let precision = xs[0].precision
    for x in xs {
        precondition(x.layout == .nhwc && x.n == N && x.h == H && x.w == W && x.precision == precision,
                     "concatChannels: \(x) does not match \(xs[0]) in N, H, W and format (or is not NHWC)")
    }
    let sizes = xs.map(\.c)
    let total = sizes.reduce(0, +) + reserved
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
    return out
}

/// The backward of `concatChannels`: splits an NHWC gradient into consecutive channel groups of `sizes`.
public func splitChannels(_ dy: Tensor, sizes: [Int]) -> [Tensor] {
    precondition(dy.layout == .nhwc && sizes.reduce(0, +) == dy.c && sizes.allSatisfy { $0 >= 0 },
                 "splitChannels: sizes \(sizes) do not add up to the channels of \(dy)")
    return leadingChannels(dy, sizes: sizes)
}

/// Copies of the first consecutive channel groups of `sizes` of an NHWC gradient (the rest, if
/// any, is left where it is).
private func leadingChannels(_ dy: Tensor, sizes: [Int]) -> [Tensor] {
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

/// Where a UNet decoder stage meets its skip connections: `up(x)` is padded (or cropped) to the
/// skips' size (`ZeroPad2d.matching`) and `[skips..., up(x)]` concatenated, as every UNet
/// variant does (UNet++ joins several skips of one level).
///
/// A bilinear `Upsample` that lands exactly on the skips' size writes into the concatenation
/// itself, and its backward reads its part of the concatenation's gradient in place: the same
/// numbers without a copy of the upsampled map each way.
func joinSkips(_ skips: [Tensor], upsampling x: Tensor, by up: any Layer) -> Tensor {
    if let resize = up as? Upsample, let joined = concatChannels(skips, upsampling: x, by: resize) { return joined }
    let upsampled = up(x)
    let u = ZeroPad2d.matching(height: upsampled.h, width: upsampled.w, to: skips[0])?.forward(upsampled) ?? upsampled
    return concatChannels(skips + [u])
}

/// `concatChannels(skips + [up(x)])` with the upsampled map written in place, or nil where the
/// shortcut does not apply (another size, or another format, than the skips').
private func concatChannels(_ skips: [Tensor], upsampling x: Tensor, by up: Upsample) -> Tensor? {
    let resize = up.resize(of: x)
    guard x.layout == .nhwc,
          skips.allSatisfy({ $0.n == x.n && $0.h == resize.height && $0.w == resize.width && $0.precision == x.precision })
    else { return nil }
    let sizes = skips.map(\.c), offset = sizes.reduce(0, +)
    let out = concatenation(skips, reserving: x.c)
    resize.forward(x, into: ChannelSlice(out, offset: offset))
    let channels = x.c  // backward keeps sizes, not `x`
    Tape.op(inputs: skips + [x])?.record(out) { dy in
        leadingChannels(dy, sizes: sizes)
            + [resize.backward(ChannelSlice(dy, offset: offset), channels: channels, n: dy.n, precision: dy.precision)]
    }
    return out
}
