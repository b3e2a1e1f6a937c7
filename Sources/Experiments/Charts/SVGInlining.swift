/// Turns Cairo's SVG document into an element that can sit in an HTML page beside others.
///
/// Cairo names its definitions `glyph0-1`, `clip1`, `surface5`..., the same in every document,
/// so two inlined charts would resolve each other's `#clip1`. Every id is renamed to the
/// caller's prefix, its kind and its order of first appearance (`run3-clip-12`), and each
/// `href="#…"` and `url(#…)` with it. Renumbering, rather than only prefixing, also removes
/// the one thing that differs between two renderings of the same figure: the surface id,
/// which Cairo counts across the whole process.
enum SVGInlining {
    /// Letters, digits, `-` and `_`, starting with a letter: a valid XML id start, and safe in
    /// CSS selectors and URLs without escaping.
    static func isValidPrefix(_ prefix: String) -> Bool {
        guard let first = prefix.unicodeScalars.first, first.properties.isAlphabetic, first.isASCII else { return false }
        return prefix.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)
                                                                 || $0 == "-" || $0 == "_") }
    }

    static func inline(_ document: String, idPrefix: String) -> String {
        var svg = Array(document.utf8)[...]
        // The prolog (`<?xml ...?>`) is not allowed inside an HTML document.
        if svg.starts(with: "<?xml".utf8), let end = firstIndex(of: Array("?>".utf8), in: svg) {
            svg = svg[(end + 2)...].drop { $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") }
        }
        var names: [ArraySlice<UInt8>: [UInt8]] = [:]
        func renamed(_ id: ArraySlice<UInt8>) -> [UInt8] {
            if let name = names[id] { return name }
            let kind = String(decoding: id.prefix { (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) },
                              as: UTF8.self)
            let name = Array("\(idPrefix)\(kind.isEmpty ? "id" : kind)-\(names.count)".utf8)
            names[id] = name
            return name
        }
        // Cairo writes these three forms only (and no text nodes: glyphs are paths), so one
        // scan for them finds every id and reference.
        let forms: [(open: [UInt8], close: UInt8)] = [
            (Array(" id=\"".utf8), UInt8(ascii: "\"")), (Array("href=\"#".utf8), UInt8(ascii: "\"")),
            (Array("url(#".utf8), UInt8(ascii: ")")),
        ]
        var out: [UInt8] = []
        out.reserveCapacity(svg.count + svg.count / 8)
        var i = svg.startIndex
        scan: while i < svg.endIndex {
            for form in forms where svg[i...].starts(with: form.open) {
                let start = i + form.open.count
                guard let end = svg[start...].firstIndex(of: form.close) else { break }
                out += form.open
                out += renamed(svg[start..<end])
                i = end
                continue scan
            }
            out.append(svg[i])
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func firstIndex(of needle: [UInt8], in bytes: ArraySlice<UInt8>) -> Int? {
        var i = bytes.startIndex
        while i + needle.count <= bytes.endIndex {
            if bytes[i...].starts(with: needle) { return i }
            i += 1
        }
        return nil
    }
}
