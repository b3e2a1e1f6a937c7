import Nets

/// One straight piece of a vessel centre line, drawn as a capsule whose full width changes
/// linearly from `widthA` at `a` to `widthB` at `b`.
struct VesselSegment {
    var ax: Float, ay: Float, bx: Float, by: Float
    var widthA: Float, widthB: Float
    /// Fractional darkening of the background where the vessel covers a whole pixel.
    var contrast: Float
}

/// Branching vessel trees grown from the optic disc, as in a fundus photograph: a few trunks
/// leave the disc, the temporal ones arch around the macula, and every branch splits off
/// thinner children at random intervals until the width falls below about a pixel.
struct VesselTree {
    /// Pixels per pixel of the 128-pixel reference scale the constants below are tuned at.
    var scale: Float
    /// Centre and radius of the field of view; growth stops a little outside it.
    var centreX: Float, centreY: Float, fovRadius: Float
    /// Centre of the optic disc, where the trunks start, and its horizontal radius.
    var discX: Float, discY: Float, discRadius: Float
    /// Direction (radians) from the disc towards the macula, the temporal side.
    var temporalAngle: Float
    /// Multiplies the branching rate and the number of trunks.
    var density: Float
    /// Darkening of a root-width vessel for this image.
    var contrast: Float

    /// A branch waiting to be grown.
    private struct Sprout {
        var x: Float, y: Float, angle: Float
        var width: Float, contrast: Float
        /// Mean curvature (radians per pixel) the path relaxes towards; arcades bend around the macula.
        var bend: Float
        /// Path length after which the branch stops even if it is still wide.
        var budget: Float
    }

    /// The thinnest vessel drawn: a width of at least one pixel keeps the 0.5-coverage label connected.
    var minWidth: Float { max(1.0, 0.9 * scale) }

    /// Grows all trees; every draw comes from `rng`, in a fixed order.
    func grow(_ rng: inout SeededRandom) -> [VesselSegment] {
        var segments: [VesselSegment] = []
        segments.reserveCapacity(Int(1500 * scale))
        let rootWidth = rng.uniform(3.0, 4.0) * scale
        let axis = temporalAngle
        var sprouts: [Sprout] = []

        // Two temporal arcades (up and down, arching around the macula) carry the widest vessels;
        // the nasal side gets shorter, straighter trunks spread over the half facing away.
        for side: Float in [-1, 1] {
            for pair in 0..<2 {
                // An artery and a vein leave together; the vein is wider and darker.
                let vein = pair == 0
                sprouts.append(Sprout(
                    x: discX + rng.uniform(-0.3, 0.3) * discRadius,
                    y: discY + rng.uniform(-0.3, 0.3) * discRadius,
                    angle: axis + side * rng.uniform(0.9, 1.35),
                    width: rootWidth * (vein ? rng.uniform(0.9, 1.0) : rng.uniform(0.65, 0.8)),
                    contrast: contrast * (vein ? rng.uniform(0.95, 1.1) : rng.uniform(0.7, 0.85)),
                    bend: -side * rng.uniform(0.6, 0.95) / fovRadius,
                    budget: fovRadius * rng.uniform(1.6, 2.2)))
            }
        }
        let nasal = max(1, Int((Float(2 + Int(rng.next() % 2)) * density).rounded()))
        for k in 0..<nasal {
            let spread = (Float(k) + rng.uniform(0.2, 0.8)) / Float(nasal)
            sprouts.append(Sprout(
                x: discX + rng.uniform(-0.3, 0.3) * discRadius,
                y: discY + rng.uniform(-0.3, 0.3) * discRadius,
                angle: axis + 3.141_592_7 + (spread - 0.5) * 2.6,
                width: rootWidth * rng.uniform(0.5, 0.8),
                contrast: contrast * rng.uniform(0.75, 1.0),
                bend: rng.uniform(-0.5, 0.5) / fovRadius,
                budget: fovRadius * rng.uniform(0.9, 1.5)))
        }

        let step = 1.5 * scale
        let limit2 = (fovRadius + 3 * scale) * (fovRadius + 3 * scale)
        let spacing = 24 * scale / max(density, 0.05)
        // Curvature is a mean-reverting random walk: paths wander gently instead of jittering.
        let curvatureNoise = 0.009 / scale
        let maxSegments = Int(20_000 * scale * scale)
        while let sprout = sprouts.popLast(), segments.count < maxSegments {
            var x = sprout.x, y = sprout.y, angle = sprout.angle, width = sprout.width
            var curvature = sprout.bend
            var travelled: Float = 0
            var nextBranch = spacing * rng.uniform(0.3, 1.2)
            // Vessels narrow slowly along their length as well as at each branching.
            let taper = 1 - step / (fovRadius * rng.uniform(2.5, 4.0))
            while width >= minWidth {
                // Past its budget a branch narrows quickly instead of ending bluntly.
                if travelled >= sprout.budget { width *= 0.9 }
                curvature += 0.12 * (sprout.bend - curvature) + curvatureNoise * rng.uniform(-1, 1)
                angle += curvature * step
                let (s, c) = PortableMath.sinCos(angle)
                let nx = x + step * c, ny = y + step * s
                let nw = width * taper
                // Thin vessels are paler as well as narrower, as in real fundus photographs.
                let fade = 0.6 + 0.4 * min(width / rootWidth, 1)
                segments.append(VesselSegment(ax: x, ay: y, bx: nx, by: ny, widthA: width, widthB: nw,
                                              contrast: sprout.contrast * fade))
                x = nx
                y = ny
                width = nw
                travelled += step
                let dx = x - centreX, dy = y - centreY
                if dx * dx + dy * dy > limit2 { break }
                if travelled >= nextBranch {
                    nextBranch = travelled + spacing * rng.uniform(0.5, 1.5)
                    let ratio = rng.uniform(0.45, 0.8)
                    let childWidth = width * ratio
                    let sideSign: Float = rng.next() & 1 == 0 ? 1 : -1
                    let childAngle = angle + sideSign * rng.uniform(0.45, 1.2)
                    if childWidth >= minWidth {
                        sprouts.append(Sprout(
                            x: x, y: y, angle: childAngle, width: childWidth,
                            contrast: sprout.contrast * rng.uniform(0.85, 1.0),
                            bend: sideSign * rng.uniform(-0.5, 0.6) / fovRadius,
                            budget: fovRadius * rng.uniform(0.35, 0.9)))
                        // The parent narrows after a split, close to Murray's law (w³ = w₁³ + w₂³).
                        width *= 1 - 0.3 * ratio * ratio
                    }
                }
            }
        }
        return segments
    }
}

