import Foundation
import Nets

/// How a run ended.
public struct RunOutcome: Sendable {
    public var status: RunStatus
    /// Why it stopped early (`diverged (loss nan at epoch 3, iteration 17)`), or "".
    public var note: String
    public var records: [EpochRecord]
    public var wallSeconds: Double
    /// True when a signal stopped it; the run resumes from its checkpoint next time.
    public var interrupted: Bool
}

/// Trains one run in its folder: the training loop, evaluation, result files, checkpoints,
/// and resuming from the last checkpoint exactly where it stopped.
///
/// Every random choice follows from the config's seed and the position in training (epoch,
/// sample), and the checkpoint holds model, optimizer and position, so an interrupted and
/// resumed run computes the same numbers as one that never stopped (same thread count).
public final class Trainer {
    public let run: RunSpec
    public let directory: String
    let progressReporter: ProgressReporter

    public init(run: RunSpec, directory: String, reporter: ProgressReporter) {
        self.run = run
        self.directory = directory
        self.progressReporter = reporter
    }

    var metricsPath: String { directory + "/metrics.jsonl" }
    var resultPath: String { directory + "/result.txt" }

    /// What a run carries from step to step while it trains in this process.
    final class Session {
        let setup: RunSetup
        let step: TrainingStep
        let log: RunLog
        let metrics: MetricsLog
        let metadata: [String: String]
        var progress: TrainingProgress
        var records: [EpochRecord]
        var bestScore: Double?
        /// Wall seconds of earlier sessions of the run, and when this one started.
        let earlierSeconds: Double
        let start = Date()

        init(setup: RunSetup, step: TrainingStep, log: RunLog, metrics: MetricsLog, metadata: [String: String],
             progress: TrainingProgress, bestScore: Double?) {
            self.setup = setup
            self.step = step
            self.log = log
            self.metrics = metrics
            self.metadata = metadata
            self.progress = progress
            self.records = metrics.records
            self.bestScore = bestScore
            earlierSeconds = progress.elapsed
        }

        var elapsed: Double { earlierSeconds + Date().timeIntervalSince(start) }
    }

    /// How an epoch ended.
    enum EpochEnd { case completed, diverged(String), interrupted }

    /// Trains until the run is done, diverges or is interrupted. Throws for config problems
    /// found while building the run and for unreadable data or unwritable files.
    public func train() throws -> RunOutcome {
        let session = try open()
        let setup = session.setup, model = setup.model
        var stageStart = 0
        for (stageIndex, stageEpochs) in setup.schedule.stages.map(\.epochs).enumerated() {
            defer { stageStart += stageEpochs }
            guard session.progress.epoch < stageStart + stageEpochs else { continue }
            model.unfreezeAll()
            if !setup.frozenPrefixes[stageIndex].isEmpty {
                let frozen = model.freeze(setup.frozenPrefixes[stageIndex])
                session.log.write("stage \(stageIndex): \(frozen.count) parameter tensors frozen")
            }
            for epoch in max(session.progress.epoch, stageStart)..<(stageStart + stageEpochs) {
                // Decided from the records alone, so a resumed run stops where an uninterrupted one did.
                if let note = earlyStopNote(session.records) {
                    session.log.write(note)
                    try finish(session, status: .done, note: note)
                    return RunOutcome(status: .done, note: note, records: session.records,
                                      wallSeconds: session.elapsed, interrupted: false)
                }
                switch try trainOneEpoch(epoch, loader: setup.trainLoaders[stageIndex], session) {
                case .diverged(let note):
                    try finish(session, status: .failed, note: note)
                    return RunOutcome(status: .failed, note: note, records: session.records, wallSeconds: session.elapsed,
                                      interrupted: false)
                case .interrupted:
                    return try stopInterrupted(session)
                case .completed:
                    try endEpoch(epoch, session)
                    if Interrupt.requested {
                        session.log.write("interrupted after epoch \(epoch); checkpoint written")
                        return try stopInterrupted(session)
                    }
                }
            }
        }
        try finish(session, status: .done, note: "")
        session.log.write("done in \(NumberFormat.duration(session.elapsed))")
        return RunOutcome(status: .done, note: "", records: session.records, wallSeconds: session.elapsed, interrupted: false)
    }

