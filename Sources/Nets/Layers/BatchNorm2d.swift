/// `nn.BatchNorm2d(channels, eps=1e-5, momentum=0.1)`: normalises each channel with the
/// batch's statistics in training and the running ones in eval.
///
/// Running statistics follow PyTorch exactly: the running variance is updated with the
/// *unbiased* batch variance (×n/(n−1)) although the normalisation uses the biased one,
/// and `num_batches_tracked` counts the updates.
public final class BatchNorm2d: Module, Layer {
    public let weight: Parameter
    public let bias: Parameter
    public let running_mean: Parameter
    public let running_var: Parameter
    public let num_batches_tracked: Parameter
    public let channels: Int
    public let eps: Float
    public let momentum: Float
    /// When true, training mode still normalises with (and never updates) the running
    /// statistics: a frozen BatchNorm keeps what it learned.
    public var frozenStatistics = false

    // Kept from a training forward for backward.
    private var input: Tensor?
    private var mean: Tensor?
    private var variance: Tensor?
    private var usedGlobalStats = false

    public init(_ channels: Int, eps: Float = 1e-5, momentum: Float = 0.1) {
        self.channels = channels
        self.eps = eps
        self.momentum = momentum
        weight = Parameter(Tensor(shape: [channels], repeating: 1))
        bias = Parameter(Tensor(shape: [channels]))
        running_mean = Parameter(Tensor(shape: [channels]), kind: .buffer)
        running_var = Parameter(Tensor(shape: [channels], repeating: 1), kind: .buffer)
        num_batches_tracked = Parameter(Tensor(shape: []), kind: .counter)
    }

    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.shape.count == 4 && x.c == channels, "BatchNorm2d(\(channels)): input \(x.shape)")
        let global = !training || frozenStatistics
        let stats = global ? (running_mean.value, running_var.value) : nil
        let (y, m, v) = BatchNormKernel.forward(x, scale: weight.value, shift: bias.value, eps: eps, stats: stats,
                                                training: training)
        if training {
            if !global { updateRunningStatistics(mean: m, variance: v, count: x.n * x.h * x.w) }
            input = x
            mean = m
            variance = v
            usedGlobalStats = global
        }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input, let m = mean, let v = variance else { preconditionFailure("backward without a training forward") }
        // oneDNN 2.6 implements no data-only backward for global statistics, so the
        // parameter gradients are always computed and dropped when frozen (they are tiny).
        let wantParams = true
        let (dx, dscale, dshift) = BatchNormKernel.backward(dy, x: x, scale: weight.value, shift: bias.value, mean: m, variance: v, eps: eps,
                                                            globalStats: usedGlobalStats, parameterGradients: wantParams)
        if weight.needsGrad, let dscale { weight.accumulate(dscale) }
        if bias.needsGrad, let dshift { bias.accumulate(dshift) }
        clearCache()
        return dx
    }

    private func updateRunningStatistics(mean m: Tensor, variance v: Tensor, count: Int) {
        let unbias = count > 1 ? Float(count) / Float(count - 1) : 1
        let rm = running_mean.value.data, rv = running_var.value.data
        for c in 0..<channels {
            rm[c] = (1 - momentum) * rm[c] + momentum * m.data[c]
            rv[c] = (1 - momentum) * rv[c] + momentum * v.data[c] * unbias
        }
        num_batches_tracked.value.data[0] += 1
    }

    public override func clearCache() {
        input = nil
        mean = nil
        variance = nil
    }
}
