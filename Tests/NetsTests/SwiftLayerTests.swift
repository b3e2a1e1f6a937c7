import XCTest
@testable import Nets

/// Comparisons shared by the layer tests.
enum LayerCompare {
    /// Largest |a - b| over logical elements; the two may have different layouts.
    static func maxAbsDiff(_ a: Tensor, _ b: Tensor) -> Float {
        precondition(a.shape == b.shape, "\(a.shape) vs \(b.shape)")
        let pa = a.layout == .plain ? a : a.converted(to: .plain)
        let pb = b.layout == .plain ? b : b.converted(to: .plain)
        var worst: Float = 0
        for i in 0..<pa.count { worst = max(worst, abs(pa.data[i] - pb.data[i])) }
        return worst
    }
}

final class ZeroPad2dTests: XCTestCase {
    /// Every output element against the definition of F.pad: x at the shifted index, or 0 outside.
    func checkPad(_ l: Int, _ r: Int, _ t: Int, _ b: Int, file: StaticString = #filePath, line: UInt = #line) {
        let x = GradCheck.randomTensor([2, 3, 5, 7], layout: .nhwc, seed: 10)
        let y = ZeroPad2d(left: l, right: r, top: t, bottom: b).forward(x)
        XCTAssertEqual(y.shape, [2, 3, 5 + t + b, 7 + l + r], file: file, line: line)
        for n in 0..<2 { for c in 0..<3 { for oy in 0..<y.h { for ox in 0..<y.w {
            let iy = oy - t, ix = ox - l
            let expect: Float = (0..<5).contains(iy) && (0..<7).contains(ix) ? x[n, c, iy, ix] : 0
            if y[n, c, oy, ox] != expect {
                XCTFail("pad (\(l),\(r),\(t),\(b)) at \(n),\(c),\(oy),\(ox): \(y[n, c, oy, ox]) vs \(expect)",
                        file: file, line: line)
                return
            }
        }}}}
    }

    func testPadValues() {
        checkPad(0, 1, 0, 1)      // the UNet's diff = 1: (diff / 2, diff - diff / 2)
        checkPad(2, 3, 1, 0)
        checkPad(-1, 2, -2, 1)    // crop on one side, pad on the other
        checkPad(-2, -3, -1, -2)  // pure crop
        checkPad(-7, 2, 0, 0)     // everything cropped from the left: only zeros remain
    }

    /// Padding and cropping are linear; default GradCheck tolerance.
    func testPadGradient() {
        for (l, r, t, b) in [(1, 2, 0, 3), (-1, 2, -2, 1), (-2, -1, -1, -1)] {
            let x = GradCheck.randomTensor([2, 3, 5, 7], layout: .nhwc, seed: 11)
            GradCheck.checkLayer("ZeroPad2d(\(l),\(r),\(t),\(b))", ZeroPad2d(left: l, right: r, top: t, bottom: b),
                                 input: x)
        }
    }
}

final class ConcatTests: XCTestCase {
    func testConcatValuesAndRoundTrip() {
        let xs = [4, 1, 3].enumerated().map { GradCheck.randomTensor([2, $0.element, 3, 5], layout: .nhwc, seed: UInt64(20 + $0.offset)) }
        let y = concatChannels(xs)
        XCTAssertEqual(y.shape, [2, 8, 3, 5])
        var offset = 0
        for x in xs {
            for n in 0..<2 { for c in 0..<x.c { for iy in 0..<3 { for ix in 0..<5 {
                XCTAssertEqual(y[n, offset + c, iy, ix], x[n, c, iy, ix])
            }}}}
            offset += x.c
        }
        let parts = splitChannels(y, sizes: xs.map(\.c))
        XCTAssertEqual(parts.count, 3)
        for (p, x) in zip(parts, xs) {
            XCTAssertEqual(p.shape, x.shape)
            XCTAssertEqual(p.array, x.array)
        }
    }

    func testConcatGradient() {
        let xs = [2, 3].enumerated().map { GradCheck.randomTensor([2, $0.element, 3, 5], layout: .nhwc, seed: UInt64(30 + $0.offset)) }
        let g = GradCheck.randomTensor([2, 5, 3, 5], layout: .nhwc, seed: 32)
        let dxs = splitChannels(g, sizes: [2, 3])
        for (k, x) in xs.enumerated() {
            GradCheck.check("concat input \(k)", x: x, analytic: dxs[k]) { GradCheck.dot(concatChannels(xs), g) }
        }
    }
}

