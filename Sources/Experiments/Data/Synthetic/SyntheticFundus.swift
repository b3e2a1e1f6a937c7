import Nets

/// An invalid setting for the synthetic generator (they come from a config file or the command line).
public struct SyntheticFundusError: Error, CustomStringConvertible, Equatable {
    public let description: String
}

/// One generated fundus image with its ground truth; every array is `size`×`size`, row-major.
public struct SyntheticFundusSample: Sendable, Equatable {
    public let size: Int
    /// Interleaved 8-bit RGB (HWC), the form a decoded PNG has; black outside the field of view.
    public var image: [UInt8]
    /// Class ids: 1 on vessel pixels, 0 elsewhere, and always 0 outside the field of view.
    public var label: [UInt8]
    /// Whether each pixel lies inside the circular field of view (DRIVE's `mask`).
    public var fov: [Bool]
}

/// The built-in `synthetic` dataset: fundus-like images with branching vessel trees, an optic disc,
/// a darker macula, uneven illumination, distractor lesions, blur and noise, inside a circular
/// field of view — a small stand-in for DRIVE that needs no download.
///
/// Sample `i` depends only on `(seed, i)` and the options, so samples can be made in any order and
/// in parallel, and the bytes are the same on every machine (see `PortableMath`). The label marks
/// pixels at least half covered by a vessel, while the image uses the soft coverage, so the
/// thinnest vessels are faint — as in real photographs. Illumination varies more across the image
/// than the vessels darken it, so a global threshold cannot segment it; local contrast can.
public struct SyntheticFundus: Sendable {
    /// Sizes the generator accepts; below 64 pixels the trees degenerate to a few trunks.
    public static let sizeRange = 64...4096

    /// Width and height of every sample in pixels.
    public let size: Int
    public let seed: UInt64
    /// Multiplies the branching rate and number of nasal trunks (1 gives 8–15% vessel pixels).
    public let vesselDensity: Float
    /// Multiplies the standard deviation of the additive pixel noise (0 turns it off).
    public let noiseLevel: Float
    /// Whether to add a few small dark (haemorrhage) and bright (exudate) spots as distractors.
    public let lesions: Bool

    /// Checks the settings; throws a one-line message for a value out of range.
    public init(size: Int = 128, seed: UInt64, vesselDensity: Float = 1, noiseLevel: Float = 1,
                lesions: Bool = true) throws {
        guard Self.sizeRange.contains(size) else {
            throw SyntheticFundusError(description:
                "synthetic image size \(size) is out of range; use \(Self.sizeRange.lowerBound)...\(Self.sizeRange.upperBound)")
        }
        guard vesselDensity.isFinite, vesselDensity >= 0.25, vesselDensity <= 4 else {
            throw SyntheticFundusError(description: "synthetic vessel density \(vesselDensity) is out of range; use 0.25...4")
        }
        guard noiseLevel.isFinite, noiseLevel >= 0, noiseLevel <= 10 else {
            throw SyntheticFundusError(description: "synthetic noise level \(noiseLevel) is out of range; use 0...10")
        }
        self.size = size
        self.seed = seed
        self.vesselDensity = vesselDensity
        self.noiseLevel = noiseLevel
        self.lesions = lesions
    }

    /// Generates samples `indices` on all threads (each is independent of the others).
    public func samples(_ indices: Range<Int>) -> [SyntheticFundusSample] {
        let empty = SyntheticFundusSample(size: size, image: [], label: [], fov: [])
        var out = [SyntheticFundusSample](repeating: empty, count: indices.count)
        out.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            parallelFor(indices.count) { k in base[k] = sample(indices.lowerBound + k) }
        }
        return out
    }

    /// Generates sample `index`: the same bytes for the same seed, index and options, everywhere.
    public func sample(_ index: Int) -> SyntheticFundusSample {
        let n = size * size
        // Content and grain come from separate streams so the noise options never move a vessel.
        let key = PortableMath.mix(seed ^ PortableMath.mix(UInt64(bitPattern: Int64(index))))
        var rng = SeededRandom(seed: key)
        var grainRng = SeededRandom(seed: PortableMath.mix(key ^ 0xD1B5_4A32_D192_ED03))
        let scene = FundusScene(size: size, density: vesselDensity, &rng)

        var coverage = [Float](repeating: 0, count: n)
        var darkness = [Float](repeating: 0, count: n)
        coverage.withUnsafeMutableBufferPointer { cov in
            darkness.withUnsafeMutableBufferPointer { dark in
                VesselTree.rasterize(scene.tree.grow(&rng), size: size,
                                     coverage: cov.baseAddress!, darkness: dark.baseAddress!)
            }
        }
        let spots = lesions ? FundusScene.Spot.scatter(in: scene, &rng) : []

        var planes = [Float](repeating: 0, count: 3 * n)
        planes.withUnsafeMutableBufferPointer { p in
            scene.paint(into: p.baseAddress!, darkness: darkness, spots: spots)
            FundusScene.blur(p.baseAddress!, size: size, amount: grainRng.uniform(0.3, 0.8))
        }

        let sigma = noiseLevel * grainRng.uniform(0.010, 0.025)
        var image = [UInt8](repeating: 0, count: 3 * n)
        var label = [UInt8](repeating: 0, count: n)
        var fov = [Bool](repeating: false, count: n)
        let r2 = scene.fovRadius * scene.fovRadius
        for y in 0..<size {
            let dy = Float(y) - scene.centre
            for x in 0..<size {
                let i = y * size + x
                let dx = Float(x) - scene.centre
                // Noise is drawn for every pixel, inside the field of view or not, so the stream
                // position of a pixel does not depend on the field-of-view radius.
                let noise = (grainRng.irwinHall4(), grainRng.irwinHall4(), grainRng.irwinHall4())
                guard dx * dx + dy * dy <= r2 else { continue }
                fov[i] = true
                label[i] = coverage[i] >= 0.5 ? 1 : 0
                image[3 * i] = Self.quantize(planes[i] + sigma * noise.0)
                image[3 * i + 1] = Self.quantize(planes[n + i] + sigma * noise.1)
                image[3 * i + 2] = Self.quantize(planes[2 * n + i] + sigma * noise.2)
            }
        }
        return SyntheticFundusSample(size: size, image: image, label: label, fov: fov)
    }

    @inline(__always)
    private static func quantize(_ v: Float) -> UInt8 {
        UInt8(min(max(v, 0), 1) * 255 + 0.5)
    }
}

extension SeededRandom {
    /// An approximately standard normal draw (Irwin–Hall sum of four uniforms) from one 64-bit
    /// word; unlike Box–Muller it needs no `log`/`cos`, whose last bits differ between platforms.
    @inline(__always)
    mutating func irwinHall4() -> Float {
        let w = next()
        let sum = Float(w & 0xFFFF) + Float((w >> 16) & 0xFFFF) + Float((w >> 32) & 0xFFFF) + Float(w >> 48)
        // Four uniforms on [0, 1) have mean 2 and variance 1/3.
        return (sum * (1.0 / 65536.0) - 2) * 1.732_050_8
    }
}
