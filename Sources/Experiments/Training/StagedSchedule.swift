import Foundation

/// The learning rate across a run made of stages, e.g. 50 epochs with the encoder frozen at batch 8
/// and lr 1e-4, then 150 epochs unfrozen at batch 2 and lr 1e-5. Each stage has its own base rate and
/// its own steps per epoch (its batch size); warmup shape and decay are shared. A pure function of
/// the global 0-based iteration index, like `LearningRateSchedule`, so resuming needs only that index.
///
/// Where warmup and decay apply (`Scope`):
/// - warmup `.run` (default): once, at the start of the first stage, as in the DRIVE recipe: it protects
///   freshly initialised layers and empty optimizer state; a later stage starts from trained weights.
///   `.perStage` re-warms at the start of every stage.
/// - decay `.perStage` (default): every stage decays from its own base rate over its own epochs, as in
///   the VGG-UNet freeze-then-unfreeze recipe (bubbliiiing unet-pytorch, which builds a new optimizer and
///   scheduler per stage); step milestones count epochs from the stage's start.
///   `.run`: one curve over all epochs of the run whose base rate changes at stage boundaries (as that
///   recipe's later version does); progress is measured in epochs, not iterations, so the curve does not
///   bend where the batch size changes, and milestones count epochs from the start of the run.
/// With a single stage, every combination gives `LearningRateSchedule`'s values to the bit.
public struct StagedSchedule: Sendable, Equatable {
    /// One phase of training.
    public struct Stage: Sendable, Equatable {
        public var epochs: Int
        public var stepsPerEpoch: Int
        public var baseLR: Double

        public init(epochs: Int, stepsPerEpoch: Int, baseLR: Double) {
            self.epochs = epochs
            self.stepsPerEpoch = stepsPerEpoch
            self.baseLR = baseLR
        }

        /// Optimizer steps in the stage.
        public var iterations: Int { epochs * stepsPerEpoch }
    }

    /// Whether warmup or decay spans the whole run or restarts with each stage.
    public enum Scope: String, CaseIterable, Sendable {
        case run
        case perStage = "per_stage"
    }

    /// Where a global iteration falls; all indices 0-based.
    public struct Position: Sendable, Equatable {
        public var stage: Int
        /// Epoch counted from the start of the run.
        public var epoch: Int
        public var epochInStage: Int
        public var iterationInStage: Int
        public var iterationInEpoch: Int
    }

    public let stages: [Stage]
    public let decay: LearningRateSchedule.Decay
    public let warmupScope: Scope
    public let decayScope: Scope
    /// The warmup each stage starts with (`.none` for stages after the first when warmup is `.run`).
    public let warmups: [LearningRateSchedule.Warmup]
    /// Global iteration and global epoch at which each stage starts, plus the run's totals at the end.
    let iterationStarts: [Int]
    let epochStarts: [Int]
    /// For `.run` decay: the run measured in units of 1/L epoch, L the least common multiple of the
    /// stages' steps per epoch, so every step is a whole number of units and the progress is one
    /// correctly rounded division (the same as `LearningRateSchedule`'s for a single stage).
    let unitsPerStep: [Int]
    let unitsPerEpoch: Int

