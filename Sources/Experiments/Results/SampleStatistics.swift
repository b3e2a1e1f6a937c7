import Foundation

/// Mean, sample standard deviation and 95% confidence interval of a few replicate scores (runs
/// that differ only in seed or fold), as the summary and `runexp report` show them.
///
/// The interval is Student's t: mean ± t(0.975, n-1) · s/√n, the usual choice for a handful of
/// seeds (with 3 runs the half-width is 2.48 s, not the normal approximation's 1.13 s). NaN values
/// (a metric a run lacks) are left out, so `n` counts the values used.
public struct SampleStatistics: Sendable, Equatable {
    public var n: Int
    public var mean: Double
    /// Sample standard deviation (n - 1 in the denominator, numpy's `ddof=1`); NaN below 2 values.
    public var std: Double
    /// Half-width of the 95% t-interval; NaN below 2 values.
    public var ci95: Double

    public init(_ values: [Double]) {
        let xs = values.filter(\.isFinite)
        n = xs.count
        mean = xs.isEmpty ? .nan : xs.reduce(0, +) / Double(xs.count)
        guard xs.count >= 2 else {
            std = .nan
            ci95 = .nan
            return
        }
        let m = mean
        std = (xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(xs.count - 1)).squareRoot()
        ci95 = StudentT.quantile(0.975, degreesOfFreedom: Double(xs.count - 1)) * std / Double(xs.count).squareRoot()
    }
}

/// Student's t distribution, for the confidence intervals of replicate statistics.
enum StudentT {
    /// The `p` quantile for `df` degrees of freedom (0 < p < 1), to about 1e-12: bisection on the
    /// distribution function, which is a regularised incomplete beta function.
    static func quantile(_ p: Double, degreesOfFreedom df: Double) -> Double {
        guard p > 0, p < 1, df > 0 else { return .nan }
        if p == 0.5 { return 0 }
        if p < 0.5 { return -quantile(1 - p, degreesOfFreedom: df) }
        var lo = 0.0, hi = 1.0
        while cdf(hi, df) < p { hi *= 2 }
        for _ in 0..<200 {
            let mid = (lo + hi) / 2
            if cdf(mid, df) < p { lo = mid } else { hi = mid }
            if hi - lo <= 1e-13 * hi { break }
        }
        return (lo + hi) / 2
    }

    /// P(T <= t) for t >= 0: 1 - I_x(df/2, 1/2) / 2 with x = df / (df + t²).
    static func cdf(_ t: Double, _ df: Double) -> Double {
        1 - 0.5 * regularizedIncompleteBeta(df / (df + t * t), df / 2, 0.5)
    }

    /// I_x(a, b) by its continued fraction (Lentz's method), using the symmetry
    /// I_x(a, b) = 1 - I_{1-x}(b, a) where the fraction converges slowly.
    static func regularizedIncompleteBeta(_ x: Double, _ a: Double, _ b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let logBeta: Double = lgamma(a) + lgamma(b) - lgamma(a + b)
        let front: Double = exp(a * log(x) + b * log(1 - x) - logBeta)
        if x > (a + 1) / (a + b + 2) { return 1 - front * continuedFraction(1 - x, b, a) / b }
        return front * continuedFraction(x, a, b) / a
    }

    private static func continuedFraction(_ x: Double, _ a: Double, _ b: Double) -> Double {
        let tiny = 1e-300
        var c = 1.0, d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var result = d
        for m in 1...300 {
            let m = Double(m)
            let even: Double = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
            d = 1 + even * d; if abs(d) < tiny { d = tiny }
            c = 1 + even / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            result *= d * c
            let odd: Double = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
            d = 1 + odd * d; if abs(d) < tiny { d = tiny }
            c = 1 + odd / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            let step = d * c
            result *= step
            if abs(step - 1) < 1e-15 { break }
        }
        return result
    }
}
