/// An experiment file loaded, merged, validated and expanded into its runs: the single
/// entry point from YAML to the trainer. Every problem of the file, of its `base:` files,
/// of `--set` overrides and of every run of its sweep is thrown together as `ConfigErrors`
/// before anything trains.
///
/// ```swift
/// do {
///     let experiment = try Experiment.load("experiments/drive_unet.yaml", overrides: ["model.base_c=64"])
///     for run in experiment.runs { try train(run) }
/// } catch {
///     print(error)  // ConfigErrors: one `file.yaml:LINE:COL: message` line per problem
///     exit(2)
/// }
/// ```
public struct Experiment: Sendable {
    /// The YAML file as given.
    public let file: String
    /// The experiment's name (`results/<name>/`).
    public let name: String
    /// The swept paths in run-id order (the dry-run table's columns).
    public let sweptPaths: [String]
    public let runs: [RunSpec]

    /// Loads `path` (relative to `options.currentDirectory`) with its `base:` files and
    /// `overrides` (`"model.base_c=64"`, the text after `--set`).
    public static func load(_ path: String, overrides: [String] = [], options: ConfigOptions = ConfigOptions()) throws(ConfigErrors) -> Experiment {
        let diagnostics = Diagnostics()
        guard let tree = ConfigSources.load(path, options: options, diagnostics: diagnostics) else {
            throw ConfigErrors(diagnostics.errors)
        }
        return try expand(tree, file: path, overrides: overrides, options: options, diagnostics: diagnostics)
    }

    /// Like `load`, from YAML text; `file` names it in messages and anchors `base:` paths.
    public static func parse(_ text: String, file: String = "config.yaml", overrides: [String] = [],
                             options: ConfigOptions = ConfigOptions()) throws(ConfigErrors) -> Experiment {
        let diagnostics = Diagnostics()
        guard let tree = ConfigSources.load(file, text: text, options: options, diagnostics: diagnostics) else {
            throw ConfigErrors(diagnostics.errors)
        }
        return try expand(tree, file: file, overrides: overrides, options: options, diagnostics: diagnostics)
    }

    private static func expand(_ merged: YAMLNode, file: String, overrides: [String], options: ConfigOptions,
                               diagnostics: Diagnostics) throws(ConfigErrors) -> Experiment {
        let tree = ConfigSources.applyOverrides(merged, overrides, diagnostics: diagnostics)
        var spec = SweepSpec(tree["sweep"], diagnostics: diagnostics)
        let base = YAMLNode(.mapping((tree.mapping ?? []).filter { $0.key != "sweep" }), at: tree.location)
        spec.expandAllFolds(in: base, diagnostics)
        let defaultName = RunID.sanitize(fileStem(file))
        checkOverridesAgainstSweep(overrides, spec, diagnostics)

        let runCount = spec.runCount
        if runCount == nil {
            diagnostics.error("sweep expands to more than \(SweepSpec.maxRuns) runs", at: tree["sweep"]?.location ?? tree.location)
        }
        guard diagnostics.isEmpty, runCount != nil else {
            // Still report the rest of the file's problems in the same pass.
            _ = ExperimentConfig.decode(base, defaultName: defaultName, options: options, diagnostics: diagnostics)
            throw ConfigErrors(diagnostics.errors)
        }

        let assignments = spec.expand()
        // Short keys are unique over swept and overridden paths together (`epochs` twice
        // becomes `schedule.epochs` and `schedule.warmup.epochs`).
        let overrideParts = overrides.compactMap(RunID.override(_:))
        let allKeys = RunID.keys(for: overrideParts.map(\.path) + spec.paths)
        let keys = Array(allKeys.dropFirst(overrideParts.count))
        let swept = assignments.map { run in
            run.enumerated().map { SweptValue(path: $1.path, key: keys[$0], text: $1.text, location: $1.value.location) }
        }
        // A swept mapping (`optimizer: [{name: sgd}, {name: adam}]`) shows its own keys.
        // `--set` values come first in the id, so runs of one file with different overrides
        // (`--set model.name=fcn`) get ids that say what differs, as Hydra's override dirnames do.
        let overridden = zip(allKeys, overrideParts).map { "\($0)=\($1.value)" }
        let ids = RunID.ids(for: assignments.map { run in
            overridden + run.enumerated().map { $1.value.mapping != nil ? $1.text : "\(keys[$0])=\($1.text)" }
        })
        var runs: [RunSpec] = []
        var failures = RunFailures(runCount: assignments.count)
        for (i, run) in assignments.enumerated() {
            let runDiagnostics = Diagnostics()
            var runTree = base
            for a in run {
                let path = ConfigSources.overridePath(a.path)
                do throws(ConfigError) { runTree = try ConfigSources.set(runTree, path, a.value, at: a.value.location) } catch {
                    runDiagnostics.append([error])
                }
            }
            let (config, locations) = ExperimentConfig.decode(runTree, defaultName: defaultName, options: options, diagnostics: runDiagnostics)
            failures.add(runDiagnostics.errors, run: i)
            runs.append(RunSpec(index: i, id: ids[i], hash: config.hash, swept: swept[i], config: config, locations: locations))
        }
        var errors = failures.errors(ids: ids)
        if errors.isEmpty { errors = unusedSettings(runs, overrides: overrides) }
        guard errors.isEmpty else { throw ConfigErrors(errors) }
        return Experiment(file: file, name: runs.first?.config.name ?? defaultName, sweptPaths: spec.paths, runs: runs)
    }

