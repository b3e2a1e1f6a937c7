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
    /// Applies ReLU to the output in the same oneDNN pass; the model then follows this layer
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