final class DropoutTests: XCTestCase {
    func testEvalIsIdentity() {
        let layer = Dropout(p: 0.5, seed: 1)
        layer.setTraining(false)
        let x = GradCheck.randomTensor([2, 3, 4, 5], layout: .nhwc, seed: 40)
        XCTAssertEqual(layer.forward(x).array, x.array)
        XCTAssertEqual(GradCheck.backward(x, x) { layer($0) }?.array, x.array)
        XCTAssertEqual(GradCheck.recordedOps { _ = layer(x) }, 0, "nothing to record: the identity")
    }

    /// The dropped fraction of 200,000 elements is within 0.01 of p (about 7 standard deviations),
    /// and every kept element is x/(1-p) to float rounding.
    func testTrainingDropsAboutPAndScales() {
        let p: Float = 0.3
        let layer = Dropout(p: p, seed: 7)
        let x = Tensor(shape: [2, 4, 100, 250], layout: .nhwc, repeating: 1.5)
        let y = layer.forward(x)
        var zeros = 0
        for i in 0..<y.count {
            if y.data[i] == 0 { zeros += 1 } else { XCTAssertEqual(y.data[i], 1.5 / (1 - p), accuracy: 1e-6) }
        }
        XCTAssertEqual(Double(zeros) / Double(y.count), Double(p), accuracy: 0.01)
    }

    /// Same seed, same masks (call after call); another seed, another mask. The mask is the plain
    /// sequential stream of a generator seeded by the layer's first draw, whatever the thread count.
    func testSeedDeterminesMask() {
        let saved = Threads.count
        defer { Threads.set(saved) }
        let x = Tensor(shape: [1, 1, 1, 3 * Dropout.block + 5], layout: .nhwc, repeating: 1)
        Threads.set(1)
        let a = Dropout(p: 0.5, seed: 3)
        let a1 = a.forward(x).array, a2 = a.forward(x).array
        Threads.set(2)
        let b = Dropout(p: 0.5, seed: 3)
        XCTAssertEqual(b.forward(x).array, a1)
        XCTAssertEqual(b.forward(x).array, a2)
        XCTAssertNotEqual(a1, a2)
        XCTAssertNotEqual(Dropout(p: 0.5, seed: 4).forward(x).array, a1)
        var layerRng = SeededRandom(seed: 3)
        var stream = SeededRandom(seed: layerRng.next())
        let expect = (0..<x.count).map { _ in stream.nextFloat() < 0.5 ? Float(2) : 0 }
        XCTAssertEqual(a1, expect)
    }

    /// Backward multiplies by the forward's mask: checked by finite differences through a fresh
    /// layer with the same seed (whose first mask is the same); the loss is linear, default tolerance.
    func testBackwardUsesForwardMask() {
        for channelwise in [false, true] {
            let x = GradCheck.randomTensor([2, 6, 3, 5], layout: .nhwc, seed: 41)
            let layer = Dropout(p: 0.4, seed: 9, channelwise: channelwise)
            let g = GradCheck.randomTensor(x.shape, layout: .nhwc, seed: 42)
            let dx = GradCheck.backward(x, g) { layer($0) }!
            GradCheck.check("dropout channelwise=\(channelwise)", x: x, analytic: dx, samples: 180) {
                GradCheck.dot(Dropout(p: 0.4, seed: 9, channelwise: channelwise).forward(x), g)
            }
        }
    }

    /// Dropout2d: each (image, channel) is either all zero or all scaled by 1/(1-p).
    func testChannelwiseDropsWholeChannels() {
        let layer = Dropout(p: 0.5, seed: 11, channelwise: true)
        let x = Tensor(shape: [4, 32, 3, 5], layout: .nhwc, repeating: 1)
        let y = layer.forward(x)
        var dropped = 0
        for n in 0..<4 { for c in 0..<32 {
            let first = y[n, c, 0, 0]
            XCTAssertTrue(first == 0 || first == 2, "\(first)")
            if first == 0 { dropped += 1 }
            for iy in 0..<3 { for ix in 0..<5 { XCTAssertEqual(y[n, c, iy, ix], first) } }
        }}
        XCTAssertGreaterThan(dropped, 32)   // 128 channels at p = 0.5: 64 ± 6 expected
        XCTAssertLessThan(dropped, 96)
    }

    func testProbabilityOneZeroesEverything() {
        let x = GradCheck.randomTensor([1, 2, 3, 4], layout: .nhwc, seed: 43)
        XCTAssertTrue(Dropout(p: 1, seed: 1).forward(x).array.allSatisfy { $0 == 0 })
    }
}

