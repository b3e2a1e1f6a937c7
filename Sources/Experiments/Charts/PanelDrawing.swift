import Foundation

/// Draws one `ChartPanel` into a rectangle of a canvas: axes and ticks, bands, lines, markers
/// and the legend, in that order so lines stay above bands and the legend above everything.
struct PanelDrawing {
    let panel: ChartPanel
    let canvas: ChartCanvas
    /// The plot's frame; tick labels, axis labels and the title sit in the margins around it.
    let frame: Rect
    let x: AxisScale
    let y: AxisScale

    struct Rect: Equatable {
        var x, y, width, height: Double
        var maxX: Double { x + width }
        var maxY: Double { y + height }
        func contains(_ px: Double, _ py: Double) -> Bool { px >= x && px <= maxX && py >= y && py <= maxY }
    }

    /// Margins around the frame, in pixels: room for the y tick labels and the rotated y label
    /// on the left, the x tick labels and x label below, the title above.
    static let margin = (left: 72.0, right: 14.0, top: 28.0, bottom: 44.0)
    /// Data never touches the frame: the axes' ends sit this far inside it.
    static let inset = 6.0
    static let tickFont = 11.0, labelFont = 12.0, titleFont = 13.0, legendFont = 11.0
    static let lineWidth = 2.0, dotRadius = 3.0, bandAlpha = 0.2

    /// The layout of `panel` in `area` (the panel's cell of the figure): the frame and the two
    /// axes, their ranges spanning everything drawable.
    init(_ panel: ChartPanel, in area: Rect, canvas: ChartCanvas) {
        self.panel = panel
        self.canvas = canvas
        let m = Self.margin
        frame = Rect(x: area.x + m.left, y: area.y + m.top, width: max(area.width - m.left - m.right, 10),
                     height: max(area.height - m.top - m.bottom, 10))
        var xs: [Double] = [], ys: [Double] = []
        let showsY: (Double) -> Bool = { $0.isFinite && (!panel.logY || $0 > 0) }
        for s in panel.series {
            for p in s.points where p.x.isFinite && showsY(p.y) {
                xs.append(p.x)
                ys.append(p.y)
            }
            for b in s.band where b.x.isFinite && showsY(b.lo) && showsY(b.hi) {
                xs.append(b.x)
                ys += [b.lo, b.hi]
            }
        }
        // Markers widen x only when there is data to place them against.
        if !xs.isEmpty { xs += panel.markers.map(\.x).filter(\.isFinite) }
        if let range = panel.xRange { xs = [range.lowerBound, range.upperBound] }
        let targetX = max(2, Int(frame.width / 90)), targetY = max(2, Int(frame.height / 45))
        // Whole-number x values are counts (epochs): no ticks between them.
        let whole = xs.allSatisfy { $0 == $0.rounded() }
        var x = AxisScale.linear(xs.min() ?? .nan, xs.max() ?? .nan, target: targetX, minStep: whole ? 1 : 0)
        var y = panel.logY ? AxisScale.logarithmic(ys.min() ?? .nan, ys.max() ?? .nan)
                           : AxisScale.linear(ys.min() ?? .nan, ys.max() ?? .nan, target: targetY)
        x.pixelLo = frame.x + Self.inset
        x.pixelHi = frame.maxX - Self.inset
        y.pixelLo = frame.maxY - Self.inset
        y.pixelHi = frame.y + Self.inset
        self.x = x
        self.y = y
        isEmpty = ys.isEmpty
    }

    /// True when no series has a drawable point.
    let isEmpty: Bool

    func draw() {
        drawAxes()
        canvas.save()
        canvas.clip(frame.x, frame.y, frame.width, frame.height)
        if isEmpty {
            canvas.gray(0.45)
            canvas.text("no data yet", x: frame.x + frame.width / 2, y: frame.y + frame.height / 2,
                        size: Self.labelFont, align: .center)
        } else {
            for (i, s) in panel.series.enumerated() { drawBand(s, color: color(i)) }
            for (i, s) in panel.series.enumerated() { drawLine(s, color: color(i)) }
            drawMarkers()
        }
        canvas.restore()
        if !isEmpty { LegendDrawing(self).draw() }
    }

    func color(_ index: Int) -> ChartColor { ChartPalette.color(panel.series[index].colorIndex ?? index) }

    /// A pixel coordinate on a whole pixel's centre, so 1-pixel lines are crisp in the PNG.
    private func crisp(_ v: Double) -> Double { v.rounded(.down) + 0.5 }

