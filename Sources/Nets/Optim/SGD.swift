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
                PlainUpdate(p: p, g: g, lr: lr, wd: wd).apply(count: count)
                continue
            }
            let (tensors, first) = slots.slots(key) { [parameter.value.zerosLike()] }
            let b = tensors[0].data
            MomentumUpdate(p: p, g: g, b: b, lr: lr, mu: mu, damp: damp, wd: wd, first: first, nesterov: nesterov)
                .apply(count: count)
        }
    }

    public func state() -> [String: Tensor] { slots.state() }

    public func load(state: [String: Tensor]) throws { try slots.load(state, optimizer: "SGD") }
}

private struct PlainUpdate: ElementwiseUpdate {
    let p: UnsafeMutablePointer<Float>, g: UnsafeMutablePointer<Float>
    let lr: Float, wd: Float

    func update<V: SIMD>(_ at: Lanes<V>) where V.Scalar == Float {
        let p = at.load(self.p)
        at.store(p - lr * (at.load(g) + wd * p), self.p)
    }
}

private struct MomentumUpdate: ElementwiseUpdate {
    let p: UnsafeMutablePointer<Float>, g: UnsafeMutablePointer<Float>, b: UnsafeMutablePointer<Float>
    let lr: Float, mu: Float, damp: Float, wd: Float, first: Bool, nesterov: Bool

    func update<V: SIMD>(_ at: Lanes<V>) where V.Scalar == Float {
        let p = at.load(self.p)
        let d = at.load(g) + wd * p
        // PyTorch starts the buffer at the first gradient itself, not at zero.
        let b = first ? d : mu * at.load(self.b) + damp * d
        at.store(b, self.b)
        at.store(p - lr * (nesterov ? d + mu * b : b), self.p)
    }
}
