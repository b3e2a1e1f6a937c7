import XCTest
@testable import Nets

/// The classic FCN-32s/16s/8s on VGG16 against the PyTorch reference
/// (tools/reference/fcn_classic.py): counts, keys, sizes, the fusion path's gradients by
/// finite differences, the learned upsampling's bilinear start, fc6/fc7 from VGG16's
/// classifier, a narrow FCN-8s fixture, and a frozen backbone.
final class FCNClassicTests: XCTestCase {
    typealias FCN = ClassicFCN

    func makeFCN(_ variant: FCN.Variant = .fcn8s, _ upsampling: FCN.Upsampling = .learned, classes: Int = 21,
                 fc: Int = 1024, divisor: Int = 1, dropout: Float = 0.5, batchNorm: Bool = false, seed: UInt64 = 0) -> FCN {
        var rng = SeededRandom(seed: seed)
        return FCN(numClasses: classes, variant: variant, upsampling: upsampling, fcChannels: fc, dropout: dropout,
                   batchNorm: batchNorm, widthDivisor: divisor, rng: &rng)
    }

    /// The paper's width: 134M parameters (fc6 alone 102.8M). Allocates about 540 MB once.
    func testPaperWidthCountAndKeysMatchReference() throws {
        let model = makeFCN(.fcn8s, .learned, classes: 21, fc: 4096)
        XCTAssertEqual(model.parameterCount, 134_489_759)
        XCTAssertEqual(VGGModelTesting.keyLines(model), try VGGModelTesting.expectedKeyLines("fcn8s_keys_fc4096_c21"))
    }

    /// Counts printed by tools/reference/fcn_classic.py for fc_channels 1024, 21 classes.
    func testCPUWidthCountsMatchReference() {
        let expected: [(FCN.Variant, FCN.Upsampling, Int)] = [
            (.fcn32s, .learned, 43_283_285), (.fcn32s, .bilinear, 41_476_949),
            (.fcn16s, .learned, 41_946_362), (.fcn16s, .bilinear, 41_487_722),
            (.fcn8s, .learned, 41_620_127), (.fcn8s, .bilinear, 41_493_119),
        ]
        for (variant, upsampling, count) in expected {
            XCTAssertEqual(makeFCN(variant, upsampling).parameterCount, count, "\(variant) \(upsampling)")
        }
        XCTAssertEqual(makeFCN(batchNorm: true).parameterCount, 41_628_575, "vgg16_bn 8s learned")
        // Closed form for 32s bilinear: VGG16 features + fc6 + fc7 + score_fr.
        XCTAssertEqual(14_714_688 + (512 * 49 * 1024 + 1024) + (1024 * 1024 + 1024) + (1024 * 21 + 21), 41_476_949)
    }

    func testOutputAndGradientSizesAtOddInput() {
        for variant in FCN.Variant.allCases {
            for upsampling in FCN.Upsampling.allCases {
                let model = makeFCN(variant, upsampling, classes: 3, fc: 16, divisor: 16)
                for (h, w) in [(67, 93), (32, 32), (45, 71)] {
                    let x = GradCheck.randomTensor([1, 3, h, w], layout: .nhwc, seed: 1)
                    let (y, dx) = GradCheck.backwardThrough(model, x)
                    XCTAssertEqual(y.out.shape, [1, 3, h, w], "\(variant) \(upsampling)")
                    XCTAssertEqual(dx?.shape, [1, 3, h, w])
                }
            }
        }
    }

    func testGroupsSplitBackboneFromHead() {
        let model = makeFCN(.fcn8s, .learned, fc: 16, divisor: 16)
        XCTAssertEqual(model.groups["backbone"], ["backbone"])
        XCTAssertEqual(model.groups["head"], ["fc6", "fc7", "score_fr", "score_pool4", "score_pool3", "upscore2",
                                              "upscore_pool4", "upscore8"])
        XCTAssertEqual(makeFCN(.fcn32s, .bilinear, fc: 16, divisor: 16).groups["decoder"], ["fc6", "fc7", "score_fr"])
    }

