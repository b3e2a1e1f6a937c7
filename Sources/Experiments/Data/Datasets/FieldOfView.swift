/// The field of view of a fundus photograph whose benchmark distributes no mask of it
/// (CHASE_DB1, STARE), derived as common practice does: pixels whose red value is above
/// `threshold`, the largest connected region of them, its holes filled. The camera's
/// aperture is the one large bright disc on a black surround; dark spots inside it (vessels,
/// lesions, the fovea in the red channel rarely) are holes, and specks of JPEG noise outside
/// it are small regions, so the two last steps remove both.
public enum FieldOfView {
    /// Red values (0-255) above this are in the aperture. CHASE_DB1's and STARE's black
    /// surrounds stay below about 10 after JPEG and PPM storage; their apertures' rims are
    /// above 40.
    public static let threshold: UInt8 = 20

    /// Whether each pixel (row-major) is inside the field of view of `image`; gray images
    /// use their gray value.
    public static func derived(from image: Image) -> [Bool] {
        let w = image.width, h = image.height
        guard w > 0 && h > 0 else { return [] }
        let rgb = image.converted(to: image.colorModel == .gray || image.colorModel == .grayAlpha ? .gray : .rgb)
        let c = rgb.channels
        let bright = (0..<(w * h)).map { rgb.samples[$0 * c] > threshold }
        // Largest 4-connected bright region.
        var region = [Int32](repeating: -1, count: w * h)
        var largest: (id: Int32, size: Int) = (-1, 0)
        var next: Int32 = 0
        for start in 0..<(w * h) where bright[start] && region[start] < 0 {
            let size = fill(from: [start], width: w, height: h, into: &region, id: next) { bright[$0] }
            if size > largest.size { largest = (next, size) }
            next += 1
        }
        let disc = region.map { $0 == largest.id && largest.id >= 0 }
        // Holes: pixels outside the disc that the border's outside cannot reach.
        var outside = [Int32](repeating: -1, count: w * h)
        var border: [Int] = []
        for x in 0..<w { border += [x, (h - 1) * w + x] }
        for y in 0..<h { border += [y * w, y * w + w - 1] }
        _ = fill(from: border.filter { !disc[$0] }, width: w, height: h, into: &outside, id: 0) { !disc[$0] }
        return outside.map { $0 < 0 }
    }

    /// Marks with `id` every pixel 4-connected to `seeds` through pixels where `admits` holds;
    /// returns how many it marked.
    private static func fill(from seeds: [Int], width w: Int, height h: Int, into marks: inout [Int32], id: Int32,
                             admits: (Int) -> Bool) -> Int {
        var stack: [Int] = []
        for s in seeds where marks[s] < 0 {
            marks[s] = id
            stack.append(s)
        }
        var size = 0
        func visit(_ q: Int) {
            guard marks[q] < 0 && admits(q) else { return }
            marks[q] = id
            stack.append(q)
        }
        while let p = stack.popLast() {
            size += 1
            let x = p % w, y = p / w
            if x > 0 { visit(p - 1) }
            if x < w - 1 { visit(p + 1) }
            if y > 0 { visit(p - w) }
            if y < h - 1 { visit(p + w) }
        }
        return size
    }
}
