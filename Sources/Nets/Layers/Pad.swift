/// Zero padding of an activation's borders, like `nn.ZeroPad2d((left, right, top, bottom))` or
/// `F.pad(x, [left, right, top, bottom])`. Negative amounts crop, as in PyTorch.
///
/// The UNet pads each upsampled map to its skip connection's size with
/// `(diff / 2, diff - diff / 2)` per axis.
public final class ZeroPad2d: Module, Layer {
    public let left: Int
    public let right: Int
    public let top: Int
    public let bottom: Int

    public init(left: Int, right: Int, top: Int, bottom: Int) {
        self.left = left
        self.right = right
        self.top = top
        self.bottom = bottom
    }

    public func forward(_ x: Tensor) -> Tensor {
        zeroPad2d(x, left: left, right: right, top: top, bottom: bottom)
    }
}

/// Pads (positive amounts) or crops (negative amounts) an NHWC activation's width and height with
/// zeros. Records its backward, the opposite padding (padded borders get no gradient, cropped
/// ones get zeros), on the recording tape.
public func zeroPad2d(_ x: Tensor, left: Int, right: Int, top: Int, bottom: Int) -> Tensor {
    let out = zeroPadded(x, left: left, right: right, top: top, bottom: bottom)
    Tape.op(inputs: [x])?.record(out) { dy in
        [zeroPadded(dy, left: -left, right: -right, top: -top, bottom: -bottom)]
    }
    return out
}

private func zeroPadded(_ x: Tensor, left: Int, right: Int, top: Int, bottom: Int) -> Tensor {
    precondition(x.layout == .nhwc, "zeroPad2d expects an NHWC activation, got \(x)")
    let (N, C, H, W) = (x.n, x.c, x.h, x.w)
    let outH = H + top + bottom, outW = W + left + right
    precondition(outH > 0 && outW > 0,
                 "zeroPad2d: padding (\(left), \(right), \(top), \(bottom)) leaves no output from \(H)×\(W)")
    let out = Tensor.activation(N, C, outH, outW, precision: x.precision)
    // Output columns that have a source column; the same span for every row.
    let x0 = max(0, left), x1 = min(outW, W + left)
    if x1 <= x0 { return out }
    // Byte copies, whatever the element format.
    let size = x.precision.size
    let span = (x1 - x0) * C * size
    let src = x.storage, dst = out.storage
    parallelChunks(N * outH, minChunk: rowsPerChunk(outW * C)) { lo, hi in
        for item in lo..<hi {
            let n = item / outH, oy = item % outH
            let iy = oy - top
            guard iy >= 0 && iy < H else { continue }
            let from = src + ((n * H + iy) * W + (x0 - left)) * C * size
            (dst + (item * outW + x0) * C * size).copyMemory(from: from, byteCount: span)
        }
    }
    return out
}

extension ZeroPad2d {
    /// The padding that brings an upsampled decoder map of `height`×`width` to its skip map's
    /// `target` size, as the UNet recipes do before concatenating:
    /// `F.pad(x, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])`. When the map is larger (a
    /// strided trunk rounds odd sides up), the excess is cropped at the bottom/right. Nil when
    /// the sizes already match.
    public static func matching(height: Int, width: Int, to target: Tensor) -> ZeroPad2d? {
        let dy = target.h - height, dx = target.w - width
        guard dy != 0 || dx != 0 else { return nil }
        let left = max(dx, 0) / 2, top = max(dy, 0) / 2
        return ZeroPad2d(left: left, right: dx - left, top: top, bottom: dy - top)
    }
}
