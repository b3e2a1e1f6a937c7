/// A panel's legend: one row per series that has something drawable (a sample of its line,
/// over a swatch of its band, and its label), then one per marker (a dashed gray sample and the
/// marker's label), in a box in the frame corner that covers the fewest of the panel's points,
/// as matplotlib's `loc="best"` does.
struct LegendDrawing {
    let panel: PanelDrawing
    /// Indices of the series listed, in panel order.
    let entries: [Int]

    /// What one row shows.
    enum Row {
        case series(Int), marker(ChartMarker), more(Int)
    }

    static let padding = 6.0, rowHeight = 16.0, sampleWidth = 22.0, gap = 6.0
    /// The labels' widest share of the frame; longer labels are cut with an ellipsis.
    static let maxWidthShare = 0.6

    init(_ panel: PanelDrawing) {
        self.panel = panel
        entries = panel.panel.series.indices.filter { i in
            !panel.runs(panel.panel.series[i]).isEmpty || !panel.bandRuns(panel.panel.series[i]).isEmpty
        }
    }

    /// The rows, cut to the frame's height with a last "+ N more" row when they do not fit.
    var rows: [Row] {
        let all = entries.map(Row.series) + panel.panel.markers.filter { panel.x.pixel($0.x) != nil }.map(Row.marker)
        let f = panel.frame
        let fitting = max(1, Int((f.height - 2 * PanelDrawing.inset - 2 * Self.padding) / Self.rowHeight))
        return all.count <= fitting ? all : Array(all.prefix(fitting - 1)) + [.more(all.count - fitting + 1)]
    }

    func draw() {
        let rows = self.rows
        guard !rows.isEmpty else { return }
        let c = panel.canvas, f = panel.frame, font = PanelDrawing.legendFont
        let maxText = f.width * Self.maxWidthShare - Self.sampleWidth - Self.gap - 2 * Self.padding
        let texts = rows.map { row -> String in
            switch row {
            case .series(let i): return fit(panel.panel.series[i].label, width: maxText)
            case .marker(let m): return fit(m.label, width: maxText)
            case .more(let n): return "+ \(n) more"
            }
        }
        let textWidth = texts.map { c.width($0, size: font) }.max() ?? 0
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
        for (k, row) in rows.enumerated() {
            let cy = placed.y + Self.padding + (Double(k) + 0.5) * Self.rowHeight
            let sx = placed.x + Self.padding
            func sample() {
                c.move(sx, cy)
                c.line(sx + Self.sampleWidth, cy)
                c.stroke()
                c.dash()
            }
            switch row {
            case .series(let i):
                let s = panel.panel.series[i], color = panel.color(i)
                if !s.band.isEmpty {
                    c.color(color, alpha: PanelDrawing.bandAlpha)
                    c.rectangle(sx, cy - 5, Self.sampleWidth, 10)
                    c.fill()
                }
                c.color(color)
                c.lineWidth(PanelDrawing.lineWidth)
                s.style == .dashed ? c.dash(5, 3) : c.dash()
                sample()
            case .marker:
                PanelDrawing.markerStyle(c)
                sample()
            case .more:
                break
            }
            c.gray(0.15)
            c.text(texts[k], x: sx + Self.sampleWidth + Self.gap, y: cy, size: font)
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

    /// `box` moved to the frame corner that hides the least of the lines and bands, then
    /// the least of the markers' lines (the legend names them, and a guide line matters less
    /// than data); on a tie the first of upper right, upper left, lower right, lower left.
    private func corner(for box: PanelDrawing.Rect) -> PanelDrawing.Rect {
        let f = panel.frame, inset = PanelDrawing.inset
        let left = f.x + inset, right = f.maxX - inset - box.width
        let top = f.y + inset, bottom = f.maxY - inset - box.height
        let candidates = [(right, top), (left, top), (right, bottom), (left, bottom)].map {
            PanelDrawing.Rect(x: $0.0, y: $0.1, width: box.width, height: box.height)
        }
        var data: [(Double, Double)] = [], guides: [(Double, Double)] = []
        for s in panel.panel.series {
            for run in panel.runs(s) {
                data += run.map { ($0.x, $0.y) }
                // Every 4 pixels along each segment, so a long segment counts for what it covers.
                for (a, b) in zip(run, run.dropFirst()) {
                    let n = Int(min(max(abs(b.x - a.x), abs(b.y - a.y)) / 4, 1000))
                    for k in stride(from: 1, to: n, by: 1) {
                        let t = Double(k) / Double(n)
                        data.append((a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t))
                    }
                }
            }
            for run in panel.bandRuns(s) { data += run.flatMap { [($0.x, $0.hi), ($0.x, $0.lo)] } }
        }
        for m in panel.panel.markers {
            guard let px = panel.x.pixel(m.x) else { continue }
            guides += stride(from: f.y, through: f.maxY, by: 10).map { (px, $0) }
        }
        let costs = candidates.map { r in
            (data.filter { r.contains($0.0, $0.1) }.count, guides.filter { r.contains($0.0, $0.1) }.count)
        }
        let best = costs.indices.min { costs[$0] < costs[$1] } ?? 0
        return candidates[best]
    }
}
