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

extension OptimizerConfig: ConfigSection {
    static let keys: [ConfigKey<OptimizerConfig>] = [
        .value("name", \.name),
        .value("lr", \.lr, check: { [($0.lr > 0 && $0.lr.isFinite, "must be > 0")] }),
        .value("momentum", \.momentum, when: { $0.name == .sgd }, check: { [($0.momentum >= 0 && $0.momentum < 1, "must be in [0, 1)")] }),
        // PyTorch raises for this too: Nesterov's look-ahead needs momentum.
        .value("nesterov", \.nesterov, when: { $0.name == .sgd }, check: { [(!$0.nesterov || $0.momentum > 0, "needs optimizer.momentum > 0")] }),
        .value("betas", \.betas, when: { $0.isAdam }, check: { o in
            [(o.betas.count == 2 && o.betas.allSatisfy { $0 >= 0 && $0 < 1 }, "must be [beta1, beta2], each in [0, 1)")]
        }),
        .value("eps", \.eps, when: { $0.isAdam }, check: { [($0.eps > 0, "must be > 0")] }),
        .value("weight_decay", \.weightDecay, check: { [($0.weightDecay >= 0 && $0.weightDecay.isFinite, "must be >= 0")] }),
    ]

    private var isAdam: Bool { name == .adam || name == .adamw }
}