    /// Swept or overridden keys that do not apply to the runs' configs (`model.base_c` with an
    /// FCN): runs that differ only in them train the same config under different names.
    private static func unusedSettings(_ runs: [RunSpec], overrides: [String]) -> [ConfigError] {
        func why(_ path: String, _ config: ExperimentConfig) -> String {
            guard path.hasPrefix("model.") else { return "this config does not use \(path)" }
            let model = config.model.name == .unet && config.model.encoder != .plain
                ? "a UNet with encoder \(config.model.encoder.rawValue)" : "model \(config.model.name.rawValue)"
            return "\(model) does not use \(path)"
        }
        var errors: [ConfigError] = []
        var firstOfHash: [String: RunSpec] = [:]
        var reported: Set<String> = []  // one error per swept key, not one per pair of runs
        for run in runs {
            guard let first = firstOfHash[run.hash] else {
                firstOfHash[run.hash] = run
                continue
            }
            let differing = run.swept.filter { value in first.swept.first { $0.path == value.path }?.text != value.text }
            guard let unused = differing.first(where: { !run.config.applies($0.path) }) ?? differing.first,
                  reported.insert(unused.path).inserted else { continue }
            errors.append(ConfigError("runs '\(first.id)' and '\(run.id)' would train the same config: "
                                      + "\(why(unused.path, run.config)); take \(unused.path) out of the sweep",
                                      at: unused.location))
        }
        for text in overrides {
            guard let (path, _) = RunID.override(text), let run = runs.first,
                  !runs.contains(where: { $0.config.applies(path) }) else { continue }
            errors.append(ConfigError("\(why(path, run.config)), so this --set changes nothing",
                                      at: .argument("--set \(text)")))
        }
        return errors
    }

    /// A `--set` of a swept path would be silently overridden by the sweep; say how to
    /// change the sweep instead.
    private static func checkOverridesAgainstSweep(_ overrides: [String], _ spec: SweepSpec, _ diagnostics: Diagnostics) {
        for text in overrides {
            guard let eq = text.firstIndex(of: "=") else { continue }
            let path = String(text[..<eq])
            guard !path.hasPrefix("sweep") else { continue }
            for (swept, location) in spec.keyLocations where swept == path || swept.hasPrefix(path + ".") || path.hasPrefix(swept + ".") {
                diagnostics.error("\(swept) is swept (\(location)); change the sweep instead, as in --set 'sweep.\(swept)=[\(text[text.index(after: eq)...])]'", at: .argument("--set \(text)"))
            }
        }
    }
}

/// A file's name without folder and extension (`experiments/drive_unet.yaml` → `drive_unet`).
func fileStem(_ path: String) -> String {
    let name = path.split(separator: "/").last.map(String.init) ?? path
    guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return name.isEmpty ? "experiment" : name }
    return String(name[..<dot])
}

/// Merges the errors of all runs: one that every run has is reported once as is; one
/// that only some runs have names the first of them (`run base_c=8: ...`) and how many
/// others share it.
struct RunFailures {
    let runCount: Int
    private var order: [ConfigError] = []
    private var runsOf: [ConfigError: [Int]] = [:]

    init(runCount: Int) { self.runCount = runCount }

    mutating func add(_ errors: [ConfigError], run: Int) {
        for e in errors {
            if runsOf[e] == nil { order.append(e) }
            if runsOf[e]?.last != run { runsOf[e, default: []].append(run) }
        }
    }

    func errors(ids: [String]) -> [ConfigError] {
        order.map { e in
            let runs = runsOf[e] ?? []
            guard runs.count < runCount else { return e }
            let others = runs.count > 1 ? " (and \(runs.count - 1) more run\(runs.count == 2 ? "" : "s"))" : ""
            return ConfigError("run \(ids[runs[0]]): \(e.message)\(others)", at: e.location)
        }
    }
}
