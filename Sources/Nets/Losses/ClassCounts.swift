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
        let C = logits.c, HW = target.h * target.w, N = target.n
        // Counted in parallel (sums of ones, exact), with the labels that are neither a class nor
        // ignored in the last slot; the first of those is then found in order for the message.
        let sums = target.values.withUnsafeBufferPointer { labels in
            pixelSums(labels.count, width: N * C + 1) { lo, hi, sums in
                imageRuns(lo, hi, perImage: HW) { image, pixels in
                    let row = sums + image * C
                    for i in pixels {
                        let y = labels[i]
                        if y == ignoreIndex { continue }
                        if y >= 0 && Int(y) < C { row[Int(y)] += 1 } else { sums[N * C] += 1 }
                    }
                }
            }
        }
        if sums[N * C] > 0, let i = target.values.firstIndex(where: { $0 != ignoreIndex && !($0 >= 0 && Int($0) < C) }) {
            let b = i / HW, r = (i % HW) / target.w, col = i % target.w
            throw LossError("label \(target.values[i]) at image \(b), row \(r), column \(col) is neither a class "
                            + "(0..<\(C)) nor the ignore index \(ignoreIndex)")
        }
        let perImage = sums[0..<(N * C)].map { Int($0) }
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
