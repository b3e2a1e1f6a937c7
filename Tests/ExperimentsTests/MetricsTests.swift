import XCTest
@testable import Experiments
import Nets

/// Confusion-matrix scores and Dice against a hand computation and against the PyTorch DRIVE
/// UNet recipe (tools/fixtures/metrics.py, float32 as the recipe runs).
final class MetricsTests: XCTestCase {
    // MARK: Hand-computed example

    // Two 2×3 images, 4 classes (class 3 never occurs), one ignored pixel in each:
    //   image 0 target 0 0 1 / 1 255 2   prediction 0 1 1 / 1 2 0
    //   image 1 target 0 0 0 / 255 1 1   prediction 0 0 0 / 0 1 0
    // Summed matrix (rows target, columns prediction): [4 1 0 0; 1 3 0 0; 1 0 0 0; 0 0 0 0].
    let target = LabelMap(n: 2, h: 2, w: 3, values: [0, 0, 1, 1, 255, 2, 0, 0, 0, 255, 1, 1])
    let prediction: [Int32] = [0, 1, 1, 1, 2, 0, 0, 0, 0, 0, 1, 0]

    /// Logits whose argmax is `prediction`, in the given layout.
    func logits(_ layout: Layout) -> Tensor {
        let t = Tensor(shape: [2, 4, 2, 3], layout: layout)
        for i in 0..<2 {
            for y in 0..<2 {
                for x in 0..<3 {
                    for c in 0..<4 { t[i, c, y, x] = Float(c) * 0.1 - 1 }
                    t[i, Int(prediction[(i * 2 + y) * 3 + x]), y, x] = 2
                }
            }
        }
        return t
    }

