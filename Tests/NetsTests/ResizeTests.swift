import XCTest
@testable import Nets

/// Bilinear resize and `Upsample` against PyTorch (tools/fixtures/resize.py) and finite differences.
final class ResizeTests: XCTestCase {
    /// The cases of resize.py: fixture key, output size, scale factor passed to PyTorch, align_corners.
    static let cases: [(name: String, height: Int, width: Int, scale: Double?, align: Bool)] = [
        ("up2_align", 10, 14, 2, true),
        ("up2_half", 10, 14, 2, false),
        ("size11x9_align", 11, 9, nil, true),
        ("size11x9_half", 11, 9, nil, false),
        ("down3x4_align", 3, 4, nil, true),
        ("down3x4_half", 3, 4, nil, false),
        ("scale1_5_half", 7, 10, 1.5, false),
        ("size1x1_align", 1, 1, nil, true),
        ("size1x1_half", 1, 1, nil, false),
        ("same_half", 5, 7, nil, false),
    ]

    func fixture() throws -> [String: Tensor] {
        let path = try XCTUnwrap(Bundle.module.path(forResource: "resize", ofType: "safetensors", inDirectory: "Fixtures"))
        return try SafeTensors.read(path)
    }

    /// Forward values and input gradients of every case agree with PyTorch to 1e-5: the indices and
    /// weights are computed in Float as PyTorch does, so only the summation order differs (a few ulp
    /// on values of order 1); a wrong source index or clamp is off by O(0.1).
    func testMatchesPyTorch() throws {
        let f = try fixture()
        let x = try XCTUnwrap(f["x"]).converted(to: .nhwc)
        for c in Self.cases {
            let expectY = try XCTUnwrap(f["\(c.name).y"]), g = try XCTUnwrap(f["\(c.name).g"])
            let expectDx = try XCTUnwrap(f["\(c.name).dx"])
            let scales = c.scale.map { (height: $0, width: $0) }
            let y = bilinearResize(x, height: c.height, width: c.width, alignCorners: c.align, scaleFactors: scales)
            XCTAssertEqual(y.shape, expectY.shape, c.name)
            XCTAssertLessThan(LayerCompare.maxAbsDiff(y, expectY), 1e-5, "\(c.name) forward")
            let dx = bilinearResizeBackward(g.converted(to: .nhwc), inputHeight: x.h, inputWidth: x.w,
                                            alignCorners: c.align, scaleFactors: scales)
            XCTAssertLessThan(LayerCompare.maxAbsDiff(dx, expectDx), 1e-5, "\(c.name) backward")
        }
    }

    /// The UNet's layer, `nn.Upsample(scale_factor=2, mode='bilinear', align_corners=...)`, on the same fixture.
    func testUpsampleLayerMatchesPyTorch() throws {
        let f = try fixture()
        let x = try XCTUnwrap(f["x"]).converted(to: .nhwc)
        for (name, align) in [("up2_align", true), ("up2_half", false)] {
            let layer = Upsample(scaleFactor: 2, alignCorners: align)
            let y = layer.forward(x)
            XCTAssertLessThan(LayerCompare.maxAbsDiff(y, try XCTUnwrap(f["\(name).y"])), 1e-5, name)
            let dx = try XCTUnwrap(GradCheck.backward(x, try XCTUnwrap(f["\(name).g"]).converted(to: .nhwc)) { layer($0) })
            XCTAssertLessThan(LayerCompare.maxAbsDiff(dx, try XCTUnwrap(f["\(name).dx"])), 1e-5, name)
        }
    }

    /// Resize is linear, so central differences are exact up to rounding; default GradCheck tolerance.
    func testUpsampleGradient() {
        for align in [true, false] {
            let x = GradCheck.randomTensor([2, 3, 5, 7], layout: .nhwc, seed: 1)
            GradCheck.checkLayer("Upsample×2 align=\(align)", Upsample(scaleFactor: 2, alignCorners: align), input: x)
            let x3 = GradCheck.randomTensor([1, 2, 4, 3], layout: .nhwc, seed: 2)
            GradCheck.checkLayer("Upsample×3 align=\(align)", Upsample(scaleFactor: 3, alignCorners: align), input: x3)
        }
    }

    func testResizeGradient() {
        for align in [true, false] {
            for (h, w) in [(11, 9), (3, 4), (1, 1)] {
                let x = GradCheck.randomTensor([2, 3, 5, 7], layout: .nhwc, seed: 3)
                let g = GradCheck.randomTensor([2, 3, h, w], layout: .nhwc, seed: 4)
                let dx = bilinearResizeBackward(g, inputHeight: 5, inputWidth: 7, alignCorners: align)
                GradCheck.check("resize to \(h)×\(w) align=\(align)", x: x, analytic: dx, samples: 210) {
                    GradCheck.dot(bilinearResize(x, height: h, width: w, alignCorners: align), g)
                }
            }
        }
    }

    /// The backward gathers per input row, so its result must not depend on how rows are split
    /// among threads: bitwise equal with one thread and with several.
    func testBackwardIsDeterministicAcrossThreadCounts() {
        let saved = Threads.count
        defer { Threads.set(saved) }
        let g = GradCheck.randomTensor([2, 16, 80, 80], layout: .nhwc, seed: 5)
        var results: [[Float]] = []
        for threads in [1, 2, 3] {
            Threads.set(threads)
            results.append(bilinearResizeBackward(g, inputHeight: 40, inputWidth: 40, alignCorners: false).array)
        }
        XCTAssertEqual(results[0], results[1])
        XCTAssertEqual(results[0], results[2])
    }

    /// A UNet decoder's join writes the upsampled map straight into the concatenation and reads
    /// its gradient from there: output and every input gradient must equal, bit for bit, those
    /// of resizing, then concatenating (fp32 and bf16, one skip and UNet++'s several). A map
    /// that upsamples to another size than the skips' takes the padded path, as before.
    func testJoinSkipsWritesTheUpsampledMapInPlace() {
        let up = Upsample(scaleFactor: 2, alignCorners: true)
        for precision in [Precision.fp32, .bf16] {
            for (skipChannels, height) in [([5], 10), ([3, 4], 10), ([5], 11)] {
                let x = GradCheck.randomTensor([2, 6, 5, 7], layout: .nhwc, seed: 7).converted(to: precision)
                let skips = skipChannels.enumerated().map { k, c in
                    GradCheck.randomTensor([2, c, height, 14], layout: .nhwc, seed: 8 + UInt64(k)).converted(to: precision)
                }
                let total = skipChannels.reduce(6, +)
                let g = GradCheck.randomTensor([2, total, height, 14], layout: .nhwc, seed: 20).converted(to: precision)
                func run(_ join: ([Tensor], Tensor) -> Tensor) -> [[Float]] {
                    let tape = Tape()
                    for t in skips + [x] { tape.watch(t) }
                    let y = tape.record { join(skips, x) }
                    tape.backward([(y, g)])
                    return ([y] + (skips + [x]).map { tape.gradient(of: $0)! }).map { $0.converted(to: Precision.fp32).array }
                }
                let joined = run { joinSkips($0, upsampling: $1, by: up) }
                let reference = run { skips, x in
                    let u = up(x)
                    let padded = ZeroPad2d.matching(height: u.h, width: u.w, to: skips[0])?.forward(u) ?? u
                    return concatChannels(skips + [padded])
                }
                XCTAssertEqual(joined, reference, "\(precision) skips \(skipChannels) height \(height)")
            }
        }
    }
}