    private func drawAxes() {
        let c = canvas, f = frame
        c.gray(0.2)
        c.text(panel.title, x: f.x + f.width / 2, y: f.y - Self.margin.top / 2, size: Self.titleFont,
               align: .center, bold: true)
        c.lineWidth(1)
        c.dash()
        // Grid lines, then tick labels; a label that would overlap the previous one is left out.
        var lastXEnd = -Double.infinity
        for t in x.ticks {
            guard let px = x.pixel(t) else { continue }
            c.gray(0.9)
            c.move(crisp(px), f.y)
            c.line(crisp(px), f.maxY)
            c.stroke()
            let label = x.label(t), w = c.width(label, size: Self.tickFont)
            if px - w / 2 > lastXEnd + 4 {
                c.gray(0.2)
                c.text(label, x: px, y: f.maxY + 11, size: Self.tickFont, align: .center)
                lastXEnd = px + w / 2
            }
        }
        var lastY = Double.infinity
        for t in y.ticks {
            guard let py = y.pixel(t) else { continue }
            c.gray(0.9)
            c.move(f.x, crisp(py))
            c.line(f.maxX, crisp(py))
            c.stroke()
            if lastY - py >= Self.tickFont + 2 {
                c.gray(0.2)
                c.text(y.label(t), x: f.x - 5, y: py, size: Self.tickFont, align: .right)
                lastY = py
            }
        }
        c.gray(0.35)
        c.rectangle(crisp(f.x), crisp(f.y), f.width.rounded(), f.height.rounded())
        c.stroke()
        c.gray(0.2)
        c.text(panel.xLabel, x: f.x + f.width / 2, y: f.maxY + 31, size: Self.labelFont, align: .center)
        c.text(panel.yLabel, x: f.x - Self.margin.left + 11, y: f.y + f.height / 2, size: Self.labelFont,
               align: .center, rotated: true)
    }

    /// The series' drawable points in pixels, split where a point cannot be drawn.
    func runs(_ s: ChartSeries) -> [[(x: Double, y: Double)]] {
        var runs: [[(x: Double, y: Double)]] = [], current: [(x: Double, y: Double)] = []
        for p in s.points {
            if let px = x.pixel(p.x), let py = y.pixel(p.y) {
                current.append((px, py))
            } else if !current.isEmpty {
                runs.append(current)
                current = []
            }
        }
        if !current.isEmpty { runs.append(current) }
        return runs
    }

    /// The band's drawable stretches: per x, the pixel column and the hi and lo rows.
    func bandRuns(_ s: ChartSeries) -> [[(x: Double, hi: Double, lo: Double)]] {
        var runs: [[(x: Double, hi: Double, lo: Double)]] = [], current: [(x: Double, hi: Double, lo: Double)] = []
        for b in s.band {
            if let px = x.pixel(b.x), let hi = y.pixel(b.hi), let lo = y.pixel(b.lo) {
                current.append((px, hi, lo))
            } else if !current.isEmpty {
                runs.append(current)
                current = []
            }
        }
        if !current.isEmpty { runs.append(current) }
        return runs
    }

    private func drawBand(_ s: ChartSeries, color: ChartColor) {
        canvas.color(color, alpha: Self.bandAlpha)
        for run in bandRuns(s) {
            if run.count == 1 {
                // One x: a short bar is the only way the spread can show.
                canvas.rectangle(run[0].x - 2, run[0].hi, 4, run[0].lo - run[0].hi)
            } else {
                canvas.move(run[0].x, run[0].hi)
                for p in run.dropFirst() { canvas.line(p.x, p.hi) }
                for p in run.reversed() { canvas.line(p.x, p.lo) }
                canvas.close()
            }
            canvas.fill()
        }
    }

    private func drawLine(_ s: ChartSeries, color: ChartColor) {
        canvas.color(color)
        canvas.lineWidth(Self.lineWidth)
        for run in runs(s) {
            if run.count == 1 {
                canvas.circle(run[0].x, run[0].y, radius: Self.dotRadius)
                canvas.fill()
                continue
            }
            s.style == .dashed ? canvas.dash(6, 4) : canvas.dash()
            canvas.move(run[0].x, run[0].y)
            for p in run.dropFirst() { canvas.line(p.x, p.y) }
            canvas.stroke()
        }
        canvas.dash()
    }

    /// Markers are gray dashed lines; their labels are in the legend, where they cannot cover data.
    private func drawMarkers() {
        for marker in panel.markers {
            guard let px = x.pixel(marker.x) else { continue }
            Self.markerStyle(canvas)
            canvas.move(crisp(px), frame.y)
            canvas.line(crisp(px), frame.maxY)
            canvas.stroke()
            canvas.dash()
        }
    }

    /// The pen of a marker line, here and in the legend.
    static func markerStyle(_ canvas: ChartCanvas) {
        canvas.gray(0.4)
        canvas.lineWidth(1)
        canvas.dash(3, 3)
    }
}
