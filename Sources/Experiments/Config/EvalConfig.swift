/// The validation metric that picks the best epoch (higher is better for all).
public enum EvalMetric: String, ConfigChoice {
    /// Dice of the foreground classes, averaged per image (the DRIVE recipe's choice).
    case dice
    /// Mean IoU over classes, from the confusion matrix.
    case miou
    /// Global pixel accuracy ("global correct").
    case accuracy
}

/// The `eval:` section. Defaults are the recipe: evaluate every epoch, keep the best by Dice.
public struct EvalConfig: Equatable, Sendable {
    /// Evaluate every this many epochs (the last epoch is always evaluated).
    public var every = 1
    public var metric = EvalMetric.dice
    /// Keep `best.safetensors` of the best epoch by `metric`.
    public var saveBest = true

    public init() {}
}

extension EvalConfig {
    init(_ r: SectionReader) {
        self.init()
        every = r.int("every", every)
        r.check("every", every >= 1, "must be >= 1")
        metric = r.choice("metric", metric)
        saveBest = r.bool("save_best", saveBest)
    }

    func render(into w: inout YAMLWriter) {
        w.field("every", "\(every)")
        w.field("metric", metric.rawValue)
        w.field("save_best", "\(saveBest)")
    }
}
