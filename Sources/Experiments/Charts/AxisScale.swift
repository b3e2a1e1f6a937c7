import Foundation

/// One axis of a panel: the value range its ticks span and the map from values to pixels.
///
/// Linear axes take "nice" ticks, steps of 1, 2 or 5 × 10^k, and widen the data range to the
/// ticks around it (Heckbert, "Nice numbers for graph labels", Graphics Gems, 1990). Log axes
/// tick at powers of ten, with 2× and 5× between them when the range spans at most two decades.
struct AxisScale: Equatable {
    /// The range drawn, in data units: the first and last tick.
    var lo: Double
    var hi: Double
    var log: Bool
    /// Tick values, ascending, from `lo` to `hi`.
    var ticks: [Double]
    /// Linear axes: the tick step (labels get its decimals); log axes: 0.
    var step: Double
    /// The pixels `lo` and `hi` map to (`pixelLo > pixelHi` for a y axis, which grows upwards).
    var pixelLo = 0.0
    var pixelHi = 1.0

    /// A linear axis with about `target` nice ticks covering `lo...hi`, `minStep` apart at least
    /// (1 for epochs, which have no halves). A range of one value is widened around it (so a
    /// constant series draws mid-panel), an empty one becomes 0...1.
    static func linear(_ lo: Double, _ hi: Double, target: Int = 5, minStep: Double = 0) -> AxisScale {
        var lo = lo, hi = hi
        if !(lo.isFinite && hi.isFinite && lo <= hi) { (lo, hi) = (0, 1) }
        if lo == hi {
            let pad = lo == 0 ? 0.5 : abs(lo) * 0.05
            (lo, hi) = (lo - pad, hi + pad)
        }
        let step = max(niceStep((hi - lo) / Double(max(target, 1))), minStep)
        let first = (lo / step).rounded(.down), last = (hi / step).rounded(.up)
        // Multiples of the step, not repeated sums, so 0.1 * 3 prints as 0.3; +0 turns -0 into 0.
        let ticks = stride(from: first, through: last, by: 1).map { $0 * step + 0 }
        return AxisScale(lo: first * step, hi: last * step, log: false, ticks: ticks, step: step)
    }

    /// A base-10 log axis over the positive range `lo...hi`, widened to whole decades.
    static func logarithmic(_ lo: Double, _ hi: Double) -> AxisScale {
        guard lo > 0, hi >= lo, lo.isFinite, hi.isFinite else { return logarithmic(1, 10) }
        let first = Foundation.log10(lo).rounded(.down)
        var last = Foundation.log10(hi).rounded(.up)
        if last == first { last += 1 }
        var ticks: [Double] = []
        let between: [Double] = last - first <= 2 ? [1, 2, 5] : [1]
        for k in stride(from: first, through: last, by: 1) {
            for m in between {
                let v = m * pow(10, k)
                if k == last && m > 1 { break }
                ticks.append(v)
            }
        }
        return AxisScale(lo: pow(10, first), hi: pow(10, last), log: true, ticks: ticks, step: 0)
    }

    /// The smallest of 1, 2, 5 × 10^k that is at least `raw` (positive; anything else gives 1).
    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        let magnitude = pow(10, Foundation.log10(raw).rounded(.down))
        let fraction = raw / magnitude
        // A hair of tolerance: 0.3 / 3 is 0.09999999999999999, whose nice step is 0.1, not 0.2.
        for m in [1.0, 2, 5] where fraction <= m * (1 + 1e-9) { return m * magnitude }
        return 10 * magnitude
    }

    /// The pixel coordinate of `value`; nil for a value the axis cannot show (not finite, or
    /// not positive on a log axis).
    func pixel(_ value: Double) -> Double? {
        guard value.isFinite, !log || value > 0 else { return nil }
        let t = log ? (Foundation.log10(value) - Foundation.log10(lo)) / (Foundation.log10(hi) - Foundation.log10(lo))
                    : (value - lo) / (hi - lo)
        return pixelLo + t * (pixelHi - pixelLo)
    }

    /// Whether `value` can be placed on this axis.
    func shows(_ value: Double) -> Bool { value.isFinite && (!log || value > 0) }

    /// A tick's label: the step's decimals on linear axes (0.0, 0.2, 0.4), and "%g" for tiny or
    /// huge values (a learning rate's 2e-05) and on log axes.
    func label(_ value: Double) -> String {
        let decimals = log ? 0 : max(0, -Int(Foundation.log10(step).rounded(.down)))
        if log || decimals > 4 || max(abs(lo), abs(hi)) >= 1e6 { return value == 0 ? "0" : String(format: "%g", value) }
        return String(format: "%.\(decimals)f", value)
    }
}
