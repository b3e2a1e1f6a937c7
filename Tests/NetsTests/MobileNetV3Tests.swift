import XCTest
@testable import Nets

/// MobileNetV3-Large and LR-ASPP against torchvision (tools/fixtures/mobilenetv3.py): parameter
/// counts and key lists at full width, a narrow LR-ASPP fixture for logits, loss, every gradient
/// and BatchNorm statistics; and finite-difference checks of the layers MobileNetV3 brought:
/// depthwise convolutions, Hardswish, Hardsigmoid, Sigmoid, channel scaling.
final class MobileNetV3Tests: XCTestCase {
    func testParameterCountsAndKeysMatchTorchvision() throws {
        var rng = SeededRandom(seed: 0)
        let classifier = MobileNetV3(numClasses: 1000, rng: &rng)
        XCTAssertEqual(classifier.parameterCount, 5_483_032)
        try TorchFixture.assertKeys(classifier, "mobilenet_v3_large_keys")
        XCTAssertEqual(classifier.stageIndices, [0, 2, 4, 7, 13, 16])
        let lraspp = LRASPP(numClasses: 21, rng: &rng)
        XCTAssertEqual(lraspp.parameterCount, 3_221_538)
        try TorchFixture.assertKeys(lraspp, "lraspp_mobilenet_v3_large_keys")
        XCTAssertEqual(classifier(GradCheck.randomTensor([2, 3, 64, 64], layout: .nhwc, seed: 1)).shape, [2, 1000])
        let deeplab = DeepLabV3(mobileNetV3: 21, auxiliary: true, rng: &rng)
        XCTAssertEqual(deeplab.parameterCount, 11_029_328)
        XCTAssertEqual(deeplab.atrousRates, [12, 24, 36])
        try TorchFixture.assertKeys(deeplab, "deeplabv3_mobilenet_v3_large_aux_keys")
        let unet = MobileV3UNet(numClasses: 2, rng: &rng)
        XCTAssertEqual(unet.parameterCount, 3_454_146)
        try TorchFixture.assertKeys(unet, "mobilev3_unet_keys_c2")
    }

    /// The DRIVE recipe's MobileV3Unet: PyTorch's own float32 run lands 1.4e-6 from the train
    /// logits and 3e-6 (of the largest) from the gradients.
    func testNarrowMobileV3UNetMatchesReferenceFixture() throws {
        var rng = SeededRandom(seed: 3)
        try TorchFixture().check("mobilev3_unet_narrow", MobileV3UNet(numClasses: 2, widthMultiplier: 0.1, rng: &rng))
    }

    /// PyTorch's own float32 run lands 1.4e-6 from the train logits and 5.4e-6 (of the largest)
    /// from the gradients: the default tolerances hold.
    func testNarrowLRASPPMatchesTorchvisionFixture() throws {
        var rng = SeededRandom(seed: 1)
        try TorchFixture().check("lraspp_mobilenetv3_narrow", LRASPP(numClasses: 3, interChannels: 8, widthMultiplier: 0.1, rng: &rng))
    }

    /// DeepLabV3 with its aux head on C2: PyTorch's own float32 run lands 6.3e-5 (of the largest)
    /// from the float64 gradients.
    func testNarrowDeepLabV3MatchesTorchvisionFixture() throws {
        var rng = SeededRandom(seed: 2)
        let model = DeepLabV3(mobileNetV3: 3, auxiliary: true, asppChannels: 8, widthMultiplier: 0.1, rng: &rng)
        try TorchFixture(gradTolerance: 3e-4).check("deeplabv3_mobilenetv3_narrow", model)
    }

    func testDepthwiseConvolutionGradients() {
        var rng = SeededRandom(seed: 2)
        for (stride, dilation) in [(1, 1), (2, 1), (1, 2)] {
            let conv = Conv2d(6, 6, kernelSize: 3, stride: stride, padding: dilation, dilation: dilation, groups: 6, rng: &rng)
            XCTAssertEqual(conv.weight.value.shape, [6, 1, 3, 3])
            GradCheck.checkLayer("depthwise s\(stride) d\(dilation)", conv,
                                 input: GradCheck.randomTensor([2, 6, 7, 9], layout: .nhwc, seed: 3))
        }
        let grouped = Conv2d(6, 4, kernelSize: 3, padding: 1, groups: 2, rng: &rng)
        GradCheck.checkLayer("2 groups", grouped, input: GradCheck.randomTensor([2, 6, 5, 5], layout: .nhwc, seed: 4))
    }

    /// Inputs kept at least 0.05 away from the kinks at ±3 (eps 1e-2 then stays on one side).
    func testActivationGradients() {
        let x = GradCheck.randomTensor([2, 3, 5, 7], layout: .nhwc, seed: 5, scale: 5)
        for i in 0..<x.count where abs(abs(x.data[i]) - 3) < 0.05 { x.data[i] += 0.1 }
        GradCheck.checkLayer("Hardswish", Hardswish(), input: x)
        GradCheck.checkLayer("Hardsigmoid", Hardsigmoid(), input: x)
        GradCheck.checkLayer("Sigmoid", Sigmoid(), input: x)
        // Values against PyTorch's definitions at a few points, kinks included.
        let points = Tensor(shape: [1, 1, 1, 5], layout: .nhwc, values: [-4, -3, 0, 1.5, 3])
        XCTAssertEqual(Hardswish()(points).array, [0, 0, 0, 1.5 * 4.5 / 6, 3])
        XCTAssertEqual(Hardsigmoid()(points).array, [0, 0, 0.5, 4.5 / 6, 1])
    }

    func testScaleChannelsGradients() {
        let x = GradCheck.randomTensor([2, 4, 3, 5], layout: .nhwc, seed: 6)
        let s = GradCheck.randomTensor([2, 4, 1, 1], layout: .nhwc, seed: 7)
        let g = GradCheck.randomTensor(x.shape, layout: .nhwc, seed: 8)
        let tape = Tape()
        tape.watch(x)
        tape.watch(s)
        let y = tape.record { scaleChannels(x, by: s) }
        tape.backward([(y, g)])
        let loss = { GradCheck.dot(scaleChannels(x, by: s), g) }
        GradCheck.check("scaled input", x: x, analytic: tape.gradient(of: x)!, loss: loss)
        GradCheck.check("channel factors", x: s, analytic: tape.gradient(of: s)!, loss: loss)
    }

    /// A frozen backbone records nothing; the head still learns.
    func testFrozenBackbone() {
        var rng = SeededRandom(seed: 9)
        let model = LRASPP(numClasses: 2, interChannels: 8, widthMultiplier: 0.1, rng: &rng)
        model.freeze(model.groups["backbone"]!)
        let x = GradCheck.randomTensor([2, 3, 48, 40], layout: .nhwc, seed: 10)
        let (y, _) = GradCheck.backwardThrough(model, x, watched: false)
        XCTAssertEqual(y.out.shape, [2, 2, 48, 40])
        XCTAssertEqual(GradCheck.recordedOps { _ = model.backbone.segmentationFeatures(x) }, 0)
        for (key, p) in model.namedParameters() where p.kind == .weight {
            XCTAssertEqual(p.grad == nil, key.hasPrefix("backbone."), key)
        }
    }
}
