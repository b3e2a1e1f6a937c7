import Nets

/// The random layout of one synthetic fundus image — field of view, optic disc, macula, colours,
/// illumination — and the painting of the background, disc, vessels and spots into colour planes.
struct FundusScene {
    let size: Int
    /// Centre coordinate of the image (pixel centres are at integer coordinates).
    let centre: Float
    let fovRadius: Float
    let tree: VesselTree

    /// Background colour at the image centre before illumination, linear in [0, 1].
    private let base: (r: Float, g: Float, b: Float)
    /// Vignetting: brightness falls by `vignette` × (distance / radius)² towards the rim.
    private let vignette: Float
    /// Linear illumination gradient across the field of view (per field-of-view radius).
    private let gradientX: Float, gradientY: Float
    /// Smooth low-frequency blotches in the choroid: centre, radius², relative amplitude.
    private let blotches: [(x: Float, y: Float, r2: Float, amplitude: Float)]
    private let discX: Float, discY: Float, discRX: Float, discRY: Float
    private let discBrightness: Float
    private let maculaX: Float, maculaY: Float, maculaR2: Float, maculaDepth: Float

    /// Draws the layout from `rng`; `density` goes to the vessel tree.
    init(size: Int, density: Float, _ rng: inout SeededRandom) {
        self.size = size
        let scale = Float(size) / 128
        centre = Float(size - 1) * 0.5
        let radius = Float(size) * rng.uniform(0.445, 0.475)
        fovRadius = radius

        // The disc sits on the left or right, a little above or below the horizontal midline.
        let onLeft = rng.next() & 1 == 0
        let discAngle = (onLeft ? 3.141_592_7 : 0) + rng.uniform(-0.3, 0.3)
        let (ds, dc) = PortableMath.sinCos(discAngle)
        let discDistance = radius * rng.uniform(0.45, 0.62)
        discX = centre + discDistance * dc
        discY = centre + discDistance * ds
        discRX = radius * rng.uniform(0.11, 0.14)
        discRY = discRX * rng.uniform(1.05, 1.2)
        discBrightness = rng.uniform(0.75, 1.0)
        // The macula lies temporal to the disc, about two and a half disc diameters away.
        maculaX = centre - dc * radius * rng.uniform(0.0, 0.15)
        maculaY = centre - ds * radius * rng.uniform(-0.05, 0.1)
        let maculaR = radius * rng.uniform(0.18, 0.28)
        maculaR2 = maculaR * maculaR
        maculaDepth = rng.uniform(0.1, 0.3)

        let brightness = rng.uniform(0.8, 1.15)
        base = (rng.uniform(0.70, 0.88) * brightness, rng.uniform(0.28, 0.42) * brightness,
                rng.uniform(0.08, 0.16) * brightness)
        vignette = rng.uniform(0.25, 0.5)
        let (gs, gc) = PortableMath.sinCos(rng.uniform(0, 6.283_185_3))
        let gradient = rng.uniform(0.15, 0.4)
        gradientX = gradient * gc
        gradientY = gradient * gs
        var blotches: [(x: Float, y: Float, r2: Float, amplitude: Float)] = []
        for _ in 0..<6 {
            let r = radius * rng.uniform(0.2, 0.5)
            blotches.append((rng.uniform(0, Float(size)), rng.uniform(0, Float(size)), r * r, rng.uniform(-0.1, 0.1)))
        }
        self.blotches = blotches

        tree = VesselTree(scale: scale, centreX: centre, centreY: centre, fovRadius: radius,
                          discX: discX, discY: discY, discRadius: discRX,
                          temporalAngle: discAngle + 3.141_592_7, density: density,
                          contrast: rng.uniform(0.35, 0.55))
    }

    /// Relative strength of vessel darkening per channel: haemoglobin absorbs green most, red least,
    /// which is why vessel segmentation classically works on the green channel.
    private static let absorption: (r: Float, g: Float, b: Float) = (0.45, 1.0, 0.85)

    /// Paints the illuminated background, macula, disc, vessels and spots into three planes
    /// (R, G, B, each `size`×`size`); values are linear in [0, 1] but not yet clamped.
    func paint(into planes: UnsafeMutablePointer<Float>, darkness: [Float], spots: [Spot]) {
        let n = size * size
        let invRadius = 1 / fovRadius
        let a = Self.absorption
        for y in 0..<size {
            let fy = Float(y)
            let v = (fy - centre) * invRadius
            for x in 0..<size {
                let fx = Float(x)
                let u = (fx - centre) * invRadius
                var light = max(1 - vignette * (u * u + v * v), 0.2) * max(1 + gradientX * u + gradientY * v, 0.2)
                var texture: Float = 1
                for b in blotches {
                    let dx = fx - b.x, dy = fy - b.y
                    texture += b.amplitude * PortableMath.bump(distance2: dx * dx + dy * dy, radius2: b.r2)
                }
                light *= texture
                let mx = fx - maculaX, my = fy - maculaY
                light *= 1 - maculaDepth * PortableMath.bump(distance2: mx * mx + my * my, radius2: maculaR2)
                var r = base.r * light, g = base.g * light, bl = base.b * light

                // The disc is a pale yellow ellipse with a soft rim and a brighter central cup.
                let ex = (fx - discX) / discRX, ey = (fy - discY) / discRY
                let e = (ex * ex + ey * ey).squareRoot()
                let alpha = 1 - PortableMath.smoothstep(0.7, 1.15, e)
                if alpha > 0 {
                    let cup = 1 + 0.15 * (1 - PortableMath.smoothstep(0.2, 0.55, e))
                    let discLight = discBrightness * cup * max(1 + 0.5 * (light - 1), 0.3)
                    r += alpha * (min(0.98 * discLight, 1) - r)
                    g += alpha * (0.8 * discLight - g)
                    bl += alpha * (0.5 * discLight - bl)
                }

                let i = y * size + x
                let dark = darkness[i]
                r *= 1 - a.r * dark
                g *= 1 - a.g * dark
                bl *= 1 - a.b * dark
                planes[i] = r
                planes[n + i] = g
                planes[2 * n + i] = bl
            }
        }
        for spot in spots { spot.paint(into: planes, size: size) }
    }

