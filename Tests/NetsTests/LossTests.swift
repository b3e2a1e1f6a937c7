import XCTest
@testable import Nets

/// The segmentation losses against PyTorch (tools/fixtures/losses.py, evaluated in float64),
/// against finite differences, and against closed-form relations between them.
final class LossTests: XCTestCase {
    // MARK: PyTorch fixtures

    /// Values to 1e-5 relative, gradients to 1e-5 of the largest gradient element: float32
    /// softmax and sums reach about 2e-6 of it against the float64 reference (worst: Dice
    /// on saturated logits), while a wrong formula is off by O(1).
    func testMatchesPyTorch() throws {
        let path = try XCTUnwrap(Bundle.module.path(forResource: "losses", ofType: "safetensors", inDirectory: "Fixtures"))
        let f = try SafeTensors.read(path)
        for key in ["small", "empty_image", "saturated"] {
            let t = { (name: String) throws -> Tensor in try XCTUnwrap(f["\(key).\(name)"], "\(key).\(name)") }
            let logits = try t("logits").converted(to: .nhwc)
            let labels = try t("target")
            let target = LabelMap(n: logits.n, h: logits.h, w: logits.w, values: labels.array.map { Int32($0) })
            let ce = CrossEntropyLoss(classWeights: try t("class_weights").array)
            let dice = DiceLoss()
            let focal = FocalLoss(gamma: try t("gamma").data[0], alpha: try t("alpha").array)
            let tw = try t("term_weights").array
            let sum = SegmentationLoss([(tw[0], ce), (tw[1], dice), (tw[2], focal)])

            let results: [(String, Float, Tensor)] = [
                ("ce", try ce(logits, target).loss, try ce(logits, target).gradient),
                ("dice", try dice(logits, target).loss, try dice(logits, target).gradient),
                ("focal", try focal(logits, target).loss, try focal(logits, target).gradient),
                ("total", try sum(logits, target).total, try sum(logits, target).gradient),
            ]
            for (name, value, gradient) in results {
                let expected = try t(name).data[0]
                XCTAssertEqual(value, expected, accuracy: 1e-5 * max(1, abs(expected)), "\(key).\(name)")
                assertClose(gradient, try t("\(name)_grad").converted(to: .nhwc), "\(key).\(name)_grad")
            }
        }
    }

