import XCTest
@testable import Nets

/// torchvision's ResNets (tools/reference/resnet.py): parameter counts, state-dict keys, feature
/// shapes at each output stride, finite-difference gradients of the blocks and of the multi-output
/// backward, and a PyTorch fixture for Bottleneck stages (stride on the 3×3, dilation rules).
final class ResNetTests: XCTestCase {
    func resnet(_ depth: ResNet.Depth, os: ResNet.OutputStride = .os32, classes: Int? = nil,
                widths: [Int] = [64, 128, 256, 512]) -> ResNet {
        var rng = SeededRandom(seed: 0)
        return ResNet(depth, outputStride: os, numClasses: classes, widths: widths, rng: &rng)
    }

    /// `sum(p.numel() for p in model.parameters())` of torchvision.models.resnetNN() (1000-class fc)
    /// and of the same network without fc (a segmentation backbone); state-dict keys of resnet18/50.
    func testParameterCountsAndKeysMatchTorchvision() throws {
        let r18 = resnet(.resnet18, classes: 1000)
        XCTAssertEqual(r18.parameterCount, 11_689_512)
        try TorchFixture.assertKeys(r18, "resnet18_keys")
        XCTAssertEqual(r18.parameterCount - r18.fc!.parameterCount, 11_176_512)
        XCTAssertEqual(resnet(.resnet18).parameterCount, 11_176_512)
        let r50 = resnet(.resnet50, classes: 1000)
        XCTAssertEqual(r50.parameterCount, 25_557_032)
        try TorchFixture.assertKeys(r50, "resnet50_keys")
        XCTAssertEqual(resnet(.resnet34, classes: 1000).parameterCount, 21_797_672)
        XCTAssertEqual(resnet(.resnet101, classes: 1000).parameterCount, 44_549_160)
        XCTAssertEqual(resnet(.resnet152, classes: 1000).parameterCount, 60_192_808)
        // Dilation changes no shape.
        XCTAssertEqual(resnet(.resnet18, os: .os8).parameterCount, 11_176_512)
    }

    /// torchvision's initialisation: conv weights N(0, 2/fan_out), BatchNorm 1 and 0.
    func testInitialisationFollowsTorchvision() {
        let net = resnet(.resnet50, widths: [16, 16, 16, 16])
        let w = net.layer1.namedParameters().first { $0.0 == "0.conv3.weight" }!.1.value  // 64×16×1×1
        let std = (w.array.reduce(0) { $0 + Double($1 * $1) } / Double(w.count)).squareRoot()
        XCTAssertEqual(std, (2.0 / 64).squareRoot(), accuracy: 0.02)
        XCTAssertEqual(net.bn1.weight.value.array, Array(repeating: 1, count: 16))
    }

    /// 65×97: conv1 → 33×49, maxpool → 17×25, each stride-2 stage rounds up (9×13, 5×7, 3×4);
    /// a dilated stage keeps its input's size.
    func testFeatureShapesAtEachOutputStride() {
        let expected: [ResNet.OutputStride: [[Int]]] = [
            .os32: [[33, 49], [17, 25], [9, 13], [5, 7], [3, 4]],
            .os16: [[33, 49], [17, 25], [9, 13], [5, 7], [5, 7]],
            .os8: [[33, 49], [17, 25], [9, 13], [9, 13], [9, 13]],
        ]
        for depth in [ResNet.Depth.resnet18, .resnet50] {
            for (os, sizes) in expected {
                let net = resnet(depth, os: os, widths: [2, 3, 4, 5])
                let x = GradCheck.randomTensor([1, 3, 65, 97], layout: .nhwc, seed: 1)
                let tape = Tape()
                tape.watch(x)
                let f = tape.record { net.forwardFeatures(x) }
                let outputs = [f.stem, f.layer1, f.layer2, f.layer3, f.layer4]
                XCTAssertEqual(outputs.map { Array($0.shape[2...]) }, sizes, "\(depth) \(os)")
                XCTAssertEqual(outputs.map(\.c), net.featureChannels)
                tape.backward([(f.layer4, f.layer4)])
                XCTAssertEqual(tape.gradient(of: x)?.shape, [1, 3, 65, 97])
            }
        }
        let classifier = resnet(.resnet18, classes: 10, widths: [2, 3, 4, 5])
        let image = GradCheck.randomTensor([2, 3, 40, 40], layout: .nhwc, seed: 2)
        XCTAssertEqual(classifier(image).shape, [2, 10])
        XCTAssertEqual(GradCheck.backward(image, GradCheck.randomTensor([2, 10], seed: 3)) { classifier($0) }?.shape,
                       [2, 3, 40, 40])
    }

