import Nets

/// One fully resolved, validated training configuration: everything that decides a
/// result. Built from YAML by `Experiment.load` (one per run of a sweep); the trainer reads
/// it and never the YAML. `yaml` is its canonical text, the run's `config.yaml`.
public struct ExperimentConfig: Equatable, Sendable {
    /// The experiment's name (its results folder); defaults to the YAML file's name.
    public var name: String
    public var seed = 0
    /// Worker threads; 0 uses every core. Not part of the run hash (see `hash`).
    public var threads = 0
    /// The format the model computes in and keeps its activations in (`Precision`); bf16
    /// falls back to fp32, with a notice, on CPUs without bf16 kernels.
    public var precision = Precision.fp32
    public var data = DataConfig()
    public var model = ModelConfig()
    public var loss = LossConfig()
    public var optimizer = OptimizerConfig()
    public var schedule = ScheduleConfig()
    /// Training phases in order; empty trains all parameters for `schedule.epochs`.
    public var stages: [StageConfig] = []
    /// The `init:` section (`init` is a Swift keyword).
    public var initialization = InitConfig()
    public var eval = EvalConfig()

    /// A config with every default (the PyTorch DRIVE UNet recipe).
    public init(name: String) { self.name = name }

    /// The canonical YAML of this config: every setting that applies, explicit, in the
    /// order of the key tables. It parses back to an equal config with the same hash.
    public var yaml: String { render(includeThreads: true) }

    func render(includeThreads: Bool) -> String {
        var w = YAMLWriter()
        render(into: &w, omitting: includeThreads ? [] : ["threads"])
        return w.text
    }
}

extension ExperimentConfig: ConfigSection {
    static let keys: [ConfigKey<ExperimentConfig>] = [
        .value("name", \.name, check: { [(isFolderName($0.name), "must be usable as a folder name (letters, digits, '_', '-', '.'; not starting with '.')")] }),
        .readBeforeDecoding("base"),
        .value("seed", \.seed, check: { [($0.seed >= 0, "must be >= 0")] }),
        .value("threads", \.threads, check: { [($0.threads >= 0, "must be >= 0 (0 uses every core)")] }),
        // Written only when not fp32, so the configs (and run hashes) of fp32 runs stay as they were.
        .value("precision", \.precision, reading: { r, key, node, _ in r.choice(key, node) },
               writing: { $0 == .fp32 ? nil : $0.rawValue }),
        .section("data", \.data),
        .section("model", \.model),
        .section("loss", \.loss) { c, r in LossConfig(r, numClasses: c.data.numClasses) },
        .section("optimizer", \.optimizer),
        .section("schedule", \.schedule) { _, r in ScheduleConfig(r) },
        .list("stages", \.stages) { c, r in c.readStages(r) },
        .section("init", \.initialization),
        .section("eval", \.eval),
        .readBeforeDecoding("sweep"),
    ]

    /// Whether the setting at a dotted path (`model.base_c`, `stages.1.lr`) applies to this
    /// config, so that changing it changes the config.
    func applies(_ path: String) -> Bool {
        applies(path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)[...])
    }

    /// Reads and validates a merged tree (after `base:` and `--set`, with `sweep:` values
    /// substituted). Problems go to `diagnostics`; the config returned is only meaningful
    /// when none were added.
    static func decode(_ tree: YAMLNode, defaultName: String, options: ConfigOptions,
                       diagnostics: Diagnostics) -> (ExperimentConfig, ConfigLocations) {
        let table = LocationTable(root: tree.location)
        let r = SectionReader(tree, path: "", schema: ConfigSchema.root, fallback: tree.location,
                              diagnostics: diagnostics, locations: table)
        var c = ExperimentConfig(name: defaultName)
        c.readKeys(r)
        let dr = r.section("data"), mr = r.section("model")
        for (key, values) in [("mean", c.data.mean), ("std", c.data.std)] where values.count != c.model.inChannels {
            if dr.has(key) {
                dr.error(key, "has \(values.count) values but model.in_channels is \(c.model.inChannels)")
            } else {
                mr.error("in_channels", "is \(c.model.inChannels), so data.\(key) needs \(c.model.inChannels) values (the default is DRIVE's 3)")
            }
        }

        if let name = c.eval.metric.className {
            if let names = c.data.effectiveClassNames, let index = names.firstIndex(of: name) {
                c.eval.metric.classIndex = index
            } else {
                let known = c.data.effectiveClassNames.map { "the classes are \($0.joined(separator: ", "))" + didYouMean(name, in: $0) }
                    ?? "give the classes names with data.class_names, or use the class id"
                r.section("eval").error("metric", "names class '\(name)', which is not a class name: \(known)")
            }
        }

        let paths = PathResolver(options: options)
        if c.data.dataset != .synthetic {
            c.data.root = paths.resolve(c.data.root, key: "root", in: dr, directory: true)
        }
        if let p = c.data.splits { c.data.splits = paths.resolve(p, key: "splits", in: dr, directory: false) }
        if let p = c.model.pretrained { c.model.pretrained = paths.resolve(p, key: "pretrained", in: mr, directory: false) }
        if let p = c.initialization.checkpoint {
            c.initialization.checkpoint = paths.resolve(p, key: "checkpoint", in: r.section("init"), directory: false)
        }
        return (c, table.locations)
    }

    /// Reads `stages:`, which set `schedule.epochs` when it is not given, then the schedule
    /// checks that need the final epoch count.
    private mutating func readStages(_ r: SectionReader) {
        let sr = r.section("schedule")
        let errorsBefore = r.diagnostics.errors.count
        stages = StageConfig.readList(r.node("stages"), root: r, batchSize: schedule.batchSize, lr: optimizer.lr)
        if !stages.isEmpty {
            let total = stages.reduce(0) { $0 + $1.epochs }
            if !sr.has("epochs") {
                schedule.epochs = total
            } else if total != schedule.epochs {
                r.error("stages", "add up to \(total) epochs, but schedule.epochs is \(schedule.epochs) (line \(sr.location("epochs").line)); make them agree or drop schedule.epochs")
            }
        }
        // Checks against the epoch count and lr only mean something once those are valid;
        // otherwise they would repeat the same mistake as a second, confusing error.
        if r.diagnostics.errors.count == errorsBefore && schedule.epochs >= 1 && optimizer.lr > 0 {
            schedule.check(sr, lr: optimizer.lr)
        }
    }
}

extension Precision: ConfigChoice {}

/// Letters, digits, `_ - . = , +` and not starting with `.` or `-`: safe as a folder name.
func isFolderName(_ s: String) -> Bool {
    guard let first = s.first, first != ".", first != "-" else { return false }
    return s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_-.=,+".contains($0)) }
}