    /// Exact counts, and scores to 1e-15 (a handful of Double divisions of small integers).
    func testHandComputedConfusionMatrix() throws {
        var fromLogits = ConfusionMatrix(numClasses: 4, ignoreIndex: 255)
        fromLogits.add(logits: logits(.nhwc), target: target)
        var fromPlain = ConfusionMatrix(numClasses: 4)
        fromPlain.add(logits: logits(.plain), target: target)
        var fromMap = ConfusionMatrix(numClasses: 4)
        try fromMap.add(predictions: prediction, target: target)
        var fromBytes = ConfusionMatrix(numClasses: 4)
        try fromBytes.add(predictions: prediction.map { UInt8($0) }, target: target)

        XCTAssertEqual(fromLogits.counts, [4, 1, 0, 0, 1, 3, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(fromPlain, fromLogits)
        XCTAssertEqual(fromMap, fromLogits)
        XCTAssertEqual(fromBytes, fromLogits)

        let m = fromLogits
        XCTAssertEqual(m.total, 10)
        XCTAssertEqual(m.unknownLabels, 0)
        XCTAssertEqual(m.globalAccuracy, 0.7, accuracy: 1e-15)
        assertEqual(m.classAccuracy, [0.8, 0.75, 0, .nan])
        assertEqual(m.classIoU, [4.0 / 7, 3.0 / 5, 0, .nan])
        XCTAssertEqual(m.meanIoU, (4.0 / 7 + 3.0 / 5) / 3, accuracy: 1e-15, "NaN class skipped")
    }

    /// Per image and class 1…3: Dice = (2·inter + ε)/(|pred| + |target| + ε), 1 when both are empty.
    func testHandComputedDice() throws {
        let e = 1e-6
        let image0 = ((4 + e) / (5 + e) + e / (1 + e) + 1) / 3   // class 1: inter 2, sets 5; class 2: inter 0, sets 1
        let image1 = ((2 + e) / (3 + e) + 1 + 1) / 3             // class 1: inter 1, sets 3
        var metrics = SegmentationMetrics(numClasses: 4)
        metrics.add(logits: logits(.nhwc), target: target)
        XCTAssertEqual(metrics.imageDice.count, 2)
        XCTAssertEqual(metrics.imageDice[0], image0, accuracy: 1e-15)
        XCTAssertEqual(metrics.imageDice[1], image1, accuracy: 1e-15)
        XCTAssertEqual(metrics.dice, (image0 + image1) / 2, accuracy: 1e-15)
        XCTAssertEqual(metrics.recipeDice, (image0 + image1) / 2, accuracy: 1e-15, "one batch: same mean")

        let scores = metrics.scores
        XCTAssertEqual(scores.globalAccuracy, 0.7, accuracy: 1e-15)
        XCTAssertEqual(metrics.confusion.counts, [4, 1, 0, 0, 1, 3, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0])
    }

    /// The recipe averages batch means: with batches of 2 and 1 the third image weighs double.
    /// At batch size 1 (the recipe's eval setting) it is the per-image mean.
    func testRecipeDiceIsMeanOfBatchMeans() throws {
        let images = try ConfusionMatrix.perImage(predictions: prediction + prediction.prefix(6), target:
            LabelMap(n: 3, h: 2, w: 3, values: target.values + target.values.prefix(6)), numClasses: 4)
        let d = images.map(\.foregroundDice)
        var uneven = SegmentationMetrics(numClasses: 4)
        uneven.add(Array(images[0..<2]))
        uneven.add(Array(images[2..<3]))
        XCTAssertEqual(uneven.recipeDice, ((d[0] + d[1]) / 2 + d[2]) / 2, accuracy: 1e-15)
        XCTAssertEqual(uneven.dice, (d[0] + d[1] + d[2]) / 3, accuracy: 1e-15)
        XCTAssertNotEqual(uneven.dice, uneven.recipeDice, accuracy: 1e-3)

        var single = SegmentationMetrics(numClasses: 4)
        for image in images { single.add([image]) }
        XCTAssertEqual(single.recipeDice, single.dice, accuracy: 1e-15)
        XCTAssertEqual(single.dice, uneven.dice, accuracy: 1e-15)
    }

    func testIgnoredAndUnknownLabelsAreNotCounted() throws {
        var m = ConfusionMatrix(numClasses: 2, ignoreIndex: 255)
        try m.add(predictions: [0, 1, 1, 0, 1] as [Int32], target: LabelMap(n: 1, h: 1, w: 5, values: [0, 255, 7, -1, 1]))
        XCTAssertEqual(m.counts, [1, 0, 0, 1])
        XCTAssertEqual(m.unknownLabels, 2, "7 and -1 are neither classes nor the ignore index")
    }

    func testPredictionOutsideClassesThrows() {
        var m = ConfusionMatrix(numClasses: 2)
        XCTAssertThrowsError(try m.add(predictions: [0, 2] as [UInt8], target: LabelMap(n: 1, h: 1, w: 2))) { error in
            XCTAssertEqual("\(error)", "prediction 2 is not a class id (0..<2)")
        }
        XCTAssertEqual(m.total, 0)
    }

    /// No pixels: every score NaN, nothing traps.
    func testEmptyIsNaN() {
        let m = SegmentationMetrics(numClasses: 2)
        XCTAssertTrue(m.dice.isNaN)
        XCTAssertTrue(m.recipeDice.isNaN)
        XCTAssertTrue(m.scores.globalAccuracy.isNaN)
        XCTAssertTrue(m.scores.meanIoU.isNaN)
    }

    /// Images large enough to be split into several parallel chunks give exactly the counts of a
    /// plain serial loop (integer counts: any mismatch is a bug, not rounding).
    func testParallelChunksMatchSerialCount() {
        var rng = SeededRandom(seed: 7)
        let (n, c, h, w) = (2, 3, 301, 257)
        let logits = Tensor.activation(n, c, h, w)
        for i in 0..<logits.count { logits.data[i] = rng.nextFloat() }
        var labels = [Int32](repeating: 0, count: n * h * w)
        for i in labels.indices { labels[i] = rng.nextFloat() < 0.1 ? 255 : Int32(rng.nextFloat() * 3) % 3 }
        let target = LabelMap(n: n, h: h, w: w, values: labels)

        var expected = [Int64](repeating: 0, count: 9)
        var perImage = [[Int64]](repeating: [Int64](repeating: 0, count: 9), count: n)
        for i in 0..<n {
            for y in 0..<h {
                for x in 0..<w {
                    let t = Int(target[i, y, x])
                    if t == 255 { continue }
                    var best = 0
                    for k in 1..<c where logits[i, k, y, x] > logits[i, best, y, x] { best = k }
                    expected[t * 3 + best] += 1
                    perImage[i][t * 3 + best] += 1
                }
            }
        }
        let images = ConfusionMatrix.perImage(logits: logits, target: target)
        XCTAssertEqual(images.map(\.counts), perImage)
        var m = ConfusionMatrix(numClasses: 3)
        m.add(logits: logits, target: target)
        XCTAssertEqual(m.counts, expected)
    }

    // MARK: PyTorch recipe fixture

    /// Counts exactly; scores to 1e-6 relative (the recipe divides in float32, we in Double);
    /// Dice to 1e-6 (float32 sums of per-image values near 1). A wrong formula is off by >1e-3.
    func testMatchesRecipe() throws {
        let path = try XCTUnwrap(Bundle.module.path(forResource: "metrics", ofType: "safetensors", inDirectory: "Fixtures"))
        let f = try SafeTensors.read(path)
        for key in ["binary", "three", "absent"] {
            let t = { (name: String) throws -> Tensor in try XCTUnwrap(f["\(key).\(name)"], "\(key).\(name)") }
            let logits = try t("logits").converted(to: .nhwc)
            let target = LabelMap(n: logits.n, h: logits.h, w: logits.w, values: try t("target").array.map { Int32($0) })
            let classes = logits.c

            // Feed the recipe's batches as separate tensors, as an eval loop would.
            var metrics = SegmentationMetrics(numClasses: classes)
            var start = 0
            for b in try t("batches").array.map({ Int($0) }) {
                let (batch, labels) = slice(logits, target, start..<(start + b))
                metrics.add(logits: batch, target: labels)
                start += b
            }
            XCTAssertEqual(start, logits.n)

            let m = metrics.confusion
            XCTAssertEqual(m.counts.map(Float.init), try t("confmat").array, key)
            XCTAssertEqual(m.globalAccuracy, Double(try t("acc_global").data[0]), accuracy: 1e-6, key)
            assertEqual(m.classAccuracy, try t("acc").array.map(Double.init), tolerance: 1e-6, key)
            assertEqual(m.classIoU, try t("iu").array.map(Double.init), tolerance: 1e-6, key)
            XCTAssertEqual(m.meanIoU, Double(try t("miou_nanmean").data[0]), accuracy: 1e-6, key)
            let recipeMean = Double(try t("miou_recipe").data[0])
            if recipeMean.isNaN {
                XCTAssertTrue(m.classIoU.contains { $0.isNaN }, "recipe mean is NaN only with an absent class")
            } else {
                XCTAssertEqual(m.meanIoU, recipeMean, accuracy: 1e-6, "all classes present: plain mean")
            }

            assertEqual(metrics.imageDice, try t("image_dice").array.map(Double.init), tolerance: 1e-6, key)
            XCTAssertEqual(metrics.recipeDice, Double(try t("dice_batched").data[0]), accuracy: 1e-6, key)
            XCTAssertEqual(metrics.dice, Double(try t("dice_b1").data[0]), accuracy: 1e-6,
                           "\(key): per-image mean = recipe at eval batch size 1")
            XCTAssertGreaterThan(abs(metrics.dice - metrics.recipeDice), 1e-4, "\(key): uneven batches differ")
        }
    }

    /// Images `range` of an NHWC batch and its labels.
    func slice(_ logits: Tensor, _ target: LabelMap, _ range: Range<Int>) -> (Tensor, LabelMap) {
        let plane = logits.h * logits.w, per = plane * logits.c
        let out = Tensor.activation(range.count, logits.c, logits.h, logits.w)
        out.data.update(from: logits.data + range.lowerBound * per, count: range.count * per)
        let labels = Array(target.values[(range.lowerBound * plane)..<(range.upperBound * plane)])
        return (out, LabelMap(n: range.count, h: logits.h, w: logits.w, values: labels))
    }

    /// Element-wise equality within `tolerance` (relative above 1), NaN matching NaN.
    func assertEqual(_ a: [Double], _ b: [Double], tolerance: Double = 1e-15, _ message: String = "",
                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, message, file: file, line: line)
        for (x, y) in zip(a, b) {
            if x.isNaN || y.isNaN {
                XCTAssertTrue(x.isNaN && y.isNaN, "\(message): \(a) vs \(b)", file: file, line: line)
            } else {
                XCTAssertEqual(x, y, accuracy: tolerance * max(1, abs(y)), "\(message): \(a) vs \(b)", file: file, line: line)
            }
        }
    }
}

/// ROC and PR areas from binned counts against scikit-learn's roc_auc_score and
/// average_precision_score on the same float32 scores (tools/fixtures/score_curves.py: network-like
/// probabilities with exact 0s and 1s and rounded duplicates), pooled and per image, within 1e-4.
final class ScoreCurvesTests: XCTestCase {
    func testAreasMatchScikitLearn() throws {
        let path = try XCTUnwrap(Bundle.module.path(forResource: "score_curves", ofType: "safetensors", inDirectory: "Fixtures"))
        let tensors = try SafeTensors.read(path)
        func floats(_ key: String) throws -> [Float] { try XCTUnwrap(tensors[key], key).array }
        let scores = try floats("scores"), labels = try floats("labels"), offsets = try floats("offsets").map { Int($0) }
        var curves = ScoreCurves()
        for k in 0..<offsets.count - 1 {
            let start = offsets[k]
            curves.addImage(count: offsets[k + 1] - start, score: { scores[start + $0] }, positive: { labels[start + $0] == 1 })
        }
        let pooled = curves.pooled
        XCTAssertEqual(pooled.roc, Double(try floats("roc_pooled")[0]), accuracy: 1e-4)
        XCTAssertEqual(pooled.pr, Double(try floats("ap_pooled")[0]), accuracy: 1e-4)
        for (k, (roc, ap)) in zip(try floats("roc_images"), try floats("ap_images")).enumerated() {
            XCTAssertEqual(curves.imageROC[k], Double(roc), accuracy: 1e-4, "image \(k)")
            XCTAssertEqual(curves.imagePR[k], Double(ap), accuracy: 1e-4, "image \(k)")
        }
    }