    /// A schedule over `stages` with a warmup of `warmupEpochs` epochs (in each stage's own steps,
    /// rounded to whole steps) of `warmupShape` from `warmupFactor`, and `decay`.
    /// Throws when the settings contradict each other, naming the stage.
    public init(stages: [Stage], warmupShape: LearningRateSchedule.WarmupShape = .none, warmupEpochs: Double = 0,
                warmupFactor: Double = 1, decay: LearningRateSchedule.Decay,
                warmupScope: Scope = .run, decayScope: Scope = .perStage) throws {
        guard !stages.isEmpty else { throw LearningRateScheduleError(description: "a run needs at least one stage") }
        guard warmupEpochs.isFinite, warmupEpochs >= 0 else {
            throw LearningRateScheduleError(description: "warmup of \(warmupEpochs) epochs: must be 0 or more")
        }
        var iterationStarts = [0], epochStarts = [0]
        for stage in stages {
            iterationStarts.append(iterationStarts.last! + stage.iterations)
            epochStarts.append(epochStarts.last! + stage.epochs)
        }
        var warmups: [LearningRateSchedule.Warmup] = []
        for (s, stage) in stages.enumerated() {
            let steps = Int((warmupEpochs * Double(stage.stepsPerEpoch)).rounded())
            let warmup = s == 0 || warmupScope == .perStage
                ? LearningRateSchedule.Warmup(shape: warmupShape, iterations: steps, factor: warmupFactor) : .none
            do {
                guard stage.epochs >= 1 else {
                    throw LearningRateScheduleError(description: "\(stage.epochs) epochs: a stage needs at least 1")
                }
                try LearningRateSchedule.validate(baseLR: stage.baseLR, iterations: stage.iterations,
                                                  stepsPerEpoch: stage.stepsPerEpoch)
                try warmup.validate(totalIterations: stage.iterations)
                try decay.validate(baseLR: stage.baseLR, epochs: decayScope == .perStage ? stage.epochs : epochStarts.last!)
            } catch let e as LearningRateScheduleError where stages.count > 1 {
                throw LearningRateScheduleError(description: "stage \(s + 1): \(e.description)")
            }
            warmups.append(warmup)
        }
        var unitsPerEpoch = 1
        if decayScope == .run {
            for stage in stages { unitsPerEpoch = Self.lcm(unitsPerEpoch, stage.stepsPerEpoch) ?? 0 }
            guard unitsPerEpoch > 0, !unitsPerEpoch.multipliedReportingOverflow(by: epochStarts.last!).overflow else {
                throw LearningRateScheduleError(description:
                    "steps per epoch \(stages.map(\.stepsPerEpoch)) are too unlike to share one decay over the run; decay per stage")
            }
        }
        self.stages = stages
        self.decay = decay
        self.warmupScope = warmupScope
        self.decayScope = decayScope
        self.warmups = warmups
        self.iterationStarts = iterationStarts
        self.epochStarts = epochStarts
        self.unitsPerEpoch = unitsPerEpoch
        self.unitsPerStep = stages.map { unitsPerEpoch / $0.stepsPerEpoch }
    }

    /// Optimizer steps in the whole run.
    public var totalIterations: Int { iterationStarts.last! }

    /// Epochs in the whole run.
    public var totalEpochs: Int { epochStarts.last! }

    /// Global iteration of the first step of the (global, 0-based) `epoch`; `totalIterations` for `totalEpochs`.
    public func firstIteration(ofEpoch epoch: Int) -> Int {
        precondition(epoch >= 0 && epoch <= totalEpochs, "epoch \(epoch) outside 0...\(totalEpochs)")
        let s = (0..<stages.count).last { epochStarts[$0] <= epoch }!
        return iterationStarts[s] + (epoch - epochStarts[s]) * stages[s].stepsPerEpoch
    }

    /// Global iteration of the first step of stage `stage`.
    public func firstIteration(ofStage stage: Int) -> Int { iterationStarts[stage] }

    /// Stage, epoch and step of global iteration `iteration`. Indices at or past the end count as
    /// the last stage's (epochs beyond its last), so `position(of: totalIterations)` is defined.
    public func position(of iteration: Int) -> Position {
        precondition(iteration >= 0, "negative iteration \(iteration)")
        let s = (0..<stages.count).last { iterationStarts[$0] <= iteration }!
        let local = iteration - iterationStarts[s], steps = stages[s].stepsPerEpoch
        return Position(stage: s, epoch: epochStarts[s] + local / steps, epochInStage: local / steps,
                        iterationInStage: local, iterationInEpoch: local % steps)
    }

    /// The learning rate of the step with global 0-based index `iteration`; past the end it keeps
    /// the value after the last step.
    public func lr(at iteration: Int) -> Double {
        let p = position(of: iteration), stage = stages[p.stage], warmup = warmups[p.stage]
        let t: Double, epoch: Int
        switch decayScope {
        case .perStage:
            t = LearningRateSchedule.progress(p.iterationInStage, warmup: warmup.length, total: stage.iterations)
            epoch = p.epochInStage
        case .run:
            let unit = unitsPerStep[p.stage]
            t = LearningRateSchedule.progress(epochStarts[p.stage] * unitsPerEpoch + p.iterationInStage * unit,
                                              warmup: warmups[0].length * unitsPerStep[0],
                                              total: totalEpochs * unitsPerEpoch)
            epoch = p.epoch
        }
        return warmup.multiplier(at: p.iterationInStage) * decay.lr(base: stage.baseLR, progress: t, epoch: epoch)
    }

    /// Least common multiple, nil on overflow.
    static func lcm(_ a: Int, _ b: Int) -> Int? {
        var x = a, y = b
        while y != 0 { (x, y) = (y, x % y) }
        let r = (a / x).multipliedReportingOverflow(by: b)
        return r.overflow ? nil : r.partialValue
    }
}
