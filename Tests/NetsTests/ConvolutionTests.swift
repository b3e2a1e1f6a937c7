import XCTest
@testable import Nets

/// Conv2d and ConvTranspose2d against direct loops written from the definitions
/// (which share nothing with oneDNN), and against finite differences.
final class ConvolutionTests: XCTestCase {
    /// y[n,o,i,j] = b[o] + Σ_c,ki,kj x[n,c,i·s-p+ki·d, j·s-p+kj·d] · w[o,c,ki,kj]
    func naiveConv(_ x: Tensor, _ conv: Conv2d) -> Tensor {
        let (k, s, p, d) = (conv.kernelSize, conv.stride, conv.padding, conv.dilation)
        let oh = (x.h + 2 * p - d * (k - 1) - 1) / s + 1, ow = (x.w + 2 * p - d * (k - 1) - 1) / s + 1
        let y = Tensor(shape: [x.n, conv.outChannels, oh, ow])
        let w = conv.weight.value
        for n in 0..<x.n { for o in 0..<conv.outChannels { for i in 0..<oh { for j in 0..<ow {
            var acc = Double(conv.bias?.value.data[o] ?? 0)
            for c in 0..<conv.inChannels { for ki in 0..<k { for kj in 0..<k {
                let yy = i * s - p + ki * d, xx = j * s - p + kj * d
                if yy < 0 || yy >= x.h || xx < 0 || xx >= x.w { continue }
                acc += Double(x[n, c, yy, xx]) * Double(w.data[((o * conv.inChannels + c) * k + ki) * k + kj])
            } } }
            y[n, o, i, j] = Float(acc)
        } } } }
        return y
    }

    /// The transpose scatters: y[n,o,i·s-p+ki, j·s-p+kj] += x[n,c,i,j] · w[c,o,ki,kj]
    func naiveConvTranspose(_ x: Tensor, _ conv: ConvTranspose2d) -> Tensor {
        let (k, s, p) = (conv.kernelSize, conv.stride, conv.padding)
        let oh = (x.h - 1) * s - 2 * p + k + conv.outputPadding, ow = (x.w - 1) * s - 2 * p + k + conv.outputPadding
        let y = Tensor(shape: [x.n, conv.outChannels, oh, ow])
        let w = conv.weight.value
        for n in 0..<x.n { for o in 0..<conv.outChannels { for i in 0..<oh { for j in 0..<ow {
            y[n, o, i, j] = conv.bias?.value.data[o] ?? 0
        } } } }
        for n in 0..<x.n { for c in 0..<conv.inChannels { for i in 0..<x.h { for j in 0..<x.w {
            for o in 0..<conv.outChannels { for ki in 0..<k { for kj in 0..<k {
                let yy = i * s - p + ki, xx = j * s - p + kj
                if yy < 0 || yy >= oh || xx < 0 || xx >= ow { continue }
                y[n, o, yy, xx] += x[n, c, i, j] * w.data[((c * conv.outChannels + o) * k + ki) * k + kj]
            } } }
        } } } }
        return y
    }

