import Foundation
import Nets

/// One swept value of one run: the path it sets and the node set there.
struct SweepAssignment {
    var path: String
    var value: YAMLNode
    /// The value as the run id shows it (the scalar's text as written, or flow YAML).
    var text: String
}

extension SweepSpec {
    /// Sweeps larger than this are refused rather than expanded.
    static let maxRuns = 100_000

    /// Runs the sweep expands to, or nil when more than `maxRuns`.
    var runCount: Int? {
        var total = samples
        for axis in axes {
            let (product, overflow) = total.multipliedReportingOverflow(by: axis.count)
            if overflow || product > Self.maxRuns { return nil }
            total = product
        }
        return total <= Self.maxRuns ? total : nil
    }

    /// Each run's assignments: the grid in axis order with the last axis varying fastest,
    /// then (fastest of all) the random draws, the same `samples` draws for every grid point.
    func expand() -> [[SweepAssignment]] {
        let draws = drawSamples()
        var runs: [[SweepAssignment]] = []
        var index = [Int](repeating: 0, count: axes.count)
        repeat {
            var point: [SweepAssignment] = []
            for (a, axis) in axes.enumerated() {
                for (p, path) in axis.paths.enumerated() {
                    let value = axis.values[p][index[a]]
                    point.append(SweepAssignment(path: path, value: value, text: Self.idText(value)))
                }
            }
            for draw in draws { runs.append(point + draw) }
        } while Self.advance(&index, limits: axes.map(\.count))
        return runs
    }

    /// Mixed-radix increment, last digit fastest; false after the last combination.
    private static func advance(_ index: inout [Int], limits: [Int]) -> Bool {
        for i in index.indices.reversed() {
            index[i] += 1
            if index[i] < limits[i] { return true }
            index[i] = 0
        }
        return false
    }

    /// `samples` draws (one empty draw when there is no random section), each drawing
    /// the params in file order from one `SeededRandom(seed)` stream.
    func drawSamples() -> [[SweepAssignment]] {
        guard !params.isEmpty else { return [[]] }
        var rng = SeededRandom(seed: seed)
        return (0..<samples).map { _ in params.map { draw($0, &rng) } }
    }

    private func draw(_ param: RandomParam, _ rng: inout SeededRandom) -> SweepAssignment {
        // 53 random bits: the full precision of a Double in [0, 1).
        let u = Double(rng.next() >> 11) * 0x1p-53
        let text: String
        switch param.distribution {
        case .choice(let items):
            let value = items[Int(rng.next() % UInt64(items.count))]
            return SweepAssignment(path: param.path, value: value, text: Self.idText(value))
        case .uniform(let lo, let hi):
            text = Self.rounded(lo + (hi - lo) * u, within: lo...hi)
        case .loguniform(let lo, let hi):
            text = Self.rounded(exp(log(lo) + (log(hi) - log(lo)) * u), within: lo...hi)
        case .int(let lo, let hi):
            // Modulo bias is at most span / 2^64: far below anything a sweep can notice.
            let span = UInt64(hi - lo) + 1
            text = "\(lo + Int(rng.next() % span))"
        }
        return SweepAssignment(path: param.path, value: .plain(text, at: param.location), text: text)
    }

    /// 4 significant digits (`0.001235`, `1.235e-05`), or all 17 when rounding would
    /// step outside the range.
    static func rounded(_ v: Double, within range: ClosedRange<Double>) -> String {
        let short = String(format: "%.4g", v)
        if let back = Double(short), range.contains(back) { return short }
        return String(format: "%.17g", min(max(v, range.lowerBound), range.upperBound))
    }

    /// A grid or choice value as a run id shows it: a scalar's text as written, a list's
    /// items joined by `+`, a mapping's entries as `key=value` joined by `,`.
    static func idText(_ node: YAMLNode) -> String {
        switch node.content {
        case .scalar(let s): return s.text
        case .sequence(let items): return items.map(idText).joined(separator: "+")
        case .mapping(let entries): return entries.map { "\($0.key)=\(idText($0.value))" }.joined(separator: ",")
        }
    }
}
