/// How many pixels of each class every image of a label map holds, found while checking
/// that each label is a class of the logits or the ignore index.
struct ClassCounts {
    /// Pixel counts, `perImage[b * classes + c]`.
    let perImage: [Int]
    /// Pixel counts of each class over the batch.
    let total: [Int]
    /// Pixels that are not ignored.
    let valid: Int

    init(_ target: LabelMap, matching softmax: ClassSoftmax, ignoreIndex: Int32) throws {
        let logits = softmax.logits
        guard target.n == logits.n, target.h == logits.h, target.w == logits.w else {
            throw LossError("label map of \(target.n)×\(target.h)×\(target.w) does not match logits \(logits.shape)")
        }
        let C = logits.c, HW = target.h * target.w
        var perImage = [Int](repeating: 0, count: target.n * C)
        try target.values.withUnsafeBufferPointer { labels in
            for i in 0..<labels.count {
                let y = labels[i]
                if y == ignoreIndex { continue }
                guard y >= 0 && Int(y) < C else {
                    let b = i / HW, r = (i % HW) / target.w, col = i % target.w
                    throw LossError("label \(y) at image \(b), row \(r), column \(col) is neither a class "
                                    + "(0..<\(C)) nor the ignore index \(ignoreIndex)")
                }
                perImage[(i / HW) * C + Int(y)] += 1
            }
        }
        var total = [Int](repeating: 0, count: C)
        for b in 0..<target.n { for c in 0..<C { total[c] += perImage[b * C + c] } }
        self.perImage = perImage
        self.total = total
        valid = total.reduce(0, +)
    }
}

/// Checks that per-class settings (weights, alphas) have one value per class.
func checkPerClass(_ values: [Float]?, _ what: String, classes: Int) throws {
    if let values, values.count != classes {
        throw LossError("\(values.count) \(what) for \(classes) classes")
    }
}
