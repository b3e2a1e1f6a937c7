import XCTest
@testable import Nets

/// torchvision's VGG16 trunk: parameter counts and keys against torchvision itself
/// (tools/reference/fcn_classic.py wrote the key lists), pooling positions, tapped maps at
/// odd sizes, and a trunk that walks back only as far as it learns.
final class VGGTests: XCTestCase {
    func makeVGG(batchNorm: Bool = false, divisor: Int = 1, seed: UInt64 = 0) -> VGG16 {
        var rng = SeededRandom(seed: seed)
        return VGG16(batchNorm: batchNorm, widthDivisor: divisor, rng: &rng)
    }

    func testParameterCountsMatchTorchvision() {
        // sum(p.numel() for p in torchvision.models.vgg16(_bn)().features.parameters())
        XCTAssertEqual(makeVGG().parameterCount, 14_714_688)
        XCTAssertEqual(makeVGG(batchNorm: true).parameterCount, 14_723_136)
        // torchvision's whole vgg16 (138,357,544) adds the classifier, 25088·4096 + 4096 +
        // 4096·4096 + 4096 + 4096·1000 + 1000, which segmentation models leave out.
        XCTAssertEqual(14_714_688 + 25088 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 * 1000 + 1000, 138_357_544)
    }

    func testStateDictKeysMatchTorchvision() throws {
        for (file, batchNorm) in [("vgg16_features_keys", false), ("vgg16_bn_features_keys", true)] {
            XCTAssertEqual(VGGModelTesting.keyLines(makeVGG(batchNorm: batchNorm)),
                           try VGGModelTesting.expectedKeyLines(file), file)
        }
    }

    func testPoolingPositionsAreTorchvisions() {
        XCTAssertEqual(makeVGG(divisor: 16).poolIndices, [4, 9, 16, 23, 30])
        XCTAssertEqual(makeVGG(divisor: 16).stageOutputIndices, [3, 8, 15, 22, 29])
        XCTAssertEqual(makeVGG(batchNorm: true, divisor: 16).poolIndices, [6, 13, 23, 33, 43])
        for (i, layer) in makeVGG(divisor: 16).features.layers.enumerated() {
            XCTAssertEqual(layer is MaxPool2d, [4, 9, 16, 23, 30].contains(i), "features.\(i)")
        }
    }

    /// 67×93 halves (floor) to 33×46, 16×23, 8×11, 4×5, 2×2.
    func testTappedMapsAtOddSize() {
        let vgg = makeVGG()
        let x = GradCheck.randomTensor([1, 3, 67, 93], layout: .nhwc, seed: 1)
        let tape = Tape()
        tape.watch(x)
        let maps = tape.record { vgg.forward(x, taps: vgg.stageOutputIndices + [30]) }
        XCTAssertEqual(maps.map(\.shape), [[1, 64, 67, 93], [1, 128, 33, 46], [1, 256, 16, 23], [1, 512, 8, 11],
                                           [1, 512, 4, 5], [1, 512, 2, 2]])
        tape.backward(maps.map { ($0, $0) })
        XCTAssertEqual(tape.gradient(of: x)?.shape, [1, 3, 67, 93])
    }

    /// The trunk's gradient with taps equals the gradient of the single-output trunk plus each
    /// tap's contribution: checked by finite differences of Σ_k <tap_k, g_k>. Nine ReLU and
    /// max-pool layers put kinks close to some inputs: eps = 3e-3 (not 1e-2) keeps the sampled
    /// positions on one side of them (at 1e-2 one position's difference crosses a kink).
    func testTapGradientsByFiniteDifferences() {
        let vgg = makeVGG(divisor: 32, seed: 3)
        let x = GradCheck.randomTensor([1, 3, 16, 20], layout: .nhwc, seed: 4)
        let taps = [3, 9, 22]
        let tape = Tape()
        tape.watch(x)
        let maps = tape.record { vgg.forward(x, taps: taps) }
        let gs = maps.enumerated().map { GradCheck.randomTensor($0.element.shape, layout: .nhwc, seed: 10 + UInt64($0.offset)) }
        tape.backward(Array(zip(maps, gs)))
        let dx = tape.gradient(of: x)!
        let loss = { zip(vgg.forward(x, taps: taps), gs).reduce(0.0) { $0 + GradCheck.dot($1.0, $1.1) } }
        GradCheck.check("VGG16 taps input", x: x, analytic: dx, eps: 3e-3, loss: loss)
    }