    /// Everything after the backbone, fed random pool maps: each pool map's gradient and every
    /// head parameter's, by central differences with eps = 1e-3 (default tolerance 5e-3;
    /// float32 rounding of the loss stays near 1e-3 of the gradient's scale at this step).
    /// A difference across a ReLU kink measures a one-sided slope, so the test first checks
    /// that no input of relu6 or relu7 lies within 1e-2 of zero, several times what any
    /// single step moves them (with randomisation seed 15; at seed 8 one fc6 output is −5.6e-4).
    /// Pool maps of an input 67×93: pool3 8×11, pool4 4×5, pool5 2×2, so upscore8 crops 3 rows
    /// and pads one column beyond its reach, and upscore2 and upscore_pool4 add one row/column
    /// past ×2.
    func testFusionPathGradients() {
        for variant in FCN.Variant.allCases {
            for upsampling in FCN.Upsampling.allCases {
                let model = makeFCN(variant, upsampling, classes: 3, fc: 6, divisor: 32, dropout: 0, seed: 7)
                VGGModelTesting.randomise(model, seed: 15)
                let all = [[1, 8, 8, 11], [1, 16, 4, 5], [1, 16, 2, 2]].enumerated().map {
                    GradCheck.randomTensor($0.element, layout: .nhwc, seed: 20 + UInt64($0.offset))
                }
                let pools = Array(all.suffix(variant == .fcn8s ? 3 : variant == .fcn16s ? 2 : 1))
                let name = "FCN-\(variant.rawValue) \(upsampling)"
                let preActivation6 = model.fc6.forward(all[2])
                let preActivation7 = model.fc7.forward(ReLU().forward(preActivation6))
                XCTAssertGreaterThan(preActivation6.array.map(abs).min()!, 1e-2, "relu6 kink margin")
                XCTAssertGreaterThan(preActivation7.array.map(abs).min()!, 1e-2, "relu7 kink margin")

                model.zeroGrad()
                let tape = Tape()
                pools.forEach(tape.watch)
                let y = tape.record { model.forwardHead(pools, height: 67, width: 93) }
                XCTAssertEqual(y.shape, [1, 3, 67, 93])
                let g = GradCheck.randomTensor(y.shape, layout: .nhwc, seed: 30)
                tape.backward([(y, g)])
                let dpools = pools.map { tape.gradient(of: $0)! }
                let loss = { GradCheck.dot(model.forwardHead(pools, height: 67, width: 93), g) }
                for (k, pool) in pools.enumerated() {
                    GradCheck.check("\(name) pool map \(k)", x: pool, analytic: dpools[k], eps: 1e-3, samples: 16, loss: loss)
                }
                for (key, p) in model.namedParameters() where p.needsGrad && !key.hasPrefix("backbone") {
                    GradCheck.check("\(name) \(key)", x: p.value, analytic: p.grad!, eps: 1e-3, samples: 16, loss: loss)
                }
            }
        }
    }

    /// The paper's kernel for factor 2 is the outer product of [1, 3, 3, 1]/4 on the diagonal.
    func testBilinearKernelIsThePapers() {
        let w = Tensor(shape: [2, 2, 4, 4], repeating: 9)
        fillBilinearUpsamplingKernel(w)
        let t: [Float] = [0.25, 0.75, 0.75, 0.25]
        for a in 0..<2 { for b in 0..<2 { for i in 0..<4 { for j in 0..<4 {
            XCTAssertEqual(w.data[((a * 2 + b) * 4 + i) * 4 + j], a == b ? t[i] * t[j] : 0)
        }}}}
    }

    /// A learned upsampling starts as bilinear interpolation: away from the borders (f/2 pixels,
    /// where the transposed convolution sees zero padding and interpolation clamps) it equals
    /// `bilinearResize(align_corners: false)` by the factor; 1e-5 allows float32 rounding of
    /// sums of ≤ 4 terms. Asked for f−1 rows more than ×f, it gives the same map on top and
    /// zeros from the transposed convolution's reach on (row 4f + f/2), as PyTorch's output_size.
    func testLearnedUpsamplingStartsAsBilinearInterpolation() {
        for factor in [2, 8, 16, 32] {
            let up = ScoreUpsampling(classes: 3, factor: factor, learned: true)
            let x = GradCheck.randomTensor([2, 3, 4, 5], layout: .nhwc, seed: 40)
            let y = up(x, height: 4 * factor, width: 5 * factor)
            let reference = bilinearResize(x, height: 4 * factor, width: 5 * factor, alignCorners: false)
            let taller = up(x, height: 5 * factor - 1, width: 5 * factor)
            XCTAssertEqual(taller.shape, [2, 3, 5 * factor - 1, 5 * factor])
            var worst: Float = 0
            for n in 0..<2 { for c in 0..<3 {
                for oy in factor / 2..<(4 * factor - factor / 2) { for ox in factor / 2..<(5 * factor - factor / 2) {
                    worst = max(worst, abs(y[n, c, oy, ox] - reference[n, c, oy, ox]))
                }}
                for oy in 0..<4 * factor { for ox in 0..<5 * factor {
                    XCTAssertEqual(taller[n, c, oy, ox], y[n, c, oy, ox])
                }}
                for oy in (4 * factor + factor / 2)..<(5 * factor - 1) { XCTAssertEqual(taller[n, c, oy, 0], 0) }
            }}
            XCTAssertLessThan(worst, 1e-5, "factor \(factor)")
        }
    }

