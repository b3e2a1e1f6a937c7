import XCTest
@testable import Nets

/// The VGG-UNet against the PyTorch transcription of its recipe (tools/reference/vgg_unet.py):
/// counts, keys, sizes, the decoder stage's gradients by finite differences, a narrow fixture,
/// a frozen encoder, and the `unet` encoder choice.
final class VGGUNetTests: XCTestCase {
    func makeModel(classes: Int = 21, batchNorm: Bool = false, divisor: Int = 1, seed: UInt64 = 0) -> VGGUNet {
        var rng = SeededRandom(seed: seed)
        return VGGUNet(numClasses: classes, batchNorm: batchNorm, widthDivisor: divisor, rng: &rng)
    }

    func testParameterCountsMatchReference() {
        XCTAssertEqual(makeModel(classes: 21).parameterCount, 24_892_437)
        XCTAssertEqual(makeModel(classes: 2).parameterCount, 24_891_202)
        XCTAssertEqual(makeModel(classes: 21, batchNorm: true).parameterCount, 24_900_885)
    }

    func testStateDictKeysMatchReference() throws {
        XCTAssertEqual(VGGModelTesting.keyLines(makeModel(classes: 21)),
                       try VGGModelTesting.expectedKeyLines("vgg_unet_keys_c21"))
    }

    func testOutputAndGradientSizesAtOddInput() {
        let full = makeModel(classes: 3)
        let x = GradCheck.randomTensor([1, 3, 67, 93], layout: .nhwc, seed: 1)
        let (y, dx) = GradCheck.backwardThrough(full, x)
        XCTAssertEqual(y.out.shape, [1, 3, 67, 93])
        XCTAssertEqual(dx?.shape, [1, 3, 67, 93])
        for batchNorm in [false, true] {
            let model = makeModel(classes: 2, batchNorm: batchNorm, divisor: 16)
            for (h, w) in [(16, 16), (37, 45), (21, 50)] {
                let x = GradCheck.randomTensor([2, 3, h, w], layout: .nhwc, seed: 2)
                let (y, dx) = GradCheck.backwardThrough(model, x)
                XCTAssertEqual(y.out.shape, [2, 2, h, w])
                XCTAssertEqual(dx?.shape, [2, 3, h, w])
            }
        }
    }

    /// One decoder stage whose upsampled map is a row and a column short of its skip (2×3 →
    /// 4×6, padded to 5×7): gradients of both inputs and all four parameters by central
    /// differences, default GradCheck tolerance. Biases of ±8 switch whole channels of each
    /// ReLU on or off (so the masks matter: an off channel must pass no gradient) and keep
    /// every ReLU input more than 1 from its kink, where a step of 1e-2 would measure a
    /// one-sided slope; the test checks that margin first.
    func testUNetUpGradients() {
        var rng = SeededRandom(seed: 3)
        let block = UNetUp(4 + 6, 3, rng: &rng)
        block.conv1.bias!.value.data.update(from: [8, -8, 8], count: 3)
        block.conv2.bias!.value.data.update(from: [8, 8, -8], count: 3)
        let skip = GradCheck.randomTensor([2, 4, 5, 7], layout: .nhwc, seed: 4)
        let x = GradCheck.randomTensor([2, 6, 2, 3], layout: .nhwc, seed: 5)

        let upsampled = zeroPad2d(bilinearResize(x, height: 4, width: 6, alignCorners: true), left: 0, right: 1, top: 0, bottom: 1)
        let preActivation1 = block.conv1.forward(concatChannels([skip, upsampled]))
        let preActivation2 = block.conv2.forward(ReLU().forward(preActivation1))
        XCTAssertGreaterThan(preActivation1.array.map(abs).min()!, 1, "relu1 kink margin")
        XCTAssertGreaterThan(preActivation2.array.map(abs).min()!, 1, "relu2 kink margin")

        let tape = Tape()
        tape.watch(skip)
        tape.watch(x)
        let y = tape.record { block(skip: skip, x) }
        XCTAssertEqual(y.shape, [2, 3, 5, 7])
        let g = GradCheck.randomTensor(y.shape, layout: .nhwc, seed: 6)
        tape.backward([(y, g)])
        let dx = tape.gradient(of: x)!, dskip = tape.gradient(of: skip)!
        let loss = { GradCheck.dot(block(skip: skip, x), g) }
        GradCheck.check("UNetUp x", x: x, analytic: dx, loss: loss)
        GradCheck.check("UNetUp skip", x: skip, analytic: dskip, loss: loss)
        for (key, p) in block.namedParameters() {
            GradCheck.check("UNetUp \(key)", x: p.value, analytic: p.grad!, loss: loss)
        }
    }

