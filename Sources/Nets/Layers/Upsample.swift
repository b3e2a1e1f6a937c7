/// Bilinear upsampling by an integer factor, like `nn.Upsample(scale_factor:, mode: "bilinear", align_corners:)`.
///
/// The UNet's decoder uses `Upsample(scaleFactor: 2, alignCorners: true)`.
public final class Upsample: Module, Layer {
    public let scaleFactor: Int
    public let alignCorners: Bool

    public init(scaleFactor: Int, alignCorners: Bool) {
        precondition(scaleFactor >= 1, "Upsample: scale factor \(scaleFactor) must be at least 1")
        self.scaleFactor = scaleFactor
        self.alignCorners = alignCorners
    }

    /// PyTorch passes the scale factor through to the kernel, which (align_corners=False) uses
    /// 1/scale as the ratio; for an integer factor that equals in/out, but we pass it to stay exact.
    private var factors: (height: Double, width: Double) { (Double(scaleFactor), Double(scaleFactor)) }

    /// The resize this layer applies to `x`.
    func resize(of x: Tensor) -> BilinearResize {
        BilinearResize(inputHeight: x.h, inputWidth: x.w, height: x.h * scaleFactor, width: x.w * scaleFactor,
                       alignCorners: alignCorners, scaleFactors: factors)
    }

    public func forward(_ x: Tensor) -> Tensor { resize(of: x).recorded(x) }
}

/// One axis of a bilinear resize: for each output index the two input indices and their
/// weights, computed in Float exactly as PyTorch's `compute_source_index_and_lambda` does.
struct LinearAxis {
    var index0: [Int]
    var index1: [Int]
    var lambda0: [Float]
    var lambda1: [Float]

    init(input: Int, output: Int, alignCorners: Bool, scale: Double?) {
        precondition(input > 0 && output > 0, "bilinear resize: sizes \(input) → \(output) must be positive")
        index0 = Array(repeating: 0, count: output)
        index1 = Array(repeating: 0, count: output)
        lambda0 = Array(repeating: 1, count: output)
        lambda1 = Array(repeating: 0, count: output)
        // PyTorch's area_pixel_compute_scale: align_corners maps corner to corner and ignores a
        // given scale; otherwise a given scale factor wins over input/output.
        let ratio: Float
        if alignCorners {
            ratio = output > 1 ? Float(input - 1) / Float(output - 1) : 0
        } else if let scale, scale > 0 {
            ratio = Float(1.0 / scale)
        } else {
            ratio = Float(input) / Float(output)
        }
        for o in 0..<output {
            // Same size: PyTorch copies, whatever the ratio says.
            if input == output {
                index0[o] = o
                index1[o] = o
                continue
            }
            var source: Float
            if alignCorners {
                source = ratio * Float(o)
            } else {
                // Half-pixel centres, clamped at 0 (not at the far edge: the index clamp does that).
                source = ratio * (Float(o) + 0.5) - 0.5
                if source < 0 { source = 0 }
            }
            let i0 = min(Int(source.rounded(.down)), input - 1)
            let l1 = min(max(source - Float(i0), 0), 1)
            index0[o] = i0
            index1[o] = i0 < input - 1 ? i0 + 1 : i0
            lambda0[o] = 1 - l1
            lambda1[o] = l1
        }
    }

    /// The transpose: for each input index, the (output index, weight) pairs that read it, in
    /// increasing output order (CSR: entries of input i are `start[i]..<start[i+1]`). Zero
    /// weights are left out.
    func transposed(inputs: Int) -> (start: [Int], output: [Int], weight: [Float]) {
        var counts = Array(repeating: 0, count: inputs + 1)
        for o in 0..<index0.count {
            if lambda0[o] != 0 { counts[index0[o] + 1] += 1 }
            if lambda1[o] != 0 { counts[index1[o] + 1] += 1 }
        }
        for i in 0..<inputs { counts[i + 1] += counts[i] }
        var fill = counts
        var output = Array(repeating: 0, count: counts[inputs])
        var weight = Array(repeating: Float(0), count: counts[inputs])
        for o in 0..<index0.count {
            if lambda0[o] != 0 { output[fill[index0[o]]] = o; weight[fill[index0[o]]] = lambda0[o]; fill[index0[o]] += 1 }
            if lambda1[o] != 0 { output[fill[index1[o]]] = o; weight[fill[index1[o]]] = lambda1[o]; fill[index1[o]] += 1 }
        }
        return (counts, output, weight)
    }
}

/// Channels `offset..<offset + channels` of every pixel of an NHWC buffer whose pixels are
/// `stride` elements apart: a whole activation (offset 0, stride = channels) or one input's
/// part of a channel concatenation.
struct ChannelSlice {
    let storage: UnsafeMutableRawPointer
    let stride: Int
    let offset: Int

