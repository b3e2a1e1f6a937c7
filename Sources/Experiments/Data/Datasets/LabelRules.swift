/// A label problem in the data: a mask value that is not a class id, or masks that look like
/// 0/255 binary masks read with 255 as "ignore". `configPath` is the setting that fixes it
/// (`data.label_map` or `data.num_classes`), so the runner can point at that line.
public struct LabelError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public let configPath: String

    public init(_ description: String, configPath: String) {
        self.description = description
        self.configPath = configPath
    }
}

/// How the stored values of a mask file become class ids: `label_map` first (stored value →
/// class id), then every value must be a class id (`0..<numClasses`) or `ignoreIndex`.
///
/// Both steps go through one 65,536-entry table built once (every 8- or 16-bit stored value
/// has its entry), so converting a mask is one lookup per pixel.
public struct LabelRules: Sendable {
    public let numClasses: Int
    public let ignoreIndex: Int32
    public let labelMap: [Int: Int]?
    /// A sentence appended to out-of-range errors (VOC says how many classes it has).
    public let hint: String?
    /// The colour of each class id (`data.palette`), for colour-coded RGB masks; nil: RGB masks
    /// must be gray (r = g = b).
    public let palette: [[UInt8]]?
    /// Class id (or `ignoreIndex`) of each stored value, or -1 for a value that is neither.
    private let table: [Int32]

    /// Rules for `numClasses` classes; `labelMap` keys are stored values (0...65535).
    public init(numClasses: Int, ignoreIndex: Int32 = 255, labelMap: [Int: Int]? = nil, palette: [[UInt8]]? = nil,
                hint: String? = nil) {
        precondition(numClasses >= 1, "numClasses \(numClasses)")
        self.numClasses = numClasses
        self.ignoreIndex = ignoreIndex
        self.labelMap = labelMap
        self.palette = palette
        self.hint = hint
        table = (0..<65_536).map { v in
            let id = labelMap?[v] ?? v
            return id < numClasses || id == Int(ignoreIndex) ? Int32(id) : -1
        }
    }

    /// The class id of each pixel of `mask` (a palette image's indices, a gray image's values);
    /// throws a `LabelError` naming `file` and the offending values.
    public func classIds(_ mask: Image, file: String) throws -> [Int32] {
        try classIds(stored: storedValues(mask, file: file), width: mask.width, file: file)
    }

    /// The class ids of stored values (`storedValues` of a mask `width` pixels wide).
    func classIds(stored: [Int32], width: Int, file: String) throws -> [Int32] {
        var ids = [Int32](repeating: 0, count: stored.count)
        var bad = false
        table.withUnsafeBufferPointer { t in
            stored.withUnsafeBufferPointer { s in
                ids.withUnsafeMutableBufferPointer { out in
                    for i in 0..<s.count {
                        let id = t[Int(s[i])]
                        out[i] = id
                        if id < 0 { bad = true }
                    }
                }
            }
        }
        if bad { throw outOfRange(stored, ids, width: width, file: file) }
        return ids
    }

    /// The one-line error for the values of `stored` that map to no class.
    private func outOfRange(_ stored: [Int32], _ ids: [Int32], width: Int, file: String) -> LabelError {
        var counts: [Int32: Int] = [:]
        var first: Int?
        for i in 0..<ids.count where ids[i] < 0 {
            counts[stored[i], default: 0] += 1
            if first == nil { first = i }
        }
        let values = counts.keys.sorted()
        let shown = values.prefix(5).map { "\($0) (\(counts[$0]!) pixel\(counts[$0]! == 1 ? "" : "s"))" }
            .joined(separator: ", ")
            + (values.count > 5 ? " and \(values.count - 5) more" : "")
        let at = first.map { " (first at x=\($0 % width), y=\($0 / width))" } ?? ""
        var message = "\(file): mask value\(values.count > 1 ? "s" : "") \(shown)\(at) "
            + "\(values.count > 1 ? "are not class ids" : "is not a class id"): data.num_classes is \(numClasses) "
            + "and data.ignore_index is \(ignoreIndex)"
        if values == [255] && numClasses == 2 && labelMap == nil {
            message += "; a binary mask stored as 0/255 needs `label_map: {255: 1}` in the data section"
            return LabelError(message, configPath: "data.label_map")
        }
        message += "; map stored values to class ids with data.label_map, or raise data.num_classes"
        if let hint { message += "; " + hint }
        return LabelError(message, configPath: "data.num_classes")
    }

    /// What a mask file stores per pixel: palette indices, gray values (16-bit exact), the
    /// common colour mask whose every pixel is gray (r = g = b, e.g. a gray mask saved as RGB),
    /// or, with `palette`, the class id whose colour a pixel has.
    func storedValues(_ mask: Image, file: String) throws -> [Int32] {
        if let values = mask.labelValues() { return values }
        let c = mask.channels
        let colour = mask.colorModel == .rgb || mask.colorModel == .rgba
        let classOfColour = palette.map { colours in
            Dictionary(colours.enumerated().map { (Self.packed($1[0], $1[1], $1[2]), Int32($0)) }) { a, _ in a }
        }
        var values = [Int32](repeating: 0, count: mask.width * mask.height)
        for p in 0..<values.count {
            let s = p * c
            let r = mask.samples[s]
            guard colour else {
                values[p] = Int32(r)  // gray+alpha: one colour sample
                continue
            }
            let g = mask.samples[s + 1], b = mask.samples[s + 2]
            if let classOfColour {
                guard let id = classOfColour[Self.packed(r, g, b)] else {
                    throw LabelError("\(file): colour (\(r), \(g), \(b)) at x=\(p % mask.width), y=\(p / mask.width) is "
                                     + "not in data.palette", configPath: "data.palette")
                }
                values[p] = id
            } else {
                guard g == r && b == r else {
                    throw LabelError("\(file): a colour mask (pixel x=\(p % mask.width), y=\(p / mask.width) is "
                                     + "(\(r), \(g), \(b))) does not hold class ids; save masks as gray or palette PNGs "
                                     + "whose pixel values are the class ids, or give data.palette (the colour of "
                                     + "each class)", configPath: "data.palette")
                }
                values[p] = Int32(r)
            }
        }
        return values
    }

    private static func packed(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> UInt32 {
        UInt32(r) << 16 | UInt32(g) << 8 | UInt32(b)
    }

    /// Checks what one mask cannot show: that the masks as a whole contain some foreground.
    /// `foreground` says whether any checked mask had a class id above 0, `storedIgnore`
    /// whether any had pixels stored as 255 that became `ignoreIndex`. Masks with only 0 and
    /// 255 are almost always 0/255 binary masks, whose objects would all be ignored.
    func checkForeground(foreground: Bool, storedIgnore: Bool, checked: Int, root: String) throws {
        guard !foreground, storedIgnore, labelMap == nil else { return }
        throw LabelError("\(root): the \(checked) masks checked hold only 0 and 255, and 255 is data.ignore_index, "
                         + "so no pixel would be trained as foreground; if the masks are binary 0/255, add "
                         + "`label_map: {255: 1}` to the data section", configPath: "data.label_map")
    }
}
