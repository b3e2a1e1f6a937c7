import ArgumentParser
import Experiments
import Foundation
import Nets

/// The run a checkpoint belongs to, as `predict` and `eval` find it: the config given, or the
/// `config.yaml` of the run folder two levels above `checkpoints/<file>`, and its first run.
struct CheckpointRun {
    let run: RunSpec
    let configPath: String

    /// A cross-validation run's `splits.json`, in the experiment folder above its run folder;
    /// read, never written, so the fold is the one the run trained with.
    let splits: SplitsStore

    /// The run folder holding `checkpoints/<file>`.
    static func directory(of checkpoint: String) -> String {
        URL(fileURLWithPath: checkpoint).deletingLastPathComponent().deletingLastPathComponent().path
    }

    /// Exits 1 for a missing checkpoint and 2 for a missing run config or a config error; sets
    /// the threads (`threads`, else the config's).
    init(checkpoint: String, config: String?, overrides: [String] = [], checkPaths: Bool, threads: Int?) throws {
        guard FileManager.default.fileExists(atPath: checkpoint) else {
            CommandErrors.print("\(checkpoint): checkpoint not found")
            throw ExitCode(1)
        }
        let path = config ?? CheckpointRun.directory(of: checkpoint) + "/config.yaml"
        if config == nil && !FileManager.default.fileExists(atPath: path) {
            CommandErrors.print("\(path): no config.yaml in the checkpoint's run folder; give the run's config with --config")
            throw ExitCode(2)
        }
        let experiment = try CommandErrors.loadingConfig {
            try Experiment.load(path, overrides: overrides, options: ConfigOptions(checkPaths: checkPaths))
        }
        run = experiment.runs[0]
        configPath = path
        splits = SplitsStore(runDirectory: CheckpointRun.directory(of: checkpoint), creates: false)
        if experiment.runs.count > 1 {
            CommandErrors.print("note: \(path) has \(experiment.runs.count) runs; using the first (\(run.id)). "
                                + "Give the run's own config.yaml to be sure it matches the checkpoint.")
        }
        if let n = threads ?? (run.config.threads > 0 ? run.config.threads : nil) { Threads.set(n) }
    }

    /// `body`'s result (see `CommandErrors.failing`); keys that do not fit the model ask
    /// whether the config is the checkpoint's.
    func loading<T>(_ body: () throws -> T) throws -> T {
        try CommandErrors.failing(hint: { $0 is StateDict.LoadError ? "does \(configPath) describe the run that wrote this checkpoint?" : nil },
                                  body)
    }
}
