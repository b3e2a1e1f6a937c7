import XCTest
@testable import Nets

/// bf16 convolutions against the fp32 ones (themselves tested against the definitions in
/// `ConvolutionTests`): same weights, same input, every output and gradient compared.
///
/// Tolerance: bf16 keeps 8 significant bits, so each input and weight is rounded by up to
/// 2⁻⁹ relative; products are accumulated in fp32. A sum of K such products is off by about
/// 2⁻⁹·√K·(typical term), i.e. a few 1e-3 of the result's scale, so the error measured as
/// ‖bf16 − fp32‖ / ‖fp32‖ must stay below 1e-2, while a wrong kernel (a wrong weight
/// format, a gradient against the wrong operand) is off by O(1). Each case also checks the
/// result is *not* identical to fp32, so that a silent fall back to fp32 cannot pass.
final class BF16ConvolutionTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(KernelLibrary.hasBF16, "no bf16 kernels on this CPU (\(KernelLibrary.cpuISA))")
    }

    /// y, dx, dw and db of `layer` on `x` with output gradient `g`, at `precision`.
    func run(_ layer: ConvolutionLayer, _ precision: Precision, x: Tensor, g: Tensor) -> [Tensor] {
        layer.precision = precision
        layer.zeroGrad()
        let tape = Tape()
        tape.watch(x)
        let y = tape.record { layer(x) }
        tape.backward([(y, g)])
        return [y, tape.gradient(of: x)!, layer.weight.grad!] + (layer.bias?.grad.map { [$0] } ?? [])
    }

    func assertBF16MatchesFP32(_ name: String, _ layer: ConvolutionLayer, inputShape: [Int], seed: UInt64,
                               runsInBF16: Bool = true, file: StaticString = #filePath, line: UInt = #line) {
        let x = GradCheck.randomTensor(inputShape, layout: .nhwc, seed: seed)
        let yShape = layer.forward(x).shape
        let g = GradCheck.randomTensor(yShape, layout: .nhwc, seed: seed + 1)
        let reference = run(layer, .fp32, x: x, g: g)
        let bf16 = run(layer, .bf16, x: x, g: g)
        // The weight gradient is that of the bf16 weights, rounded to bf16 once (as in autocast),
        // and stored fp32: its low 16 bits are zero; fp32's are not.
        let roundedToBF16 = (0..<bf16[2].count).allSatisfy { bf16[2].data[$0].bitPattern & 0xFFFF == 0 }
        XCTAssertEqual(roundedToBF16, runsInBF16, "\(name): dw rounded to bf16", file: file, line: line)
        for (what, (a, b)) in zip(["y", "dx", "dw", "db"], zip(bf16, reference)) {
            let error = GradCheck.relativeError(a, b)
            XCTAssertLessThan(error, 1e-2, "\(name): \(what) relative error", file: file, line: line)
            if runsInBF16 {
                XCTAssertGreaterThan(error, 0, "\(name): \(what) identical to fp32, so bf16 did not run", file: file, line: line)
            } else {
                XCTAssertEqual(error, 0, "\(name): \(what) should have fallen back to fp32", file: file, line: line)
            }
        }
    }

    func testConvolutionsMatchFP32WithinBF16Rounding() {
        // (in, out, kernel, stride, padding, dilation, bias, h, w): UNet's 3x3s, a strided and a
        // dilated one (ResNet, DeepLab), a 1x1 head with bias, and a channel count that is not
        // a multiple of the kernels' blocks.
        let cases: [(Int, Int, Int, Int, Int, Int, Bool, Int, Int)] = [
            (3, 32, 3, 1, 1, 1, false, 16, 16),
            (32, 64, 3, 1, 1, 1, false, 12, 10),
            (64, 32, 3, 2, 1, 1, true, 13, 11),
            (32, 32, 3, 1, 2, 2, false, 9, 9),
            (32, 2, 1, 1, 0, 1, true, 8, 8),
            (5, 7, 3, 1, 1, 1, true, 7, 6),
            (32, 16, 3, 1, 12, 12, false, 14, 13),  // ASPP-like: tap by tap
        ]
        for (i, c) in cases.enumerated() {
            var rng = SeededRandom(seed: UInt64(i))
            let conv = Conv2d(c.0, c.1, kernelSize: c.2, stride: c.3, padding: c.4, dilation: c.5, bias: c.6, rng: &rng)
            assertBF16MatchesFP32("conv case \(i)", conv, inputShape: [2, c.0, c.7, c.8], seed: UInt64(100 + 2 * i))
        }
    }

    /// From 2048 input channels on a 3×3 weight gradient (a 1×1 one from 2560) is computed 1024
    /// input channels at a time, the last chunk what is left (`InputChunkedWeightGradient`):
    /// each chunk's gradient lands in its own columns, equal to one whole backward-weights run up
    /// to bf16 rounding of differently ordered fp32 sums, and to the fp32 convolution's within
    /// bf16 rounding of the inputs. A column offset or a chunk read from the wrong channels is
    /// off by O(1).
    func testWideInputWeightGradientIsComputedInChunks() throws {
        for inChannels in [2048, 2560] {
            var g = ConvGeometry(n: 2, inChannels: inChannels, outChannels: 32, height: 5, width: 4, kernel: 3,
                                 stride: 1, padding: 1, dilation: 1, bias: false, transposed: false)
            g.precision = .bf16
            g.inputPrecision = .bf16
            let chunked = try XCTUnwrap(InputChunkedWeightGradient(g))
            let x = GradCheck.randomTensor(g.inputShape, layout: .nhwc, seed: 30).converted(to: .bf16)
            let dy = GradCheck.randomTensor(g.outputShape, layout: .nhwc, seed: 31).converted(to: .bf16)
            let dw = try XCTUnwrap(chunked(x, dy), "no bf16 kernel for a chunk")
            let kernel = ConvolutionKernel.get(g)
            let whole = kernel.wholeBackwardWeights(kernel.inputOperand(x), dy).0
            XCTAssertLessThan(GradCheck.relativeError(dw, whole), 4e-3, "\(inChannels) inputs")
            var fp32 = g
            fp32.precision = .fp32
            fp32.inputPrecision = .fp32
            let reference = ConvolutionKernel.get(fp32)
            let exact = reference.runBackwardWeights(reference.inputOperand(x.converted(to: .fp32)),
                                                     dy.converted(to: .fp32)).0
            XCTAssertLessThan(GradCheck.relativeError(dw, exact), 4e-3, "\(inChannels) inputs")
            XCTAssertGreaterThan(GradCheck.relativeError(dw, exact), 0, "bf16 did not run")
        }
        var g = ConvGeometry(n: 2, inChannels: 1536, outChannels: 32, height: 5, width: 4, kernel: 3, stride: 1,
                             padding: 1, dilation: 1, bias: false, transposed: false)
        g.precision = .bf16
        g.inputPrecision = .bf16
        XCTAssertNil(InputChunkedWeightGradient(g), "1536 inputs run whole")
        g.inChannels = 2048
        g.kernel = 1
        g.padding = 0
        XCTAssertNil(InputChunkedWeightGradient(g), "1x1 runs whole below 2560 inputs")
        // 2560→16 1×1: oneDNN 3.2's whole kernel dies here (SIGFPE); the chunks match fp32.
        g.inChannels = 2560
        g.outChannels = 16
        let chunked = try XCTUnwrap(InputChunkedWeightGradient(g))
        let x = GradCheck.randomTensor(g.inputShape, layout: .nhwc, seed: 32).converted(to: .bf16)
        let dy = GradCheck.randomTensor(g.outputShape, layout: .nhwc, seed: 33).converted(to: .bf16)
        let dw = try XCTUnwrap(chunked(x, dy))
        var fp32 = g
        fp32.precision = .fp32
        fp32.inputPrecision = .fp32
        let reference = ConvolutionKernel.get(fp32)
        let exact = reference.runBackwardWeights(reference.inputOperand(x.converted(to: .fp32)), dy.converted(to: .fp32)).0
        XCTAssertLessThan(GradCheck.relativeError(dw, exact), 4e-3)
    }

    /// oneDNN 2.6 has no bf16 backward-weights deconvolution but its AMX one, which is avoided
    /// (see `rx_conv_backward_weights_avoid`): a transposed convolution asked for bf16 falls
    /// back to fp32, exactly, where the ISA has AMX. oneDNN 3.x runs it in bf16.
    func testTransposedConvolutionFallsBackToFP32WhereAvoided() {
        var rng = SeededRandom(seed: 7)
        let conv = ConvTranspose2d(64, 32, kernelSize: 2, stride: 2, bias: true, rng: &rng)
        let avoided = KernelLibrary.version.hasPrefix("oneDNN 2.") && KernelLibrary.cpuISA.contains("amx")
        assertBF16MatchesFP32("transposed", conv, inputShape: [2, 64, 6, 5], seed: 200, runsInBF16: !avoided)
    }

    /// The default stays fp32, and fp32 is unchanged by bf16 having run on the same geometry
    /// (the two precisions are separate cached kernels).
    func testFP32IsTheDefaultAndUnaffected() {
        var rng = SeededRandom(seed: 3)
        let conv = Conv2d(16, 16, kernelSize: 3, padding: 1, rng: &rng)
        XCTAssertEqual(conv.precision, .fp32)
        let x = GradCheck.randomTensor([2, 16, 8, 8], layout: .nhwc, seed: 4)
        let g = GradCheck.randomTensor([2, 16, 8, 8], layout: .nhwc, seed: 5)
        let before = run(conv, .fp32, x: x, g: g)
        _ = run(conv, .bf16, x: x, g: g)
        let after = run(conv, .fp32, x: x, g: g)
        for (a, b) in zip(before, after) {
            XCTAssertEqual(Array(UnsafeBufferPointer(start: a.data, count: a.count)),
                           Array(UnsafeBufferPointer(start: b.data, count: b.count)))
        }
    }

    /// A small UNet learns a pixel rule in bf16: its loss falls as fast as in fp32 (within 10%
    /// after 25 steps, on average over three starts: one start's ratio wanders by ±10% with
    /// bf16's rounding, whoever's kernels round) from the same start, which begins within
    /// bf16 rounding of fp32's.
    func testSmallUNetTrainsInBF16() throws {
        func train(_ precision: Precision, seed: UInt64) throws -> [Float] {
            var rng = SeededRandom(seed: seed)
            let model = UNet(inChannels: 3, numClasses: 2, baseChannels: 8, bilinear: true, rng: &rng)
            model.setPrecision(precision)
            let x = GradCheck.randomTensor([2, 3, 32, 32], layout: .nhwc, seed: seed + 1)
            // Class 1 where the first channel is positive: learnable from the input alone.
            var labels = LabelMap(n: 2, h: 32, w: 32)
            for n in 0..<2 { for y in 0..<32 { for xx in 0..<32 {
                labels.values[(n * 32 + y) * 32 + xx] = x[n, 0, y, xx] > 0 ? 1 : 0
            } } }
            let loss = SegmentationLoss([(1, CrossEntropyLoss()), (1, DiceLoss())])
            let sgd = try SGD(model.namedParameters(), lr: 0.05, momentum: 0.9)
            var losses: [Float] = []
            for _ in 0..<25 {
                model.zeroGrad()
                let tape = Tape()
                let out = tape.record { model(x) }
                let value = try loss(out.out, labels)
                losses.append(value.total)
                tape.backward([(out.out, value.gradient)])
                sgd.step()
            }
            return losses
        }
        var ratios: [Float] = []
        for seed: UInt64 in [11, 21, 31] {
            let fp32 = try train(.fp32, seed: seed), bf16 = try train(.bf16, seed: seed)
            XCTAssertEqual(bf16[0], fp32[0], accuracy: 1e-2 * fp32[0], "first loss (same weights), seed \(seed)")
            XCTAssertNotEqual(bf16[0], fp32[0], "bf16 did not run")
            XCTAssertLessThan(bf16.last!, 0.7 * bf16[0], "bf16 loss did not fall: \(bf16)")
            XCTAssertTrue(bf16.allSatisfy(\.isFinite))
            ratios.append(bf16.last! / fp32.last!)
        }
        XCTAssertLessThan(ratios.reduce(0, +) / 3, 1.1, "bf16 / fp32 final losses \(ratios)")
    }
}
