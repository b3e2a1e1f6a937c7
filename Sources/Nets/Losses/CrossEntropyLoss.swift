/// Softmax cross-entropy over classes, as PyTorch's `F.cross_entropy(logits, target,
/// weight:, ignore_index:)` with mean reduction: Σ w[y]·(−log p_y) / Σ w[y] over the
/// pixels that are not ignored.
///
/// When no pixel counts (all ignored, or all of weight zero) PyTorch returns nan, which
/// would poison every parameter at the next step; a batch that is all padding (a crop of
/// the border, say) then contributes loss 0 and no gradient instead.
public struct CrossEntropyLoss: LossTerm {
    /// One weight per class (`weight=` in PyTorch), or nil for all ones.
    public var classWeights: [Float]?
    public var ignoreIndex: Int32

    public init(classWeights: [Float]? = nil, ignoreIndex: Int32 = 255) {
        self.classWeights = classWeights
        self.ignoreIndex = ignoreIndex
    }

    public var name: String { "cross_entropy" }

    public func accumulate(_ softmax: ClassSoftmax, _ target: LabelMap, weight: Float, into gradient: Tensor) throws -> Float {
        let C = softmax.classes
        try checkPerClass(classWeights, "class weights", classes: C)
        let counts = try ClassCounts(target, matching: softmax, ignoreIndex: ignoreIndex)
        let w = classWeights ?? [Float](repeating: 1, count: C)
        var norm = 0.0
        for c in 0..<C { norm += Double(w[c]) * Double(counts.total[c]) }
        if norm == 0 { return 0 }
        // d/dz_c of w[y]·(lse − z_y) / norm is w[y]·(p_c − [c = y]) / norm.
        let scale = weight / Float(norm)
        let ignore = ignoreIndex
        let z = softmax.logits.data, p = softmax.probabilities.data, lse = softmax.logSumExp.data, g = gradient.data
        let sums = target.values.withUnsafeBufferPointer { labels in
            w.withUnsafeBufferPointer { w in
                pixelSums(softmax.pixels, width: 1) { lo, hi, sums in
                    var total = 0.0
                    for i in lo..<hi {
                        let y = labels[i]
                        if y == ignore { continue }
                        let t = Int(y), wy = w[t]
                        total += Double(wy) * Double(lse[i] - z[i * C + t])
                        let k = scale * wy, pi = p + i * C, gi = g + i * C
                        for c in 0..<C { gi[c] += k * pi[c] }
                        gi[t] -= k
                    }
                    sums[0] += total
                }
            }
        }
        return Float(sums[0] / norm)
    }
}
