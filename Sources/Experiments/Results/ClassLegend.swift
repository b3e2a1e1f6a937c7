import Nets

/// The strip under a preview panel that says what its colours are: for each class the panel
/// shows, a swatch of its palette colour and its name, then the colour of ignored pixels, left
/// to right and wrapping onto more rows when the panel is too narrow. Listing only the classes
/// present keeps it short for datasets of many classes (ADE20K's 150), and tells at a glance
/// which classes the model predicted.
enum ClassLegend {
    /// One swatch and its label.
    struct Entry: Equatable {
        var name: String
        var color: Image.Color
    }

    /// Sizes in pixels for a panel up to 480 pixels high; taller panels scale them up (see
    /// `scale`), so the names stay readable beside large images.
    static let fontSize = 12.0, rowHeight = 20.0, padding = 6.0, swatchSide = 12.0, labelGap = 5.0, entryGap = 16.0
    /// What ignored pixels are called.
    static let ignoredName = "ignored"
    /// The widest strip Cairo draws (its images stop at 32767 pixels a side); a wider panel's
    /// legend is padded with white to its width.
    static let maxDrawnWidth = 16384

    /// How much larger than the base sizes the legend of a panel `panelHeight` pixels high is drawn.
    static func scale(panelHeight: Int) -> Double { max(1, Double(panelHeight) / 480) }

    /// The entries for the classes that occur in `maps`, by id, named from `classNames` (`class 3`
    /// for an id without a name), then `ignored` when `ignoreIndex` occurs.
    static func entries(_ maps: [LabelMap], classNames: [String]?, palette: [Image.Color],
                        ignoreIndex: Int32?) -> [Entry] {
        var present = Set<Int32>()
        for map in maps { present.formUnion(map.values) }
        var entries = present.subtracting(ignoreIndex.map { [$0] } ?? []).sorted().map { id in
            let named = classNames.flatMap { id >= 0 && Int(id) < $0.count ? $0[Int(id)] : nil }
            return Entry(name: named ?? "class \(id)", color: PredictionImages.color(id, palette))
        }
        if let ignoreIndex, present.contains(ignoreIndex) {
            entries.append(Entry(name: ignoredName, color: PredictionImages.ignoreColor))
        }
        return entries
    }

    /// The legend as an RGB image `width` pixels wide on white, its height what the rows need.
    static func image(_ entries: [Entry], width: Int, scale: Double = 1) throws -> Image {
        let drawn = min(width, maxDrawnWidth)
        let font = fontSize * scale, row = rowHeight * scale, pad = padding * scale
        let swatch = swatchSide * scale, gap = labelGap * scale, spacing = entryGap * scale
        let labelWidths = try ChartSurface.measuring { canvas in entries.map { canvas.width($0.name, size: font) } }
        // Each entry's left edge and row, placed left to right and wrapped before the right padding.
        var places: [(x: Double, row: Int)] = []
        var x = pad, rowIndex = 0
        for w in labelWidths {
            let entryWidth = swatch + gap + w
            if x > pad && x + entryWidth > Double(drawn) - pad {
                x = pad
                rowIndex += 1
            }
            places.append((x, rowIndex))
            x += entryWidth + spacing
        }
        let rows = places.isEmpty ? 0 : rowIndex + 1
        let height = Int((2 * pad + Double(rows) * row).rounded(.up))
        var rgb = try ChartSurface.rgb(width: drawn, height: height) { c in
            c.gray(1)
            c.paint()
            for (entry, place) in zip(entries, places) {
                let cy = pad + (Double(place.row) + 0.5) * row
                // Whole-pixel corners, so the swatch's inside is exactly the class colour.
                let top = (cy - swatch / 2).rounded(), left = place.x.rounded()
                c.color(ChartColor(entry.color.red, entry.color.green, entry.color.blue))
                c.rectangle(left, top, swatch.rounded(), swatch.rounded())
                c.fillPreserve()
                // A gray border, so that the white of ignored pixels and the black of
                // background stand out from the strip.
                c.gray(0.5)
                c.lineWidth(1)
                c.stroke()
                c.gray(0.1)
                c.text(entry.name, x: left + swatch + gap, y: cy, size: font)
            }
        }
        if drawn < width {
            let white = [UInt8](repeating: 255, count: 3 * (width - drawn))
            var padded: [UInt8] = []
            padded.reserveCapacity(3 * width * height)
            for y in 0..<height {
                padded += rgb[3 * drawn * y..<3 * drawn * (y + 1)]
                padded += white
            }
            rgb = padded
        }
        return Image(width: width, height: height, colorModel: .rgb, samples: rgb)
    }
}
