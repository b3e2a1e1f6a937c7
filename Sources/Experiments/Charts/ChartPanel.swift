/// A dashed vertical line across a panel at `x` (the best epoch), named in the legend by `label`.
public struct ChartMarker: Equatable, Sendable {
    public var x: Double
    public var label: String

    public init(x: Double, label: String) {
        self.x = x
        self.label = label
    }
}

/// One plot: a title, labelled axes with nice ticks, its series (first drawn first, bands under
/// all lines) and a legend placed in the corner that hides the fewest points.
///
/// The axes span every drawable point, band and marker (x: `xRange` when given); a panel with
/// nothing drawable shows its frame and "no data yet".
public struct ChartPanel: Equatable, Sendable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    /// A base-10 logarithmic y axis; values that are not positive are skipped.
    public var logY: Bool
    public var series: [ChartSeries]
    public var markers: [ChartMarker]
    /// The x axis' span, to line up panels that share it (epochs); nil spans the data.
    public var xRange: ClosedRange<Double>?

    public init(title: String, xLabel: String, yLabel: String, logY: Bool = false, series: [ChartSeries],
                markers: [ChartMarker] = [], xRange: ClosedRange<Double>? = nil) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.logY = logY
        self.series = series
        self.markers = markers
        self.xRange = xRange
    }
}
