import Nets

/// The pixel-wise scores retinal-vessel papers report (`eval.metrics: true`), for each class
/// one-vs-rest, counted only where the target is not `ignore_index` (for DRIVE: inside the
/// field of view): precision, recall (sensitivity), specificity, F1 and MCC at the argmax, and
/// the ROC and PR areas of the softmax probability (foreground classes only; NaN for class 0).
/// Each comes pooled over the split's pixels and as the mean ± sample std over its images.
public struct PixelScores: Sendable, Equatable {
    /// One score per class: pooled, and the mean and sample std over images (NaN images skipped).
    public struct Statistic: Sendable, Equatable {
        public var pooled: [Double]
        public var mean: [Double]
        public var std: [Double]

        public init(pooled: [Double], mean: [Double], std: [Double]) {
            self.pooled = pooled
            self.mean = mean
            self.std = std
        }

        /// Equality that treats NaN as equal to NaN.
        public static func == (a: Statistic, b: Statistic) -> Bool {
            func same(_ x: [Double], _ y: [Double]) -> Bool {
                x.count == y.count && zip(x, y).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }
            }
            return same(a.pooled, b.pooled) && same(a.mean, b.mean) && same(a.std, b.std)
        }
    }

    public var images: Int
    public var precision: Statistic
    public var recall: Statistic
    public var specificity: Statistic
    public var f1: Statistic
    public var mcc: Statistic
    public var rocAUC: Statistic
    public var prAUC: Statistic

    public init(images: Int, precision: Statistic, recall: Statistic, specificity: Statistic, f1: Statistic,
                mcc: Statistic, rocAUC: Statistic, prAUC: Statistic) {
        self.images = images
        self.precision = precision
        self.recall = recall
        self.specificity = specificity
        self.f1 = f1
        self.mcc = mcc
        self.rocAUC = rocAUC
        self.prAUC = prAUC
    }

    /// The scores by their names in metrics.jsonl and result.txt, in that order.
    public var named: [(name: String, statistic: Statistic)] {
        [("precision", precision), ("recall", recall), ("specificity", specificity), ("f1", f1), ("mcc", mcc),
         ("auc_roc", rocAUC), ("auc_pr", prAUC)]
    }
}

/// Accumulates `PixelScores` over an evaluation, one image at a time: each image's rates and,
/// per foreground class, the binned probability counts of `ScoreCurves` (about 17 MB a class;
/// no probability is kept).
struct PixelScoreAccumulator {
    let numClasses: Int
    let ignoreIndex: Int32
    private var imageRates: [ClassRates] = []
    private var curves: [ScoreCurves]

    init(numClasses: Int, ignoreIndex: Int32) {
        self.numClasses = numClasses
        self.ignoreIndex = ignoreIndex
        curves = (1..<numClasses).map { _ in ScoreCurves() }
    }

    /// Adds a batch: its per-image confusion matrices and the class probabilities they came from.
    mutating func add(probabilities softmax: Tensor, target: LabelMap, images: [ConfusionMatrix]) {
        precondition(softmax.layout == .nhwc && images.count == softmax.n, "pixel scores: \(softmax) for \(images.count) images")
        let (C, plane) = (softmax.c, softmax.h * softmax.w)
        for (n, matrix) in images.enumerated() {
            imageRates.append(ClassRates(matrix))
            let counted = (0..<plane).filter { target.values[n * plane + $0] != ignoreIndex }
            let probabilities = softmax.data + n * plane * C
            for c in 1..<C {
                curves[c - 1].addImage(count: counted.count, score: { probabilities[counted[$0] * C + c] },
                                       positive: { target.values[n * plane + counted[$0]] == Int32(c) })
            }
        }
    }

    /// The scores, the pooled rates from the split's summed confusion matrix.
    func scores(pooled: ConfusionMatrix) -> PixelScores {
        let rates = ClassRates(pooled)
        func statistic(_ pooled: [Double], _ perImage: (ClassRates) -> [Double]) -> PixelScores.Statistic {
            let columns = (0..<numClasses).map { c in imageRates.map { perImage($0)[c] } }
            return PixelScores.Statistic(pooled: pooled, mean: columns.map(nanMean), std: columns.map(nanStd))
        }
        func curve(_ pooled: (ScoreCurves) -> Double, _ perImage: (ScoreCurves) -> [Double]) -> PixelScores.Statistic {
            PixelScores.Statistic(pooled: [.nan] + curves.map(pooled), mean: [.nan] + curves.map { nanMean(perImage($0)) },
                                  std: [.nan] + curves.map { nanStd(perImage($0)) })
        }
        return PixelScores(images: imageRates.count,
                           precision: statistic(rates.precision, \.precision),
                           recall: statistic(rates.recall, \.recall),
                           specificity: statistic(rates.specificity, \.specificity),
                           f1: statistic(rates.f1, \.f1), mcc: statistic(rates.mcc, \.mcc),
                           rocAUC: curve(\.pooled.roc, \.imageROC), prAUC: curve(\.pooled.pr, \.imagePR))
    }
}

/// The sample standard deviation of the non-NaN values; NaN below two values.
func nanStd(_ values: [Double]) -> Double {
    let kept = values.filter { !$0.isNaN }
    guard kept.count > 1 else { return .nan }
    let mean = kept.reduce(0, +) / Double(kept.count)
    return (kept.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(kept.count - 1)).squareRoot()
}
