import ArgumentParser
import Experiments
import Foundation
import Nets

/// The run a checkpoint belongs to, as `predict` and `eval` find it: the config given, or the
/// `config.yaml` of the run folder two levels above `checkpoints/<file>`, and its first run.
struct CheckpointRun {
    let checkpoint: String
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
        self.checkpoint = checkpoint
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

extension CheckpointRun {
    /// The run of each checkpoint (each its own run folder's config; `config` names the one run's
    /// config of a single checkpoint) and their trained networks as one ensemble. Checkpoints
    /// whose classes or input channels differ exit with status 2.
    static func ensemble(_ checkpoints: [String], config: String?, overrides: [String], checkPaths: Bool,
                         threads: Int?) throws -> (first: CheckpointRun, ensemble: PredictorEnsemble) {
        let sources = try checkpoints.map {
            try CheckpointRun(checkpoint: $0, config: config, overrides: overrides, checkPaths: checkPaths, threads: threads)
        }
        let members = try sources.map { source in
            try source.loading { try Predictor(config: source.run.config, at: source.run.locations, checkpoint: source.checkpoint) }
        }
        if let notice = sources.lazy.compactMap({ KernelLibrary.available($0.run.config.precision).notice }).first {
            CommandErrors.print(notice)
        }
        do {
            return (sources[0], try PredictorEnsemble(members))
        } catch {
            CommandErrors.print("\(error)")
            throw ExitCode(2)
        }
    }

    /// `--checkpoint A B C` takes the values up to the next option, so image files written right
    /// after the checkpoint (`--checkpoint CK img.png`, as before ensembles) would be taken as
    /// checkpoints: after the first, only `.safetensors` files are. Returns the checkpoints and
    /// the values that are images.
    static func separating(_ values: [String]) -> (checkpoints: [String], images: [String]) {
        let images = values.dropFirst().drop { $0.hasSuffix(".safetensors") }
        return (Array(values.dropLast(images.count)), Array(images))
    }
}
