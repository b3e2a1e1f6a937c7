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
    /// Ends a run whose `metric` stopped improving; nil (the default) trains every epoch.
    public var earlyStop: EarlyStopConfig?

    public init() {}
}

extension EvalConfig: ConfigSection {
    static let keys: [ConfigKey<EvalConfig>] = [
        .value("every", \.every, check: { [($0.every >= 1, "must be >= 1")] }),
        .value("metric", \.metric),
        .value("save_best", \.saveBest),
        // Written only when on, so that the configs (and run hashes) of runs without it stay as they were.
        .value("metrics", \.metrics, writing: { $0 ? "true" : nil }),
        // Likewise present only when given.
        ConfigKey(name: "early_stop", schema: EarlyStopConfig.schema, applies: { _ in true },
                  read: { section, r in
                      guard r.node("early_stop") != nil else { return }
                      var stop = EarlyStopConfig()
                      stop.readKeys(r.section("early_stop"))
                      section.earlyStop = stop
                  },
                  write: { section, w in
                      if let stop = section.earlyStop { w.section("early_stop") { stop.render(into: &$0) } }
                  },
                  appliesBelow: { _, _ in true }),
    ]
}

/// `eval.early_stop: {patience, min_delta}`, as PyTorch Lightning's `EarlyStopping`: an
/// evaluation improves when its `eval.metric` exceeds the best so far by more than `min_delta`;
/// after `patience` evaluations in a row without improvement the run ends, done, not failed.
public struct EarlyStopConfig: Equatable, Sendable {
    public var patience = 10
    public var minDelta = 0.0

    public init(patience: Int = 10, minDelta: Double = 0) {
        self.patience = patience
        self.minDelta = minDelta
    }

    /// The note for a run that should stop after `scores` (its evaluations in order), or nil.
    public func stopNote(_ scores: [(epoch: Int, score: Double)], metric: String) -> String? {
        var best = -Double.infinity, bestEpoch = -1, waited = 0
        for (epoch, score) in scores {
            if score > best + minDelta {
                (best, bestEpoch, waited) = (score, epoch, 0)
            } else {
                waited += 1
            }
        }
        guard waited >= patience, let last = scores.last else { return nil }
        return "stopped early after epoch \(last.epoch): \(metric) did not improve by more than \(minDelta) in "
            + "\(waited) evaluations (best at epoch \(bestEpoch))"
    }
}

extension EarlyStopConfig: ConfigSection {
    static let keys: [ConfigKey<EarlyStopConfig>] = [
        .value("patience", \.patience, check: { [($0.patience >= 1, "must be >= 1")] }),
        .value("min_delta", \.minDelta, check: { [($0.minDelta >= 0, "must be >= 0")] }),
    ]
}
