import Nets

/// Pixel counts of (true class, predicted class) pairs, and the segmentation scores read from them.
///
/// Rows are the target class, columns the prediction, as in the `ConfusionMatrix` of the PyTorch
/// DRIVE UNet recipe (WZMIAOMIAO deep-learning-for-image-processing, `train_utils/distributed_utils.py`),
/// whose `compute()` the scores reproduce: global accuracy `diag.sum / h.sum`, per-class accuracy
/// (recall, "average row correct") `diag / h.sum(1)`, IoU `diag / (h.sum(1) + h.sum(0) - diag)`.
/// A pixel whose target is `ignoreIndex`, or any other value outside `0..<numClasses` (the recipe
/// drops those silently), is not counted; the latter are tallied in `unknownLabels` so a caller can
/// report bad label data. Scores are fractions (the result file prints percent) computed in Double,
/// where the recipe divides in float32: a printed digit can differ only when a value lies within
/// ~1e-7 of a rounding boundary.
public struct ConfusionMatrix: Sendable, Equatable {
    public let numClasses: Int
    public let ignoreIndex: Int32
    /// Row-major `numClasses × numClasses` counts: `counts[target * numClasses + predicted]`.
    public private(set) var counts: [Int64]
    /// Pixels skipped because their target was neither a class id nor `ignoreIndex`.
    public private(set) var unknownLabels: Int64 = 0

    public init(numClasses: Int, ignoreIndex: Int32 = 255) {
        precondition(numClasses >= 1, "numClasses \(numClasses)")
        self.numClasses = numClasses
        self.ignoreIndex = ignoreIndex
        counts = Array(repeating: 0, count: numClasses * numClasses)
    }

    /// The count of pixels of class `target` predicted as `predicted`.
    public subscript(target: Int, predicted: Int) -> Int64 {
        counts[target * numClasses + predicted]
    }

    /// Adds the counts of `other` (same classes) into this matrix.
    public mutating func merge(_ other: ConfusionMatrix) {
        precondition(other.numClasses == numClasses, "merging \(other.numClasses) classes into \(numClasses)")
        for i in counts.indices { counts[i] += other.counts[i] }
        unknownLabels += other.unknownLabels
    }

    // MARK: Accumulation

    /// Adds the argmax of `logits` (N×C×H×W, any layout, C = numClasses) against `target`.
    /// Ties go to the lower class id, as `torch.argmax` does (NaN logits, which a diverged run
    /// produces and the trainer catches earlier, give an unspecified class).
    public mutating func add(logits: Tensor, target: LabelMap) {
        precondition(logits.shape.count == 4 && logits.c == numClasses, "logits \(logits.shape) for \(numClasses) classes")
        for image in ConfusionMatrix.perImage(logits: logits, target: target, ignoreIndex: ignoreIndex) {
            merge(image)
        }
    }

    /// Adds a prediction map (N·H·W class ids, row-major like `target`).
    /// Throws when a prediction is not a class id.
    public mutating func add(predictions: [Int32], target: LabelMap) throws {
        for image in try ConfusionMatrix.perImage(predictions: predictions, target: target,
                                                   numClasses: numClasses, ignoreIndex: ignoreIndex) {
            merge(image)
        }
    }

    /// Adds a prediction map of byte class ids (as decoded from a PNG mask).
    public mutating func add(predictions: [UInt8], target: LabelMap) throws {
        for image in try ConfusionMatrix.perImage(predictions: predictions, target: target,
                                                   numClasses: numClasses, ignoreIndex: ignoreIndex) {
            merge(image)
        }
    }

    /// One matrix per image of the batch: the argmax of `logits` against `target`.
    public static func perImage(logits: Tensor, target: LabelMap, ignoreIndex: Int32 = 255) -> [ConfusionMatrix] {
        precondition(logits.shape.count == 4 && logits.n == target.n && logits.h == target.h && logits.w == target.w,
                     "logits \(logits.shape) against labels \(target.n)x\(target.h)x\(target.w)")
        let classes = logits.c, plane = target.h * target.w
        // Where pixel p of image i starts and how far apart its class scores lie.
        let (pixelStride, classStride, imageStride) = logits.layout == .nhwc
            ? (classes, 1, plane * classes) : (1, plane, plane * classes)
        let src = logits.data
        return accumulate(target: target, numClasses: classes, ignoreIndex: ignoreIndex) { i, p in
            let base = src + i * imageStride + p * pixelStride
            if classes == 2 { return base[classStride] > base[0] ? 1 : 0 }
            var best = 0
            var top = base[0]
            for c in 1..<classes where base[c * classStride] > top {
                top = base[c * classStride]
                best = c
            }
            return best
        }
    }

    /// One matrix per image of the batch from a prediction map (N·H·W class ids).
    public static func perImage(predictions: [Int32], target: LabelMap, numClasses: Int,
                                ignoreIndex: Int32 = 255) throws -> [ConfusionMatrix] {
        try checkedPerImage(predictions, target: target, numClasses: numClasses, ignoreIndex: ignoreIndex)
    }

    /// One matrix per image of the batch from a byte prediction map.
    public static func perImage(predictions: [UInt8], target: LabelMap, numClasses: Int,
                                ignoreIndex: Int32 = 255) throws -> [ConfusionMatrix] {
        try checkedPerImage(predictions, target: target, numClasses: numClasses, ignoreIndex: ignoreIndex)
    }

