import Foundation
import Nets

/// Which runs of an experiment this process trains, and where their results go.
public struct SweepOptions: Sendable {
    /// Folder holding one folder per experiment (`results`).
    public var resultsRoot = "results"
    /// Shell glob over run ids (`--only 'base_c=32,*'`).
    public var only: String?
    /// (I, N): train runs I, I+N, I+2N, … (0-based), so N machines split a sweep without talking.
    public var shard: (index: Int, count: Int)?
    /// Whether to wait, at the end, for runs other processes hold (and take over those whose
    /// holder dies); false leaves them to their holders, as a task of a Slurm array does.
    public var waitForOthers = true
    /// Train only the runs that failed (`runexp status --retry-failed`), diverged ones included:
    /// they start again from their last checkpoint.
    public var retryFailed = false

    public init(resultsRoot: String = "results", only: String? = nil, shard: (index: Int, count: Int)? = nil,
                waitForOthers: Bool = true, retryFailed: Bool = false) {
        self.resultsRoot = resultsRoot
        self.only = only
        self.shard = shard
        self.waitForOthers = waitForOthers
        self.retryFailed = retryFailed
    }
}

/// Trains the runs of an experiment one after another, skipping finished ones and resuming
/// interrupted ones, and keeps the sweep summary up to date.
public final class SweepRunner {
    public let experiment: Experiment
    public let options: SweepOptions
    public let reporter: ProgressReporter

    public init(experiment: Experiment, options: SweepOptions, reporter: ProgressReporter = ProgressReporter()) {
        self.experiment = experiment
        self.options = options
        self.reporter = reporter
    }

    public var experimentDirectory: String { options.resultsRoot + "/" + experiment.name }

    public func directory(of run: RunSpec) -> String { experimentDirectory + "/" + run.directoryName }

    /// The experiment's `splits.json` for cross-validation runs; only training creates it, so
    /// checks and dry runs write nothing.
    func splitsStore(creates: Bool) -> SplitsStore {
        SplitsStore(experimentDirectory: experimentDirectory, creates: creates)
    }

    /// The runs selected by `--only` and `--shard`, in sweep order.
    public var selectedRuns: [RunSpec] {
        experiment.runs.filter { run in
            if let (i, n) = options.shard, run.index % n != i { return false }
            if let pattern = options.only, fnmatch(pattern, run.id, 0) != 0 { return false }
            if options.retryFailed, RunState(of: directory(of: run)).status != .failed { return false }
            return true
        }
    }

    /// Checks what can only be checked by building each run (model availability, freeze
    /// names, schedules), for every selected run, before anything trains.
    public func validate() throws(ConfigErrors) {
        var errors: [ConfigError] = []
        // Runs that differ only in what the build does not check (seed, learning rate, loss
        // weights) share one build.
        var built: Set<String> = []
        for run in selectedRuns {
            let c = run.config
            guard built.insert("\(c.model)|\(c.data)|\(c.stages)|\(c.schedule)|\(c.optimizer.name)").inserted else { continue }
            do {
                minimumSides["\(c.model)"] = try RunSetup(run, splits: splitsStore(creates: false), skeleton: true).model.minimumInputSide
            } catch let error as ConfigError {
                var e = error
                if experiment.runs.count > 1 { e.message = "run \(run.id): " + e.message }
                if !errors.contains(where: { $0.location == e.location && $0.message.hasSuffix(error.message) }) {
                    errors.append(e)
                }
            } catch {
                let which = experiment.runs.count > 1 ? "run \(run.id): " : ""
                errors.append(ConfigError(which + "\(error)", at: .argument(experiment.file)))
            }
        }
        if !errors.isEmpty { throw ConfigErrors(errors) }
    }

    /// The smallest input side of each model config `validate()` built.
    private var minimumSides: [String: Int] = [:]

    /// Reads every image and mask file of the selected runs' datasets (each distinct data
    /// setup once) and returns what is wrong with them; call after `validate()`.
    public func checkData() throws -> DataCheck.Report {
        var report = DataCheck.Report()
        var checked: Set<String> = []
        for run in selectedRuns {
            let c = run.config
            let side = minimumSides["\(c.model)"] ?? 1
            guard checked.insert("\(c.data)|\(c.model.inChannels)|\(side)").inserted else { continue }
            let r = try DataCheck.run(c, at: run.locations, minimumSide: side, splits: splitsStore(creates: false))
            report.problems += r.problems.filter { !report.problems.contains($0) }
            report.files += r.files
            report.samples += r.samples
        }
        return report
    }

    /// Trains every selected run; returns how many failed, and whether a signal stopped the sweep.
    ///
    /// Each run is trained under an exclusive lock on its folder's `run.lock`, so several
    /// processes on one results folder (a second launch, a requeued cluster task, workers on
    /// machines sharing it) never train one run twice: runs another process holds are passed
    /// over, then waited for once this process has nothing else to do, and taken up if their
    /// holder dies before finishing them. The sweep is complete when this returns uninterrupted
    /// (unless `waitForOthers` is off).
    public func run() throws -> (failed: Int, interrupted: Bool) {
        let runs = selectedRuns
        var failed = 0
        try FileManager.default.createDirectory(atPath: experimentDirectory, withIntermediateDirectories: true)
        // Counts a run's result; returns how the sweep ends early, when it does.
        func settle(_ result: RunResult) -> (failed: Int, interrupted: Bool)? {
            switch result {
            case .failed: failed += 1
            case .interrupted: return (failed, true)
            case .cannotWrite: return (failed + 1, false)
            case .finished, .lockedElsewhere: break
            }
            return nil
        }
        var heldElsewhere: [(Int, RunSpec)] = []
        for (k, run) in runs.enumerated() {
            reporter.runLabel = "[\(k + 1)/\(runs.count)] \(run.id)"
            let result = try trainIfNeeded(run, wait: false)
            if result == .lockedElsewhere {
                let holder = FileLock.holder(directory(of: run) + "/run.lock")
                let later = options.waitForOthers ? "coming back to it" : "left to it"
                reporter.message("\(reporter.runLabel): being trained by another process (\(holder)); \(later)")
                if options.waitForOthers { heldElsewhere.append((k, run)) }
            }
            if let end = settle(result) { return end }
        }
        for (k, run) in heldElsewhere {
            reporter.runLabel = "[\(k + 1)/\(runs.count)] \(run.id)"
            if let end = settle(try trainIfNeeded(run, wait: true)) { return end }
        }
        try writeSummary()
        return (failed, false)
    }

