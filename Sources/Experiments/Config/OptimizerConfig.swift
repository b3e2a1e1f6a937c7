/// The optimisers a config can name (`Nets/Optim`).
public enum OptimizerName: String, ConfigChoice {
    case sgd, adam, adamw
}

/// The `optimizer:` section. Defaults are the DRIVE recipe: SGD, lr 0.01, momentum 0.9,
/// weight decay 1e-4. `momentum`/`nesterov` apply to SGD and `betas`/`eps` to Adam and
/// AdamW; keys that do not apply are ignored (a base file's SGD momentum does not block
/// an Adam override) and left out of the resolved config.
public struct OptimizerConfig: Equatable, Sendable {
    public var name = OptimizerName.sgd
    public var lr = 0.01
    public var momentum = 0.9
    public var nesterov = false
    public var weightDecay = 1e-4
    public var betas = [0.9, 0.999]
    public var eps = 1e-8

    public init() {}
}

extension OptimizerConfig {
    init(_ r: SectionReader) {
        self.init()
        name = r.choice("name", name)
        lr = r.double("lr", lr)
        r.check("lr", lr > 0 && lr.isFinite, "must be > 0")
        weightDecay = r.double("weight_decay", weightDecay)
        r.check("weight_decay", weightDecay >= 0 && weightDecay.isFinite, "must be >= 0")
        switch name {
        case .sgd:
            momentum = r.double("momentum", momentum)
            r.check("momentum", momentum >= 0 && momentum < 1, "must be in [0, 1)")
            nesterov = r.bool("nesterov", nesterov)
            // PyTorch raises for this too: Nesterov's look-ahead needs momentum.
            r.check("nesterov", !nesterov || momentum > 0, "needs optimizer.momentum > 0")
        case .adam, .adamw:
            betas = r.doubles("betas", betas)
            r.check("betas", betas.count == 2 && betas.allSatisfy { $0 >= 0 && $0 < 1 }, "must be [beta1, beta2], each in [0, 1)")
            eps = r.double("eps", eps)
            r.check("eps", eps > 0, "must be > 0")
        }
    }

    func render(into w: inout YAMLWriter) {
        w.field("name", name.rawValue)
        w.field("lr", yamlNumber(lr))
        switch name {
        case .sgd:
            w.field("momentum", yamlNumber(momentum))
            w.field("nesterov", "\(nesterov)")
        case .adam, .adamw:
            w.field("betas", yamlFlow(betas.map(yamlNumber)))
            w.field("eps", yamlNumber(eps))
        }
        w.field("weight_decay", yamlNumber(weightDecay))
    }
}
