import XCTest
@testable import Nets

/// torchvision's FCN and DeepLabV3 (tools/reference/resnet.py): parameter counts, state-dict
/// keys, output shapes, ASPP gradients, PyTorch fixtures, and what freezing the backbone skips.
final class SegmentationHeadsTests: XCTestCase {
    static let narrow = [4, 6, 8, 12]

    func fcn(_ depth: ResNet.Depth, classes: Int = 21, aux: Bool = true, os: ResNet.OutputStride = .os8,
             widths: [Int] = [64, 128, 256, 512]) -> FCN {
        var rng = SeededRandom(seed: 1)
        return FCN(depth, numClasses: classes, auxiliary: aux, outputStride: os, widths: widths, rng: &rng)
    }

    func deeplab(_ depth: ResNet.Depth, classes: Int = 21, aux: Bool = true, os: ResNet.OutputStride = .os8,
                 widths: [Int] = [64, 128, 256, 512], asppChannels: Int = 256) -> DeepLabV3 {
        var rng = SeededRandom(seed: 2)
        return DeepLabV3(depth, numClasses: classes, auxiliary: aux, outputStride: os, asppChannels: asppChannels,
                         widths: widths, rng: &rng)
    }

    /// `sum(p.numel() for p in model.parameters())` and the state-dict keys of torchvision's models
    /// (resnet18/34: the same construction with dilated BasicBlocks), 21 classes, from
    /// tools/reference/resnet.py. Each model is built once (that is most of this test's time in a
    /// debug build); the resnet101 ones (54,314,346 and 60,996,202 parameters with aux) are left
    /// out, their backbone's count being checked in ResNetTests.
    func testParameterCountsAndKeysMatchTorchvision() throws {
        let fcn50 = fcn(.resnet50)
        XCTAssertEqual(fcn50.parameterCount, 35_322_218)
        try TorchFixture.assertKeys(fcn50, "fcn_resnet50_aux_keys")
        let deeplab50 = deeplab(.resnet50)
        XCTAssertEqual(deeplab50.parameterCount, 42_004_074)
        try TorchFixture.assertKeys(deeplab50, "deeplabv3_resnet50_aux_keys")
        // Without the aux head: the aux FCNHead(1024, 21) is 2,365,205 parameters.
        XCTAssertEqual(fcn50.parameterCount - fcn50.auxClassifier!.parameterCount, 32_957_013)
        XCTAssertEqual(deeplab50.parameterCount - deeplab50.auxClassifier!.parameterCount, 39_638_869)

        let fcn18 = fcn(.resnet18), deeplab18 = deeplab(.resnet18)
        XCTAssertEqual(fcn18.parameterCount, 11_918_250)
        XCTAssertEqual(deeplab18.parameterCount, 16_053_034)
        try TorchFixture.assertKeys(fcn18, "fcn_resnet18_aux_keys")
        try TorchFixture.assertKeys(deeplab18, "deeplabv3_resnet18_aux_keys")
        XCTAssertEqual(fcn(.resnet18, aux: false).parameterCount, 11_769_301)
        XCTAssertEqual(deeplab(.resnet18, aux: false).parameterCount, 15_904_085)
        XCTAssertEqual(fcn(.resnet34).parameterCount, 22_026_410)
        XCTAssertEqual(deeplab(.resnet34).parameterCount, 26_161_194)
    }

    func testGroupsCoverEveryParameter() {
        let model = deeplab(.resnet18, classes: 3, widths: Self.narrow, asppChannels: 8)
        let keys = model.namedParameters().map(\.0)
        for (group, prefixes) in model.groups {
            XCTAssertTrue(prefixes.allSatisfy { p in keys.contains { $0.hasPrefix(p + ".") } }, group)
        }
        let covered = Set(["backbone", "head", "aux"].flatMap { model.groups[$0]! })
        XCTAssertTrue(keys.allSatisfy { covered.contains(String($0.prefix { $0 != "." })) })
        XCTAssertEqual(model.groups["encoder"], model.groups["backbone"])
    }

    func testDefaultAtrousRates() {
        XCTAssertEqual(DeepLabV3.defaultRates(.os8), [12, 24, 36])
        XCTAssertEqual(DeepLabV3.defaultRates(.os16), [6, 12, 18])
        XCTAssertEqual(deeplab(.resnet18, os: .os16, widths: Self.narrow, asppChannels: 8).atrousRates, [6, 12, 18])
        let aspp = deeplab(.resnet18, widths: Self.narrow, asppChannels: 8).classifier.layers[0] as? ASPP
        let dilations = aspp?.convs.dropFirst().prefix(3).compactMap { (($0 as? Sequential)?.layers[0] as? Conv2d)?.dilation }
        XCTAssertEqual(dilations, [12, 24, 36])
    }

