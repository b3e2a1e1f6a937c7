import XCTest
@testable import Nets

/// The UNet against the PyTorch reference (tools/reference/unet.py): parameter counts,
/// state-dict keys and shapes, outputs and gradients from fixtures, odd input sizes.
final class UNetTests: XCTestCase {
    func fixture(_ name: String, _ ext: String) throws -> String {
        try XCTUnwrap(Bundle.module.path(forResource: name, ofType: ext, inDirectory: "Fixtures"))
    }

    func makeUNet(base: Int, bilinear: Bool, classes: Int = 2, seed: UInt64 = 0) -> UNet {
        var rng = SeededRandom(seed: seed)
        return UNet(inChannels: 3, numClasses: classes, baseChannels: base, bilinear: bilinear, rng: &rng)
    }

    func testParameterCountsMatchPyTorch() {
        // sum(p.numel() for p in model.parameters()) of the reference, in_channels 3, 2 classes.
        XCTAssertEqual(makeUNet(base: 32, bilinear: true).parameterCount, 4_318_434)
        XCTAssertEqual(makeUNet(base: 32, bilinear: false).parameterCount, 7_763_074)
        XCTAssertEqual(makeUNet(base: 64, bilinear: true).parameterCount, 17_263_042)
        XCTAssertEqual(makeUNet(base: 64, bilinear: false).parameterCount, 31_037_698)
    }

    func testStateDictKeysAndShapesMatchPyTorch() throws {
        for (file, bilinear) in [("unet_keys_c64_bilinear", true), ("unet_keys_c64_transposed", false)] {
            let text = try String(contentsOfFile: try fixture(file, "txt"), encoding: .utf8)
            let expected = text.split(separator: "\n").map { line -> String in
                let parts = line.split(separator: " ")
                return "\(parts[0]) \(parts[1] == "scalar" ? "" : parts[1])"
            }
            let actual = makeUNet(base: 64, bilinear: bilinear).namedParameters().map { key, p in
                "\(key) \(p.value.shape.map(String.init).joined(separator: ","))"
            }
            XCTAssertEqual(actual, expected, file)
        }
    }

    func maxAbs(_ a: Tensor, _ b: Tensor) -> Float {
        precondition(a.count == b.count)
        var m: Float = 0
        for i in 0..<a.count { m = max(m, abs(a.data[i] - b.data[i])) }
        return m
    }

    func maxAbs(_ t: Tensor) -> Float { (0..<t.count).reduce(0) { max($0, abs(t.data[$1])) } }

    /// Tolerances are a few times PyTorch's own float32 error against the float64 reference
    /// (tools/reference/README.md): the 1×1 bottleneck's BatchNorm over 2 values per channel
    /// amplifies rounding in train mode, to ~1e-4 of the largest gradient when transposed.
    func checkFixture(_ name: String, bilinear: Bool, trainTolerance: Float, gradTolerance: Float) throws {
        let path = try fixture(name, "safetensors")
        let file = try SafeTensors.read(path)
        let model = makeUNet(base: 2, bilinear: bilinear)
        let report = try model.load(from: path, strict: false)
        XCTAssertTrue(report.missing.isEmpty && report.mismatched.isEmpty, "\(report)")
        let input = try XCTUnwrap(file["input"]).reshapedNCHW([2, 3, 20, 28]).converted(to: .nhwc)

        model.setTraining(false)
        let eval = model(input).out.converted(to: .plain)
        XCTAssertLessThan(maxAbs(eval, try XCTUnwrap(file["output_eval"])), 2e-6, "eval logits")

        model.setTraining(true)
        let tape = Tape()
        tape.watch(input)
        let logits = tape.record { model(input).out }
        XCTAssertLessThan(maxAbs(logits.converted(to: .plain), try XCTUnwrap(file["output_train"])), trainTolerance,
                          "train logits")
        let targetValues = try XCTUnwrap(file["target"]).array.map { Int32($0) }
        let target = LabelMap(n: 2, h: 20, w: 28, values: targetValues)
        let (loss, dlogits) = try CrossEntropyLoss(classWeights: [1, 2], ignoreIndex: 255)(logits, target)
        XCTAssertEqual(loss, try XCTUnwrap(file["loss"]).data[0], accuracy: 1e-5)
        tape.backward([(logits, dlogits)])
        let dinput = try XCTUnwrap(tape.gradient(of: input)).converted(to: .plain)
        let expectedInputGrad = try XCTUnwrap(file["grad.input"])
        XCTAssertLessThan(maxAbs(dinput, expectedInputGrad), gradTolerance * maxAbs(expectedInputGrad), "input grad")

        // Parameter gradients are compared relative to the largest gradient of the model, as the
        // reference's own float32 error was measured.
        var largest: Float = 0
        for (key, p) in model.namedParameters() where p.kind == .weight {
            largest = max(largest, maxAbs(try XCTUnwrap(file["grad." + key], key)))
        }
        var checked = 0
        for (key, p) in model.namedParameters() {
            if p.kind == .weight {
                let expected = try XCTUnwrap(file["grad." + key], key)
                let grad = try XCTUnwrap(p.grad, "no gradient for \(key)")
                XCTAssertLessThan(maxAbs(grad, expected), gradTolerance * largest, key)
                checked += 1
            } else {
                let expected = try XCTUnwrap(file["after_train." + key], key)
                XCTAssertLessThan(maxAbs(p.value, expected), 1e-5, key)
            }
        }
        XCTAssertEqual(checked, model.namedParameters().filter { $0.1.kind == .weight }.count)
    }

    func testBilinearMatchesPyTorchFixture() throws {
        try checkFixture("unet_c2_bilinear", bilinear: true, trainTolerance: 2e-5, gradTolerance: 3e-5)
    }

    func testTransposedMatchesPyTorchFixture() throws {
        try checkFixture("unet_c2_transposed", bilinear: false, trainTolerance: 1e-4, gradTolerance: 1e-3)
    }

    func testOddInputSizesGiveFullSizeLogitsAndGradients() {
        for bilinear in [true, false] {
            let model = makeUNet(base: 4, bilinear: bilinear, classes: 3)
            for (h, w) in [(37, 45), (16, 16), (21, 50)] {
                let x = GradCheck.randomTensor([1, 3, h, w], layout: .nhwc, seed: 5)
                let (y, dx) = GradCheck.backwardThrough(model, x)
                XCTAssertEqual(y.out.shape, [1, 3, h, w])
                XCTAssertEqual(dx?.shape, [1, 3, h, w])
            }
        }
    }
}

extension Tensor {
    /// The same values viewed with a 4-D shape (the fixture reader returns plain tensors).
    func reshapedNCHW(_ shape: [Int]) -> Tensor {
        precondition(shape.reduce(1, *) == count)
        return Tensor(shape: shape, values: array)
    }
}