    init(_ t: Tensor, offset: Int = 0) { (storage, stride, self.offset) = (t.storage, t.c, offset) }

    /// The first element of pixel `index` (counted over N·H·W), as `T`.
    func pixel<T>(_ index: Int, as: T.Type) -> UnsafeMutablePointer<T> {
        storage.assumingMemoryBound(to: T.self) + index * stride + offset
    }
}

/// Resizes an NHWC activation to `height`×`width` like `F.interpolate(x, size:, mode: "bilinear",
/// align_corners:)`; pass `scaleFactors` when PyTorch would be called with `scale_factor=` instead,
/// since with align_corners=False it then uses 1/scale (not in/out) as the source ratio.
/// Records its backward on the recording tape. A bf16 activation is blended in fp32 and
/// written back in bf16.
public func bilinearResize(_ x: Tensor, height: Int, width: Int, alignCorners: Bool,
                           scaleFactors: (height: Double, width: Double)? = nil) -> Tensor {
    precondition(x.layout == .nhwc, "bilinearResize expects an NHWC activation, got \(x)")
    return BilinearResize(inputHeight: x.h, inputWidth: x.w, height: height, width: width, alignCorners: alignCorners,
                          scaleFactors: scaleFactors).recorded(x)
}

/// The input gradient of `bilinearResize`: `dy` is the gradient of the `height`×`width` output,
/// the result has the input's `inputHeight`×`inputWidth`.
public func bilinearResizeBackward(_ dy: Tensor, inputHeight: Int, inputWidth: Int, alignCorners: Bool,
                                   scaleFactors: (height: Double, width: Double)? = nil) -> Tensor {
    precondition(dy.layout == .nhwc, "bilinearResizeBackward expects an NHWC gradient, got \(dy)")
    return BilinearResize(inputHeight: inputHeight, inputWidth: inputWidth, height: dy.h, width: dy.w,
                          alignCorners: alignCorners, scaleFactors: scaleFactors)
        .backward(ChannelSlice(dy), channels: dy.c, n: dy.n, precision: dy.precision)
}

/// One bilinear resize, `inputHeight`×`inputWidth` to `height`×`width` (see `bilinearResize`),
/// whose output (forward) or output gradient (backward) may be a slice of a larger buffer: a
/// decoder writes its upsampled map straight into the skip concatenation.
struct BilinearResize {
    let inputHeight, inputWidth, height, width: Int
    let alignCorners: Bool
    let scaleFactors: (height: Double, width: Double)?

    /// The resize of `x` as a new tensor, its backward recorded on the recording tape.
    func recorded(_ x: Tensor) -> Tensor {
        let out = Tensor.uninitialized(shape: [x.n, x.c, height, width], layout: .nhwc, precision: x.precision)
        forward(x, into: ChannelSlice(out))
        Tape.op(inputs: [x])?.record(out) { dy in
            [backward(ChannelSlice(dy), channels: dy.c, n: dy.n, precision: dy.precision)]
        }
        return out
    }

    /// The resize of `x` written into `out` (an NHWC buffer of `x`'s N and format, `height`×`width`
    /// pixels), not recorded.
    func forward(_ x: Tensor, into out: ChannelSlice) {
        precondition(x.layout == .nhwc && x.h == inputHeight && x.w == inputWidth,
                     "bilinear resize of \(inputHeight)×\(inputWidth): input \(x)")
        let (N, C, H, W) = (x.n, x.c, x.h, x.w)
        let rows = LinearAxis(input: H, output: height, alignCorners: alignCorners, scale: scaleFactors?.height)
        let cols = LinearAxis(input: W, output: width, alignCorners: alignCorners, scale: scaleFactors?.width)
        let bf16 = x.precision == .bf16
        let src = x.storage
        let inRow = W * C, outRow = width * C
        // Tables are read once per output row or column; the inner loops run over contiguous channels.
        let (r0, r1, rl0, rl1) = (rows.index0, rows.index1, rows.lambda0, rows.lambda1)
        let (c0, c1, cl0, cl1) = (cols.index0, cols.index1, cols.lambda0, cols.lambda1)
        parallelChunks(N * height, minChunk: rowsPerChunk(outRow)) { lo, hi in
            // Separable: blend the two source rows once, then blend columns from that row.
            let blended = UnsafeMutablePointer<Float>.allocate(capacity: max(inRow, 1))
            let row = bf16 ? UnsafeMutablePointer<Float>.allocate(capacity: max(C, 1)) : nil
            defer { blended.deallocate(); row?.deallocate() }
            for item in lo..<hi {
                let n = item / height, oy = item % height
                let wa = rl0[oy], wb = rl1[oy]
                if bf16 {
                    let a = src.assumingMemoryBound(to: UInt16.self) + (n * H + r0[oy]) * inRow
                    let b = src.assumingMemoryBound(to: UInt16.self) + (n * H + r1[oy]) * inRow
                    for j in 0..<inRow { blended[j] = wa * widen(a[j]) + wb * widen(b[j]) }
                } else {
                    let a = src.assumingMemoryBound(to: Float.self) + (n * H + r0[oy]) * inRow
                    let b = src.assumingMemoryBound(to: Float.self) + (n * H + r1[oy]) * inRow
                    for j in 0..<inRow { blended[j] = wa * a[j] + wb * b[j] }
                }
                for ox in 0..<width {
                    let p = blended + c0[ox] * C, q = blended + c1[ox] * C
                    let wp = cl0[ox], wq = cl1[ox]
                    let oc = row ?? out.pixel(item * width + ox, as: Float.self)
                    for c in 0..<C { oc[c] = wp * p[c] + wq * q[c] }
                    if let row {
                        let o16 = out.pixel(item * width + ox, as: UInt16.self)
                        for c in 0..<C { o16[c] = narrow(row[c]) }
                    }
                }
            }
        }
    }

