/// One axis of a resize–flip–crop: for each output index, the two source taps and weights of the
/// bilinear image sample, the nearest source index for the label, or −1 where the output lies in padding.
///
/// The image follows `F.interpolate(mode="bilinear", align_corners=False)` given an output size
/// (half-pixel centres, source clamped at 0, ratio in/out in Float, a plain copy at equal sizes) —
/// what torchvision's `Resize` does to a tensor with `antialias=False`; there is no antialiasing on
/// downscaling. The label uses "nearest-exact" (`floor((o + 0.5) * in/out)`), which is PIL's NEAREST
/// (the recipe resizes PIL targets) and samples at the same half-pixel centres as the bilinear
/// image, so labels stay within half a pixel of the image content; plain "nearest"
/// (`floor(o * in/out)`) would shift them by up to half a source pixel towards the origin.
struct AxisMap {
    var lower: [Int]
    var upper: [Int]
    var lowerWeight: [Float]
    var upperWeight: [Float]
    var nearest: [Int]

    /// `source`: the sample's length along the axis; `resized`: its length after resizing; output
    /// index `o` reads index `offset + o` of the resized axis, mirrored when `flip`; indices at or
    /// past `resized` are padding (the recipe pads at the bottom and right, after flipping).
    init(source: Int, resized: Int, offset: Int, output: Int, flip: Bool) {
        precondition(source > 0 && resized > 0 && output >= 0 && offset >= 0, "axis \(source)→\(resized)")
        lower = Array(repeating: -1, count: output)
        upper = Array(repeating: -1, count: output)
        lowerWeight = Array(repeating: 1, count: output)
        upperWeight = Array(repeating: 0, count: output)
        nearest = Array(repeating: -1, count: output)
        let ratio = Float(source) / Float(resized)
        for o in 0..<output {
            let p = offset + o
            guard p < resized else { continue }
            let r = flip ? resized - 1 - p : p
            if source == resized {
                (lower[o], upper[o], nearest[o]) = (r, r, r)
                continue
            }
            let centre = max(ratio * (Float(r) + 0.5) - 0.5, 0)
            let i0 = min(Int(centre.rounded(.down)), source - 1)
            let w1 = min(max(centre - Float(i0), 0), 1)
            lower[o] = i0
            upper[o] = i0 < source - 1 ? i0 + 1 : i0
            lowerWeight[o] = 1 - w1
            upperWeight[o] = w1
            nearest[o] = min(Int(((Float(r) + 0.5) * ratio).rounded(.down)), source - 1)
        }
    }
}

/// Where the pixels of a transformed sample come from: the sample resized to `resized`, mirrored
/// as asked, padded at the bottom/right and cut to the `output` window whose corner is at (`top`, `left`).
struct Warp: Equatable {
    var resized: ImageSize
    var top = 0
    var left = 0
    var output: ImageSize
    var hflip = false
    var vflip = false

    /// Only a resize (the whole resized image, nothing mirrored).
    init(resized: ImageSize) {
        self.resized = resized
        self.output = resized
    }

    init(resized: ImageSize, top: Int, left: Int, output: ImageSize, hflip: Bool, vflip: Bool) {
        (self.resized, self.top, self.left, self.output, self.hflip, self.vflip) = (resized, top, left, output, hflip, vflip)
    }

    /// The transformed sample in one pass over its output pixels: nothing outside the window is
    /// resampled (a 2× resize followed by a small crop costs only the crop), the flips are index
    /// maps, and normalisation happens on the way out. Padding gets image value 0 *before*
    /// normalisation (the recipe pads the PIL image with 0) and label `ignoreIndex`.
    ///
    /// Single-threaded on purpose: it runs on a loader thread beside the engine's own threads.
    func apply(_ s: Sample, mean: [Float], std: [Float], ignoreIndex: Int32) -> Sample {
        let C = s.channels, W = s.width
        precondition(mean.count == C && std.count == C, "warp: \(mean.count) means for \(C) channels")
        let rows = AxisMap(source: s.height, resized: resized.height, offset: top, output: output.height, flip: vflip)
        let cols = AxisMap(source: s.width, resized: resized.width, offset: left, output: output.width, flip: hflip)
        let (oh, ow) = (output.height, output.width)
        var image = [Float](repeating: 0, count: oh * ow * C)
        var label = [Int32](repeating: ignoreIndex, count: oh * ow)
        let fill = (0..<C).map { (0 - mean[$0]) / std[$0] }
        s.image.withUnsafeBufferPointer { srcBuffer in
        s.label.withUnsafeBufferPointer { srcLabels in
        image.withUnsafeMutableBufferPointer { dstBuffer in
        label.withUnsafeMutableBufferPointer { dstLabels in
            let src = srcBuffer.baseAddress!, dst = dstBuffer.baseAddress!
            let srcLab = srcLabels.baseAddress!, dstLab = dstLabels.baseAddress!
            for y in 0..<oh {
                let o = dst + y * ow * C
                let r0 = rows.lower[y]
                if r0 < 0 {
                    for x in 0..<ow { for k in 0..<C { o[x * C + k] = fill[k] } }
                    continue  // labels are already ignoreIndex
                }
                let a = src + r0 * W * C, b = src + rows.upper[y] * W * C
                let wa = rows.lowerWeight[y], wb = rows.upperWeight[y]
                let labelRow = srcLab + rows.nearest[y] * W, outLabel = dstLab + y * ow
                for x in 0..<ow {
                    let ox = o + x * C
                    let c0 = cols.lower[x]
                    if c0 < 0 {
                        for k in 0..<C { ox[k] = fill[k] }
                        continue
                    }
                    let p = c0 * C, q = cols.upper[x] * C
                    let wp = cols.lowerWeight[x], wq = cols.upperWeight[x]
                    for k in 0..<C {
                        // Rows blended first, then columns: the order of Nets' `bilinearResize`,
                        // so both give the same bits for the same resize.
                        let v = wp * (wa * a[p + k] + wb * b[p + k]) + wq * (wa * a[q + k] + wb * b[q + k])
                        ox[k] = (v - mean[k]) / std[k]
                    }
                    outLabel[x] = labelRow[cols.nearest[x]]
                }
            }
        }}}}
        return Sample(height: oh, width: ow, channels: C, image: image, label: label, name: s.name)
    }
}

extension Sample {
    /// The sample resized to `size`: bilinear image (align_corners=False, no antialiasing), nearest-exact label.
    public func resized(to size: ImageSize) -> Sample {
        precondition(size.height > 0 && size.width > 0, "resize to \(size)")
        return Warp(resized: size).apply(self, mean: Array(repeating: 0, count: channels),
                                         std: Array(repeating: 1, count: channels), ignoreIndex: 0)
    }
}