    /// Builds the run, writes its config, and restores its checkpoint, or else initialises
    /// the model (pretrained backbone, `init.checkpoint`).
    func open() throws -> Session {
        // The run folder sits in the experiment's, which keeps the cross-validation splits.
        let setup = try RunSetup(run, splits: SplitsStore(runDirectory: directory, creates: true))
        let config = run.config
        let model = setup.model
        try FileManager.default.createDirectory(atPath: directory + "/checkpoints", withIntermediateDirectories: true)
        try AtomicFile.write(run.configYAML, to: directory + "/config.yaml")
        let log = try RunLog(path: directory + "/log.txt")
        let (precision, notice) = KernelLibrary.available(config.precision)
        model.setPrecision(precision)
        if let notice { log.write(notice) }
        let progress = try Checkpoint.restore(model: model, optimizer: setup.optimizer, runDirectory: directory)
            ?? TrainingProgress(configHash: run.hash)
        if progress.iteration > 0 || progress.epoch > 0 {
            log.write("resuming at epoch \(progress.epoch), batch \(progress.batch) (iteration \(progress.iteration))")
        } else {
            if let report = try ModelFactory.loadPretrained(model, config, at: run.locations) {
                log.write("pretrained backbone from \(config.model.pretrained ?? ""): \(report)")
            }
            if let path = config.initialization.checkpoint {
                let report = try model.load(from: path, strict: config.initialization.strict)
                log.write("initialised from \(path): \(report)")
            }
        }
        let datasets = setup.trainLoaders.prefix(1).map(\.dataset) + (setup.valLoader.map { [$0.dataset] } ?? [])
        let manifest = RunManifest.current(data: try DataDigest.of(datasets, root: config.data.root))
        try RunStatusFile.update(directory, id: run.id, hash: run.hash, status: .running, note: "", newSession: manifest)
        // Lines of epochs after the checkpoint (written before a kill) are cut off.
        let metrics = try MetricsLog(path: metricsPath, keepingThrough: progress.epoch - 1)
        let best = EpochRecord.best(in: metrics.records, by: config.eval.metric.score).flatMap { $0.scores }
            .map(config.eval.metric.score)
        let step = TrainingStep(model: model, loss: setup.loss, auxWeight: config.loss.aux, optimizer: setup.optimizer)
        let session = Session(setup: setup, step: step, log: log, metrics: metrics,
                              metadata: ["run": run.id, "config_hash": run.hash, "runexp": runexpVersion],
                              progress: progress, bestScore: best)
        log.write("run \(run.id) (\(run.hash)): \(model.parameterCount) parameters, \(Threads.count) threads, "
                  + "\(setup.schedule.totalEpochs) epochs")
        return session
    }

