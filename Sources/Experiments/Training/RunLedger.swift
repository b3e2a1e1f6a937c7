import Foundation
import Nets

/// Where a run folder stands now, as `runexp status` and the sweep summary report it: the
/// status file says what the last session wrote, and the run's lock says whether a process is
/// training it at this moment (so a run whose process was killed shows `interrupted`, not
/// `running`, and one trained on another machine of a shared folder shows its holder).
public struct RunState: Sendable, Equatable {
    public var status: RunStatus
    /// running: who holds it (`pid 123 on node7 since 2026-12-05T09:12:00Z`); failed: its error;
    /// done or interrupted: why it ended, when said.
    public var detail: String
    /// Wall-clock seconds of its sessions so far, when recorded.
    public var wallSeconds: Double?

    init(status: RunStatus, detail: String, wallSeconds: Double?) {
        self.status = status
        self.detail = detail
        self.wallSeconds = wallSeconds
    }

    /// The state of the run in `directory` (which may not exist yet: pending).
    public init(of directory: String) {
        let file = RunStatusFile.read(directory)
        wallSeconds = file?.wallSeconds
        if FileLock.isHeld(directory + "/run.lock") {
            status = .running
            detail = FileLock.holder(directory + "/run.lock")
            return
        }
        let resumable = "no process holds it; the same command resumes it"
        guard let file else {
            // A checkpoint without a status file: killed before it wrote one.
            let started = FileManager.default.fileExists(atPath: Checkpoint.resumePath(directory))
            status = started ? .interrupted : .pending
            detail = started ? resumable : ""
            return
        }
        switch file.status {
        case .done, .failed, .pending:
            status = file.status
            detail = file.note
        case .running, .interrupted:
            // `running` with no holder: the process died without saying so (SIGKILL, power cut).
            status = .interrupted
            detail = file.note.isEmpty || file.note == "interrupted" ? resumable : file.note
        }
    }
}

/// One line of `runexp status`: a run, its state, how far it got and its best score so far.
public struct LedgerEntry: Sendable {
    public var id: String
    public var directory: String
    public var state: RunState
    /// Epochs recorded in metrics.jsonl, and the run's total when its config is known.
    public var epochs: Int
    public var totalEpochs: Int?
    /// The selection metric's name and the best evaluated epoch by it.
    public var metric: EvalMetric
    public var best: EpochRecord?
    /// The run's resolved config (its config.yaml), when it reads.
    public var config: ExperimentConfig?
    /// Every epoch's record so far.
    public var records: [EpochRecord]

    /// An entry of a run whose state and records are known (tests, tools).
    init(id: String, state: RunState, records: [EpochRecord], config: ExperimentConfig?) {
        self.id = id
        directory = ""
        self.state = state
        self.records = records
        self.config = config
        epochs = records.count
        metric = config?.eval.metric ?? .dice
        totalEpochs = nil
        best = EpochRecord.best(in: records, by: metric.score)
    }

    init(id: String, directory: String, config: ExperimentConfig?) {
        self.init(id: id, state: RunState(of: directory),
                  records: (try? MetricsLog.read(directory + "/metrics.jsonl")) ?? [], config: config)
        self.directory = directory
        // A config's stages add up to schedule.epochs (checked when it loads).
        totalEpochs = config?.schedule.epochs
    }

    /// `dice 0.812 (epoch 187)`: the best score so far and its epoch, nil before an evaluation.
    public var bestText: String? {
        best.flatMap { r in r.scores.map { "\(metric.rawValue) \(NumberFormat.fixed(metric.score($0), 3)) (epoch \(r.epoch))" } }
    }
}

/// The runs of an experiment and where each stands: `runexp status`.
public enum RunLedger {
    /// The experiment's runs, in sweep order, with their folders under `resultsRoot`.
    public static func entries(_ experiment: Experiment, resultsRoot: String) -> [LedgerEntry] {
        experiment.runs.map { run in
            LedgerEntry(id: run.id, directory: resultsRoot + "/" + experiment.name + "/" + run.directoryName, config: run.config)
        }
    }

    /// Every run folder in `experimentDirectory` (those holding a config.yaml), sorted by name.
    public static func entries(inFolder experimentDirectory: String) -> [LedgerEntry] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: experimentDirectory)) ?? []).sorted()
        return names.compactMap { name in
            let dir = experimentDirectory + "/" + name
            guard FileManager.default.fileExists(atPath: dir + "/config.yaml") else { return nil }
            let config = savedConfig(ofRunFolder: dir)
            let id = RunStatusFile.read(dir)?.id ?? String(name.split(separator: "@").first ?? Substring(name))
            return LedgerEntry(id: id, directory: dir, config: config)
        }
    }

    /// The resolved config a run folder keeps (its config.yaml), nil when it is missing or does
    /// not read (a folder of another runexp version); data paths are not checked.
    static func savedConfig(ofRunFolder directory: String) -> ExperimentConfig? {
        try? Experiment.load(directory + "/config.yaml", options: ConfigOptions(checkPaths: false)).runs.first?.config
    }

    /// `12 runs: 9 done, 1 running, 1 failed, 0 interrupted, 1 pending`.
    public static func counts(_ entries: [LedgerEntry]) -> String {
        "\(entries.count) run\(entries.count == 1 ? "" : "s"): "
            + RunStatus.allCases.map { s in "\(entries.filter { $0.state.status == s }.count) \(s.rawValue)" }
            .joined(separator: ", ")
    }

    /// The count line and a table: run, status, epochs, best score (epoch), detail.
    public static func render(_ entries: [LedgerEntry], title: String) -> String {
        var table = MarkdownTable(header: ["run", "status", "epochs", "best", "wall time", "detail"],
                                  numeric: [false, false, true, true, true, false])
        for e in entries {
            table.rows.append([e.id, e.state.status.rawValue, e.totalEpochs.map { "\(e.epochs)/\($0)" } ?? "\(e.epochs)",
                               e.bestText ?? "", e.state.wallSeconds.map(NumberFormat.duration) ?? "", e.state.detail])
        }
        return "\(title): \(counts(entries))\n\n" + table.text
    }
}
