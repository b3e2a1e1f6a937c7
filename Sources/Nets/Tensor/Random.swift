import Foundation

/// A small, fast, seedable generator (SplitMix64), so every random draw in a run
/// follows from the run's seed alone and is identical across machines.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    /// The whole generator: saving it and restarting from `init(state:)` continues the stream exactly.
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }

    public init(state: UInt64) { self.state = state }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 24 bits of precision.
    public mutating func nextFloat() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    /// Uniform in [lo, hi).
    public mutating func uniform(_ lo: Float, _ hi: Float) -> Float { lo + (hi - lo) * nextFloat() }

    /// Standard normal (Box–Muller).
    public mutating func normal() -> Float {
        let u1 = max(Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0), 1e-300)
        let u2 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }
}

extension Tensor {
    /// Fills with uniform values in [lo, hi) from `rng`.
    public func fillUniform(_ lo: Float, _ hi: Float, _ rng: inout SeededRandom) {
        for i in 0..<count { data[i] = rng.uniform(lo, hi) }
    }

    /// Fills with normal values of the given standard deviation from `rng`.
    public func fillNormal(std: Float, _ rng: inout SeededRandom) {
        for i in 0..<count { data[i] = std * rng.normal() }
    }
}
