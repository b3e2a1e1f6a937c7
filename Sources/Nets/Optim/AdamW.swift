/// Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as `torch.optim.AdamW`:
/// p ← p·(1 − lr·weightDecay) before the Adam update, whose gradient carries no L2 term.
public final class AdamW: Adam {
    /// `parameters` is the model's `namedParameters()`; buffers among them are ignored.
    public init(_ parameters: [(String, Parameter)], lr: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999),
                eps: Double = 1e-8, weightDecay: Double = 1e-2, amsgrad: Bool = false) throws {
        try super.init(parameters, lr: lr, betas: betas, eps: eps, weightDecay: weightDecay, amsgrad: amsgrad,
                       decoupled: true)
    }
}