    /// Hand-made cases: perfect and reversed ranking, all tied, one class only.
    func testEdgeCases() {
        func areas(_ scores: [Float], _ labels: [Bool]) -> (roc: Double, pr: Double) {
            var c = ScoreCurves()
            c.addImage(count: scores.count, score: { scores[$0] }, positive: { labels[$0] })
            return c.pooled
        }
        XCTAssertEqual(areas([0.9, 0.8, 0.2, 0.1], [true, true, false, false]).roc, 1)
        XCTAssertEqual(areas([0.9, 0.8, 0.2, 0.1], [true, true, false, false]).pr, 1)
        XCTAssertEqual(areas([0.1, 0.2, 0.8, 0.9], [true, true, false, false]).roc, 0)
        XCTAssertEqual(areas([0.5, 0.5, 0.5, 0.5], [true, false, false, false]).roc, 0.5)
        XCTAssertEqual(areas([0.5, 0.5, 0.5, 0.5], [true, false, false, false]).pr, 0.25)
        XCTAssertTrue(areas([0.3, 0.7], [true, true]).roc.isNaN, "no negatives")
    }
}

/// Precision, recall, specificity, F1 and MCC of the foreground at the argmax against
/// scikit-learn's on the score-curve fixture's pixels (exact counts: equal to float precision).
final class ClassRatesTests: XCTestCase {
    func testRatesMatchScikitLearn() throws {
        let path = try XCTUnwrap(Bundle.module.path(forResource: "score_curves", ofType: "safetensors", inDirectory: "Fixtures"))
        let tensors = try SafeTensors.read(path)
        let scores = try XCTUnwrap(tensors["scores"]).array, labels = try XCTUnwrap(tensors["labels"]).array
        let expected = try XCTUnwrap(tensors["rates_pooled"]).array
        var matrix = ConfusionMatrix(numClasses: 2)
        try matrix.add(predictions: scores.map { $0 > 0.5 ? Int32(1) : 0 },
                       target: LabelMap(n: 1, h: 1, w: labels.count, values: labels.map { Int32($0) }))
        let rates = ClassRates(matrix)
        for (name, value, want) in zip5(rates, expected) {
            XCTAssertEqual(value, Double(want), accuracy: 1e-6, name)
        }
        // Class 0 one-vs-rest is class 1 with the roles swapped.
        XCTAssertEqual(rates.recall[0], rates.specificity[1])
        XCTAssertEqual(rates.mcc[0], rates.mcc[1], accuracy: 1e-12)
    }

