/// One (x, y) sample of a chart series.
public struct ChartPoint: Equatable, Sendable {
    public var x: Double
    public var y: Double

    public init(_ x: Double, _ y: Double) {
        self.x = x
        self.y = y
    }
}

/// One x of a series' band: the range `lo...hi` filled behind the line (a mean ± std over seeds).
public struct ChartBandPoint: Equatable, Sendable {
    public var x: Double
    public var lo: Double
    public var hi: Double

    public init(x: Double, lo: Double, hi: Double) {
        self.x = x
        self.lo = lo
        self.hi = hi
    }
}

/// A line of a chart panel, with an optional translucent band behind it.
///
/// Points that are NaN or infinite (or not positive on a log axis) are skipped and break the
/// line there, as a diverged epoch breaks a loss curve; a point with no drawable neighbour is
/// drawn as a dot so a single evaluation still shows.
public struct ChartSeries: Equatable, Sendable {
    public enum Style: Equatable, Sendable { case solid, dashed }

    /// The legend's text; a series with no drawable point stays out of the legend.
    public var label: String
    public var points: [ChartPoint]
    /// Filled between `lo` and `hi` in the series' colour, translucent, behind every line.
    public var band: [ChartBandPoint]
    /// Index into `ChartPalette`; nil takes the series' position in its panel. Give the same
    /// index to the same run in every panel of a report so its colour means one thing.
    public var colorIndex: Int?
    public var style: Style

    public init(_ label: String, points: [ChartPoint], band: [ChartBandPoint] = [], colorIndex: Int? = nil,
                style: Style = .solid) {
        self.label = label
        self.points = points
        self.band = band
        self.colorIndex = colorIndex
        self.style = style
    }
}
