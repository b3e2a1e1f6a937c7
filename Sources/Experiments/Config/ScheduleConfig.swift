/// How the learning-rate factor rises during warmup: held at `factor`, or from `factor`
/// to 1 along a line or a half cosine.
public enum WarmupShape: String, ConfigChoice {
    case constant, linear, cosine
}

/// How the learning rate falls after warmup.
public enum DecayKind: String, ConfigChoice {
    /// `(1 - t)^power` over the remaining iterations, down to `min_lr`.
    case poly
    /// Half cosine from lr down to `min_lr`.
    case cosine
    /// × `gamma` at each epoch in `milestones`.
    case step
    /// Constant.
    case none
}

/// The `schedule.warmup:` section. Defaults are the DRIVE recipe: one epoch, linear from
/// 1e-3 × lr. `epochs: 0` turns warmup off.
public struct WarmupConfig: Equatable, Sendable {
    public var epochs = 1
    public var factor = 1e-3
    public var shape = WarmupShape.linear

    public init() {}

    init(epochs: Int) { self.epochs = epochs }
}

/// The `schedule:` section. Learning rates are stepped per iteration, as the recipe's
/// `LambdaLR`. Defaults are the recipe: 200 epochs of batch 4, one warmup epoch, then
/// poly decay with power 0.9 to 0. Keys of the other decay kinds are ignored and left
/// out of the resolved config.
public struct ScheduleConfig: Equatable, Sendable {
    /// Total epochs; with `stages` and no explicit value, the sum of the stages' epochs.
    public var epochs = 200
    public var batchSize = 4
    public var warmup = WarmupConfig()
    public var decay = DecayKind.poly
    /// Exponent of poly decay.
    public var power = 0.9
    /// Floor of poly and cosine decay.
    public var minLr = 0.0
    /// Epochs at which step decay multiplies the lr by `gamma`, increasing.
    public var milestones: [Int] = []
    public var gamma = 0.1

    public init() {}
}

extension ScheduleConfig: ConfigSection {
    static let keys: [ConfigKey<ScheduleConfig>] = [
        .value("epochs", \.epochs, check: { [($0.epochs >= 1, "must be >= 1")] }),
        .value("batch_size", \.batchSize, check: { [($0.batchSize >= 1, "must be >= 1")] }),
        .section("warmup", \.warmup),
        .value("decay", \.decay),
        .value("power", \.power, when: { $0.decay == .poly }, check: { [($0.power > 0, "must be > 0")] }),
        .value("min_lr", \.minLr, when: { $0.decaysToMinLr }),
        // null is an empty list: step decay that never drops.
        .value("milestones", \.milestones, when: { $0.decay == .step },
               reading: { r, key, node, _ in node.isNull ? nil : r.ints(key, node) }),
        .value("gamma", \.gamma, when: { $0.decay == .step }, check: { [($0.gamma > 0 && $0.gamma <= 1, "must be in (0, 1]")] }),
    ]

    init(_ r: SectionReader) {
        self.init()
        readKeys(r)
        if decay == .step && !r.has("milestones") {
            r.error("decay", "is step, so schedule.milestones (epochs at which lr drops) is required")
        }
    }

    /// The checks that need the final epoch count (known once stages are read) and the lr.
    /// The default warmup (one epoch) is dropped for a one-epoch run, which would otherwise
    /// be nothing but warmup; a warmup the user wrote must leave epochs after it.
    mutating func check(_ r: SectionReader, lr: Double) {
        let w = r.section("warmup")
        if !w.has("epochs") && warmup.epochs >= epochs { warmup = WarmupConfig(epochs: 0) }
        w.check("epochs", warmup.epochs < epochs, "must be less than schedule.epochs (\(epochs))")
        if decaysToMinLr {
            r.check("min_lr", minLr >= 0 && minLr < lr, "must be >= 0 and below optimizer.lr (\(yamlNumber(lr)))")
        }
        if decay == .step, !milestones.isEmpty {
            let increasing = zip(milestones, milestones.dropFirst()).allSatisfy { $0 < $1 }
            r.check("milestones", increasing && milestones.first! >= 1 && milestones.last! < epochs,
                    "must be increasing epochs in 1...\(epochs - 1)")
        }
    }

    /// Poly and cosine decay end at `min_lr`.
    private var decaysToMinLr: Bool { decay == .poly || decay == .cosine }
}

extension WarmupConfig: ConfigSection {
    static let keys: [ConfigKey<WarmupConfig>] = [
        .value("epochs", \.epochs, check: { [($0.epochs >= 0, "must be >= 0 (0 turns warmup off)")] }),
        .value("factor", \.factor, when: { $0.epochs > 0 },
               check: { [($0.factor > 0 && $0.factor <= 1, "is the starting fraction of lr and must be in (0, 1]")] }),
        .value("shape", \.shape, when: { $0.epochs > 0 }),
    ]
}
