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

    /// Trains until the run is done, diverges or is interrupted. Throws for config problems
    /// found while building the run and for unreadable data or unwritable files.
    public func train() throws -> RunOutcome {
        let setup = try RunSetup(run)
        let config = run.config
        let model = setup.model
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory + "/checkpoints", withIntermediateDirectories: true)
        try AtomicFile.write(run.configYAML, to: directory + "/config.yaml")
        let log = try RunLog(path: directory + "/log.txt")
        let metadata = ["run": run.id, "config_hash": run.hash, "runexp": runexpVersion]

        var progress = try Checkpoint.restore(model: model, optimizer: setup.optimizer, runDirectory: directory)
            ?? TrainingProgress(configHash: run.hash)
        let resumed = progress.iteration > 0 || progress.epoch > 0
        if resumed {
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
        let metrics = try MetricsLog(path: metricsPath, keepingThrough: progress.epoch - 1)
        var records = metrics.records
        var bestScore = EpochRecord.best(in: records, by: config.eval.metric.score).flatMap { $0.scores }
            .map(config.eval.metric.score)
        let sessionStart = Date()
        let earlierSessions = progress.elapsed
        func elapsed() -> Double { earlierSessions + Date().timeIntervalSince(sessionStart) }
        log.write("run \(run.id) (\(run.hash)): \(model.parameterCount) parameters, \(Threads.count) threads, "
                  + "\(setup.schedule.totalEpochs) epochs")

        let totalEpochs = setup.schedule.totalEpochs
        var stageStart = 0
        for (stageIndex, stageEpochs) in setup.schedule.stages.map(\.epochs).enumerated() {
            defer { stageStart += stageEpochs }
            guard progress.epoch < stageStart + stageEpochs else { continue }
            model.unfreezeAll()
            if !setup.frozenPrefixes[stageIndex].isEmpty {
                let frozen = model.freeze(setup.frozenPrefixes[stageIndex])
                log.write("stage \(stageIndex): \(frozen.count) parameter tensors frozen")
            }
            let loader = setup.trainLoaders[stageIndex]
            for epoch in max(progress.epoch, stageStart)..<(stageStart + stageEpochs) {
                model.setTraining(true)
                let epochStart = Date()
                let priorSeconds = progress.epochSeconds
                if progress.termSums.count != setup.lossNames.count {
                    progress.termSums = Array(repeating: 0, count: setup.lossNames.count)
                }
                let batches = loader.epoch(epoch, startingAt: progress.batch)
                while let batch = try batches.next() {
                    try checkInputSize(batch, model)
                    let lr = setup.schedule.lr(at: progress.iteration)
                    setup.optimizer.lr = lr
                    model.zeroGrad()
                    let logits = model.forward(batch.images)
                    var value = try setup.loss(logits, batch.labels)
                    // The auxiliary head (FCN, DeepLab) adds its own loss, weighted by loss.aux.
                    var auxGradient: Tensor?
                    if let aux = model.auxiliaryLogits {
                        let auxValue = try setup.loss(aux, batch.labels)
                        auxValue.gradient.scale(Float(config.loss.aux))
                        auxGradient = auxValue.gradient
                        value.total += Float(config.loss.aux) * auxValue.total
                    }
                    guard value.total.isFinite else {
                        batches.cancel()
                        let note = "diverged (loss \(value.total) at epoch \(epoch), iteration \(progress.iteration))"
                        log.write(note)
                        try finish(records, status: .failed, note: note, elapsed: elapsed())
                        return RunOutcome(status: .failed, note: note, records: records, wallSeconds: elapsed(),
                                          interrupted: false)
                    }
                    _ = model.backward(value.gradient, auxiliaryGradient: auxGradient)
                    setup.optimizer.step()
                    progress.iteration += 1
                    progress.batch += 1
                    progress.lossSum += Double(value.total)
                    for (i, term) in value.terms.enumerated() { progress.termSums[i] += Double(term.value) }
                    progress.images += batch.count
                    let seconds = priorSeconds + Date().timeIntervalSince(epochStart)
                    progressReporter.step(iteration: progress.iteration, epoch: epoch, of: totalEpochs, batch: progress.batch, of: loader.batchCount,
                                          loss: progress.lossSum / Double(progress.batch), lr: lr,
                                          imagesPerSecond: Double(progress.images) / max(seconds, 1e-9))
                    if Interrupt.requested {
                        batches.cancel()
                        progress.epochSeconds = seconds
                        progress.elapsed = elapsed()
                        try Checkpoint.save(model: model, optimizer: setup.optimizer, progress: progress,
                                            runDirectory: directory, metadata: metadata)
                        log.write("interrupted at epoch \(epoch), batch \(progress.batch); checkpoint written")
                        try writeStatus(.running, note: "interrupted", elapsed: progress.elapsed)
                        return RunOutcome(status: .running, note: "interrupted", records: records,
                                          wallSeconds: progress.elapsed, interrupted: true)
                    }
                }

                // Throughput counts training only; the epoch's seconds include evaluation.
                let trainSeconds = priorSeconds + Date().timeIntervalSince(epochStart)
                let isLast = epoch == totalEpochs - 1
                let evaluate = setup.valLoader != nil && ((epoch + 1) % config.eval.every == 0 || isLast)
                let scores = evaluate ? try self.evaluate(model, setup.valLoader!, config) : nil
                let seconds = priorSeconds + Date().timeIntervalSince(epochStart)
                let n = Double(max(progress.batch, 1))
                let record = EpochRecord(
                    epoch: epoch, trainLoss: progress.lossSum / n,
                    losses: Dictionary(uniqueKeysWithValues: zip(setup.lossNames, progress.termSums.map { $0 / n })),
                    lr: setup.schedule.lr(at: progress.iteration), scores: scores,
                    imagesPerSecond: Double(progress.images) / max(trainSeconds, 1e-9), seconds: seconds)
                try metrics.append(record)
                records.append(record)
                if let scores {
                    let score = config.eval.metric.score(scores)
                    if config.eval.saveBest, score.isFinite, bestScore.map({ score > $0 }) ?? true {
                        bestScore = score
                        try model.save(to: Checkpoint.bestPath(directory),
                                       metadata: metadata.merging(["epoch": "\(epoch)"]) { $1 })
                        // previews/ always shows what best.safetensors predicts.
                        try ValidationPreviews.write(model: model, loader: setup.valLoader!, directory: directory)
                    }
                    try ResultFile.write(records, to: resultPath)
                }
                progress.epoch = epoch + 1
                progress.batch = 0
                progress.lossSum = 0
                progress.termSums = Array(repeating: 0, count: setup.lossNames.count)
                progress.images = 0
                progress.epochSeconds = 0
                progress.elapsed = elapsed()
                try Checkpoint.save(model: model, optimizer: setup.optimizer, progress: progress,
                                    runDirectory: directory, metadata: metadata)
                let remaining = Double(totalEpochs - epoch - 1) * seconds
                let line = progressReporter.epoch(record, of: totalEpochs, metric: config.eval.metric, eta: remaining)
                log.write(line)
                if Interrupt.requested {
                    log.write("interrupted after epoch \(epoch); checkpoint written")
                    try writeStatus(.running, note: "interrupted", elapsed: progress.elapsed)
                    return RunOutcome(status: .running, note: "interrupted", records: records,
                                      wallSeconds: progress.elapsed, interrupted: true)
                }
            }
        }
        try finish(records, status: .done, note: "", elapsed: elapsed())
        log.write("done in \(NumberFormat.duration(elapsed()))")
        return RunOutcome(status: .done, note: "", records: records, wallSeconds: elapsed(), interrupted: false)
    }

    /// Scores the model on the validation set, one image at a time at full size.
    func evaluate(_ model: any SegmentationModel, _ loader: DataLoader, _ config: ExperimentConfig) throws
        -> SegmentationScores {
        model.setTraining(false)
        defer { model.setTraining(true) }
        var metrics = SegmentationMetrics(numClasses: config.data.numClasses, ignoreIndex: Int32(config.data.ignoreIndex))
        let batches = loader.epoch(0)
        while let batch = try batches.next() {
            try checkInputSize(batch, model)
            metrics.add(logits: model.forward(batch.images), target: batch.labels)
        }
        return metrics.scores
    }

    /// Writes the final result.txt summary and the run's status.
    func finish(_ records: [EpochRecord], status: RunStatus, note: String, elapsed: Double) throws {
        let metric = run.config.eval.metric
        let summary = ResultFile.Summary(records: records, metric: metric.rawValue, score: metric.score,
                                         wallSeconds: elapsed, stopped: note.isEmpty ? nil : note)
        try ResultFile.write(records, summary: summary, to: resultPath)
        try writeStatus(status, note: note, elapsed: elapsed)
    }

    func writeStatus(_ status: RunStatus, note: String, elapsed: Double) throws {
        try RunStatusFile(status: status, note: note, id: run.id, hash: run.hash, wallSeconds: elapsed)
            .write(to: directory)
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
    /// The score this metric ranks epochs by (higher is better).
    func score(_ s: SegmentationScores) -> Double {
        switch self {
        case .dice: return s.dice
        case .miou: return s.meanIoU
        case .accuracy: return s.globalAccuracy
        }
    }
}
