import Foundation

/// The softmax over the class dimension of N×C×H×W channels-last logits, computed once
/// per batch and shared by every loss term.
public struct ClassSoftmax {
    public let logits: Tensor
    /// Softmax probabilities, same shape and layout as the logits.
    public let probabilities: Tensor
    /// log Σ_c exp(z_c) per pixel (N·H·W values in image, row, column order), so that
    /// log p_c = z_c − logSumExp stays finite where p_c itself underflows to zero.
    public let logSumExp: Tensor

    public init(_ logits: Tensor) {
        precondition(logits.shape.count == 4 && logits.layout == .nhwc,
                     "loss logits must be a channels-last N×C×H×W activation, got \(logits)")
        precondition(logits.c >= 1, "loss logits need at least one class")
        self.logits = logits
        // Both are written whole below.
        probabilities = Tensor.uninitialized(shape: logits.shape, layout: logits.layout)
        let pixels = logits.n * logits.h * logits.w
        logSumExp = Tensor.uninitialized(shape: [pixels])
        let C = logits.c
        let z = logits.data, p = probabilities.data, lse = logSumExp.data
        parallelChunks(pixels, minChunk: max(1, 32_768 / max(C, 1))) { lo, hi in
            for i in lo..<hi {
                let zi = z + i * C, pi = p + i * C
                // Subtracting the maximum keeps exp from overflowing, as PyTorch's softmax does.
                var m = zi[0]
                for c in 1..<C where zi[c] > m { m = zi[c] }
                var s: Float = 0
                for c in 0..<C {
                    let e = exp(zi[c] - m)
                    pi[c] = e
                    s += e
                }
                let inv = 1 / s
                for c in 0..<C { pi[c] *= inv }
                lse[i] = m + log(s)
            }
        }
    }

    public var classes: Int { logits.c }
    public var pixels: Int { logSumExp.count }
}