    /// Mixes `amount` of a [1 2 1]/4 separable blur into the planes (edges clamped), the mild
    /// defocus of a fundus camera.
    static func blur(_ planes: UnsafeMutablePointer<Float>, size: Int, amount: Float) {
        let n = size * size
        let tmp = UnsafeMutablePointer<Float>.allocate(capacity: n)
        defer { tmp.deallocate() }
        for c in 0..<3 {
            let p = planes + c * n
            for y in 0..<size {
                let row = p + y * size, out = tmp + y * size
                for x in 0..<size {
                    let l = row[max(x - 1, 0)], r = row[min(x + 1, size - 1)]
                    out[x] = 0.25 * (l + r) + 0.5 * row[x]
                }
            }
            for y in 0..<size {
                let up = tmp + max(y - 1, 0) * size, mid = tmp + y * size, down = tmp + min(y + 1, size - 1) * size
                let row = p + y * size
                for x in 0..<size {
                    let blurred = 0.25 * (up[x] + down[x]) + 0.5 * mid[x]
                    row[x] += amount * (blurred - row[x])
                }
            }
        }
    }

    /// A small round lesion: dark red haemorrhages and microaneurysms look like vessel fragments
    /// to a darkness threshold, bright yellow exudates like the disc; neither is labelled.
    struct Spot {
        var x: Float, y: Float, radius: Float
        /// Darkening (dark spots, as for vessels) or mixing towards exudate yellow (bright spots).
        var strength: Float
        var bright: Bool

        /// Draws 0–3 dark and 0–4 bright spots at random places inside the field of view.
        static func scatter(in scene: FundusScene, _ rng: inout SeededRandom) -> [Spot] {
            let scale = Float(scene.size) / 128
            var spots: [Spot] = []
            let dark = Int(rng.next() % 4), bright = Int(rng.next() % 5)
            for k in 0..<(dark + bright) {
                // Uniform in the disc of radius 0.85 R by rejection: at most a few draws on average.
                var x: Float = 0, y: Float = 0
                let limit = 0.85 * scene.fovRadius
                repeat {
                    x = rng.uniform(-limit, limit)
                    y = rng.uniform(-limit, limit)
                } while x * x + y * y > limit * limit
                let isBright = k >= dark
                spots.append(Spot(
                    x: scene.centre + x, y: scene.centre + y,
                    radius: scale * (isBright ? rng.uniform(0.8, 2.2) : rng.uniform(1.2, 3.2)),
                    strength: isBright ? rng.uniform(0.35, 0.7) : rng.uniform(0.25, 0.5),
                    bright: isBright))
            }
            return spots
        }

        /// Paints the spot with an anti-aliased rim (coverage of the pixel along the radius).
        func paint(into planes: UnsafeMutablePointer<Float>, size: Int) {
            let n = size * size
            let x0 = max(Int((x - radius - 1).rounded(.down)), 0), x1 = min(Int((x + radius + 1).rounded(.up)), size - 1)
            let y0 = max(Int((y - radius - 1).rounded(.down)), 0), y1 = min(Int((y + radius + 1).rounded(.up)), size - 1)
            guard x0 <= x1, y0 <= y1 else { return }
            let a = FundusScene.absorption
            for py in y0...y1 {
                for px in x0...x1 {
                    let dx = Float(px) - x, dy = Float(py) - y
                    let cov = min(max(radius + 0.5 - (dx * dx + dy * dy).squareRoot(), 0), 1)
                    if cov == 0 { continue }
                    let i = py * size + px
                    let k = cov * strength
                    if bright {
                        // Exudates are yellow-white and keep some of the local illumination.
                        let light = (planes[i] + planes[n + i]) * 0.8 + 0.2
                        planes[i] += k * (min(light, 1) - planes[i])
                        planes[n + i] += k * (0.85 * light - planes[n + i])
                        planes[2 * n + i] += k * (0.45 * light - planes[2 * n + i])
                    } else {
                        planes[i] *= 1 - a.r * k
                        planes[n + i] *= 1 - a.g * k
                        planes[2 * n + i] *= 1 - a.b * k
                    }
                }
            }
        }
    }
}