    /// Tiny blocks, the first strided with a downsample shortcut, the second dilated: central
    /// differences of a small network with BatchNorm in train mode and ReLUs, so eps 1e-3 (to
    /// stay on one side of most kinks) and 1e-2 relative tolerance.
    func testBasicBlockGradients() {
        var rng = SeededRandom(seed: 3)
        let strided = BasicBlock(3, 4, stride: 2, downsample: Sequential(
            Conv2d(3, 4, kernelSize: 1, stride: 2, bias: false, rng: &rng), BatchNorm2d(4)), rng: &rng)
        GradCheck.checkLayer("BasicBlock strided", strided, input: GradCheck.randomTensor([2, 3, 7, 9], layout: .nhwc, seed: 4),
                             eps: 1e-4, tolerance: 1e-2)
        let dilated = BasicBlock(4, 4, dilation: 2, rng: &rng)
        GradCheck.checkLayer("BasicBlock dilated", dilated, input: GradCheck.randomTensor([2, 4, 6, 7], layout: .nhwc, seed: 5),
                             eps: 1e-4, tolerance: 1e-2)
    }

    func testBottleneckGradients() {
        var rng = SeededRandom(seed: 6)
        let strided = Bottleneck(4, 2, stride: 2, downsample: Sequential(
            Conv2d(4, 8, kernelSize: 1, stride: 2, bias: false, rng: &rng), BatchNorm2d(8)), rng: &rng)
        GradCheck.checkLayer("Bottleneck strided", strided, input: GradCheck.randomTensor([2, 4, 7, 9], layout: .nhwc, seed: 7),
                             eps: 1e-4, tolerance: 1e-2)
        let dilated = Bottleneck(8, 2, dilation: 2, downsample: Sequential(
            Conv2d(8, 8, kernelSize: 1, bias: false, rng: &rng), BatchNorm2d(8)), rng: &rng)
        GradCheck.checkLayer("Bottleneck dilated", dilated, input: GradCheck.randomTensor([2, 8, 6, 7], layout: .nhwc, seed: 8),
                             eps: 1e-4, tolerance: 1e-2)
    }

    func testLinearGradients() {
        var rng = SeededRandom(seed: 9)
        GradCheck.checkLayer("Linear", Linear(5, 3, rng: &rng), input: GradCheck.randomTensor([4, 5], seed: 10))
    }

    /// The multi-output backward a UNet decoder uses: L = Σₖ ⟨featureₖ, gₖ⟩ over the stem and
    /// layer1…layer4, so each stage's gradient is its own gₖ plus what comes back from above.
    func testFeatureBackwardSumsEveryStagesGradient() {
        let net = resnet(.resnet18, os: .os16, widths: [2, 3, 3, 4])
        let x = GradCheck.randomTensor([2, 3, 21, 25], layout: .nhwc, seed: 11)
        func outputs(_ f: ResNet.Features) -> [Tensor] { [f.stem, f.layer1, f.layer2, f.layer3, f.layer4] }
        let probes = outputs(net.forwardFeatures(x)).enumerated().map {
            GradCheck.randomTensor($0.element.shape, layout: .nhwc, seed: 20 + UInt64($0.offset))
        }
        net.zeroGrad()
        let tape = Tape()
        tape.watch(x)
        let features = outputs(tape.record { net.forwardFeatures(x) })
        tape.backward(Array(zip(features, probes)))
        let dx = tape.gradient(of: x)!
        let loss = { () -> Double in zip(outputs(net.forwardFeatures(x)), probes).reduce(0) { $0 + GradCheck.dot($1.0, $1.1) } }
        GradCheck.check("features input", x: x, analytic: dx, eps: 1e-3, tolerance: 1e-2, loss: loss)
        for key in ["conv1.weight", "layer1.0.conv2.weight", "layer3.0.downsample.0.weight", "layer4.1.bn2.bias"] {
            let p = net.namedParameters().first { $0.0 == key }!.1
            GradCheck.check(key, x: p.value, analytic: p.grad!, eps: 1e-4, tolerance: 1e-2, loss: loss)
        }
    }

    func testBottleneckStagesMatchPyTorchFixture() throws {
        var rng = SeededRandom(seed: 0)
        let a = makeResNetStage(bottleneck: true, inplanes: 6, planes: 3, blocks: 2, stride: 2, dilate: false,
                                dilation: 1, rng: &rng)
        let b = makeResNetStage(bottleneck: true, inplanes: a.channels, planes: 4, blocks: 2, stride: 2, dilate: true,
                                dilation: a.dilation, rng: &rng)
        XCTAssertEqual(b.dilation, 2)
        try TorchFixture().check("bottleneck_stages", Sequential(a.stage, b.stage))
    }
}