    /// Tolerances: PyTorch's own float32 run lands 1.1e-6 from the float64 logits (|logits| up
    /// to 5.5) and 2.3e-7 (of the largest) from the gradients.
    func testNarrowModelMatchesPyTorchFixture() throws {
        try VGGModelTesting.checkFixture(makeModel(classes: 2, divisor: 32), "vgg_unet_narrow", inputShape: [2, 3, 20, 28],
                                         outputTolerance: 1e-5, gradTolerance: 1e-5)
    }

    /// The recipe's freeze stage: `vgg` frozen stays bitwise after an SGD step and gets no
    /// gradient; the trunk records nothing, so it is not walked back at all.
    func testFrozenEncoderStaysBitwiseUnchanged() throws {
        let model = makeModel(classes: 2, divisor: 16)
        let x = GradCheck.randomTensor([2, 3, 36, 44], layout: .nhwc, seed: 7)
        try VGGModelTesting.checkFrozenStep(model, group: "encoder", input: x, classes: 2)
        XCTAssertEqual(GradCheck.recordedOps { _ = model.vgg.forward(x, taps: model.vgg.stageOutputIndices) }, 0)
        XCTAssertEqual(model.groups["decoder"], ["up_concat4", "up_concat3", "up_concat2", "up_concat1", "final"])
    }

    func testEncoderChoiceBuildsTheModel() throws {
        var rng = SeededRandom(seed: 8)
        let vgg = UNetEncoder.vgg16(batchNorm: false).makeModel(numClasses: 21, rng: &rng)
        XCTAssertTrue(vgg is VGGUNet)
        XCTAssertEqual(vgg.parameterCount, 24_892_437)
        let plain = UNetEncoder.plain(baseChannels: 32, bilinear: true).makeModel(numClasses: 2, rng: &rng)
        XCTAssertEqual(plain.parameterCount, 4_318_434)
        XCTAssertEqual(UNetEncoder.vgg16(batchNorm: true).torchvisionKeys, VGGUNet.torchvisionVGGKeys)
        let resnet = UNetEncoder.resnet50.makeModel(numClasses: 2, rng: &rng)
        XCTAssertTrue(resnet is ResNetUNet)
        XCTAssertEqual(UNetEncoder.resnet50.torchvisionKeys, ResNetUNet.torchvisionKeys)
    }
}

/// The recipe's ResNet-50 UNet: torchvision's trunk (keys under `resnet.`) and the decoder.
final class ResNetUNetTests: XCTestCase {
    func testParameterCountMatchesTorchvisionTrunkPlusDecoder() {
        var rng = SeededRandom(seed: 1)
        // torchvision resnet50 without fc (23,508,032) + the decoder, counted with PyTorch modules.
        XCTAssertEqual(ResNetUNet(numClasses: 2, rng: &rng).parameterCount, 43_932_866)
    }

    func testOddSizesFrozenTrunkAndTorchvisionKeys() throws {
        var rng = SeededRandom(seed: 2)
        let model = ResNetUNet(numClasses: 3, widths: [8, 16, 32, 64], rng: &rng)
        for (h, w) in [(65, 97), (64, 64), (33, 40)] {
            let x = GradCheck.randomTensor([1, 3, h, w], layout: .nhwc, seed: 3)
            let (y, dx) = GradCheck.backwardThrough(model, x)
            XCTAssertEqual(y.out.shape, [1, 3, h, w])
            XCTAssertEqual(dx?.shape, [1, 3, h, w])
        }
        model.zeroGrad()
        model.freeze(model.groups["encoder"]!)
        let x = GradCheck.randomTensor([2, 3, 64, 64], layout: .nhwc, seed: 4)
        GradCheck.backwardThrough(model, x, watched: false)
        XCTAssertEqual(GradCheck.recordedOps { _ = model.resnet.forwardFeatures(x) }, 0)
        for (key, p) in model.namedParameters() where p.kind == .weight {
            if key.hasPrefix("resnet.") { XCTAssertNil(p.grad, key) } else { XCTAssertNotNil(p.grad, key) }
        }
        // A torchvision-style resnet state dict (here a Swift ResNet's, same keys) loads into the trunk.
        var rng2 = SeededRandom(seed: 5)
        let trunk = ResNet(.resnet50, numClasses: 10, widths: [8, 16, 32, 64], rng: &rng2)
        let path = NSTemporaryDirectory() + "resnet-unet-trunk-\(UUID().uuidString).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try trunk.save(to: path)
        let report = try model.load(from: path, strict: false, keys: ResNetUNet.torchvisionKeys)
        XCTAssertTrue(report.missing.isEmpty && report.mismatched.isEmpty, "\(report)")
        XCTAssertEqual(Set(report.unexpected), ["fc.weight", "fc.bias"])
        XCTAssertEqual(model.resnet.conv1.weight.value.array, trunk.conv1.weight.value.array)
    }
}
