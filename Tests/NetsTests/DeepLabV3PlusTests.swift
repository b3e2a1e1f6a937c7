import XCTest
@testable import Nets

/// DeepLabV3+ against tools/reference/deeplabv3plus.py (VainF/DeepLabV3Plus-Pytorch): parameter
/// counts and keys at full width, and two narrow PyTorch fixtures (ResNet-18 at output stride
/// 16, ResNet-50 at 8) for logits, the loss, every gradient and the BatchNorm statistics.
final class DeepLabV3PlusTests: XCTestCase {
    func model(_ depth: ResNet.Depth, classes: Int = 21, os: ResNet.OutputStride = .os16,
               widths: [Int] = [64, 128, 256, 512], narrow: Bool = false, seed: UInt64 = 0) -> DeepLabV3Plus {
        var rng = SeededRandom(seed: seed)
        return DeepLabV3Plus(depth, numClasses: classes, outputStride: os, asppChannels: narrow ? 8 : 256,
                             decoderChannels: narrow ? 8 : 256, widths: widths, rng: &rng)
    }

    func testParameterCountsAndKeysMatchTheReference() throws {
        let r50 = model(.resnet50)
        XCTAssertEqual(r50.parameterCount, 39_761_845)
        try TorchFixture.assertKeys(r50, "deeplabv3plus_resnet50_keys")
        XCTAssertEqual(model(.resnet18, os: .os8).parameterCount, 16_017_845)
        XCTAssertEqual(model(.resnet34).parameterCount, 26_126_005)
        XCTAssertEqual(model(.resnet101, os: .os8).parameterCount, 58_753_973)
    }

    /// Tolerances: PyTorch's own float32 run lands 5.7e-6 from the float64 eval logits of the
    /// ResNet-18 model; for the ResNet-50 one (BatchNorm over few values in the dilated
    /// bottlenecks) 1.1e-4 from the train logits and 2.3e-4 (of the largest) from the gradients,
    /// and running variances up to 7.3 differ by up to 3.6e-5 after the step.
    func testResNet18MatchesPyTorchFixture() throws {
        try TorchFixture(evalTolerance: 2e-5)
            .check("deeplabv3plus_resnet18_os16_tiny", model(.resnet18, classes: 3, widths: [4, 6, 8, 12], narrow: true))
    }

    func testResNet50MatchesPyTorchFixture() throws {
        try TorchFixture(evalTolerance: 2e-5, trainTolerance: 5e-4, gradTolerance: 1e-3, bufferTolerance: 1e-4)
            .check("deeplabv3plus_resnet50_os8_tiny", model(.resnet50, classes: 3, os: .os8, widths: [2, 3, 4, 5], narrow: true))
    }

    /// Odd sizes come back at the input size; a frozen backbone records nothing and the head learns.
    func testOddSizesAndFrozenBackbone() {
        let net = model(.resnet18, classes: 3, widths: [4, 6, 8, 12], narrow: true)
        for (h, w) in [(33, 47), (64, 64), (37, 50)] {
            let (y, dx) = GradCheck.backwardThrough(net, GradCheck.randomTensor([2, 3, h, w], layout: .nhwc, seed: 3))
            XCTAssertEqual(y.out.shape, [2, 3, h, w])
            XCTAssertEqual(dx?.shape, [2, 3, h, w])
        }
        net.zeroGrad()
        net.freeze(net.groups["backbone"]!)
        let x = GradCheck.randomTensor([2, 3, 33, 47], layout: .nhwc, seed: 4)
        GradCheck.backwardThrough(net, x, watched: false)
        XCTAssertEqual(GradCheck.recordedOps { _ = net.backbone.forwardFeatures(x) }, 0)
        for (key, p) in net.namedParameters() where p.kind == .weight {
            XCTAssertEqual(p.grad == nil, key.hasPrefix("backbone."), key)
        }
    }
}
