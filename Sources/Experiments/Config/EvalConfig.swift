/// The validation metric that picks the best epoch and early stopping (higher is better for
/// all): `dice` (the DRIVE recipe's), `miou`, `accuracy`, one class's IoU (`iou.1`), or one of
/// the paper metrics `eval.metrics` computes, pooled over the split: `precision`, `recall` (or
/// `sensitivity`), `specificity`, `f1`, `mcc`, `auc_roc`, `auc_pr`, of class 1 for two classes and
/// the mean over the foreground classes otherwise, or of one class by id (`f1.2`) or by its
/// name in `data.class_names` (`f1.vessel`).
public struct EvalMetric: Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, CaseIterable, Sendable {
        case dice, miou, accuracy, iou, precision, recall, sensitivity, specificity, f1, mcc, auc_roc, auc_pr
    }

    public var kind: Kind
    /// The class scored; nil for the split-wide metrics and the foreground default.
    public var classIndex: Int?
    /// The class's name as the config gives it (`f1.vessel`), which `data.class_names` resolves
    /// to `classIndex`.
    public var className: String?

    public init(_ kind: Kind, classIndex: Int? = nil, className: String? = nil) {
        self.kind = kind
        self.classIndex = classIndex
        self.className = className
    }

    public static let dice = EvalMetric(.dice)
    public static let miou = EvalMetric(.miou)
    public static let accuracy = EvalMetric(.accuracy)

    /// The name in configs, result.txt and the summary (`dice`, `iou.1`, `auc_roc`).
    public var rawValue: String { (className ?? classIndex.map(String.init)).map { "\(kind.rawValue).\($0)" } ?? kind.rawValue }
    public var description: String { rawValue }

    /// Whether the metric comes from `eval.metrics`' paper scores.
    public var needsPixelScores: Bool { ![.dice, .miou, .accuracy, .iou].contains(kind) }

    /// The metric `text` names (`dice`, `f1.vessel`), a class name looked up in `classNames`;
    /// throws a `ReportError` saying what is wrong.
    public static func named(_ text: String, classNames: [String]?) throws -> EvalMetric {
        switch parse(text) {
        case .failure(let e): throw ReportError(e.message)
        case .success(var m):
            guard let name = m.className else { return m }
            guard let index = classNames?.firstIndex(of: name) else {
                throw ReportError("'\(text)': no class is named '\(name)'"
                                  + (classNames.map { "; the classes are \($0.joined(separator: ", "))" + didYouMean(name, in: $0) } ?? ""))
            }
            m.classIndex = index
            return m
        }
    }

    /// Why a metric name does not parse.
    struct ParseError: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }

    /// Parses `name` or `name.K`, or says what is wrong with it.
    static func parse(_ text: String) -> Result<EvalMetric, ParseError> {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard let kind = Kind(rawValue: parts[0]), parts.count <= 2 else {
            let names = Kind.allCases.map { "'\($0.rawValue)'" }
            return .failure(ParseError("must be one of \(names.joined(separator: ", ")), optionally with '.<class>' "
                            + "(as in iou.1), got '\(text)'\(didYouMean(parts[0], in: Kind.allCases.map(\.rawValue)))"))
        }
        guard parts.count == 2 else {
            if kind == .iou { return .failure(ParseError("needs a class, as in iou.1 (miou is the mean over classes)")) }
            return .success(EvalMetric(kind))
        }
        let perClass = [.iou].contains(kind) || EvalMetric(kind).needsPixelScores
        if perClass, !parts[1].isEmpty, Int(parts[1]) == nil { return .success(EvalMetric(kind, className: parts[1])) }
        guard let c = Int(parts[1]), c >= 0, perClass else {
            return .failure(ParseError("must name a class by its id or data.class_names name after the dot, as in "
                                       + "\(kind == .iou ? "iou" : kind.rawValue).1, got '\(text)'"
                                       + (perClass ? "" : " (\(kind.rawValue) has no classes)")))
        }
        return .success(EvalMetric(kind, classIndex: c))
    }
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
    /// Whole images or sliding windows, and test-time flips (`eval.mode`, `eval.tta`, ...).
    public var inference = InferenceConfig()

    public init() {}
}

extension EvalConfig: ConfigSection {
    static let keys: [ConfigKey<EvalConfig>] = [
        .value("every", \.every, check: { [($0.every >= 1, "must be >= 1")] }),
        .value("metric", \.metric, reading: { r, key, node, _ in
            guard let text = r.string(key, node) else { return nil }
            switch EvalMetric.parse(text) {
            case .success(let metric): return metric
            case .failure(let error):
                r.error(key, error.message)
                return nil
            }
        }, writing: { $0.rawValue }),
        .value("save_best", \.saveBest),
        // Written only when on, so that the configs (and run hashes) of runs without it stay as they were.
        .value("metrics", \.metrics, check: { e in
            [(e.metrics || !e.metric.needsPixelScores, "must be true for eval.metric '\(e.metric)', one of its scores")]
        }, writing: { $0 ? "true" : nil }),
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
    ] + inferenceKeys
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
