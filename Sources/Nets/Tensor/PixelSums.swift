/// Sums per-pixel contributions over fixed blocks of pixels in parallel, then adds the
/// block results in block order: a loss value has the same bits whatever the thread count.
///
/// `body(lo, hi, sums)` handles pixels `lo..<hi` (at most `block`) and adds into `sums`,
/// `width` zeroed Doubles.
func pixelSums(_ pixels: Int, width: Int, block: Int = 16_384,
               _ body: (_ lo: Int, _ hi: Int, _ sums: UnsafeMutablePointer<Double>) -> Void) -> [Double]
{
    let blocks = (pixels + block - 1) / block
    let partial = UnsafeMutablePointer<Double>.allocate(capacity: max(1, blocks * width))
    partial.initialize(repeating: 0, count: max(1, blocks * width))
    defer { partial.deallocate() }
    parallelFor(blocks) { b in
        body(b * block, min(pixels, (b + 1) * block), partial + b * width)
    }
    var out = [Double](repeating: 0, count: width)
    for b in 0..<blocks {
        for k in 0..<width { out[k] += partial[b * width + k] }
    }
    return out
}

/// Calls `body(image, pixels)` for each run of `lo..<hi` that lies within one image of
/// `perImage` pixels: the image index without a division per pixel.
@inline(__always)
func imageRuns(_ lo: Int, _ hi: Int, perImage: Int, _ body: (_ image: Int, _ pixels: Range<Int>) -> Void) {
    var i = lo
    while i < hi {
        let image = i / perImage, end = min(hi, (image + 1) * perImage)
        body(image, i..<end)
        i = end
    }
}