extension VesselTree {
    /// Draws `segments` into per-pixel vessel `coverage` (fraction of the pixel covered, for the
    /// label) and `darkness` (coverage × contrast, for the image), keeping the maximum where
    /// segments overlap so joints and crossings do not double-darken.
    ///
    /// Coverage is the overlap of a one-pixel window, centred on the pixel and measured across the
    /// centre line, with the vessel's cross-section (exact for a straight vessel along a pixel
    /// axis), so a vessel narrower than a pixel is faint rather than thin-but-full.
    static func rasterize(_ segments: [VesselSegment], size: Int,
                          coverage: UnsafeMutablePointer<Float>, darkness: UnsafeMutablePointer<Float>) {
        let last = Float(size - 1)
        for seg in segments {
            let half = max(seg.widthA, seg.widthB) * 0.5 + 1
            let x0 = Int(max(min(seg.ax, seg.bx) - half, 0).rounded(.down))
            let x1 = Int(min(max(seg.ax, seg.bx) + half, last).rounded(.up))
            let y0 = Int(max(min(seg.ay, seg.by) - half, 0).rounded(.down))
            let y1 = Int(min(max(seg.ay, seg.by) + half, last).rounded(.up))
            if x0 > x1 || y0 > y1 { continue }
            let ex = seg.bx - seg.ax, ey = seg.by - seg.ay
            let inv = 1 / max(ex * ex + ey * ey, 1e-12)
            for py in y0...y1 {
                let fy = Float(py) - seg.ay
                let row = py * size
                for px in x0...x1 {
                    let fx = Float(px) - seg.ax
                    let t = min(max((fx * ex + fy * ey) * inv, 0), 1)
                    let dx = fx - t * ex, dy = fy - t * ey
                    let d = (dx * dx + dy * dy).squareRoot()
                    let hw = 0.5 * (seg.widthA + t * (seg.widthB - seg.widthA))
                    let cov = min(d + 0.5, hw) - max(d - 0.5, -hw)
                    if cov <= 0 { continue }
                    let c = min(cov, 1)
                    let i = row + px
                    if c > coverage[i] { coverage[i] = c }
                    let dark = c * seg.contrast
                    if dark > darkness[i] { darkness[i] = dark }
                }
            }
        }
    }
}
