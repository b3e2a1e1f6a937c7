/// `nn.BatchNorm2d(channels, eps=1e-5, momentum=0.1)`: normalises each channel with the
/// batch's statistics in training and the running ones in eval.
///
/// Running statistics follow PyTorch exactly: the running variance is updated with the
/// *unbiased* batch variance (×n/(n−1)) although the normalisation uses the biased one,
/// and `num_batches_tracked` counts the updates.
public final class BatchNorm2d: Module, Layer {
    public let weight: Parameter
    public let bias: Parameter
    public let runningMean: Parameter
    public let runningVar: Parameter
    public let numBatchesTracked: Parameter
    public let channels: Int
    public let eps: Float
    public let momentum: Float
    /// When true, training mode still normalises with (and never updates) the running
    /// statistics: a frozen BatchNorm keeps what it learned.
    public var frozenStatistics = false
    /// Applies ReLU to the output in the same pass; the model then follows this layer
    /// with `ReLU(fusedIntoPrevious: true)`, which keeps PyTorch's module indices.
    public let fusedReLU: Bool

    public init(_ channels: Int, eps: Float = 1e-5, momentum: Float = 0.1, fusedReLU: Bool = false) {
        self.channels = channels
        self.fusedReLU = fusedReLU
        self.eps = eps
        self.momentum = momentum
        weight = Parameter(Tensor(shape: [channels], repeating: 1))
        bias = Parameter(Tensor(shape: [channels]))
        runningMean = Parameter(Tensor(shape: [channels]), kind: .buffer)
        runningVar = Parameter(Tensor(shape: [channels], repeating: 1), kind: .buffer)
        numBatchesTracked = Parameter(Tensor(shape: []), kind: .counter)
    }

    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.shape.count == 4 && x.c == channels, "BatchNorm2d(\(channels)): input \(x.shape)")
        if BatchNormPasses.runs(x) { return normalize(x, shortcut: nil) }
        let global = !training || frozenStatistics
        let s = BatchNormKernel.Setup(shape: x.shape, eps: eps, globalStats: global, relu: fusedReLU,
                                      precision: x.precision)
        let stats = global ? (runningMean.value, runningVar.value) : nil
        let (weight, bias) = (weight, bias)
        let op = Tape.op(inputs: [x], learning: weight.needsGrad || bias.needsGrad)
        // A recorded forward needs the fused ReLU's workspace, in eval mode too.
        let (y, mean, variance, workspace) = BatchNormKernel.forward(x, scale: weight.value, shift: bias.value, s,
                                                                     stats: stats, training: training || op != nil)
        if training && !global { updateRunningStatistics(mean: mean, variance: variance, count: x.n * x.h * x.w) }
        op?.record(y) { dy in
            let (dx, dscale, dshift) = BatchNormKernel.backward(dy, x: x, scale: weight.value, shift: bias.value,
                                                                mean: mean, variance: variance, workspace: workspace, s)
            if weight.needsGrad { weight.accumulate(dscale) }
            if bias.needsGrad { bias.accumulate(dshift) }
            return [dx]
        }
        return y
    }

    /// relu(self(x) + shortcut), a residual block's closing BatchNorm, sum and ReLU
    /// (torchvision's `out = self.bn3(out); out += identity; out = self.relu(out)`), in bf16 in
    /// one pass that writes the block's output only: the normalised activation is never stored,
    /// as its backward needs the input, not it.
    public func addingReLU(_ x: Tensor, shortcut: Tensor) -> Tensor {
        guard BatchNormPasses.runs(x), !fusedReLU, x.c == channels, shortcut.shape == x.shape,
              shortcut.layout == x.layout, shortcut.precision == x.precision else { return addReLU(self(x), shortcut) }
        return normalize(x, shortcut: shortcut)
    }

    /// The forward and backward in `BatchNormPasses`.
    private func normalize(_ x: Tensor, shortcut: Tensor?) -> Tensor {
        let global = !training || frozenStatistics
        let (mean, variance) = global ? (runningMean.value, runningVar.value) : channelStatistics(x)
        if training && !global { updateRunningStatistics(mean: mean, variance: variance, count: x.n * x.h * x.w) }
        let gamma = weight.value.data
        let scale = (0..<channels).map { gamma[$0] / (variance.data[$0] + eps).squareRoot() }
        let out = BatchNormPasses.normalize(x, mean: mean, scale: scale, shift: bias.value, shortcut: shortcut,
                                            relu: shortcut != nil || fusedReLU)
        let (weight, bias, epsilon, relu) = (weight, bias, eps, fusedReLU)
        // dx of the BatchNorm (and its own ReLU), given its output's gradient.
        func backward(_ dy: Tensor) -> Tensor {
            let (dx, dscale, dshift) = BatchNormPasses.backward(dy, x: x, mean: mean, variance: variance,
                                                                weight: weight.value, scale: scale, shift: bias.value,
                                                                eps: epsilon, relu: relu, batchStatistics: !global)
            if weight.needsGrad { weight.accumulate(dscale) }
            if bias.needsGrad { bias.accumulate(dshift) }
            return dx
        }
        let learning = weight.needsGrad || bias.needsGrad
        if let shortcut {
            Tape.op(inputs: [x, shortcut], learning: learning)?.recordSummingGradient(out, consumesGradient: true) { pieces in
                let dy = maskedSum(pieces, where: out)
                return [backward(dy), dy]
            }
        } else {
            Tape.op(inputs: [x], learning: learning)?.record(out) { dy in [backward(dy)] }
        }
        return out
    }

    private func updateRunningStatistics(mean m: Tensor, variance v: Tensor, count: Int) {
        let unbias = count > 1 ? Float(count) / Float(count - 1) : 1
        let rm = runningMean.value.data, rv = runningVar.value.data
        for c in 0..<channels {
            rm[c] = (1 - momentum) * rm[c] + momentum * m.data[c]
            rv[c] = (1 - momentum) * rv[c] + momentum * v.data[c] * unbias
        }
        numBatchesTracked.value.data[0] += 1
    }
}