    /// Nothing trainable: no op is recorded, so no backward runs. Only the first stage frozen:
    /// its layers record nothing; the rest get gradients, the first none.
    func testFrozenLayersAreNotWalked() throws {
        let vgg = makeVGG(divisor: 16)
        let x = GradCheck.randomTensor([1, 3, 32, 32], layout: .nhwc, seed: 2)
        vgg.freeze(["features"])
        XCTAssertEqual(GradCheck.recordedOps { _ = vgg.forward(x) }, 0)
        XCTAssertTrue(vgg.namedParameters().allSatisfy { $0.1.grad == nil })

        vgg.unfreezeAll()
        vgg.freeze(["features.0", "features.2"])
        XCTAssertEqual(GradCheck.recordedOps { _ = vgg.forward(x, taps: [3]) }, 0, "the frozen first stage")
        let tape = Tape()
        let y = tape.record { vgg.forward(x) }
        tape.backward([(y, y)])
        for (key, p) in vgg.namedParameters() {
            let frozen = key.hasPrefix("features.0.") || key.hasPrefix("features.2.")
            XCTAssertEqual(p.grad == nil, frozen, key)
        }
    }
}

/// What the VGG, FCN and VGG-UNet tests share: key lists, fixture comparison, freezing checks.
enum VGGModelTesting {
    static func fixture(_ name: String, _ ext: String) throws -> String {
        try XCTUnwrap(Bundle.module.path(forResource: name, ofType: ext, inDirectory: "Fixtures"))
    }

    /// One "key shape" line per state-dict entry, as tools/reference writes them.
    static func keyLines(_ model: Module) -> [String] {
        model.namedParameters().map { key, p in "\(key) \(p.value.shape.map(String.init).joined(separator: ","))" }
    }

    static func expectedKeyLines(_ file: String) throws -> [String] {
        let text = try String(contentsOfFile: try fixture(file, "txt"), encoding: .utf8)
        return text.split(separator: "\n").map { line in
            let parts = line.split(separator: " ")
            return "\(parts[0]) \(parts[1] == "scalar" ? "" : parts[1])"
        }
    }

    static func maxAbs(_ t: Tensor) -> Float { (0..<t.count).reduce(0) { max($0, abs(t.data[$1])) } }

    /// Fills every learnable parameter with normal values of std √(2/fan-in) (biases 0.1), so no
    /// layer is zero and activations stay O(1).
    static func randomise(_ model: Module, seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        for (_, p) in model.namedParameters() where p.kind == .weight {
            let shape = p.value.shape
            let fanIn = shape.count == 4 ? shape[1] * shape[2] * shape[3] : 10
            p.value.fillNormal(std: shape.count == 4 ? (2 / Float(fanIn)).squareRoot() : 0.1, &rng)
        }
    }

