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
    /// Applies ReLU to the output in the same oneDNN pass; the model then follows this layer
    /// with `ReLU(fusedIntoPrevious: true)`, which keeps PyTorch's module indices.
    public let fusedReLU: Bool

    // Kept from a training forward for backward.
    private var input: Tensor?
    private var mean: Tensor?
    private var variance: Tensor?
    private var workspace: Tensor?
    private var setup: BatchNormKernel.Setup?

    public init(_ channels: Int, eps: Float = 1e-5, momentum: Float = 0.1, fusedReLU: Bool = false) {
        self.channels = channels
        self.fusedReLU = fusedReLU
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
        let s = BatchNormKernel.Setup(shape: x.shape, eps: eps, globalStats: global, relu: fusedReLU)
        let stats = global ? (running_mean.value, running_var.value) : nil
        let (y, m, v, ws) = BatchNormKernel.forward(x, scale: weight.value, shift: bias.value, s, stats: stats,
                                                    training: training)
        if training {
            if !global { updateRunningStatistics(mean: m, variance: v, count: x.n * x.h * x.w) }
            input = x
            mean = m
            variance = v
            workspace = ws
            setup = s
        }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input, let m = mean, let v = variance, let s = setup else {
            preconditionFailure("backward without a training forward")
        }
        let (dx, dscale, dshift) = BatchNormKernel.backward(dy, x: x, scale: weight.value, shift: bias.value, mean: m,
                                                            variance: v, workspace: workspace, s)
        if weight.needsGrad { weight.accumulate(dscale) }
        if bias.needsGrad { bias.accumulate(dshift) }
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
        workspace = nil
        setup = nil
    }
}
