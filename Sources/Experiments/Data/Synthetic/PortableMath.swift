/// Functions whose results are bit-identical on every platform, for generated data that must not
/// depend on the machine.
///
/// libm's `sin`, `cos`, `exp` and `log` differ in the last bit between glibc, Darwin and Windows,
/// so generators that promise "same seed, same bytes everywhere" use these instead: they are
/// built only from IEEE-754 `+ - * /`, `squareRoot()` and `rounded()`, which are exact or
/// correctly rounded everywhere. Swift does not contract `a * b + c` into a fused multiply-add
/// unless asked, so the polynomials below evaluate the same way on x86-64 and ARM.
enum PortableMath {
    /// Sine and cosine of `x` (radians), accurate to about 1e-7 for |x| up to a few thousand.
    static func sinCos(_ x: Float) -> (sin: Float, cos: Float) {
        let twoPi: Float = 6.283_185_307_179_586
        // Reduce to [-π, π], then fold into [-π/2, π/2] where the Taylor series converge fast.
        var r = x - twoPi * (x * (1 / twoPi)).rounded()
        var cosSign: Float = 1
        let halfPi: Float = 1.570_796_326_794_896_6
        if r > halfPi {
            r = 2 * halfPi - r
            cosSign = -1
        } else if r < -halfPi {
            r = -2 * halfPi - r
            cosSign = -1
        }
        let r2 = r * r
        // Taylor terms to r^13 / r^12: the remainder is below 7e-8 on [-π/2, π/2].
        let s = r * (1 + r2 * (-1.0 / 6 + r2 * (1.0 / 120 + r2 * (-1.0 / 5040
            + r2 * (1.0 / 362_880 + r2 * (-1.0 / 39_916_800 + r2 * (1.0 / 6_227_020_800)))))))
        let c = 1 + r2 * (-0.5 + r2 * (1.0 / 24 + r2 * (-1.0 / 720 + r2 * (1.0 / 40320
            + r2 * (-1.0 / 3_628_800 + r2 * (1.0 / 479_001_600))))))
        return (s, cosSign * c)
    }

    /// Hermite smoothstep: 0 below `lo`, 1 above `hi`, C¹-smooth in between.
    @inline(__always)
    static func smoothstep(_ lo: Float, _ hi: Float, _ x: Float) -> Float {
        let t = min(max((x - lo) / (hi - lo), 0), 1)
        return t * t * (3 - 2 * t)
    }

    /// A smooth compact bump: 1 at distance² 0, falling to 0 at distance² `radius2` (no `exp`).
    @inline(__always)
    static func bump(distance2: Float, radius2: Float) -> Float {
        let t = 1 - distance2 / radius2
        return t > 0 ? t * t : 0
    }

    /// SplitMix64's finaliser: a bijective 64-bit mix, used to derive independent seeds.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
