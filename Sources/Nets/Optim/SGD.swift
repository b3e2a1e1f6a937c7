/// Stochastic gradient descent with momentum, as `torch.optim.SGD`.
///
/// d = g + weightDecay·p; with momentum, b = d on a parameter's first step and
/// b = momentum·b + (1 − dampening)·d after, then d = b, or d + momentum·b with Nesterov;
/// p −= lr·d.
public final class SGD: Optimizer {
    public var lr: Double
    public let momentum: Double
    public let dampening: Double
    public let nesterov: Bool
    public let weightDecay: Double
    var slots: ParameterSlots

    /// `parameters` is the model's `namedParameters()`; buffers among them are ignored.
    public init(_ parameters: [(String, Parameter)], lr: Double, momentum: Double = 0, dampening: Double = 0,
                nesterov: Bool = false, weightDecay: Double = 0) throws {
        try checkHyperparameter("learning rate", lr, 0...)
        try checkHyperparameter("momentum", momentum, 0...)
        try checkHyperparameter("weight decay", weightDecay, 0...)
        if nesterov && (momentum <= 0 || dampening != 0) {
            throw OptimizerError("Nesterov momentum requires a momentum and zero dampening")
        }
        self.lr = lr
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        slots = ParameterSlots(parameters, names: momentum == 0 ? [] : ["momentum_buffer"])
    }

    public func step() {
        slots.steps += 1
        let lr = Float(lr), mu = Float(momentum), damp = Float(1 - dampening), wd = Float(weightDecay)
        let nesterov = nesterov
        for (key, parameter, grad) in slots.updatable {
            let p = parameter.value.data, g = grad.data, count = grad.count
            if mu == 0 {
                parallelChunks(count) { lo, hi in
                    for i in lo..<hi { p[i] -= lr * (g[i] + wd * p[i]) }
                }
                continue
            }
            let (tensors, first) = slots.slots(key) { [parameter.value.zerosLike()] }
            let b = tensors[0].data
            parallelChunks(count) { lo, hi in
                for i in lo..<hi {
                    let d = g[i] + wd * p[i]
                    // PyTorch starts the buffer at the first gradient itself, not at zero.
                    b[i] = first ? d : mu * b[i] + damp * d
                    p[i] -= lr * (nesterov ? d + mu * b[i] : b[i])
                }
            }
        }
    }

    public func state() -> [String: Tensor] { slots.state() }

    public func load(state: [String: Tensor]) throws { try slots.load(state, optimizer: "SGD") }
}
