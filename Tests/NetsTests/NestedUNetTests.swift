import XCTest
@testable import Nets

/// UNet++ against tools/reference/nested_unet.py (4uiiurz1/pytorch-nested-unet's NestedUNet):
/// parameter counts and key lists at full width, and the narrow fixtures of
/// tools/fixtures/nested_unet.py for eval and train logits, the loss (the mean over the four
/// heads with deep supervision), every gradient and BatchNorm statistics.
final class NestedUNetTests: XCTestCase {
    static let narrow = [2, 3, 4, 5, 6]

    func model(deepSupervision: Bool = false, prune: Int = 4, widths: [Int] = narrow, classes: Int = 2,
               seed: UInt64 = 0) -> NestedUNet {
        var rng = SeededRandom(seed: seed)
        return NestedUNet(numClasses: classes, widths: widths, deepSupervision: deepSupervision, prune: prune, rng: &rng)
    }

    func testParameterCountsAndKeysMatchTheReference() throws {
        let plain = model(widths: [32, 64, 128, 256, 512]), supervised = model(deepSupervision: true, widths: [32, 64, 128, 256, 512])
        XCTAssertEqual(plain.parameterCount, 9_163_362)
        XCTAssertEqual(supervised.parameterCount, 9_163_560)
        try TorchFixture.assertKeys(plain, "unetpp_keys_c2")
        try TorchFixture.assertKeys(supervised, "unetpp_keys_c2_ds")
    }

    /// PyTorch's own float32 run lands 6e-6 from the float64 train logits and 3e-6 (of the
    /// largest) from the gradients: the fixture's default tolerances hold.
    func testMatchesPyTorchFixture() throws {
        try TorchFixture().check("unetpp_narrow", model(seed: 1))
    }

    func testDeepSupervisionMatchesPyTorchFixture() throws {
        try TorchFixture().check("unetpp_narrow_ds", model(deepSupervision: true, seed: 2))
    }

    /// A pruned UNet++ L<k> predicts with head k from the nodes x(i, j), i + j ≤ k, alone: the
    /// reference's head k in eval mode, for a model loaded from the deep-supervision fixture.
    func testPrunedInferenceMatchesEachHead() throws {
        let path = try TorchFixture.path("unetpp_narrow_ds", "safetensors")
        let tensors = try SafeTensors.read(path)
        let input = try XCTUnwrap(tensors["input"]).converted(to: .nhwc)
        for k in 1...4 {
            let pruned = model(deepSupervision: true, prune: k)
            _ = try pruned.load(from: path, strict: false)
            pruned.setTraining(false)
            let y = pruned(input).out.converted(to: .plain)
            XCTAssertLessThan(TorchFixture.maxAbs(y, try XCTUnwrap(tensors["output_eval_prune.\(k)"])), 2e-6, "L\(k)")
        }
    }

    /// Sides not divisible by 16: every upsampled map is padded to its skips; the logits and
    /// the input gradient have the input's size.
    func testOddInputSizes() {
        let net = model(classes: 3)
        for (h, w) in [(16, 16), (37, 45), (21, 50)] {
            let (y, dx) = GradCheck.backwardThrough(net, GradCheck.randomTensor([1, 3, h, w], layout: .nhwc, seed: 5))
            XCTAssertEqual(y.out.shape, [1, 3, h, w])
            XCTAssertEqual(dx?.shape, [1, 3, h, w])
        }
    }

    /// The encoder column frozen: it records nothing and gets no gradient; every nested node learns.
    func testFrozenEncoderRecordsNothing() throws {
        let net = model(deepSupervision: true)
        XCTAssertEqual(net.groups["encoder"], ["conv0_0", "conv1_0", "conv2_0", "conv3_0", "conv4_0"])
        XCTAssertEqual(net.groups["head"], ["final1", "final2", "final3", "final4"])
        net.freeze(net.groups["encoder"]!)
        let x = GradCheck.randomTensor([2, 3, 32, 32], layout: .nhwc, seed: 6)
        let (y, _) = GradCheck.backwardThrough(net, x, watched: false)
        XCTAssertEqual(y.deepSupervision.count, 3)
        for (key, p) in net.namedParameters() where p.kind == .weight {
            XCTAssertEqual(p.grad == nil, key.contains("_0."), key)
        }
    }

    /// In eval mode, where BatchNorm is affine: in training it cancels the convolutions' biases,
    /// whose true gradient 0 finite differences measure only as rounding noise (train mode is
    /// checked against PyTorch above). With BatchNorm's initial statistics each ReLU's input is
    /// its convolution's output (×1/√(1+1e-5)); seed 34 keeps every one at least 2e-3 from the
    /// kink, 20 steps of eps = 1e-4, so the differences measure the slope on one side.
    func testVGGBlockGradients() {
        var rng = SeededRandom(seed: 34)
        let block = VGGBlock(3, 4, 2, rng: &rng)
        block.setTraining(false)
        let x = GradCheck.randomTensor([3, 3, 5, 6], layout: .nhwc, seed: 8)
        let preActivation1 = block.conv1(x)
        XCTAssertGreaterThan(preActivation1.array.map(abs).min()!, 2e-3)
        XCTAssertGreaterThan(block.conv2(ReLU()(preActivation1)).array.map(abs).min()!, 2e-3)
        GradCheck.checkLayer("VGGBlock", block, input: x, eps: 1e-4, tolerance: 1e-2)
    }
}