    func assertClose(_ a: Tensor, _ b: Tensor, _ name: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.shape, b.shape, name, file: file, line: line)
        XCTAssertEqual(a.layout, b.layout, name, file: file, line: line)
        var scale: Float = 0
        for i in 0..<b.count { scale = max(scale, abs(b.data[i])) }
        for i in 0..<b.count where abs(a.data[i] - b.data[i]) > 1e-5 * scale {
            XCTFail("\(name)[\(i)]: \(a.data[i]) vs \(b.data[i]) (largest |gradient| \(scale))", file: file, line: line)
            return
        }
    }

    // MARK: Finite differences

    /// N=2, C=3, 4×5 with random labels, about a fifth of them ignored, logits in [-2, 2).
    func batch(seed: UInt64, emptyImage: Int? = nil) -> (Tensor, LabelMap) {
        let logits = GradCheck.randomTensor([2, 3, 4, 5], layout: .nhwc, seed: seed, scale: 2)
        var rng = SeededRandom(seed: seed + 1)
        var target = LabelMap(n: 2, h: 4, w: 5)
        for i in 0..<target.count {
            target.values[i] = rng.nextFloat() < 0.2 ? 255 : Int32(rng.next() % 3)
        }
        if let b = emptyImage {
            for i in 0..<(4 * 5) { target.values[b * 20 + i] = 255 }
        }
        return (logits, target)
    }

    /// GradCheck's default tolerance (5e-3 of the largest gradient element, eps 1e-2): see GradCheck.
    func checkTerm(_ name: String, _ term: any LossTerm, emptyImage: Int? = nil, seed: UInt64 = 7) throws {
        let (logits, target) = batch(seed: seed, emptyImage: emptyImage)
        let analytic = try term(logits, target).gradient
        GradCheck.check(name, x: logits, analytic: analytic, samples: logits.count) {
            Double(try! term(logits, target).loss)
        }
    }

    func testCrossEntropyGradient() throws {
        try checkTerm("ce", CrossEntropyLoss())
        try checkTerm("ce weighted", CrossEntropyLoss(classWeights: [0.5, 2, 1.25]))
    }

    func testDiceGradient() throws {
        try checkTerm("dice", DiceLoss())
        // Every pixel of image 1 ignored: the recipe's sets_sum = 0 branch, a constant Dice of 1.
        try checkTerm("dice empty image", DiceLoss(), emptyImage: 1)
    }

    func testFocalGradient() throws {
        try checkTerm("focal", FocalLoss())
        try checkTerm("focal alpha", FocalLoss(gamma: 2, alpha: [0.25, 0.5, 0.75]))
        try checkTerm("focal gamma 0.5", FocalLoss(gamma: 0.5))
        try checkTerm("focal gamma 0", FocalLoss(gamma: 0, alpha: [1, 2, 3]))
    }

    func testWeightedSumGradient() throws {
        let sum = SegmentationLoss([(1, CrossEntropyLoss(classWeights: [1, 2, 0.5])), (0.5, DiceLoss()), (2, FocalLoss())])
        let (logits, target) = batch(seed: 11, emptyImage: 0)
        let analytic = try sum(logits, target).gradient
        GradCheck.check("sum", x: logits, analytic: analytic, samples: logits.count) {
            Double(try! sum(logits, target).total)
        }
    }

    // MARK: Closed forms

    /// The total and gradient of the sum are the weighted sums of the terms' own (exact up to rounding: 1e-6).
    func testWeightedSumCombinesTerms() throws {
        let (logits, target) = batch(seed: 3)
        let terms: [(Float, any LossTerm)] = [(0.7, CrossEntropyLoss()), (0.3, DiceLoss()), (1.5, FocalLoss(gamma: 1))]
        let value = try SegmentationLoss(terms)(logits, target)
        let expected = logits.zerosLike()
        var total: Float = 0
        for (k, (w, term)) in terms.enumerated() {
            let (loss, gradient) = try term(logits, target)
            XCTAssertEqual(value.terms[k].name, term.name)
            XCTAssertEqual(value.terms[k].value, loss)
            total += w * loss
            gradient.scale(w)
            expected.add(gradient)
        }
        XCTAssertEqual(value.terms.map(\.name), ["cross_entropy", "dice", "focal"])
        XCTAssertEqual(value.total, total, accuracy: 1e-6)
        for i in 0..<expected.count { XCTAssertEqual(value.gradient.data[i], expected.data[i], accuracy: 1e-6) }
    }

    /// PyTorch returns nan when every pixel is ignored; we return 0 and a zero gradient.
    func testAllIgnoredGivesZero() throws {
        let (logits, _) = batch(seed: 5)
        let target = LabelMap(n: 2, h: 4, w: 5, repeating: 255)
        let terms: [any LossTerm] = [CrossEntropyLoss(classWeights: [1, 2, 3]), FocalLoss(), DiceLoss()]
        for term in terms {
            let (loss, gradient) = try term(logits, target)
            // Dice: both images have S = 0, so each class scores the recipe's constant 1.
            XCTAssertEqual(loss, 0, term.name)
            XCTAssertTrue(gradient.array.allSatisfy { $0 == 0 }, term.name)
        }
    }

    /// Uniform weights leave the mean unchanged; a one-hot weight is the plain mean over that class's pixels.
    func testClassWeightsChangeCrossEntropy() throws {
        let (logits, target) = batch(seed: 9)
        let plain = try CrossEntropyLoss()(logits, target).loss
        XCTAssertEqual(try CrossEntropyLoss(classWeights: [3, 3, 3])(logits, target).loss, plain, accuracy: 1e-6)

        var onlyClass1 = target
        for i in 0..<onlyClass1.count where onlyClass1.values[i] != 1 { onlyClass1.values[i] = 255 }
        let weighted = try CrossEntropyLoss(classWeights: [0, 1, 0])(logits, target).loss
        XCTAssertEqual(weighted, try CrossEntropyLoss()(logits, onlyClass1).loss, accuracy: 1e-6)
        XCTAssertNotEqual(weighted, plain)

        // By hand: Σ w[y]·(lse − z_y) / Σ w[y].
        let w: [Float] = [0.5, 2, 1.25]
        var num = 0.0, den = 0.0
        for b in 0..<2 { for y in 0..<4 { for x in 0..<5 {
            let t = target[b, y, x]
            if t == 255 { continue }
            let z = (0..<3).map { Double(logits[b, $0, y, x]) }
            let lse = log(z.map { exp($0) }.reduce(0, +))
            num += Double(w[Int(t)]) * (lse - z[Int(t)])
            den += Double(w[Int(t)])
        } } }
        XCTAssertEqual(Double(try CrossEntropyLoss(classWeights: w)(logits, target).loss), num / den, accuracy: 1e-6)
    }

    /// With γ = 0 focal loss is cross-entropy: exactly so in value and gradient (up to rounding, 1e-6).
    func testFocalWithGammaZeroIsCrossEntropy() throws {
        let (logits, target) = batch(seed: 13)
        let focal = try FocalLoss(gamma: 0)(logits, target)
        let ce = try CrossEntropyLoss()(logits, target)
        XCTAssertEqual(focal.loss, ce.loss, accuracy: 1e-6)
        for i in 0..<ce.gradient.count { XCTAssertEqual(focal.gradient.data[i], ce.gradient.data[i], accuracy: 1e-6) }
    }

    /// A perfect, confident prediction has Dice loss close to 0; a uniform one on two balanced classes about 1/2.
    func testDiceClosedForms() throws {
        var target = LabelMap(n: 1, h: 2, w: 2, values: [0, 1, 1, 0])
        let confident = Tensor.activation(1, 2, 2, 2)
        for i in 0..<4 { confident[0, Int(target.values[i]), i / 2, i % 2] = 40 }
        XCTAssertEqual(try DiceLoss()(confident, target).loss, 0, accuracy: 1e-6)
        // Uniform p = 1/2: per class I = 1, S = 2 + 2, d = 2/4.
        XCTAssertEqual(try DiceLoss()(Tensor.activation(1, 2, 2, 2), target).loss, 0.5, accuracy: 1e-6)
        // One pixel of class 0 ignored: class 0 has I = 1/2, S = 3/2 + 1; class 1 has I = 1, S = 3/2 + 2.
        target.values = [0, 1, 1, 255]
        XCTAssertEqual(try DiceLoss()(Tensor.activation(1, 2, 2, 2), target).loss, Float(1 - (1 / 2.5 + 2 / 3.5) / 2),
                       accuracy: 1e-6)
    }

    /// Block sums are combined in a fixed order, so the loss has the same bits on 1 thread and on several.
    func testSameBitsForAnyThreadCount() throws {
        let logits = GradCheck.randomTensor([2, 3, 128, 160], layout: .nhwc, seed: 21, scale: 3)
        var rng = SeededRandom(seed: 22)
        let target = LabelMap(n: 2, h: 128, w: 160, values: (0..<(2 * 128 * 160)).map { _ in
            rng.nextFloat() < 0.1 ? 255 : Int32(rng.next() % 3) })
        let sum = SegmentationLoss([(1, CrossEntropyLoss(classWeights: [1, 2, 3])), (1, DiceLoss()), (1, FocalLoss())])
        let saved = Threads.count
        defer { Threads.set(saved) }
        Threads.set(1)
        let one = try sum(logits, target)
        Threads.set(4)
        let four = try sum(logits, target)
        XCTAssertEqual(one.total.bitPattern, four.total.bitPattern)
        XCTAssertEqual(one.terms.map(\.value), four.terms.map(\.value))
        XCTAssertEqual(one.gradient.array, four.gradient.array)
    }

    // MARK: Errors

    func testBadTargetsThrow() throws {
        let (logits, target) = batch(seed: 1)
        var bad = target
        bad[1, 2, 3] = 3
        XCTAssertThrowsError(try CrossEntropyLoss()(logits, bad)) { error in
            XCTAssertEqual("\(error)", "label 3 at image 1, row 2, column 3 is neither a class (0..<3) nor the ignore index 255")
        }
        bad[1, 2, 3] = -1
        XCTAssertThrowsError(try DiceLoss()(logits, bad))
        XCTAssertThrowsError(try CrossEntropyLoss(classWeights: [1, 2])(logits, target)) { error in
            XCTAssertEqual("\(error)", "2 class weights for 3 classes")
        }
        XCTAssertThrowsError(try FocalLoss(alpha: [1, 2, 3, 4])(logits, target))
        XCTAssertThrowsError(try FocalLoss()(logits, LabelMap(n: 2, h: 5, w: 4))) { error in
            XCTAssertEqual("\(error)", "label map of 2×5×4 does not match logits [2, 3, 4, 5]")
        }
    }
}
