import Foundation

/// Focal loss (Lin et al., "Focal Loss for Dense Object Detection", 2017) on the softmax
/// over classes: −α_t (1 − p_t)^γ log p_t, averaged over the pixels that are not ignored.
///
/// `alpha` holds one α per class, picked by each pixel's label (the paper's α_t); nil
/// means α = 1 for all. A single scalar α, as kornia's `focal_loss` takes, only scales
/// the loss, which the term's weight in `SegmentationLoss` already does; a scalar from a
/// config is written here as the same value for every class. With γ = 0 and no α this
/// is the unweighted cross-entropy.
public struct FocalLoss: LossTerm {
    public var gamma: Float
    public var alpha: [Float]?
    public var ignoreIndex: Int32

    public init(gamma: Float = 2, alpha: [Float]? = nil, ignoreIndex: Int32 = 255) {
        self.gamma = gamma
        self.alpha = alpha
        self.ignoreIndex = ignoreIndex
    }

    public var name: String { "focal" }

    public func accumulate(_ softmax: ClassSoftmax, _ target: LabelMap, weight: Float, into gradient: Tensor) throws -> Float {
        let C = softmax.classes
        try checkPerClass(alpha, "focal alphas", classes: C)
        let counts = try ClassCounts(target, matching: softmax, ignoreIndex: ignoreIndex)
        // No pixel counts: loss 0 and no gradient rather than PyTorch's nan (see CrossEntropyLoss).
        if counts.valid == 0 { return 0 }
        let a = alpha ?? [Float](repeating: 1, count: C)
        let scale = weight / Float(counts.valid)
        let gamma = gamma, ignore = ignoreIndex
        let z = softmax.logits.data, p = softmax.probabilities.data, lse = softmax.logSumExp.data, g = gradient.data
        let sums = target.values.withUnsafeBufferPointer { labels in
            a.withUnsafeBufferPointer { a in
                pixelSums(softmax.pixels, width: 1) { lo, hi, sums in
                    var total = 0.0
                    for i in lo..<hi {
                        let y = labels[i]
                        if y == ignore { continue }
                        let t = Int(y), pi = p + i * C, gi = g + i * C
                        let logp = z[i * C + t] - lse[i]
                        let pt = pi[t]
                        // 1 − p_t from log p_t keeps its digits where p_t is close to 1.
                        let q = -expm1(logp)
                        let qg = gamma == 0 ? 1 : pow(q, gamma)
                        total -= Double(a[t] * qg * logp)
                        // f = −α q^γ l with q = 1 − p_t, l = log p_t; df/dz_c = h·([c = t] − p_c)
                        // where h = −α (q^γ − γ p_t q^(γ−1) l). q^(γ−1) l is written q^γ·(l/q),
                        // which tends to −q^γ as q → 0 and so is finite for every γ > 0.
                        let tail = (gamma == 0 || q <= 0) ? 0 : gamma * pt * qg * (logp / q)
                        let h = -a[t] * (qg - tail) * scale
                        for c in 0..<C { gi[c] -= h * pi[c] }
                        gi[t] += h
                    }
                    sums[0] += total
                }
            }
        }
        return Float(sums[0] / Double(counts.valid))
    }
}