    private static func checkedPerImage<P: FixedWidthInteger>(
        _ predictions: [P], target: LabelMap, numClasses: Int, ignoreIndex: Int32
    ) throws -> [ConfusionMatrix] {
        precondition(predictions.count == target.count, "\(predictions.count) predictions for \(target.count) labels")
        if let bad = predictions.first(where: { $0 < 0 || Int($0) >= numClasses }) {
            throw MetricsError("prediction \(bad) is not a class id (0..<\(numClasses))")
        }
        let plane = target.h * target.w
        return predictions.withUnsafeBufferPointer { pred in
            let pred = pred.baseAddress!
            return accumulate(target: target, numClasses: numClasses, ignoreIndex: ignoreIndex) { i, p in
                Int(pred[i * plane + p])
            }
        }
    }

    /// Counts every image of `target` against `predict(image, pixel)`, split into pixel chunks
    /// that run in parallel; each chunk fills its own counts, summed per image in chunk order.
    @inline(__always)
    private static func accumulate(target: LabelMap, numClasses n: Int, ignoreIndex: Int32,
                                   predict: (Int, Int) -> Int) -> [ConfusionMatrix] {
        let images = target.n, plane = target.h * target.w
        let chunkSize = 65_536
        let chunksPerImage = max(1, (plane + chunkSize - 1) / chunkSize)
        let items = images * chunksPerImage
        let cells = n * n
        // Per chunk: n·n counts, then the unknown-label count.
        let slots = UnsafeMutablePointer<Int64>.allocate(capacity: items * (cells + 1))
        defer { slots.deallocate() }
        slots.initialize(repeating: 0, count: items * (cells + 1))
        target.values.withUnsafeBufferPointer { labels in
            let labels = labels.baseAddress!
            parallelFor(items) { item in
                let i = item / chunksPerImage, chunk = item % chunksPerImage
                let lo = chunk * chunkSize, hi = min(plane, lo + chunkSize)
                let out = slots + item * (cells + 1)
                let row = labels + i * plane
                var unknown: Int64 = 0
                for p in lo..<hi {
                    let t = row[p]
                    // One unsigned compare rejects negatives and values >= n alike.
                    if UInt32(bitPattern: t) >= UInt32(n) {
                        if t != ignoreIndex { unknown += 1 }
                        continue
                    }
                    out[Int(t) * n + predict(i, p)] += 1
                }
                out[cells] = unknown
            }
        }
        return (0..<images).map { i in
            var m = ConfusionMatrix(numClasses: n, ignoreIndex: ignoreIndex)
            for chunk in 0..<chunksPerImage {
                let src = slots + (i * chunksPerImage + chunk) * (cells + 1)
                for c in 0..<cells { m.counts[c] += src[c] }
                m.unknownLabels += src[cells]
            }
            return m
        }
    }

    // MARK: Scores

    /// Counted pixels.
    public var total: Int64 { counts.reduce(0, +) }

    /// Correctly classified pixels.
    public var correct: Int64 { (0..<numClasses).reduce(0) { $0 + self[$1, $1] } }

    /// Pixels of each target class (row sums).
    public var targetCounts: [Int64] { (0..<numClasses).map { t in (0..<numClasses).reduce(0) { $0 + self[t, $1] } } }

    /// Pixels predicted as each class (column sums).
    public var predictedCounts: [Int64] { (0..<numClasses).map { p in (0..<numClasses).reduce(0) { $0 + self[$1, p] } } }

    /// Fraction of counted pixels classified correctly ("global correct"); NaN when nothing was counted.
    public var globalAccuracy: Double { Double(correct) / Double(total) }

    /// Per class, the fraction of its pixels predicted as it (recall, "average row correct");
    /// NaN for a class absent from the targets, as the recipe prints it.
    public var classAccuracy: [Double] {
        let rows = targetCounts
        return (0..<numClasses).map { Double(self[$0, $0]) / Double(rows[$0]) }
    }

    /// Per class, intersection over union of predicted and true pixels; NaN for a class
    /// absent from both targets and predictions (0/0, which the recipe prints as nan).
    public var classIoU: [Double] {
        let rows = targetCounts, cols = predictedCounts
        return (0..<numClasses).map { c in
            let tp = self[c, c]
            return Double(tp) / Double(rows[c] + cols[c] - tp)
        }
    }

    /// Mean IoU over the classes that occur (NaN IoUs skipped, like MMSegmentation's `nanmean`).
    /// The recipe's `iu.mean()` would be NaN as soon as one class is absent from both sides;
    /// with every class present the two agree.
    public var meanIoU: Double { nanMean(classIoU) }

    /// Mean over the foreground classes (1..<numClasses) of the Dice of this matrix's pixels,
    /// with the recipe's rules: `(2·inter + 1e-6) / (sets_sum + 1e-6)`, where a class absent from
    /// both prediction and target scores 1. For a one-image matrix this is the recipe's per-image
    /// value; NaN when there is no foreground class.
    public var foregroundDice: Double {
        guard numClasses > 1 else { return .nan }
        let epsilon = 1e-6
        let rows = targetCounts, cols = predictedCounts
        var sum = 0.0
        for c in 1..<numClasses {
            let inter = Double(self[c, c])
            var sets = Double(rows[c] + cols[c])
            if sets == 0 { sets = 2 * inter }
            sum += (2 * inter + epsilon) / (sets + epsilon)
        }
        return sum / Double(numClasses - 1)
    }
}

/// The mean of the non-NaN values; NaN when there are none.
func nanMean(_ values: [Double]) -> Double {
    var sum = 0.0, count = 0
    for v in values where !v.isNaN {
        sum += v
        count += 1
    }
    return count == 0 ? .nan : sum / Double(count)
}

/// A metric input that is not usable (a prediction that is no class id): one line.
public struct MetricsError: Error, CustomStringConvertible, Equatable {
    public let description: String
    init(_ description: String) { self.description = description }
}
