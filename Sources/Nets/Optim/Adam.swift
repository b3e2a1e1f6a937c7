import Foundation

/// Adam (Kingma & Ba, 2015), as `torch.optim.Adam`, with L2 weight decay added to the
/// gradient and optional AMSGrad (Reddi et al., 2018).
///
/// Per parameter, at its own step t: g += weightDecay·p; m ← β₁m + (1 − β₁)g;
/// v ← β₂v + (1 − β₂)g²; (AMSGrad: v̂ ← max(v̂, v), used in place of v);
/// p −= lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε).
public class Adam: Optimizer {
    public var lr: Double
    public let beta1: Double
    public let beta2: Double
    public let eps: Double
    public let weightDecay: Double
    public let amsgrad: Bool
    /// AdamW's decay p ← p·(1 − lr·weightDecay) before the update, instead of L2 in the gradient.
    let decoupledWeightDecay: Bool
    var slots: ParameterSlots

    /// `parameters` is the model's `namedParameters()`; buffers among them are ignored.
    public convenience init(_ parameters: [(String, Parameter)], lr: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999),
                            eps: Double = 1e-8, weightDecay: Double = 0, amsgrad: Bool = false) throws {
        try self.init(parameters, lr: lr, betas: betas, eps: eps, weightDecay: weightDecay, amsgrad: amsgrad,
                      decoupled: false)
    }

    init(_ parameters: [(String, Parameter)], lr: Double, betas: (Double, Double), eps: Double, weightDecay: Double,
         amsgrad: Bool, decoupled: Bool) throws {
        try checkHyperparameter("learning rate", lr, 0...)
        try checkHyperparameter("beta parameter at index 0", betas.0, 0..<1)
        try checkHyperparameter("beta parameter at index 1", betas.1, 0..<1)
        try checkHyperparameter("epsilon value", eps, 0...)
        try checkHyperparameter("weight_decay value", weightDecay, 0...)
        self.lr = lr
        (beta1, beta2) = betas
        self.eps = eps
        self.weightDecay = weightDecay
        self.amsgrad = amsgrad
        decoupledWeightDecay = decoupled
        slots = ParameterSlots(parameters, names: ["step", "exp_avg", "exp_avg_sq"] + (amsgrad ? ["max_exp_avg_sq"] : []),
                               scalar: ["step"])
    }

    public func step() {
        slots.steps += 1
        // As in PyTorch: scalar arithmetic in double, rounded to float32 where it meets a tensor.
        let decay = Float(1 - lr * weightDecay)
        let l2 = decoupledWeightDecay ? 0 : Float(weightDecay)
        let b2 = Float(beta2), w1 = Float(1 - beta1), w2 = Float(1 - beta2), eps = Float(eps), amsgrad = amsgrad
        let moments = slots.names.count - 1
        for (key, parameter, grad) in slots.updatable {
            let tensors = slots.slots(key) {
                [Tensor(shape: [])] + (0..<moments).map { _ in parameter.value.zerosLike() }
            }.tensors
            tensors[0].data[0] += 1
            let t = Double(tensors[0].data[0])
            let stepSize = Float(lr / (1 - pow(beta1, t)))
            let correction2 = Float((1 - pow(beta2, t)).squareRoot())
            AdamUpdate(p: parameter.value.data, g: grad.data, m: tensors[1].data, v: tensors[2].data,
                       vmax: amsgrad ? tensors[3].data : nil, decay: decoupledWeightDecay && weightDecay != 0 ? decay : nil,
                       l2: l2, w1: w1, b2: b2, w2: w2, eps: eps, stepSize: stepSize, correction2: correction2)
                .apply(count: grad.count)
        }
    }

    public func state() -> [String: Tensor] { slots.state() }

    public func load(state: [String: Tensor]) throws {
        try slots.load(state, optimizer: decoupledWeightDecay ? "AdamW" : "Adam")
    }
}

private struct AdamUpdate: ElementwiseUpdate {
    let p: UnsafeMutablePointer<Float>, g: UnsafeMutablePointer<Float>
    let m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>
    /// AMSGrad's running maximum of v, if on.
    let vmax: UnsafeMutablePointer<Float>?
    /// AdamW's factor 1 − lr·weightDecay, if decoupled.
    let decay: Float?
    let l2: Float, w1: Float, b2: Float, w2: Float, eps: Float, stepSize: Float, correction2: Float

    func update<V: SIMD>(_ at: Lanes<V>) where V.Scalar == Float {
        var p = at.load(self.p)
        if let decay { p *= decay }
        let g = at.load(self.g) + l2 * p
        var m = at.load(self.m)
        // torch's lerp_(g, w) formula, exact at both ends.
        m = w1 < 0.5 ? m + w1 * (g - m) : g - (g - m) * (1 - w1)
        var v = at.load(self.v) * b2 + w2 * g * g
        at.store(m, self.m)
        at.store(v, self.v)
        if let vmax = self.vmax {
            let old = at.load(vmax)
            v = old.replacing(with: v, where: v .>= old)  // Swift's max(old, v)
            at.store(v, vmax)
        }
        let denom = v.squareRoot() / correction2 + eps
        at.store(p + -stepSize * m / denom, self.p)
    }
}
