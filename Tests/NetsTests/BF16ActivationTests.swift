import XCTest
@testable import Nets

/// bf16 activations between layers: each layer with a bf16 path reads and writes bf16 (and
/// its gradient in bf16), and matches its fp32 self on the same (bf16-representable) input
/// within bf16 rounding; layers without one convert; the conversion rounds as oneDNN does.
///
/// Tolerance as in `BF16ConvolutionTests`: every stored value is rounded by up to 2⁻⁹
/// relative, so ‖bf16 − fp32‖ / ‖fp32‖ stays below 1e-2, where a wrong kernel (a format
/// read as the other, a gradient against the wrong operand) is off by O(1).
final class BF16ActivationTests: XCTestCase {
    /// Output and input gradients of `f` on the inputs at `precision` (the fp32 inputs hold the
    /// bf16 inputs' values exactly, so only the layer's own rounding differs).
    func run(_ precision: Precision, _ inputs: [Tensor], _ f: ([Tensor]) -> Tensor) -> (y: Tensor, dx: [Tensor]) {
        let xs = inputs.map { $0.converted(to: .bf16).converted(to: precision) }
        let tape = Tape()
        for x in xs { tape.watch(x) }
        let y = tape.record { f(xs) }
        let g = GradCheck.randomTensor(y.shape, layout: y.layout, seed: 99)
        tape.backward([(y, g)])
        return (y, xs.map { tape.gradient(of: $0)! })
    }

    func assertMatches(_ name: String, _ inputs: [Tensor], file: StaticString = #filePath, line: UInt = #line,
                       _ f: @escaping ([Tensor]) -> Tensor) {
        let reference = run(.fp32, inputs, f)
        let low = run(.bf16, inputs, f)
        XCTAssertEqual(low.y.precision, .bf16, "\(name): output not bf16", file: file, line: line)
        XCTAssertEqual(low.y.shape, reference.y.shape, file: file, line: line)
        XCTAssertLessThan(GradCheck.relativeError(low.y, reference.y), 1e-2, "\(name): output", file: file, line: line)
        for (i, (a, b)) in zip(low.dx, reference.dx).enumerated() {
            XCTAssertEqual(a.precision, .bf16, "\(name): gradient \(i) not bf16", file: file, line: line)
            XCTAssertLessThan(GradCheck.relativeError(a, b), 1e-2, "\(name): gradient \(i)", file: file, line: line)
        }
    }

    func activation(_ shape: [Int], _ seed: UInt64) -> Tensor { GradCheck.randomTensor(shape, layout: .nhwc, seed: seed) }

