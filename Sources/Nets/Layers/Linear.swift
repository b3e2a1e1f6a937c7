/// A fully connected layer, `nn.Linear(in, out)`: y = x·Wᵀ + b for x of shape [N, in];
/// weight [out, in] and bias [out] as in PyTorch (ResNet's ImageNet classifier `fc`).
///
/// Plain loops: the only user is a classifier on pooled features (N × 2048 → 1000 at most),
/// a negligible cost next to the convolutions before it.
public final class Linear: Module, Layer {
    public let weight: Parameter
    public let bias: Parameter?
    public let inFeatures: Int
    public let outFeatures: Int

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, rng: inout SeededRandom) {
        precondition(inFeatures > 0 && outFeatures > 0)
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        // PyTorch's default, kaiming_uniform_(a=√5): U(-1/√in, 1/√in) for weight and bias.
        let bound = 1 / Float(inFeatures).squareRoot()
        let w = Tensor(shape: [outFeatures, inFeatures])
        w.fillUniform(-bound, bound, &rng)
        weight = Parameter(w)
        if bias {
            let b = Tensor(shape: [outFeatures])
            b.fillUniform(-bound, bound, &rng)
            self.bias = Parameter(b)
        } else {
            self.bias = nil
        }
    }

    /// [N, in] → [N, out]. A pooled activation [N, in, 1, 1] is accepted as is: with one pixel,
    /// its NHWC memory is the [N, in] matrix (what `torch.flatten(x, 1)` gives).
    public func forward(_ x: Tensor) -> Tensor {
        let x = x.float32()  // no bf16 kernel
        precondition(x.count == x.shape[0] * inFeatures && (x.shape.count == 2 || (x.h == 1 && x.w == 1)),
                     "Linear(\(inFeatures)): input \(x.shape)")
        let n = x.shape[0]
        let y = Tensor.uninitialized(shape: [n, outFeatures])
        let xs = x.data, w = weight.value.data, b = bias?.value.data, ys = y.data
        let (inF, outF) = (inFeatures, outFeatures)
        parallelChunks(n * outF, minChunk: rowsPerChunk(inF)) { lo, hi in
            for item in lo..<hi {
                let row = xs + (item / outF) * inF, wo = w + (item % outF) * inF
                var s: Float = 0
                for i in 0..<inF { s += row[i] * wo[i] }
                ys[item] = s + (b?[item % outF] ?? 0)
            }
        }
        let (weight, bias) = (weight, bias)
        let learnsWeight = weight.needsGrad, learnsBias = bias?.needsGrad ?? false
        guard let op = Tape.op(inputs: [x], learning: learnsWeight || learnsBias) else { return y }
        let needsInput = op.needsGradient[0]
        op.record(y) { dy in
            if learnsWeight { weight.accumulate(linearWeightGradient(x, dy)) }
            if learnsBias { bias?.accumulate(linearBiasGradient(dy)) }
            return [needsInput ? linearInputGradient(dy, weight: weight.value, like: x) : nil]
        }
        return y
    }
}

// The backward of `x·Wᵀ + b` for x [N, in] (or [N, in, 1, 1]), W [out, in], in the same loops
// as the forward: the weight gradient dyᵀ·x, the bias gradient Σₙ dy, the input gradient dy·W.

func linearWeightGradient(_ x: Tensor, _ dy: Tensor) -> Tensor {
    let n = x.shape[0], inF = x.count / n, outF = dy.count / n
    let xs = x.data, g = dy.data
    let dw = Tensor.uninitialized(shape: [outF, inF])
    let d = dw.data
    parallelChunks(outF, minChunk: rowsPerChunk(n * inF)) { lo, hi in
        for o in lo..<hi {
            let out = d + o * inF
            for i in 0..<inF { out[i] = 0 }
            for k in 0..<n {
                let go = g[k * outF + o], row = xs + k * inF
                for i in 0..<inF { out[i] += go * row[i] }
            }
        }
    }
    return dw
}

func linearBiasGradient(_ dy: Tensor) -> Tensor {
    let n = dy.shape[0], outF = dy.count / n, g = dy.data
    let db = Tensor(shape: [outF])
    for k in 0..<n { for o in 0..<outF { db.data[o] += g[k * outF + o] } }
    return db
}

/// `input` gives the gradient's shape and layout.
func linearInputGradient(_ dy: Tensor, weight: Tensor, like input: Tensor) -> Tensor {
    let n = dy.shape[0], outF = dy.count / n, inF = weight.count / outF
    let g = dy.data, w = weight.data
    let dx = Tensor(shape: input.shape, layout: input.layout)
    let d = dx.data
    parallelFor(n) { k in
        for o in 0..<outF {
            let go = g[k * outF + o], wo = w + o * inF, out = d + k * inF
            for i in 0..<inF { out[i] += go * wo[i] }
        }
    }
    return dx
}