    /// torchvision's classifier.0 is a Linear on pool5 flattened in (C, H, W) order; loaded
    /// into fc6, the 7×7 convolution at the centre of a 7×7 map must give the same numbers.
    func testClassifierLoadsAsConvolutions() throws {
        let model = makeFCN(.fcn32s, .bilinear, classes: 2, fc: 6, divisor: 32)
        let c5 = 16
        let w6 = GradCheck.randomTensor([6, c5 * 49], seed: 50), b6 = GradCheck.randomTensor([6], seed: 51)
        let w7 = GradCheck.randomTensor([6, 6], seed: 52), b7 = GradCheck.randomTensor([6], seed: 53)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vgg_classifier_\(getpid()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try SafeTensors.write([("features.0.weight", GradCheck.randomTensor([2, 3, 3, 3], seed: 54)),
                               ("classifier.0.weight", w6), ("classifier.0.bias", b6),
                               ("classifier.3.weight", w7), ("classifier.3.bias", b7)], to: path)
        let report = try model.loadVGGClassifier(from: path)
        XCTAssertEqual(report.loaded, ["fc6.weight", "fc6.bias", "fc7.weight", "fc7.bias"])
        XCTAssertEqual(model.fc7.weight.value.array, w7.array)

        let pool5 = GradCheck.randomTensor([1, c5, 7, 7], layout: .nhwc, seed: 55)
        model.setTraining(false)
        let y = model.fc6.forward(pool5)
        for o in 0..<6 {
            var linear = Double(b6.data[o])
            for c in 0..<c5 { for i in 0..<7 { for j in 0..<7 {
                linear += Double(w6.data[o * c5 * 49 + (c * 7 + i) * 7 + j]) * Double(pool5[0, c, i, j])
            }}}
            XCTAssertEqual(Double(y[0, o, 3, 3]), linear, accuracy: 1e-4)
        }

        let wide = makeFCN(.fcn32s, .bilinear, classes: 2, fc: 8, divisor: 32)
        let fc6Before = wide.fc6.weight.value.array
        XCTAssertThrowsError(try wide.loadVGGClassifier(from: path)) { error in
            XCTAssertTrue("\(error)".contains("fc6.weight"), "\(error)")
        }
        XCTAssertEqual(wide.fc6.weight.value.array, fc6Before, "a failed load leaves the model unchanged")
    }

    func testTorchvisionKeysLoadIntoTheBackbone() throws {
        let model = makeFCN(.fcn8s, .bilinear, classes: 2, fc: 8, divisor: 32)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vgg_features_\(getpid()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var rng = SeededRandom(seed: 60)
        try VGG16(widthDivisor: 32, rng: &rng).save(to: path)
        let report = try model.load(from: path, strict: false, keys: FCN.torchvisionVGGKeys)
        XCTAssertEqual(report.loaded.count, 26)
        XCTAssertTrue(report.loaded.allSatisfy { $0.hasPrefix("backbone.features.") })
        XCTAssertTrue(report.unexpected.isEmpty && report.mismatched.isEmpty, "\(report)")
    }

    /// Tolerances: PyTorch's own float32 run lands 1e-6 from the float64 logits and 3e-7 (of
    /// the largest) from the gradients (tools/fixtures/vgg_models.py prints this).
    func testNarrowFCN8sMatchesPyTorchFixture() throws {
        let model = makeFCN(.fcn8s, .learned, classes: 2, fc: 8, divisor: 32, dropout: 0)
        try VGGModelTesting.checkFixture(model, "fcn8s_narrow", inputShape: [1, 3, 35, 45],
                                         outputTolerance: 1e-5, gradTolerance: 1e-5)
    }

    func testNarrowBilinearVariantsMatchPyTorchFixture() throws {
        let path = try VGGModelTesting.fixture("fcn8s_narrow", "safetensors")
        let tensors = try SafeTensors.read(path)
        let input = try XCTUnwrap(tensors["input"]).reshapedNCHW([1, 3, 35, 45]).converted(to: .nhwc)
        for variant in [FCN.Variant.fcn8s, .fcn32s] {
            let model = makeFCN(variant, .bilinear, classes: 2, fc: 8, divisor: 32)
            let report = try model.load(from: path, strict: false)
            XCTAssertTrue(report.missing.isEmpty && report.mismatched.isEmpty, "\(report)")
            model.setTraining(false)
            let y = model(input).out
            let expected = try XCTUnwrap(tensors["output_\(variant.rawValue)_bilinear"]).reshapedNCHW(y.shape)
            XCTAssertLessThan(LayerCompare.maxAbsDiff(y, expected), 1e-5, "\(variant)")
        }
    }

    /// vgg16_bn backbone frozen: its weights and BatchNorm statistics stay bitwise, no gradient
    /// reaches it (the image gradient stays zero: the trunk is not walked), the head learns.
    func testFrozenBackboneStaysBitwiseUnchanged() throws {
        let model = makeFCN(.fcn8s, .learned, classes: 2, fc: 8, divisor: 16, batchNorm: true)
        VGGModelTesting.randomise(model, seed: 70)
        let x = GradCheck.randomTensor([2, 3, 40, 36], layout: .nhwc, seed: 71)
        try VGGModelTesting.checkFrozenStep(model, group: "backbone", input: x, classes: 2)
        XCTAssertEqual(GradCheck.recordedOps { _ = model.backbone.forward(x, taps: model.backbone.poolIndices) }, 0,
                       "the frozen trunk records nothing")
    }
}
