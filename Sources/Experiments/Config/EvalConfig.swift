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
    /// Also compute the paper metrics (`PixelScores`: precision, sensitivity, specificity, F1,
    /// MCC, ROC and PR areas), into metrics.jsonl and a block of result.txt.
    public var metrics = false

    public init() {}
}

extension EvalConfig: ConfigSection {
    static let keys: [ConfigKey<EvalConfig>] = [
        .value("every", \.every, check: { [($0.every >= 1, "must be >= 1")] }),
        .value("metric", \.metric),
        .value("save_best", \.saveBest),
        // Written only when on, so that the configs (and run hashes) of runs without it stay as they were.
        .value("metrics", \.metrics, writing: { $0 ? "true" : nil }),
    ]
}
