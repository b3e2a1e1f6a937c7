import Nets

/// Panels in a grid, drawn by Cairo to a PNG or to an SVG for inlining in an HTML page. The
/// same drawing code makes both, and the same figure gives the same bytes (with the same Cairo
/// and fonts: text is drawn from the installed DejaVu Sans).
public struct ChartFigure: Equatable, Sendable {
    /// Row by row, `columns` to a row.
    public var panels: [ChartPanel]
    public var columns: Int
    /// Each panel's cell, in pixels (PNG) or CSS pixels (SVG).
    public var panelWidth: Int
    public var panelHeight: Int

    public init(panels: [ChartPanel], columns: Int = 1, panelWidth: Int = 640, panelHeight: Int = 280) {
        self.panels = panels
        self.columns = columns
        self.panelWidth = panelWidth
        self.panelHeight = panelHeight
    }

    /// The figure's size: `columns` cells across (fewer when there are fewer panels), as many
    /// rows as the panels need; at least one cell.
    public var width: Int { max(1, min(columns, panels.count)) * panelWidth }
    public var height: Int { max(1, (panels.count + max(columns, 1) - 1) / max(columns, 1)) * panelHeight }

    /// The figure as PNG bytes (8-bit RGB on white).
    public func png() throws -> [UInt8] {
        try check()
        return try ChartSurface.png(width: width, height: height, draw)
    }

    /// Writes `png()` to `path` atomically (`AtomicFile`): a reader sees the old chart or the new one.
    public func writePNG(to path: String) throws {
        try AtomicFile.write(try png(), to: path)
    }

    /// The figure as an `<svg>` element for inlining in HTML: no XML prolog, and every id and
    /// reference prefixed with `idPrefix` (letters, digits, `-`, `_`, starting with a letter),
    /// so several charts can share a page. Sized `width`×`height` px with a matching viewBox.
    public func svg(idPrefix: String) throws -> String {
        try check()
        guard SVGInlining.isValidPrefix(idPrefix) else {
            throw ChartError("SVG id prefix '\(idPrefix)' must start with a letter and hold only letters, digits, - and _")
        }
        return SVGInlining.inline(try ChartSurface.svg(width: width, height: height, draw), idPrefix: idPrefix)
    }

    /// Sizes Cairo cannot take (it stops at 32767 pixels a side) are errors, not traps.
    private func check() throws {
        guard columns > 0, panelWidth >= 100, panelHeight >= 80 else {
            throw ChartError("a chart needs at least one column and panels of at least 100x80 pixels, "
                             + "not \(columns) columns of \(panelWidth)x\(panelHeight)")
        }
        guard width <= 16384, height <= 16384 else {
            throw ChartError("a chart of \(width)x\(height) pixels is larger than the 16384-pixel limit")
        }
    }

    private func draw(_ canvas: ChartCanvas) {
        canvas.gray(1)
        canvas.paint()
        for (i, panel) in panels.enumerated() {
            let cell = PanelDrawing.Rect(x: Double((i % columns) * panelWidth), y: Double((i / columns) * panelHeight),
                                         width: Double(panelWidth), height: Double(panelHeight))
            PanelDrawing(panel, in: cell, canvas: canvas).draw()
        }
    }
}