final class GlobalAvgPoolTests: XCTestCase {
    /// Each channel's mean, against a Double sum over the logical indices (tolerance 1e-6 on values of order 1).
    func testValues() {
        let x = GradCheck.randomTensor([2, 70, 5, 7], layout: .nhwc, seed: 50)
        let pool = GlobalAvgPool2d()
        let y = pool.forward(x)
        XCTAssertEqual(y.shape, [2, 70, 1, 1])
        for n in 0..<2 { for c in 0..<70 {
            var s = 0.0
            for iy in 0..<5 { for ix in 0..<7 { s += Double(x[n, c, iy, ix]) } }
            XCTAssertEqual(Double(y[n, c, 0, 0]), s / 35, accuracy: 1e-6)
        }}
    }

    func testGradient() {
        let x = GradCheck.randomTensor([2, 3, 5, 7], layout: .nhwc, seed: 51)
        GradCheck.checkLayer("GlobalAvgPool2d", GlobalAvgPool2d(), input: x)
    }
}

final class AddTests: XCTestCase {
    func testValuesAndGradient() {
        let a = GradCheck.randomTensor([2, 3, 4, 5], layout: .nhwc, seed: 60)
        let b = GradCheck.randomTensor([2, 3, 4, 5], layout: .nhwc, seed: 61)
        let (a0, b0) = (a.array, b.array)
        let y = add(a, b)
        for i in 0..<y.count { XCTAssertEqual(y.data[i], a0[i] + b0[i]) }
        XCTAssertEqual(a.array, a0, "inputs unchanged")
        let g = GradCheck.randomTensor(y.shape, layout: .nhwc, seed: 62)
        let da = GradCheck.backward(a, g) { add($0, b) }!, db = GradCheck.backward(b, g) { add(a, $0) }!
        GradCheck.check("add a", x: a, analytic: da) { GradCheck.dot(add(a, b), g) }
        GradCheck.check("add b", x: b, analytic: db) { GradCheck.dot(add(a, b), g) }
    }

    /// relu(a + b) in one pass: the values of the ReLU of the sum (bf16 too), and both inputs
    /// get the output gradient masked where the sum is not positive, the caller's gradient and
    /// each other's untouched by the in-place mask.
    func testAddReLU() {
        let a = GradCheck.randomTensor([2, 3, 4, 5], layout: .nhwc, seed: 63)
        let b = GradCheck.randomTensor([2, 3, 4, 5], layout: .nhwc, seed: 64)
        let y = addReLU(a, b)
        for i in 0..<y.count { XCTAssertEqual(y.data[i], max(a.data[i] + b.data[i], 0)) }
        XCTAssertTrue(y.array.contains(0) && y.array.contains { $0 > 0 })
        let low = addReLU(a.converted(to: .bf16), b.converted(to: .bf16))
        let expected = ReLU()(add(a.converted(to: .bf16), b.converted(to: .bf16)))
        XCTAssertEqual(low.precision, .bf16)
        XCTAssertEqual(low.converted(to: .fp32).array, expected.converted(to: .fp32).array)
        let g = GradCheck.randomTensor(y.shape, layout: .nhwc, seed: 65), g0 = g.array
        let tape = Tape()
        tape.watch(a)
        tape.watch(b)
        let out = tape.record { addReLU(a, b) }
        tape.backward([(out, g)])
        let da = tape.gradient(of: a)!, db = tape.gradient(of: b)!
        for i in 0..<y.count {
            XCTAssertEqual(da.data[i], y.data[i] > 0 ? g0[i] : 0)
            XCTAssertEqual(db.data[i], da.data[i])
        }
        XCTAssertEqual(g.array, g0, "the caller's gradient is left as it was")
    }

    /// A residual output used three times (a convolution, the shortcut of the next block, a
    /// sum) gets its gradient in three pieces, summed in the masking pass: finite differences.
    func testAddReLUSumsTheGradientOfAnOutputUsedThreeTimes() {
        var rng = SeededRandom(seed: 66)
        let conv = Conv2d(3, 3, kernelSize: 1, rng: &rng), side = Conv2d(3, 3, kernelSize: 1, rng: &rng)
        let a = GradCheck.randomTensor([2, 3, 4, 5], layout: .nhwc, seed: 67)
        let b = GradCheck.randomTensor([2, 3, 4, 5], layout: .nhwc, seed: 68)
        func f(_ a: Tensor) -> Tensor {
            let y = addReLU(a, b)
            return add(addReLU(conv(y), y), side(y))
        }
        let g = GradCheck.randomTensor([2, 3, 4, 5], layout: .nhwc, seed: 69)
        let da = GradCheck.backward(a, g, f)!
        GradCheck.check("a", x: a, analytic: da, eps: 1e-3, tolerance: 1e-2) { GradCheck.dot(f(a), g) }
    }
}