    /// The remaining batches of `epoch`, one optimizer step each; stops early on a loss that
    /// is not finite, or after the step during which a signal arrived (with a checkpoint).
    func trainOneEpoch(_ epoch: Int, loader: DataLoader, _ session: Session) throws -> EpochEnd {
        let setup = session.setup
        setup.model.setTraining(true)
        let epochStart = Date()
        let priorSeconds = session.progress.epochSeconds
        if session.progress.termSums.count != setup.lossNames.count {
            session.progress.termSums = Array(repeating: 0, count: setup.lossNames.count)
        }
        let batches = loader.epoch(epoch, startingAt: session.progress.batch)
        while true {
            // How long the step waits for the loader (the epoch's first batch is never prefetched).
            let waitStart = Date()
            guard let batch = try batches.next() else { break }
            let waited = Date().timeIntervalSince(waitStart)
            try checkInputSize(batch, setup.model)
            let lr = setup.schedule.lr(at: session.progress.iteration)
            let value = try session.step(batch.images, batch.labels, lr: lr)
            guard value.total.isFinite else {
                batches.cancel()
                let note = "diverged (loss \(value.total) at epoch \(epoch), iteration \(session.progress.iteration))"
                session.log.write(note)
                return .diverged(note)
            }
            var p = session.progress
            p.iteration += 1
            p.batch += 1
            p.lossSum += Double(value.total)
            for (i, term) in value.terms.enumerated() { p.termSums[i] += Double(term.value) }
            p.images += batch.count
            p.dataWaitSeconds = (p.dataWaitSeconds ?? 0) + waited
            p.epochSeconds = priorSeconds + Date().timeIntervalSince(epochStart)
            session.progress = p
            progressReporter.step(iteration: p.iteration, epoch: epoch, of: setup.schedule.totalEpochs, batch: p.batch,
                                  of: loader.batchCount, loss: p.lossSum / Double(p.batch), lr: lr,
                                  imagesPerSecond: Double(p.images) / max(p.epochSeconds, 1e-9))
            if Interrupt.requested {
                batches.cancel()
                session.progress.elapsed = session.elapsed
                try saveCheckpoint(session)
                session.log.write("interrupted at epoch \(epoch), batch \(p.batch); checkpoint written")
                return .interrupted
            }
        }
        // Throughput counts training only; the epoch's seconds include evaluation.
        session.progress.epochSeconds = priorSeconds + Date().timeIntervalSince(epochStart)
        return .completed
    }

    /// After the last batch of `epoch`: evaluation when due, the epoch's record, the best
    /// checkpoint and previews when it improved, and the checkpoint that resumes after it.
    func endEpoch(_ epoch: Int, _ session: Session) throws {
        let setup = session.setup, config = run.config
        let evalStart = Date()
        let totalEpochs = setup.schedule.totalEpochs
        let isLast = epoch == totalEpochs - 1
        let due = setup.valLoader != nil && ((epoch + 1) % config.eval.every == 0 || isLast)
        let scores = due ? try evaluate(setup.model, setup.valLoader!, config) : nil
        let p = session.progress
        let trainSeconds = p.epochSeconds
        let seconds = trainSeconds + Date().timeIntervalSince(evalStart)
        let n = Double(max(p.batch, 1))
        let record = EpochRecord(
            epoch: epoch, trainLoss: p.lossSum / n,
            losses: Dictionary(uniqueKeysWithValues: zip(setup.lossNames, p.termSums.map { $0 / n })),
            lr: setup.schedule.lr(at: p.iteration), scores: scores,
            imagesPerSecond: Double(p.images) / max(trainSeconds, 1e-9), seconds: seconds,
            dataWaitSeconds: p.dataWaitSeconds ?? 0)
        try session.metrics.append(record)
        session.records.append(record)
        if let scores {
            let score = config.eval.metric.score(scores)
            if config.eval.saveBest, score.isFinite, session.bestScore.map({ score > $0 }) ?? true {
                session.bestScore = score
                try setup.model.save(to: Checkpoint.bestPath(directory),
                                     metadata: session.metadata.merging(["epoch": "\(epoch)"]) { $1 })
                // previews/ always shows what best.safetensors predicts.
                try ValidationPreviews.write(model: setup.model, loader: setup.valLoader!, directory: directory,
                                             inference: config.eval.inference, palette: config.data.previewPalette,
                                             classNames: config.data.effectiveClassNames)
            }
            try ResultFile.write(session.records, classNames: config.data.effectiveClassNames, to: resultPath)
            writeProgressChart(session)
        }
        session.progress = TrainingProgress(epoch: epoch + 1, iteration: p.iteration, configHash: p.configHash)
        session.progress.termSums = Array(repeating: 0, count: setup.lossNames.count)
        session.progress.elapsed = session.elapsed
        try saveCheckpoint(session)
        let remaining = Double(totalEpochs - epoch - 1) * seconds
        session.log.write(progressReporter.epoch(record, of: totalEpochs, metric: config.eval.metric, eta: remaining))
    }

    func saveCheckpoint(_ session: Session) throws {
        try Checkpoint.save(model: session.setup.model, optimizer: session.setup.optimizer, progress: session.progress,
                            runDirectory: directory, metadata: session.metadata)
    }

