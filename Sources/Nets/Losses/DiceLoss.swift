/// Multi-class soft Dice loss as in the widely used DRIVE UNet recipe
/// (WZMIAOMIAO/deep-learning-for-image-processing, `pytorch_segmentation/unet/train_utils/
/// dice_coefficient_loss.py`, `dice_loss(x, build_target(t), multiclass=True)`).
///
/// With p = softmax(logits) and, for image b and class c over the pixels that are not
/// ignored, I = Σ p_c·[y = c], S = Σ p_c + #[y = c]:
/// d(b, c) = (2I + ε) / (S + ε), and d = 1 where S = 0 (the recipe then sets S to 2I);
/// loss = 1 − mean over classes (background included) of the mean over images of d(b, c).
/// An image with no valid pixel thus counts as a perfect Dice of 1 for every class and
/// still weighs 1/N in the mean, exactly as in the recipe.
public struct DiceLoss: LossTerm {
    public var epsilon: Double
    public var ignoreIndex: Int32

    public init(ignoreIndex: Int32 = 255, epsilon: Double = 1e-6) {
        self.ignoreIndex = ignoreIndex
        self.epsilon = epsilon
    }

    public var name: String { "dice" }

    public func accumulate(_ softmax: ClassSoftmax, _ target: LabelMap, weight: Float, into gradient: Tensor) throws -> Float {
        let counts = try ClassCounts(target, matching: softmax, ignoreIndex: ignoreIndex)
        let N = target.n, C = softmax.classes, HW = target.h * target.w
        let ignore = ignoreIndex
        let p = softmax.probabilities.data, g = gradient.data
        // Per (image, class): Σ p_c over valid pixels, then Σ p_c over pixels labelled c.
        let sums = target.values.withUnsafeBufferPointer { labels in
            pixelSums(softmax.pixels, width: 2 * N * C) { lo, hi, sums in
                imageRuns(lo, hi, perImage: HW) { image, pixels in
                    let s = sums + 2 * image * C
                    for i in pixels {
                        let y = labels[i]
                        if y == ignore { continue }
                        let pi = p + i * C
                        for c in 0..<C { s[c] += Double(pi[c]) }
                        s[C + Int(y)] += Double(pi[Int(y)])
                    }
                }
            }
        }
        // d(b, c) = (2I + ε)/D with D = S + ε, so ∂d/∂p_c = (2·[y = c] − d)/D at each valid pixel,
        // and ∂loss/∂p_c = u − [y = c]·v with u = d/(N·C·D), v = 2/(N·C·D). Where S = 0 the
        // recipe's d is the constant (2I + ε)/(2I + ε) = 1, whose gradient is zero.
        var dice = 0.0
        var u = [Float](repeating: 0, count: N * C), v = [Float](repeating: 0, count: N * C)
        for b in 0..<N {
            for c in 0..<C {
                let sumP = sums[2 * b * C + c], inter = sums[2 * b * C + C + c]
                let setsSum = sumP + Double(counts.perImage[b * C + c])
                if setsSum == 0 { dice += 1; continue }
                let D = setsSum + epsilon
                let d = (2 * inter + epsilon) / D
                dice += d
                u[b * C + c] = Float(d / (Double(N * C) * D))
                v[b * C + c] = Float(2 / (Double(N * C) * D))
            }
        }
        // Through the softmax: ∂loss/∂z_c = p_c·(a_c − Σ_k p_k a_k) with a the gradient above.
        target.values.withUnsafeBufferPointer { labels in
            u.withUnsafeBufferPointer { u in
                v.withUnsafeBufferPointer { v in
                    parallelChunks(softmax.pixels, minChunk: max(1, 16_384 / max(C, 1))) { lo, hi in
                        imageRuns(lo, hi, perImage: HW) { image, pixels in
                            let ui = u.baseAddress! + image * C, vi = v.baseAddress! + image * C
                            for i in pixels {
                                let y = labels[i]
                                if y == ignore { continue }
                                let t = Int(y), pi = p + i * C, gi = g + i * C
                                var dot: Float = 0
                                for c in 0..<C { dot += pi[c] * ui[c] }
                                dot -= pi[t] * vi[t]
                                for c in 0..<C { gi[c] += weight * pi[c] * (ui[c] - dot) }
                                gi[t] -= weight * pi[t] * vi[t]
                            }
                        }
                    }
                }
            }
        }
        return Float(1 - dice / Double(N * C))
    }
}