    func assertClose(_ a: Tensor, _ b: Tensor, tolerance: Float, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.shape, b.shape, file: file, line: line)
        guard a.shape == b.shape else { return }
        var worst: Float = 0
        for n in 0..<a.n { for c in 0..<a.c { for y in 0..<a.h { for x in 0..<a.w {
            worst = max(worst, abs(a[n, c, y, x] - b[n, c, y, x]))
        } } } }
        XCTAssertLessThan(worst, tolerance, "max abs difference", file: file, line: line)
    }

    // (in, out, kernel, stride, padding, dilation, bias, input h, w). The last three are
    // computed tap by tap (`TapConvolution`): taps partly on the input; only the centre on
    // it; an output smaller than the input, so no tap reads it in place.
    let convCases: [(Int, Int, Int, Int, Int, Int, Bool, Int, Int)] = [
        (3, 4, 3, 1, 1, 1, false, 7, 9),
        (5, 6, 3, 2, 1, 1, true, 9, 8),
        (4, 3, 3, 1, 2, 2, true, 8, 7),
        (2, 5, 1, 1, 0, 1, true, 5, 6),
        (3, 2, 5, 2, 2, 1, false, 11, 10),
        (3, 4, 3, 1, 9, 9, false, 11, 13),
        (4, 3, 3, 1, 8, 8, false, 7, 6),
        (3, 2, 3, 1, 2, 8, false, 14, 13),
    ]

    func testWidelyDilatedConvolutionsRunTapByTap() throws {
        for (c, live) in zip(convCases.suffix(3), [9, 1, 1]) {
            let g = ConvGeometry(n: 2, inChannels: c.0, outChannels: c.1, height: c.7, width: c.8, kernel: c.2,
                                 stride: c.3, padding: c.4, dilation: c.5, bias: c.6, transposed: false)
            let taps = try XCTUnwrap(TapConvolution.get(g), "\(g)")
            XCTAssertEqual(taps.taps.count, live, "\(g): taps that read the input")
            XCTAssertEqual(taps.taps.first?.inPlace, g.outHeight == g.height, "\(g)")
        }
        var g = ConvGeometry(n: 2, inChannels: 3, outChannels: 4, height: 7, width: 9, kernel: 3, stride: 1, padding: 4,
                             dilation: 4, bias: false, transposed: false)
        XCTAssertNil(TapConvolution.get(g), "dilation 4 runs direct")
        g.dilation = 8
        g.bias = true
        XCTAssertNil(TapConvolution.get(g), "with a bias it runs direct")
    }

    func testConvForwardMatchesDefinition() {
        for (i, c) in convCases.enumerated() {
            var rng = SeededRandom(seed: UInt64(i))
            let conv = Conv2d(c.0, c.1, kernelSize: c.2, stride: c.3, padding: c.4, dilation: c.5, bias: c.6, rng: &rng)
            let x = GradCheck.randomTensor([2, c.0, c.7, c.8], layout: .nhwc, seed: UInt64(10 + i))
            // Float32 sums of up to 75 products of magnitude ≤ 1: 1e-5 absolute is ample.
            assertClose(conv.forward(x), naiveConv(x, conv), tolerance: 1e-5)
        }
    }

    func testConvGradients() {
        for (i, c) in convCases.enumerated() {
            var rng = SeededRandom(seed: UInt64(i))
            let conv = Conv2d(c.0, c.1, kernelSize: c.2, stride: c.3, padding: c.4, dilation: c.5, bias: c.6, rng: &rng)
            let x = GradCheck.randomTensor([2, c.0, c.7, c.8], layout: .nhwc, seed: UInt64(20 + i))
            GradCheck.checkLayer("conv case \(i)", conv, input: x)
        }
    }

    // (in, out, kernel, stride, padding, output padding, bias, input h, w)
    let transposedCases: [(Int, Int, Int, Int, Int, Int, Bool, Int, Int)] = [
        (4, 2, 2, 2, 0, 0, true, 3, 5),
        (3, 4, 3, 2, 1, 1, false, 4, 3),
        (2, 3, 3, 1, 1, 0, true, 5, 5),
    ]

    func testConvTransposeForwardMatchesDefinition() {
        for (i, c) in transposedCases.enumerated() {
            var rng = SeededRandom(seed: UInt64(i))
            let conv = ConvTranspose2d(c.0, c.1, kernelSize: c.2, stride: c.3, padding: c.4, outputPadding: c.5,
                                       bias: c.6, rng: &rng)
            let x = GradCheck.randomTensor([2, c.0, c.7, c.8], layout: .nhwc, seed: UInt64(30 + i))
            assertClose(conv.forward(x), naiveConvTranspose(x, conv), tolerance: 1e-5)
        }
    }

    func testConvTransposeGradients() {
        for (i, c) in transposedCases.enumerated() {
            var rng = SeededRandom(seed: UInt64(i))
            let conv = ConvTranspose2d(c.0, c.1, kernelSize: c.2, stride: c.3, padding: c.4, outputPadding: c.5,
                                       bias: c.6, rng: &rng)
            let x = GradCheck.randomTensor([2, c.0, c.7, c.8], layout: .nhwc, seed: UInt64(40 + i))
            GradCheck.checkLayer("transposed case \(i)", conv, input: x)
        }
    }

    func testFrozenConvComputesNoWeightGradient() {
        var rng = SeededRandom(seed: 1)
        let conv = Conv2d(3, 4, kernelSize: 3, padding: 1, rng: &rng)
        conv.weight.trainable = false
        conv.bias?.trainable = false
        let x = GradCheck.randomTensor([1, 3, 6, 6], layout: .nhwc, seed: 2)
        let y = conv.forward(x)
        let dx = GradCheck.backward(x, GradCheck.randomTensor(y.shape, layout: .nhwc, seed: 3)) { conv($0) }
        XCTAssertNil(conv.weight.grad)
        XCTAssertNil(conv.bias?.grad)
        XCTAssertEqual(dx?.shape, x.shape)
    }
}