    /// Loads a fixture written by tools/fixtures/vgg_models.py into `model`, runs one training
    /// forward and cross-entropy backward, and compares logits (absolute), the loss, every
    /// parameter gradient (relative to the largest) and the input gradient (relative to its max).
    static func checkFixture(_ model: any SegmentationModel, _ name: String, inputShape: [Int],
                             outputTolerance: Float, gradTolerance: Float,
                             file: StaticString = #filePath, line: UInt = #line) throws {
        let path = try fixture(name, "safetensors")
        let tensors = try SafeTensors.read(path)
        let report = try model.load(from: path, strict: false)
        XCTAssertTrue(report.missing.isEmpty && report.mismatched.isEmpty, "\(report)", file: file, line: line)
        let input = try XCTUnwrap(tensors["input"]).reshapedNCHW(inputShape).converted(to: .nhwc)
        let (n, h, w) = (inputShape[0], inputShape[2], inputShape[3])

        model.setTraining(true)
        let tape = Tape()
        tape.watch(input)
        let logits = tape.record { model(input).out }
        let expected = try XCTUnwrap(tensors["output"])
        XCTAssertLessThan(LayerCompare.maxAbsDiff(logits, expected.reshapedNCHW(logits.shape)), outputTolerance,
                          "\(name) logits", file: file, line: line)
        let target = LabelMap(n: n, h: h, w: w, values: try XCTUnwrap(tensors["target"]).array.map { Int32($0) })
        let (loss, dlogits) = try CrossEntropyLoss(classWeights: [1, 2], ignoreIndex: 255)(logits, target)
        XCTAssertEqual(loss, try XCTUnwrap(tensors["loss"]).data[0], accuracy: 1e-5, file: file, line: line)
        model.zeroGrad()
        tape.backward([(logits, dlogits)])
        let dinput = try XCTUnwrap(tape.gradient(of: input), file: file, line: line)
        let expectedInput = try XCTUnwrap(tensors["grad.input"]).reshapedNCHW(inputShape)
        XCTAssertLessThan(LayerCompare.maxAbsDiff(dinput, expectedInput), gradTolerance * maxAbs(expectedInput),
                          "\(name) input gradient", file: file, line: line)
        let weights = model.namedParameters().filter { $0.1.kind == .weight }
        var largest: Float = 0
        for (key, _) in weights { largest = max(largest, maxAbs(try XCTUnwrap(tensors["grad." + key], key))) }
        for (key, p) in weights {
            let grad = try XCTUnwrap(p.grad, "no gradient for \(key)", file: file, line: line)
            XCTAssertLessThan(LayerCompare.maxAbsDiff(grad, try XCTUnwrap(tensors["grad." + key])),
                              gradTolerance * largest, "\(name) \(key)", file: file, line: line)
        }
    }

    /// Freezes `group`, runs one training step with SGD (momentum, weight decay) and checks that
    /// the frozen tensors (weights and BatchNorm statistics) are bitwise unchanged and got no
    /// gradient, while every other weight got one and moved.
    static func checkFrozenStep(_ model: any SegmentationModel, group: String, input: Tensor, classes: Int,
                                file: StaticString = #filePath, line: UInt = #line) throws {
        let prefixes = try XCTUnwrap(model.groups[group], file: file, line: line)
        let frozenKeys = Set(model.freeze(prefixes))
        XCTAssertFalse(frozenKeys.isEmpty, file: file, line: line)
        let isFrozen = { (key: String) in prefixes.contains { key.hasPrefix($0 + ".") } }
        let before = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.0, $0.1.value.array) })
        let sgd = try SGD(model.namedParameters(), lr: 0.1, momentum: 0.9, weightDecay: 1e-4)
        model.setTraining(true)
        model.zeroGrad()
        let tape = Tape()
        let logits = tape.record { model(input).out }
        var labels = LabelMap(n: input.n, h: input.h, w: input.w)
        for i in 0..<labels.count { labels.values[i] = Int32(i % classes) }
        let (_, dlogits) = try CrossEntropyLoss()(logits, labels)
        tape.backward([(logits, dlogits)])
        sgd.step()
        for (key, p) in model.namedParameters() {
            let unchanged = p.value.array == before[key]
            if isFrozen(key) {
                XCTAssertNil(p.grad, "frozen \(key) got a gradient", file: file, line: line)
                XCTAssertTrue(unchanged, "frozen \(key) changed", file: file, line: line)
            } else if p.kind == .weight {
                XCTAssertNotNil(p.grad, "\(key) got no gradient", file: file, line: line)
                XCTAssertFalse(unchanged, "\(key) did not move", file: file, line: line)
            }
        }
    }
}
