import ArgumentParser
import Experiments
import Foundation
import Nets

extension Bench {
    /// `--data`: warm-up and timed steps of `file`'s first run fed by its training loader, as the
    /// trainer feeds them (across epochs, at the schedule's learning rate), with the time each
    /// `next()` blocked measured apart from the step; then as many steps on one fixed batch
    /// (the first), so that one invocation shows what loading costs. A data problem found while
    /// reading exits 2, as it would before training.
    func runWithData(_ file: String) throws {
        let run = try CommandErrors.loadingConfig { try Experiment.load(file, overrides: overrides).runs[0] }
        if let n = threads ?? (run.config.threads > 0 ? run.config.threads : nil) { Threads.set(n) }
        let start = try CommandErrors.loadingConfig { try TrainingStart(run) }
        let model = start.model
        try applyFreezing(model)
        try CommandErrors.failing {
            let precision = setPrecision(model, configured: run.config.precision)
            let loader = try start.loader.with(workers: workers ?? start.loader.workers,
                                               prefetch: prefetch ?? start.loader.prefetch)
            let batches = TimedBatches(loader, check: start.checkInputSize)
            var iteration = 0
            func train(_ batch: Batch) throws {
                _ = try start.step(batch.images, batch.labels, lr: start.schedule.lr(at: iteration))
                iteration += 1
            }

            // The first batch is also the fixed one, so both timings see the same shapes.
            let first = try batches.next().batch
            let images = first.images
            printTitle("\(type(of: model)) from \(file), its training data", model: model, batch: first.count,
                       shape: "\(images.c)x\(images.h)x\(images.w)", classes: run.config.data.numClasses,
                       precision: precision, frozenByConfig: start.frozenCount)
            for i in 0..<warmup { try train(i == 0 ? first : try batches.next().batch) }

            let warm = start.step.phaseSeconds
            var waits: [Double] = [], stepSeconds: [Double] = [], epochStarts = 0, imageCount = 0
            let times = try timedSteps {
                let (batch, waited, epochStart) = try batches.next()
                let t0 = Date()
                try train(batch)
                stepSeconds.append(Date().timeIntervalSince(t0))
                waits.append(waited)
                epochStarts += epochStart ? 1 : 0
                imageCount += batch.count
            }
            let phases = zip(start.step.phaseSeconds, warm).map { $0 - $1 }
            // Training batches are full (drop_last) unless the dataset is smaller than one.
            printTimings(times, batch: imageCount / steps, phases: phases)
            let n = Double(steps)
            print(String(format: "data: waited %.3f s/step for batches (max %.3f s; %d worker%@, prefetch %d, "
                                 + "%d batches/epoch, %d epoch start%@ timed); step alone %.3f s/step",
                         waits.reduce(0, +) / n, waits.max()!, loader.workers, loader.workers == 1 ? "" : "s",
                         loader.prefetch, loader.batchCount, epochStarts, epochStarts == 1 ? "" : "s",
                         stepSeconds.reduce(0, +) / n))

            let fixed = try timedSteps { try train(first) }
            let mean = fixed.reduce(0, +) / n
            print(String(format: "without data: %.3f img/s mean, %.3f s/step (the same steps on the first batch, "
                                 + "no loading)", Double(first.count) / mean, mean))
        }
    }
}

/// A loader's batches epoch after epoch, as the trainer reads them, each with the seconds
/// `next()` blocked for it.
final class TimedBatches {
    let loader: DataLoader
    let check: (Batch) throws -> Void
    private var epoch = -1
    private var current: EpochLoader?

    init(_ loader: DataLoader, check: @escaping (Batch) throws -> Void) {
        self.loader = loader
        self.check = check
    }

    /// The next batch, the seconds spent waiting for it, and whether it starts an epoch (whose
    /// first batch the workers only begin to build when the epoch starts, as in training).
    /// A batch that cannot be built (an unreadable file) prints its one line and exits 2.
    func next() throws -> (batch: Batch, waited: Double, epochStart: Bool) {
        let t0 = Date()
        var epochStart = false
        do {
            // A loader has at least one batch per epoch, so this ends.
            while true {
                if let batch = try current?.next() {
                    let waited = Date().timeIntervalSince(t0)
                    try check(batch)
                    return (batch, waited, epochStart)
                }
                epoch += 1
                current = loader.epoch(epoch)
                epochStart = true
            }
        } catch {
            CommandErrors.print("\(error)")
            throw ExitCode(2)
        }
    }
}
