import Foundation

/// One axis of a panel: the value range it spans and the map from values to pixels.
///
/// The range is the data's own (as matplotlib's, the panel's inset keeps the extremes off the
/// frame); the ticks inside it are "nice": steps of 1, 2 or 5 × 10^k (Heckbert, "Nice numbers
/// for graph labels", Graphics Gems, 1990). Log axes tick at the powers of ten inside, with
/// 2× and 5× added when fewer than two powers fall in the range.
struct AxisScale: Equatable {
    /// The range drawn, in data units.
    var lo: Double
    var hi: Double
    var log: Bool
    /// Tick values, ascending, inside `lo...hi`.
    var ticks: [Double]
    /// The tick step (labels get its decimals); 0 on a log axis ticked at powers of ten.
    var step: Double
    /// The pixels `lo` and `hi` map to (`pixelLo > pixelHi` for a y axis, which grows upwards).
    var pixelLo = 0.0
    var pixelHi = 1.0

    /// A linear axis over `lo...hi` with about `target` nice ticks, `minStep` apart at least (1
    /// for epochs, which have no halves). A range of one value is widened around it (so a
    /// constant series draws mid-panel), an empty one becomes 0...1.
    static func linear(_ lo: Double, _ hi: Double, target: Int = 5, minStep: Double = 0) -> AxisScale {
        var lo = lo, hi = hi
        if !(lo.isFinite && hi.isFinite && lo <= hi) { (lo, hi) = (0, 1) }
        if lo == hi {
            let pad = lo == 0 ? 0.5 : abs(lo) * 0.05
            (lo, hi) = (lo - pad, hi + pad)
        }
        var step = max(niceStep((hi - lo) / Double(max(target, 1))), minStep)
        var ticks = multiples(of: step, in: lo, hi)
        // The range can fall between the target's ticks (0.3...0.95 in steps of 0.5 holds one):
        // take the next smaller nice steps until three ticks show.
        while ticks.count < 3 {
            let smaller = niceStep(step / 2.5)
            guard smaller < step, smaller >= minStep, smaller > (hi - lo) / 100 else { break }
            step = smaller
            ticks = multiples(of: step, in: lo, hi)
        }
        return AxisScale(lo: lo, hi: hi, log: false, ticks: ticks, step: step)
    }

    /// A base-10 log axis over the positive range `lo...hi`; a single value is widened by 10 %
    /// either way, an empty or non-positive range becomes 1...10.
    static func logarithmic(_ lo: Double, _ hi: Double) -> AxisScale {
        guard lo > 0, hi >= lo, lo.isFinite, hi.isFinite else { return logarithmic(1, 10) }
        if lo == hi { return logarithmic(lo / 1.1, hi * 1.1) }
        let decades = stride(from: Foundation.log10(lo).rounded(.down), through: Foundation.log10(hi).rounded(.up), by: 1)
            .map { pow(10, $0) }
        var ticks = decades.filter { inside($0, lo, hi) }
        if ticks.count < 2 { ticks = decades.flatMap { [$0, 2 * $0, 5 * $0] }.filter { inside($0, lo, hi) } }
        if ticks.count >= 2 { return AxisScale(lo: lo, hi: hi, log: true, ticks: ticks, step: 0) }
        // Less than a decade with at most one of 1, 2, 5 in it: linear steps read better.
        let step = niceStep((hi - lo) / 5)
        return AxisScale(lo: lo, hi: hi, log: true, ticks: multiples(of: step, in: lo, hi), step: step)
    }

    /// Whether `v` lies in `lo...hi`, allowing for rounding (0.7 / 0.1 is 6.999999999999999).
    private static func inside(_ v: Double, _ lo: Double, _ hi: Double) -> Bool {
        let slack = (hi - lo) * 1e-9
        return v >= lo - slack && v <= hi + slack
    }

    /// The multiples of `step` in `lo...hi`, computed as multiples rather than repeated sums so
    /// 0.1 * 3 prints as 0.3; +0 turns -0 into 0. `[lo, hi]` when no multiple fits, or when
    /// the range is beyond what doubles can step through (±1e308).
    private static func multiples(of step: Double, in lo: Double, _ hi: Double) -> [Double] {
        let first = (lo / step - 1e-9).rounded(.up), last = (hi / step + 1e-9).rounded(.down)
        guard first <= last, last - first <= 100 else { return [lo, hi] }
        return stride(from: first, through: last, by: 1).map { $0 * step + 0 }
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

    /// A tick's label: the step's decimals (0.0, 0.2, 0.4), and "%g" for tiny or huge values
    /// (a learning rate's 2e-05) and powers of ten.
    func label(_ value: Double) -> String {
        let decimals = step > 0 ? max(0, -Int(Foundation.log10(step).rounded(.down))) : 0
        if step == 0 || decimals > 4 || max(abs(lo), abs(hi)) >= 1e6 { return value == 0 ? "0" : String(format: "%g", value) }
        return String(format: "%.\(decimals)f", value)
    }
}