    enum RunResult {
        case finished, failed, interrupted, lockedElsewhere
        /// A result file or checkpoint could not be written (a full disk): the run stops as if
        /// interrupted, its last checkpoint intact, and so does the sweep.
        case cannotWrite
    }

    /// Trains `run` unless it is done (or diverged) already. Without `wait` it gives up at once
    /// when another process holds the run; with it, it waits for that process to finish or die.
    func trainIfNeeded(_ run: RunSpec, wait: Bool) throws -> RunResult {
        let dir = directory(of: run)
        // Done runs and diverged ones (which would diverge again) are skipped; a run that
        // stopped on an error (a bad file, a full disk) is tried again.
        func finishedStatus() -> RunStatusFile? {
            guard let status = RunStatusFile.read(dir),
                  status.status == .done || (status.isDivergence && !options.retryFailed) else { return nil }
            return status
        }
        if let status = finishedStatus() {
            reporter.message("\(reporter.runLabel): \(status.status.rawValue)"
                             + (status.note.isEmpty ? "" : " (\(status.note))") + ", skipped")
            return status.status == .failed ? .failed : .finished
        }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        guard let lock = try claim(dir, wait: wait) else { return wait ? .interrupted : .lockedElsewhere }
        defer { lock.release() }
        // The process that held the lock may have finished the run meanwhile.
        if let status = finishedStatus() {
            if wait { reporter.message("\(reporter.runLabel): \(status.status.rawValue) by another process") }
            return status.status == .failed ? .failed : .finished
        }
        do {
            let outcome = try Trainer(run: run, directory: dir, reporter: reporter).train()
            if outcome.status == .failed {
                reporter.message("\(reporter.runLabel): failed: \(outcome.note)")
            }
            try writeSummary()
            if outcome.interrupted {
                reporter.message("interrupted: checkpoint written to \(dir); run the same command to resume")
                return .interrupted
            }
            return outcome.status == .failed ? .failed : .finished
        } catch let error as ConfigError {
            throw ConfigErrors([error])
        } catch let error as AtomicFile.WriteError {
            try? RunStatusFile.update(dir, id: run.id, hash: run.hash, status: .interrupted, note: "stopped: \(error)")
            reporter.message("\(reporter.runLabel): stopped: \(error); its last checkpoint is intact, so the same "
                             + "command resumes it once the problem is fixed")
            return .cannotWrite
        } catch {
            try? RunStatusFile.update(dir, id: run.id, hash: run.hash, status: .failed, note: "\(error)")
            reporter.message("\(reporter.runLabel): failed: \(error)")
            try writeSummary()
            return .failed
        }
    }

    /// The run's lock; nil when another process holds it and `wait` is false, or when a signal
    /// arrives while waiting. Waiting polls, so Ctrl-C is honoured while another process trains.
    func claim(_ dir: String, wait: Bool) throws -> FileLock? {
        let path = dir + "/run.lock"
        if let lock = try FileLock.tryLock(path) { return lock }
        guard wait else { return nil }
        reporter.message("\(reporter.runLabel): waiting for the process training it")
        while !Interrupt.requested {
            usleep(200_000)
            if let lock = try FileLock.tryLock(path) { return lock }
        }
        return nil
    }

    /// Rewrites summary.csv and summary.md from what the run folders hold now: this sweep's
    /// runs, then any other run folder of the experiment (earlier `--set` variants, other shards).
    public func writeSummary() throws {
        // Workers sharing the folder each rewrite the summary; one at a time.
        let lock = try FileLock.lock(experimentDirectory + "/.summary.lock")
        defer { lock.release() }
        let metric = experiment.runs.first?.config.eval.metric ?? .dice
        func row(_ id: String, _ dir: String, _ swept: [(key: String, value: String)], _ config: ExperimentConfig?)
            -> SummaryRow {
            let state = RunState(of: dir)
            let records = (try? MetricsLog.read(dir + "/metrics.jsonl")) ?? []
            return SummaryRow(runID: id, status: state.status, note: state.detail, swept: swept, records: records,
                              score: metric.score, wallSeconds: state.wallSeconds,
                              classNames: config?.data.effectiveClassNames)
        }
        var rows = experiment.runs.map { run in
            row(run.id, directory(of: run), run.idPieces, run.config)
        }
        let ours = Set(experiment.runs.map(\.directoryName))
        let others = ((try? FileManager.default.contentsOfDirectory(atPath: experimentDirectory)) ?? []).sorted()
        for name in others where !ours.contains(name) {
            let dir = experimentDirectory + "/" + name
            guard let status = RunStatusFile.read(dir) else { continue }
            rows.append(row(status.id, dir, RunSpec.pieces(ofID: status.id), RunLedger.savedConfig(ofRunFolder: dir)))
        }
        try SweepSummary.write(rows, title: experiment.name, to: experimentDirectory)
    }
}
