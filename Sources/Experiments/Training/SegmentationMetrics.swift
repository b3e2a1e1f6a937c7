import Nets

/// The validation scores of one evaluation, all fractions in [0, 1] (the result file prints percent).
public struct SegmentationScores: Sendable, Equatable {
    /// Foreground Dice averaged per image: the "dice coefficient" runexp reports and selects on.
    public var dice: Double
    /// The recipe's batch-averaged Dice (mean over eval batches of each batch's mean); equals
    /// `dice` when every eval batch holds the same number of images, e.g. at batch size 1.
    public var recipeDice: Double
    /// "global correct": correctly classified pixels over counted pixels.
    public var globalAccuracy: Double
    /// "average row correct": per-class recall; NaN for a class absent from the targets.
    public var classAccuracy: [Double]
    /// Per-class IoU; NaN for a class absent from both targets and predictions.
    public var classIoU: [Double]
    /// Mean of the non-NaN class IoUs.
    public var meanIoU: Double
    /// The paper metrics, when `eval.metrics` asks for them.
    public var pixel: PixelScores?

    public init(dice: Double, recipeDice: Double, globalAccuracy: Double,
                classAccuracy: [Double], classIoU: [Double], meanIoU: Double, pixel: PixelScores? = nil) {
        self.dice = dice
        self.recipeDice = recipeDice
        self.globalAccuracy = globalAccuracy
        self.classAccuracy = classAccuracy
        self.classIoU = classIoU
        self.meanIoU = meanIoU
        self.pixel = pixel
    }

    /// Equality that treats NaN as equal to NaN (a round trip of scores with absent classes).
    public static func == (a: SegmentationScores, b: SegmentationScores) -> Bool {
        func same(_ x: Double, _ y: Double) -> Bool { x == y || (x.isNaN && y.isNaN) }
        return same(a.dice, b.dice) && same(a.recipeDice, b.recipeDice) && same(a.globalAccuracy, b.globalAccuracy)
            && a.classAccuracy.count == b.classAccuracy.count && zip(a.classAccuracy, b.classAccuracy).allSatisfy(same)
            && a.classIoU.count == b.classIoU.count && zip(a.classIoU, b.classIoU).allSatisfy(same)
            && same(a.meanIoU, b.meanIoU) && a.pixel == b.pixel
    }
}

/// Accumulates one evaluation pass: feed each eval batch to `add`, then read `scores`.
///
/// Both metrics come from per-image confusion matrices, so the argmax is taken once: their sum
/// is the epoch's confusion matrix, and each one's `foregroundDice` is that image's Dice.
///
/// Dice, and how it differs from the recipe: the recipe's `DiceCoefficient` adds, per eval
/// batch, the mean over foreground classes of the mean over the batch's images, and divides by
/// the number of batches. Since both means are linear, a batch contributes the mean of its
/// images' Dice, so the recipe's value is a mean of batch means: it weights images by
/// 1/batch-size and depends on how the eval set is batched (a short last batch counts as much
/// as a full one). runexp reports the plain per-image mean (`dice`), which does not; the
/// recipe's value is kept as `recipeDice`. The two coincide whenever all batches have the same
/// size — in particular at the recipe's eval batch size of 1.
public struct SegmentationMetrics: Sendable {
    /// The summed confusion matrix of every image added so far.
    public private(set) var confusion: ConfusionMatrix
    /// Foreground Dice of each image, in the order added.
    public private(set) var imageDice: [Double] = []
    private var batchDiceSum = 0.0
    private var batches = 0
    private var pixel: PixelScoreAccumulator?

    /// `pixelScores` also computes the paper metrics (`PixelScores`) from the logits.
    public init(numClasses: Int, ignoreIndex: Int32 = 255, pixelScores: Bool = false) {
        precondition(numClasses >= 2, "Dice needs a foreground class; numClasses \(numClasses)")
        confusion = ConfusionMatrix(numClasses: numClasses, ignoreIndex: ignoreIndex)
        if pixelScores { pixel = PixelScoreAccumulator(numClasses: numClasses, ignoreIndex: ignoreIndex) }
    }

    /// Adds one eval batch: model outputs (N×C×H×W; NHWC for the paper metrics) against its labels.
    public mutating func add(logits: Tensor, target: LabelMap) {
        add(ClassScores(logits: logits), target: target)
    }

    /// Adds one eval batch's class scores (logits or probabilities) against its labels.
    public mutating func add(_ scores: ClassScores, target: LabelMap) {
        precondition(scores.values.shape.count == 4 && scores.values.c == confusion.numClasses,
                     "scores \(scores.values.shape) for \(confusion.numClasses) classes")
        let images = ConfusionMatrix.perImage(logits: scores.values, target: target, ignoreIndex: confusion.ignoreIndex)
        pixel?.add(probabilities: scores.probabilities, target: target, images: images)
        add(images)
    }

    /// Adds one eval batch given as a prediction map (N·H·W class ids).
    public mutating func add(predictions: [Int32], target: LabelMap) throws {
        add(try ConfusionMatrix.perImage(predictions: predictions, target: target,
                                         numClasses: confusion.numClasses, ignoreIndex: confusion.ignoreIndex))
    }

    /// Adds one eval batch given as a byte prediction map.
    public mutating func add(predictions: [UInt8], target: LabelMap) throws {
        add(try ConfusionMatrix.perImage(predictions: predictions, target: target,
                                         numClasses: confusion.numClasses, ignoreIndex: confusion.ignoreIndex))
    }

    /// Adds one batch given by its per-image confusion matrices.
    public mutating func add(_ images: [ConfusionMatrix]) {
        guard !images.isEmpty else { return }
        var batchSum = 0.0
        for image in images {
            confusion.merge(image)
            let dice = image.foregroundDice
            imageDice.append(dice)
            batchSum += dice
        }
        batchDiceSum += batchSum / Double(images.count)
        batches += 1
    }

    /// Foreground Dice averaged per image; NaN before any image.
    public var dice: Double { imageDice.isEmpty ? .nan : imageDice.reduce(0, +) / Double(imageDice.count) }

    /// The recipe's batch-averaged Dice; NaN before any batch (the recipe returns 0 there).
    public var recipeDice: Double { batches == 0 ? .nan : batchDiceSum / Double(batches) }

    /// Everything measured so far.
    public var scores: SegmentationScores {
        SegmentationScores(dice: dice, recipeDice: recipeDice, globalAccuracy: confusion.globalAccuracy,
                           classAccuracy: confusion.classAccuracy, classIoU: confusion.classIoU,
                           meanIoU: confusion.meanIoU, pixel: pixel?.scores(pooled: confusion))
    }
}