    /// The input gradient (`channels` of `n` images, in `precision`) for the output gradient `dy`.
    ///
    /// Deterministic: each thread owns whole input rows and gathers the output rows that read them
    /// (the transposed row map), so no element is written by two threads and the summation order is fixed.
    func backward(_ dy: ChannelSlice, channels C: Int, n N: Int, precision: Precision) -> Tensor {
        let (H, W, outH, outW) = (inputHeight, inputWidth, height, width)
        let rows = LinearAxis(input: H, output: outH, alignCorners: alignCorners, scale: scaleFactors?.height)
        let cols = LinearAxis(input: W, output: outW, alignCorners: alignCorners, scale: scaleFactors?.width)
        let readers = rows.transposed(inputs: H)
        let bf16 = precision == .bf16
        let dx = Tensor.activation(N, C, H, W, precision: precision)
        let dst = dx.storage
        let inRow = W * C, outRow = outW * C
        let (start, ro, rw) = (readers.start, readers.output, readers.weight)
        let (c0, c1, cl0, cl1) = (cols.index0, cols.index1, cols.lambda0, cols.lambda1)
        parallelChunks(N * H, minChunk: rowsPerChunk(2 * outRow)) { lo, hi in
            let gathered = UnsafeMutablePointer<Float>.allocate(capacity: max(outRow, 1))
            let row = bf16 ? UnsafeMutablePointer<Float>.allocate(capacity: max(inRow, 1)) : nil
            defer { gathered.deallocate(); row?.deallocate() }
            for item in lo..<hi {
                let n = item / H, iy = item % H
                let (first, last) = (start[iy], start[iy + 1])
                if first == last { continue }
                // Sum of the output-gradient rows that read input row iy, with their row weights…
                for e in first..<last {
                    let we = rw[e], pixel0 = (n * outH + ro[e]) * outW
                    for ox in 0..<outW {
                        let s = gathered + ox * C
                        if bf16 {
                            let ge = dy.pixel(pixel0 + ox, as: UInt16.self)
                            if e == first {
                                for c in 0..<C { s[c] = we * widen(ge[c]) }
                            } else {
                                for c in 0..<C { s[c] += we * widen(ge[c]) }
                            }
                        } else {
                            let ge = dy.pixel(pixel0 + ox, as: Float.self)
                            if e == first {
                                for c in 0..<C { s[c] = we * ge[c] }
                            } else {
                                for c in 0..<C { s[c] += we * ge[c] }
                            }
                        }
                    }
                }
                // …then spread along the row by the column weights, sequentially within this thread.
                if let row { row.update(repeating: 0, count: inRow) }
                let d = row ?? dst.assumingMemoryBound(to: Float.self) + item * inRow
                for ox in 0..<outW {
                    let s = gathered + ox * C
                    let p = d + c0[ox] * C, q = d + c1[ox] * C
                    let wp = cl0[ox], wq = cl1[ox]
                    for c in 0..<C { p[c] += wp * s[c] }
                    for c in 0..<C { q[c] += wq * s[c] }
                }
                if bf16 {
                    let d16 = dst.assumingMemoryBound(to: UInt16.self) + item * inRow
                    for j in 0..<inRow { d16[j] = narrow(d[j]) }
                }
            }
        }
        return dx
    }
}