    func stopInterrupted(_ session: Session) throws -> RunOutcome {
        try writeStatus(.interrupted, note: "interrupted", elapsed: session.progress.elapsed)
        return RunOutcome(status: .interrupted, note: "interrupted", records: session.records,
                          wallSeconds: session.progress.elapsed, interrupted: true)
    }

    /// Scores the model on the validation set (see `Evaluation.scores`).
    func evaluate(_ model: any SegmentationModel, _ loader: DataLoader, _ config: ExperimentConfig) throws
        -> SegmentationScores {
        try Evaluation.scores(model, loader, config, pixelScores: config.eval.metrics)
    }

    /// Why `eval.early_stop` ends the run after `records`, or nil.
    func earlyStopNote(_ records: [EpochRecord]) -> String? {
        let eval = run.config.eval
        guard let stop = eval.earlyStop else { return nil }
        let scores = records.compactMap { r in r.scores.map { (epoch: r.epoch, score: eval.metric.score($0)) } }
        return stop.stopNote(scores, metric: eval.metric.rawValue)
    }

    /// Writes the final result.txt summary, progress.png and the run's status.
    func finish(_ session: Session, status: RunStatus, note: String) throws {
        let metric = run.config.eval.metric, elapsed = session.elapsed
        let summary = ResultFile.Summary(records: session.records, metric: metric.rawValue, score: metric.score,
                                         wallSeconds: elapsed, stopped: note.isEmpty ? nil : note)
        try ResultFile.write(session.records, summary: summary, classNames: run.config.data.effectiveClassNames,
                             to: resultPath)
        writeProgressChart(session)
        try writeStatus(status, note: note, elapsed: elapsed)
    }

    /// Redraws progress.png from the records so far. The chart is for people watching the run:
    /// one that cannot be drawn or written is logged and the run goes on.
    func writeProgressChart(_ session: Session) {
        do {
            try ProgressChart.write(session.records, metric: run.config.eval.metric, toRunDirectory: directory)
        } catch {
            session.log.write("\(ProgressChart.fileName) not written: \(error)")
        }
    }

    func writeStatus(_ status: RunStatus, note: String, elapsed: Double) throws {
        try RunStatusFile.update(directory, id: run.id, hash: run.hash, status: status, note: note, wallSeconds: elapsed)
    }
}

/// Images too small for the network's poolings are a user error (a crop or image size), not a
/// shape bug: say which image and what to change, before the engine would trap on it.
func checkInputSize(_ batch: Batch, _ model: any SegmentationModel) throws {
    let side = model.minimumInputSide
    guard batch.images.h < side || batch.images.w < side else { return }
    let name = batch.names.first.flatMap { $0 } ?? "sample \(batch.indices.first ?? 0)"
    throw DataPipelineError("\(name): images of \(batch.images.w)x\(batch.images.h) are smaller than this model's "
                            + "minimum input of \(side)x\(side); set data.crop to at least \(side) or use larger images")
}

extension EvalMetric {
    /// The score this metric ranks epochs by (higher is better); NaN when the scores lack it.
    func score(_ s: SegmentationScores) -> Double {
        func classValue(_ values: [Double]) -> Double {
            if let c = classIndex { return c < values.count ? values[c] : .nan }
            return values.count == 2 ? values[1] : nanMean(Array(values.dropFirst()))
        }
        switch kind {
        case .dice: return s.dice
        case .miou: return s.meanIoU
        case .accuracy: return s.globalAccuracy
        case .iou: return classValue(s.classIoU)
        default:
            guard let p = s.pixel else { return .nan }
            switch kind {
            case .precision: return classValue(p.precision.pooled)
            case .recall, .sensitivity: return classValue(p.recall.pooled)
            case .specificity: return classValue(p.specificity.pooled)
            case .f1: return classValue(p.f1.pooled)
            case .mcc: return classValue(p.mcc.pooled)
            case .auc_roc: return classValue(p.rocAUC.pooled)
            default: return classValue(p.prAUC.pooled)
            }
        }
    }
}
