/// One fully resolved, validated training configuration: everything that decides a
/// result. Built from YAML by `Experiment.load` (one per run of a sweep); the trainer reads
/// it and never the YAML. `yaml` is its canonical text, the run's `config.yaml`.
public struct ExperimentConfig: Equatable, Sendable {
    /// The experiment's name (its results folder); defaults to the YAML file's name.
    public var name: String
    public var seed = 0
    /// Worker threads; 0 uses every core. Not part of the run hash (see `hash`).
    public var threads = 0
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

    /// The canonical YAML of this config: every setting explicit, in schema order. It
    /// parses back to an equal config with the same hash.
    public var yaml: String { render(includeThreads: true) }

    func render(includeThreads: Bool) -> String {
        var w = YAMLWriter()
        w.field("name", yamlString(name))
        w.field("seed", "\(seed)")
        if includeThreads { w.field("threads", "\(threads)") }
        w.section("data") { data.render(into: &$0) }
        w.section("model") { model.render(into: &$0) }
        w.section("loss") { loss.render(into: &$0) }
        w.section("optimizer") { optimizer.render(into: &$0) }
        w.section("schedule") { schedule.render(into: &$0) }
        w.list("stages", stages) { $1.render(into: &$0) }
        w.section("init") { initialization.render(into: &$0) }
        w.section("eval") { eval.render(into: &$0) }
        return w.text
    }
}

extension ExperimentConfig {
    /// Reads and validates a merged tree (after `base:` and `--set`, with `sweep:` values
    /// substituted). Problems go to `diagnostics`; the config returned is only meaningful
    /// when none were added.
    static func decode(_ tree: YAMLNode, defaultName: String, options: ConfigOptions,
                       diagnostics: Diagnostics) -> (ExperimentConfig, ConfigLocations) {
        let table = LocationTable(root: tree.location)
        let r = SectionReader(tree, path: "", schema: ConfigSchema.root, fallback: tree.location,
                              diagnostics: diagnostics, locations: table)
        var c = ExperimentConfig(name: r.string("name", defaultName))
        r.check("name", isFolderName(c.name), "must be usable as a folder name (letters, digits, '_', '-', '.'; not starting with '.')")
        c.seed = r.int("seed", c.seed)
        r.check("seed", c.seed >= 0, "must be >= 0")
        c.threads = r.int("threads", c.threads)
        r.check("threads", c.threads >= 0, "must be >= 0 (0 uses every core)")

        let dr = r.section("data"), mr = r.section("model")
        c.data = DataConfig(dr)
        c.model = ModelConfig(mr)
        c.loss = LossConfig(r.section("loss"), numClasses: c.data.numClasses)
        c.optimizer = OptimizerConfig(r.section("optimizer"))
        let sr = r.section("schedule")
        c.schedule = ScheduleConfig(sr)
        let errorsBefore = diagnostics.errors.count
        c.stages = StageConfig.readList(r.node("stages"), root: r, batchSize: c.schedule.batchSize, lr: c.optimizer.lr)
        if !c.stages.isEmpty {
            let total = c.stages.reduce(0) { $0 + $1.epochs }
            if !sr.has("epochs") {
                c.schedule.epochs = total
            } else if total != c.schedule.epochs {
                r.error("stages", "add up to \(total) epochs, but schedule.epochs is \(c.schedule.epochs) (line \(sr.location("epochs").line)); make them agree or drop schedule.epochs")
            }
        }
        // Checks against the epoch count and lr only mean something once those are valid;
        // otherwise they would repeat the same mistake as a second, confusing error.
        if diagnostics.errors.count == errorsBefore && c.schedule.epochs >= 1 && c.optimizer.lr > 0 {
            c.schedule.check(sr, lr: c.optimizer.lr)
        }
        c.initialization = InitConfig(r.section("init"))
        c.eval = EvalConfig(r.section("eval"))

        for (key, values) in [("mean", c.data.mean), ("std", c.data.std)] where values.count != c.model.inChannels {
            if dr.has(key) {
                dr.error(key, "has \(values.count) values but model.in_channels is \(c.model.inChannels)")
            } else {
                mr.error("in_channels", "is \(c.model.inChannels), so data.\(key) needs \(c.model.inChannels) values (the default is DRIVE's 3)")
            }
        }

        let paths = PathResolver(options: options)
        if c.data.dataset != .synthetic {
            c.data.root = paths.resolve(c.data.root, key: "root", in: dr, directory: true)
        }
        if let p = c.model.pretrained { c.model.pretrained = paths.resolve(p, key: "pretrained", in: mr, directory: false) }
        if let p = c.initialization.checkpoint {
            c.initialization.checkpoint = paths.resolve(p, key: "checkpoint", in: r.section("init"), directory: false)
        }
        return (c, table.locations)
    }
}

/// Letters, digits, `_ - . = , +` and not starting with `.` or `-`: safe as a folder name.
func isFolderName(_ s: String) -> Bool {
    guard let first = s.first, first != ".", first != "-" else { return false }
    return s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_-.=,+".contains($0)) }
}