    /// Swift's rounding (used by upsampling and sums) is oneDNN's bit for bit: to nearest, ties
    /// to even, subnormals flushed to zero (as the CPU's conversion instruction does), over ties,
    /// infinities, the largest values and random bit patterns.
    func testRoundingMatchesOneDNN() {
        var values: [Float] = [0, -0, 1, -1, .infinity, -.infinity, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                               .leastNonzeroMagnitude, .leastNormalMagnitude, 1e-40, 3.3895314e38]
        // Exact ties between two bf16 values, with even and odd lower neighbours.
        for bits: UInt32 in [0x3F80_8000, 0x3F81_8000, 0xBF80_8000, 0x3F80_7FFF, 0x3F80_8001, 0x7F7F_8000] {
            values.append(Float(bitPattern: bits))
        }
        var rng = SeededRandom(seed: 5)
        for _ in 0..<10_000 { values.append(Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))) }
        values.removeAll { $0.isNaN }
        let t = Tensor(shape: [values.count], values: values)
        let low = t.converted(to: .bf16)
        for (i, v) in values.enumerated() {
            XCTAssertEqual(low.bf16[i], narrow(v), "\(v) (0x\(String(v.bitPattern, radix: 16)))")
            if low.bf16[i] != narrow(v) { return }
        }
        XCTAssertTrue(widen(narrow(.nan)).isNaN)
        let back = low.converted(to: .fp32)
        for i in 0..<values.count { XCTAssertEqual(back.data[i].bitPattern, widen(low.bf16[i]).bitPattern) }
    }

    func testBatchNormReLUPoolConcatUpsamplePadAddRunInBF16() throws {
        try XCTSkipUnless(KernelLibrary.hasBF16, "no bf16 kernels on this CPU (\(KernelLibrary.cpuISA))")
        let x = activation([2, 16, 10, 12], 1), y = activation([2, 8, 10, 12], 2)
        for relu in [false, true] {
            let bn = BatchNorm2d(16, fusedReLU: relu)
            assertMatches("BatchNorm2d fusedReLU \(relu)", [x]) { bn($0[0]) }
        }
        let (bnBeforeReLU, relu) = (BatchNorm2d(16), ReLU(inplace: true))
        assertMatches("BatchNorm2d then ReLU in place", [x]) { relu(bnBeforeReLU($0[0])) }
        let pool = MaxPool2d(kernelSize: 2)
        assertMatches("MaxPool2d", [x]) { pool($0[0]) }
        assertMatches("concatChannels", [x, y]) { concatChannels($0) }
        for corners in [true, false] {
            let up = Upsample(scaleFactor: 2, alignCorners: corners)
            assertMatches("Upsample alignCorners \(corners)", [x]) { up($0[0]) }
        }
        assertMatches("bilinearResize 10x12 -> 7x17", [x]) { bilinearResize($0[0], height: 7, width: 17, alignCorners: false) }
        assertMatches("zeroPad2d", [x]) { zeroPad2d($0[0], left: 1, right: 2, top: -1, bottom: 3) }
        assertMatches("add", [x, activation([2, 16, 10, 12], 3)]) { add($0[0], $0[1]) }
    }

    /// A convolution between bf16 layers reads the bf16 activation as it is and writes its
    /// input gradient in bf16; after one that fell back to fp32 or an fp32-only layer, the
    /// activations meet in fp32.
    func testConvolutionReadsAndWritesBF16() throws {
        try XCTSkipUnless(KernelLibrary.hasBF16, "no bf16 kernels on this CPU (\(KernelLibrary.cpuISA))")
        var rng = SeededRandom(seed: 4)
        let conv = Conv2d(16, 8, kernelSize: 3, padding: 1, bias: true, rng: &rng)
        let bn = BatchNorm2d(16)
        conv.precision = .bf16
        let x = activation([2, 16, 9, 11], 6)
        let reference = GradCheck.backward(x, activation([2, 8, 9, 11], 7)) { conv(bn($0)) }
        // The same on a bf16 input: BatchNorm keeps bf16, the convolution reads it directly.
        let xb = x.converted(to: .bf16)
        let tape = Tape()
        tape.watch(xb)
        let out = tape.record { conv(bn(xb)) }
        XCTAssertEqual(out.precision, .bf16)
        tape.backward([(out, activation([2, 8, 9, 11], 7))])
        let dx = try XCTUnwrap(tape.gradient(of: xb))
        XCTAssertEqual(dx.precision, .bf16)
        XCTAssertLessThan(GradCheck.relativeError(dx, try XCTUnwrap(reference)), 2e-2)
        // Layers with no bf16 kernel take fp32; a mixed sum or concatenation runs in fp32.
        let linear = Linear(8, 3, rng: &rng)
        let pooled = GlobalAvgPool2d()(out)
        XCTAssertEqual(pooled.precision, .fp32)
        XCTAssertEqual(linear(pooled).precision, .fp32)
        XCTAssertEqual(add(out, out.converted(to: .fp32)).precision, .fp32)
        XCTAssertEqual(concatChannels([out, out.converted(to: .fp32)]).precision, .fp32)
    }

    /// A model in bf16 hands its logits on in fp32, and keeps about half the activation bytes.
    func testUNetLogitsAreFP32AndActivationsHalve() throws {
        try XCTSkipUnless(KernelLibrary.hasBF16, "no bf16 kernels on this CPU (\(KernelLibrary.cpuISA))")
        func peak(_ precision: Precision) -> (Int, Precision) {
            var rng = SeededRandom(seed: 8)
            let model = UNet(inChannels: 3, numClasses: 2, baseChannels: 8, bilinear: true, rng: &rng)
            model.setPrecision(precision)
            let x = GradCheck.randomTensor([2, 3, 64, 64], layout: .nhwc, seed: 9)
            let tape = Tape()
            let before = MemoryStats.liveTensorBytes
            let out = tape.record { model(x) }
            let kept = MemoryStats.liveTensorBytes - before
            let format = out.out.precision
            tape.backward([(out.out, out.out.zerosLike())])
            return (kept, format)
        }
        let (fp32, fp32Format) = peak(.fp32), (bf16, bf16Format) = peak(.bf16)
        XCTAssertEqual(fp32Format, .fp32)
        XCTAssertEqual(bf16Format, .fp32)
        XCTAssertLessThan(Double(bf16), 0.65 * Double(fp32), "bytes kept by the training forward: bf16 \(bf16), fp32 \(fp32)")
    }
}
