/// Per-class rates of a confusion matrix, each class scored one-vs-rest at the argmax, the way
/// retinal-vessel papers report the vessel class: precision, recall (sensitivity), specificity,
/// F1 and Matthews' correlation. Ignored pixels (outside the field of view) are never in the
/// matrix. A rate whose denominator is 0 is NaN (scikit-learn would print a warning and 0).
public struct ClassRates: Sendable, Equatable {
    public let precision: [Double]
    public let recall: [Double]
    public let specificity: [Double]
    public let f1: [Double]
    public let mcc: [Double]

    public init(_ m: ConfusionMatrix) {
        let rows = m.targetCounts, cols = m.predictedCounts, total = Double(m.total)
        var precision: [Double] = [], recall: [Double] = [], specificity: [Double] = [], f1: [Double] = []
        var mcc: [Double] = []
        for c in 0..<m.numClasses {
            let tp = Double(m[c, c]), fn = Double(rows[c]) - tp, fp = Double(cols[c]) - tp
            let tn = total - tp - fn - fp
            precision.append(tp / (tp + fp))
            recall.append(tp / (tp + fn))
            specificity.append(tn / (tn + fp))
            f1.append(2 * tp / (2 * tp + fp + fn))
            mcc.append((tp * tn - fp * fn) / ((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)).squareRoot())
        }
        (self.precision, self.recall, self.specificity, self.f1, self.mcc) = (precision, recall, specificity, f1, mcc)
    }
}
