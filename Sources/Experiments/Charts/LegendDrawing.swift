/// A panel's legend: one row per series that has something drawable (a sample of its line,
/// over a swatch of its band, and its label), in a box in the frame's corner that covers the
/// fewest of the panel's points, as matplotlib's `loc="best"` does.
struct LegendDrawing {
    let panel: PanelDrawing
    /// Indices of the series listed, in panel order.
    let entries: [Int]

    static let padding = 6.0, rowHeight = 16.0, sampleWidth = 22.0, gap = 6.0
    /// The labels' widest share of the frame; longer labels are cut with an ellipsis.
    static let maxWidthShare = 0.6

    init(_ panel: PanelDrawing) {
        self.panel = panel
        entries = panel.panel.series.indices.filter { i in
            !panel.runs(panel.panel.series[i]).isEmpty || !panel.bandRuns(panel.panel.series[i]).isEmpty
        }
    }

    func draw() {
        guard !entries.isEmpty else { return }
        let c = panel.canvas, f = panel.frame, font = PanelDrawing.legendFont
        let maxText = f.width * Self.maxWidthShare - Self.sampleWidth - Self.gap - 2 * Self.padding
        // Rows that do not fit the frame's height give way to a "+ N more" line.
        let fitting = max(1, Int((f.height - 2 * PanelDrawing.inset - 2 * Self.padding) / Self.rowHeight))
        var rows = entries.prefix(entries.count <= fitting ? entries.count : fitting - 1)
            .map { (index: Optional($0), text: fit(panel.panel.series[$0].label, width: maxText)) }
        if rows.count < entries.count { rows.append((nil, "+ \(entries.count - rows.count) more")) }
        let textWidth = rows.map { c.width($0.text, size: font) }.max() ?? 0
        let box = PanelDrawing.Rect(x: 0, y: 0, width: 2 * Self.padding + Self.sampleWidth + Self.gap + textWidth,
                                    height: 2 * Self.padding + Double(rows.count) * Self.rowHeight)
        let placed = corner(for: box)

        c.save()
        c.gray(1, alpha: 0.85)
        c.rectangle(placed.x, placed.y, placed.width, placed.height)
        c.fillPreserve()
        c.gray(0.8)
        c.lineWidth(1)
        c.stroke()
        for (row, entry) in rows.enumerated() {
            let cy = placed.y + Self.padding + (Double(row) + 0.5) * Self.rowHeight
            let sx = placed.x + Self.padding
            if let i = entry.index {
                let s = panel.panel.series[i], color = panel.color(i)
                if !s.band.isEmpty {
                    c.color(color, alpha: PanelDrawing.bandAlpha)
                    c.rectangle(sx, cy - 5, Self.sampleWidth, 10)
                    c.fill()
                }
                c.color(color)
                c.lineWidth(PanelDrawing.lineWidth)
                s.style == .dashed ? c.dash(5, 3) : c.dash()
                c.move(sx, cy)
                c.line(sx + Self.sampleWidth, cy)
                c.stroke()
                c.dash()
            }
            c.gray(0.15)
            c.text(entry.text, x: sx + Self.sampleWidth + Self.gap, y: cy, size: font)
        }
        c.restore()
    }

    /// `text`, shortened with "…" until it is at most `width` pixels wide.
    private func fit(_ text: String, width: Double) -> String {
        let c = panel.canvas, font = PanelDrawing.legendFont
        guard c.width(text, size: font) > width else { return text }
        var cut = Array(text)
        while !cut.isEmpty && c.width(String(cut) + "…", size: font) > width { cut.removeLast() }
        return String(cut) + "…"
    }

    /// `box` moved to the frame corner that hides the fewest points and segment midpoints;
    /// on a tie the first of upper right, upper left, lower right, lower left.
    private func corner(for box: PanelDrawing.Rect) -> PanelDrawing.Rect {
        let f = panel.frame, inset = PanelDrawing.inset
        let left = f.x + inset, right = f.maxX - inset - box.width
        let top = f.y + inset, bottom = f.maxY - inset - box.height
        let candidates = [(right, top), (left, top), (right, bottom), (left, bottom)].map {
            PanelDrawing.Rect(x: $0.0, y: $0.1, width: box.width, height: box.height)
        }
        var samples: [(Double, Double)] = []
        for s in panel.panel.series {
            for run in panel.runs(s) {
                samples += run.map { ($0.x, $0.y) }
                samples += zip(run, run.dropFirst()).map { (($0.x + $1.x) / 2, ($0.y + $1.y) / 2) }
            }
            for run in panel.bandRuns(s) { samples += run.flatMap { [($0.x, $0.hi), ($0.x, $0.lo)] } }
        }
        for m in panel.panel.markers {
            guard let px = panel.x.pixel(m.x) else { continue }
            samples += stride(from: f.y, through: f.maxY, by: 10).map { (px, $0) }
        }
        let counts = candidates.map { r in samples.filter { r.contains($0.0, $0.1) }.count }
        let best = counts.indices.min { counts[$0] < counts[$1] } ?? 0
        return candidates[best]
    }
}
