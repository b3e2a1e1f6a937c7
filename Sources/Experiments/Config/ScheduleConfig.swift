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

extension ScheduleConfig {
    init(_ r: SectionReader) {
        self.init()
        epochs = r.int("epochs", epochs)
        r.check("epochs", epochs >= 1, "must be >= 1")
        batchSize = r.int("batch_size", batchSize)
        r.check("batch_size", batchSize >= 1, "must be >= 1")
        let w = r.section("warmup")
        warmup.epochs = w.int("epochs", warmup.epochs)
        w.check("epochs", warmup.epochs >= 0, "must be >= 0 (0 turns warmup off)")
        if warmup.epochs > 0 {
            warmup.factor = w.double("factor", warmup.factor)
            w.check("factor", warmup.factor > 0 && warmup.factor <= 1, "is the starting fraction of lr and must be in (0, 1]")
            warmup.shape = w.choice("shape", warmup.shape)
        }
        decay = r.choice("decay", decay)
        switch decay {
        case .poly:
            power = r.double("power", power)
            r.check("power", power > 0, "must be > 0")
            minLr = r.double("min_lr", minLr)
        case .cosine:
            minLr = r.double("min_lr", minLr)
        case .step:
            if let m = r.optional("milestones", { r.ints($0, $1) }) { milestones = m }
            if !r.has("milestones") { r.error("decay", "is step, so schedule.milestones (epochs at which lr drops) is required") }
            gamma = r.double("gamma", gamma)
            r.check("gamma", gamma > 0 && gamma <= 1, "must be in (0, 1]")
        case .none:
            break
        }
    }

    /// The checks that need the final epoch count (known once stages are read) and the lr.
    /// The default warmup (one epoch) is dropped for a one-epoch run, which would otherwise
    /// be nothing but warmup; a warmup the user wrote must leave epochs after it.
    mutating func check(_ r: SectionReader, lr: Double) {
        let w = r.section("warmup")
        if !w.has("epochs") && warmup.epochs >= epochs { warmup = WarmupConfig(epochs: 0) }
        w.check("epochs", warmup.epochs < epochs, "must be less than schedule.epochs (\(epochs))")
        if decay == .poly || decay == .cosine {
            r.check("min_lr", minLr >= 0 && minLr < lr, "must be >= 0 and below optimizer.lr (\(yamlNumber(lr)))")
        }
        if decay == .step, !milestones.isEmpty {
            let increasing = zip(milestones, milestones.dropFirst()).allSatisfy { $0 < $1 }
            r.check("milestones", increasing && milestones.first! >= 1 && milestones.last! < epochs,
                    "must be increasing epochs in 1...\(epochs - 1)")
        }
    }

    func render(into w: inout YAMLWriter) {
        w.field("epochs", "\(epochs)")
        w.field("batch_size", "\(batchSize)")
        w.section("warmup") { w in
            w.field("epochs", "\(warmup.epochs)")
            if warmup.epochs > 0 {
                w.field("factor", yamlNumber(warmup.factor))
                w.field("shape", warmup.shape.rawValue)
            }
        }
        w.field("decay", decay.rawValue)
        switch decay {
        case .poly:
            w.field("power", yamlNumber(power))
            w.field("min_lr", yamlNumber(minLr))
        case .cosine:
            w.field("min_lr", yamlNumber(minLr))
        case .step:
            w.field("milestones", yamlFlow(milestones.map(String.init)))
            w.field("gamma", yamlNumber(gamma))
        case .none:
            break
        }
    }
}