    private func zip5(_ r: ClassRates, _ e: [Float]) -> [(String, Double, Float)] {
        [("precision", r.precision[1], e[0]), ("recall", r.recall[1], e[1]), ("specificity", r.specificity[1], e[2]),
         ("f1", r.f1[1], e[3]), ("mcc", r.mcc[1], e[4])]
    }

    func testUndefinedRatesAreNaN() throws {
        var matrix = ConfusionMatrix(numClasses: 2)
        try matrix.add(predictions: [Int32](repeating: 0, count: 4) as [Int32], target: LabelMap(n: 1, h: 1, w: 4, values: [0, 0, 0, 0]))
        let rates = ClassRates(matrix)
        XCTAssertTrue(rates.precision[1].isNaN && rates.recall[1].isNaN && rates.mcc[1].isNaN)
        XCTAssertEqual(rates.specificity[1], 1)
    }
}

/// `eval.metrics`: the paper scores through `SegmentationMetrics`, from two-class logits whose
/// softmax is the score fixture's probabilities, one image per batch, against scikit-learn:
/// pooled and per-image-mean AUCs within 1e-4, pooled rates at the argmax (p > 0.5) exactly.
final class PixelScoresTests: XCTestCase {
    func testPaperScoresFromLogitsMatchScikitLearn() throws {
        let path = try XCTUnwrap(Bundle.module.path(forResource: "score_curves", ofType: "safetensors", inDirectory: "Fixtures"))
        let tensors = try SafeTensors.read(path)
        func floats(_ key: String) throws -> [Float] { try XCTUnwrap(tensors[key], key).array }
        let scores = try floats("scores"), labels = try floats("labels"), offsets = try floats("offsets").map { Int($0) }
        var metrics = SegmentationMetrics(numClasses: 2, pixelScores: true)
        for k in 0..<offsets.count - 1 {
            let range = offsets[k]..<offsets[k + 1]
            // Logits (0, log(p / (1 − p))), clamped where p is exactly 0 or 1.
            let logits = Tensor(shape: [1, 2, 1, range.count], layout: .nhwc, values: range.flatMap { i -> [Float] in
                let p = Double(scores[i])
                return [0, Float(max(-60, min(60, log(p / (1 - p)))))]
            })
            // One pixel in ten is ignored (outside the field of view): it must not count.
            var target = range.map { Int32(labels[$0]) }
            var ignored = 0
            for j in stride(from: 7, to: target.count, by: 10) { target[j] = 255; ignored += 1 }
            metrics.add(logits: logits, target: LabelMap(n: 1, h: 1, w: range.count, values: target))
        }
        // The expected values are for every pixel; recompute this test's own reference on the
        // counted ones through ScoreCurves and ClassRates, which match scikit-learn (above).
        var curves = ScoreCurves()
        var matrix = ConfusionMatrix(numClasses: 2)
        for k in 0..<offsets.count - 1 {
            let counted = (offsets[k]..<offsets[k + 1]).enumerated().filter { ($0.offset - 7) % 10 != 0 || $0.offset < 7 }
                .map(\.element)
            curves.addImage(count: counted.count, score: { scores[counted[$0]] }, positive: { labels[counted[$0]] == 1 })
            try matrix.add(predictions: counted.map { scores[$0] > 0.5 ? Int32(1) : 0 },
                           target: LabelMap(n: 1, h: 1, w: counted.count, values: counted.map { Int32(labels[$0]) }))
        }
        let pixel = try XCTUnwrap(metrics.scores.pixel)
        XCTAssertEqual(pixel.images, 4)
        XCTAssertEqual(pixel.rocAUC.pooled[1], curves.pooled.roc, accuracy: 1e-6)
        XCTAssertEqual(pixel.prAUC.pooled[1], curves.pooled.pr, accuracy: 1e-6)
        XCTAssertEqual(pixel.rocAUC.mean[1], curves.imageROC.reduce(0, +) / 4, accuracy: 1e-6)
        XCTAssertTrue(pixel.rocAUC.pooled[0].isNaN, "no curve for the background")
        let rates = ClassRates(matrix)
        XCTAssertEqual(pixel.recall.pooled, rates.recall)
        XCTAssertEqual(pixel.specificity.pooled, rates.specificity)
        XCTAssertEqual(pixel.mcc.pooled, rates.mcc)
        XCTAssertGreaterThan(pixel.f1.std[1], 0)
        // And the sklearn values themselves, on all pixels, stay within reach of these.
        XCTAssertEqual(pixel.rocAUC.pooled[1], Double(try floats("roc_pooled")[0]), accuracy: 2e-3)
    }
}