    /// Odd sizes: the backbone rounds up at every stride, and the logits are resized back to
    /// exactly the input, for both output strides; the aux logits too, in training only.
    func testOddInputSizesGiveFullSizeLogits() {
        for os in [ResNet.OutputStride.os8, .os16] {
            let models: [SimpleSegmentationModel] = [
                fcn(.resnet18, classes: 3, os: os, widths: Self.narrow),
                deeplab(.resnet18, classes: 3, os: os, widths: Self.narrow, asppChannels: 8),
                fcn(.resnet50, classes: 3, os: os, widths: [2, 2, 3, 4]),
            ]
            for model in models {
                let x = GradCheck.randomTensor([2, 3, 65, 97], layout: .nhwc, seed: 3)
                let (y, dx) = GradCheck.backwardThrough(model, x)
                XCTAssertEqual(y.out.shape, [2, 3, 65, 97], "\(os)")
                XCTAssertEqual(y.aux?.shape, [2, 3, 65, 97], "\(os)")
                XCTAssertEqual(dx?.shape, [2, 3, 65, 97])
                model.setTraining(false)
                let eval = model(x)
                XCTAssertEqual(eval.out.shape, [2, 3, 65, 97])
                XCTAssertNil(eval.aux, "no aux logits in eval")
            }
        }
        let plain = fcn(.resnet18, classes: 3, aux: false, widths: Self.narrow)
        XCTAssertNil(plain(GradCheck.randomTensor([1, 3, 33, 47], layout: .nhwc, seed: 4)).aux)
    }

    /// The image-pooling branch: pool, 1×1 conv, BN, ReLU, broadcast back (3 images, so the
    /// BatchNorm over the pooled values is not degenerate).
    func testASPPPoolingGradients() {
        var rng = SeededRandom(seed: 7)
        let pooling = ASPPPooling(4, 3, rng: &rng)
        GradCheck.checkLayer("ASPPPooling", pooling, input: GradCheck.randomTensor([3, 4, 5, 6], layout: .nhwc, seed: 8),
                             eps: 1e-4, tolerance: 1e-2)
    }

    func testASPPGradients() {
        var rng = SeededRandom(seed: 9)
        let aspp = ASPP(3, atrousRates: [1, 2], channels: 2, rng: &rng)
        TorchFixture.dropoutOff(aspp)
        GradCheck.checkLayer("ASPP", aspp, input: GradCheck.randomTensor([3, 3, 5, 6], layout: .nhwc, seed: 10),
                             eps: 1e-4, tolerance: 1e-2)
    }

    func testFCNResNet18MatchesPyTorchFixture() throws {
        var rng = SeededRandom(seed: 0)
        let model = FCN(.resnet18, numClasses: 3, auxiliary: true, outputStride: .os8, widths: Self.narrow, rng: &rng)
        try TorchFixture().check("fcn_resnet18_tiny", model)
    }

    func testDeepLabHeadMatchesPyTorchFixture() throws {
        var rng = SeededRandom(seed: 0)
        let head = deepLabHead(16, classes: 3, atrousRates: [2, 4, 6], channels: 8, rng: &rng)
        try TorchFixture().check("deeplab_head_tiny", head)
    }

    /// A frozen backbone records nothing (no backward, no kept activations), gets no gradient
    /// and keeps its BatchNorm statistics; the heads still learn; unfreezing brings the gradients back.
    func testFrozenBackboneComputesNoBackboneGradients() {
        let model = deeplab(.resnet18, classes: 3, widths: Self.narrow, asppChannels: 8)
        let x = GradCheck.randomTensor([2, 3, 33, 47], layout: .nhwc, seed: 11)
        model.freeze(model.groups["backbone"]!)
        let statsBefore = model.backbone.namedParameters().filter { $0.1.kind != .weight }.map { $0.1.value.array }
        GradCheck.backwardThrough(model, x, watched: false)
        XCTAssertTrue(model.backbone.namedParameters().allSatisfy { $0.1.grad == nil })
        XCTAssertEqual(model.backbone.namedParameters().filter { $0.1.kind != .weight }.map { $0.1.value.array },
                       statsBefore)
        for (key, p) in model.namedParameters() where p.kind == .weight && !key.hasPrefix("backbone.") {
            XCTAssertNotNil(p.grad, key)
        }
        XCTAssertEqual(GradCheck.recordedOps { _ = model.backbone.segmentationFeatures(x) }, 0)

        model.zeroGrad()
        model.unfreezeAll()
        XCTAssertGreaterThan(GradCheck.recordedOps { _ = model.backbone.segmentationFeatures(x) }, 0)
        GradCheck.backwardThrough(model, x, watched: false)
        for (key, p) in model.namedParameters() where p.kind == .weight { XCTAssertNotNil(p.grad, key) }
    }

    /// Freezing the stem and layer1 only: backward stops at layer2.
    func testPartlyFrozenBackboneStopsAtTheShallowestLearningStage() {
        let model = fcn(.resnet18, classes: 3, widths: Self.narrow)
        model.freeze(["backbone.conv1", "backbone.bn1", "backbone.layer1"])
        let x = GradCheck.randomTensor([1, 3, 33, 47], layout: .nhwc, seed: 12)
        GradCheck.backwardThrough(model, x, watched: false)
        for (key, p) in model.namedParameters() where p.kind == .weight {
            let frozen = ["backbone.conv1", "backbone.bn1", "backbone.layer1"].contains { key.hasPrefix($0 + ".") }
            XCTAssertEqual(p.grad == nil, frozen, key)
        }
        let r = model.backbone as! ResNet
        let frozenPart = { _ = r.layer1(r.maxpool(r.relu(r.bn1(r.conv1(x))))) }
        XCTAssertEqual(GradCheck.recordedOps(frozenPart), 0)
    }
}
