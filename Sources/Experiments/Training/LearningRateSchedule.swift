import Foundation

/// A schedule setting that cannot work (warmup longer than the run, a minimum above the base
/// rate, unordered milestones, …): one line saying what is wrong and what is allowed.
public struct LearningRateScheduleError: Error, CustomStringConvertible, Equatable {
    public let description: String
}

/// The learning rate of every optimizer step as a pure function of the 0-based iteration index:
/// a warmup from `warmup.factor · baseLR` up to `baseLR`, then a decay over the remaining steps.
///
/// It is stepped per iteration, like the PyTorch DRIVE UNet recipe's `LambdaLR` (lr_scheduler.step()
/// after every optimizer.step(), so step `i` runs at `baseLR · f(i)`): `linear` warmup with `poly`
/// decay of power 0.9 gives that recipe's values to the bit. There is no state: resuming at
/// iteration `i` only needs `i`.
///
/// The lr is `warmup multiplier(i) × decayed lr(i)`, where the decay's progress only starts once the
/// warmup is over. For poly and cosine the decayed lr is still `baseLR` during the warmup, so the two
/// phases follow each other as in the recipe; for step decay a milestone inside the warmup lowers the
/// rate the warmup rises to (as MMCV's warmup, which scales the regular rate, does).
public struct LearningRateSchedule: Sendable, Equatable {
    /// How the rate rises from `factor · lr` to `lr` during the warmup.
    public enum WarmupShape: String, CaseIterable, Sendable {
        /// No warmup.
        case none
        /// `factor` until the warmup ends, then 1 (PyTorch `ConstantLR`).
        case constant
        /// `factor·(1 − x/W) + x/W` for `x ≤ W`: the DRIVE recipe's formula, boundary included.
        case linear
        /// `factor + (1 − factor)·(1 − cos(π·x/W))/2`: a half cosine, flat at both ends.
        case cosine
    }

    /// A warmup over the first `iterations` optimizer steps, starting at `factor` times the rate it leads to.
    public struct Warmup: Sendable, Equatable {
        public var shape: WarmupShape
        public var iterations: Int
        public var factor: Double

        public init(shape: WarmupShape, iterations: Int, factor: Double) {
            self.shape = shape
            self.iterations = iterations
            self.factor = factor
        }

        /// No warmup at all.
        public static let none = Warmup(shape: .none, iterations: 0, factor: 1)

        /// Steps during which the warmup acts (0 for `.none`, whatever `iterations` says).
        public var length: Int { shape == .none ? 0 : iterations }

        /// The multiplier at step `x`; exactly 1 from the end of the warmup on.
        public func multiplier(at x: Int) -> Double {
            switch shape {
            case .none:
                return 1
            case .constant:
                return x < iterations ? factor : 1
            case .linear:
                guard x <= iterations else { return 1 }
                // The recipe's expression in the recipe's order; at x == W it is exactly 1.
                let alpha = Double(x) / Double(iterations)
                return factor * (1 - alpha) + alpha
            case .cosine:
                guard x < iterations else { return 1 }
                return factor + (1 - factor) * (1 - cos(Double.pi * Double(x) / Double(iterations))) / 2
            }
        }

        /// Throws unless the warmup fits in a run of `totalIterations` steps and leaves at least one to decay.
        func validate(totalIterations: Int) throws {
            guard shape != .none else { return }
            guard iterations >= 1 else {
                throw LearningRateScheduleError(description:
                    "\(shape.rawValue) warmup lasts \(iterations) iterations; it needs at least 1 (or use warmup shape none)")
            }
            guard iterations < totalIterations else {
                throw LearningRateScheduleError(description:
                    "warmup of \(iterations) iterations does not fit in \(totalIterations) iterations of training; shorten the warmup")
            }
            guard factor > 0, factor <= 1 else {
                throw LearningRateScheduleError(description: "warmup factor \(factor) is out of range; use a value in (0, 1]")
            }
        }
    }

    /// How the rate falls after the warmup. `t ∈ [0, 1]` is the progress through the decay,
    /// `epoch` the 0-based epoch of the step.
    public enum Decay: Sendable, Equatable {
        /// Stays at the base rate.
        case none
        /// `minLR + (lr − minLR)·(1 − t)^power`: the recipe's poly (power 0.9, minLR 0); MMSeg's PolyLR with eta_min.
        case poly(power: Double, minLR: Double)
        /// `minLR + (lr − minLR)·(1 + cos(π t))/2`: the closed form of PyTorch `CosineAnnealingLR`; ends exactly at minLR.
        case cosine(minLR: Double)
        /// `lr · gamma^(number of milestones ≤ epoch)`, milestones in epochs: PyTorch `MultiStepLR` stepped per epoch.
        case step(milestones: [Int], gamma: Double)
        /// `lr · gamma^⌊epoch / epochs⌋`: PyTorch `StepLR` stepped per epoch (the older VGG-UNet
        /// freeze/unfreeze recipe uses every 1 epoch, gamma 0.96).
        case stepEvery(epochs: Int, gamma: Double)

        /// The decayed rate for base rate `base` at progress `t` in epoch `epoch`.
        public func lr(base: Double, progress t: Double, epoch: Int) -> Double {
            switch self {
            case .none:
                return base
            case let .poly(power, minLR):
                // With minLR = 0 this is `0 + base·(1 − t)^power`, bit-identical to the recipe's `base · f(x)`.
                return minLR + (base - minLR) * pow(1 - t, power)
            case let .cosine(minLR):
                return minLR + (base - minLR) * (1 + cos(Double.pi * t)) / 2
            case let .step(milestones, gamma):
                return base * pow(gamma, Double(milestones.count(where: { $0 <= epoch })))
            case let .stepEvery(epochs, gamma):
                return base * pow(gamma, Double(epoch / epochs))
            }
        }

        /// Throws unless the parameters make sense for base rate `baseLR` in a run of `epochs` epochs.
        func validate(baseLR: Double, epochs: Int) throws {
            func fail(_ message: String) -> LearningRateScheduleError { LearningRateScheduleError(description: message) }
            func checkMin(_ minLR: Double) throws {
                guard minLR.isFinite, minLR >= 0, minLR <= baseLR else {
                    throw fail("minimum learning rate \(minLR) must lie in [0, \(baseLR)] (the base learning rate)")
                }
            }
            func checkGamma(_ gamma: Double) throws {
                guard gamma.isFinite, gamma > 0 else { throw fail("step decay gamma \(gamma) must be positive") }
            }
            switch self {
            case .none:
                return
            case let .poly(power, minLR):
                guard power.isFinite, power > 0 else { throw fail("poly decay power \(power) must be positive") }
                try checkMin(minLR)
            case let .cosine(minLR):
                try checkMin(minLR)
            case let .step(milestones, gamma):
                try checkGamma(gamma)
                guard !milestones.isEmpty else { throw fail("step decay needs at least one milestone epoch") }
                guard zip(milestones, milestones.dropFirst()).allSatisfy({ $0 < $1 }) else {
                    throw fail("step decay milestones \(milestones) must be strictly increasing")
                }
                guard milestones.first! >= 1, milestones.last! < epochs else {
                    throw fail("step decay milestones \(milestones) must lie in 1..<\(epochs) (the epochs of the run)")
                }
            case let .stepEvery(every, gamma):
                try checkGamma(gamma)
                guard every >= 1 else { throw fail("step decay every \(every) epochs: needs at least 1") }
            }
        }
    }

    public let baseLR: Double
    public let totalIterations: Int
    public let stepsPerEpoch: Int
    public let warmup: Warmup
    public let decay: Decay

    /// A schedule over `totalIterations` optimizer steps of `stepsPerEpoch` steps per epoch.
    /// Throws when the settings contradict each other.
    public init(baseLR: Double, totalIterations: Int, stepsPerEpoch: Int, warmup: Warmup = .none, decay: Decay) throws {
        try Self.validate(baseLR: baseLR, iterations: totalIterations, stepsPerEpoch: stepsPerEpoch)
        try warmup.validate(totalIterations: totalIterations)
        try decay.validate(baseLR: baseLR, epochs: (totalIterations + stepsPerEpoch - 1) / stepsPerEpoch)
        self.baseLR = baseLR
        self.totalIterations = totalIterations
        self.stepsPerEpoch = stepsPerEpoch
        self.warmup = warmup
        self.decay = decay
    }

    /// The learning rate of the step with 0-based index `iteration`. `lr(at: totalIterations)` is the
    /// rate after the last step (what the recipe logs for its last epoch); later indices keep that value.
    public func lr(at iteration: Int) -> Double {
        precondition(iteration >= 0, "negative iteration \(iteration)")
        let t = Self.progress(iteration, warmup: warmup.length, total: totalIterations)
        return warmup.multiplier(at: iteration) * decay.lr(base: baseLR, progress: t, epoch: iteration / stepsPerEpoch)
    }

    /// Progress through the decay at position `x` of a span of `total` whose first `warmup` are
    /// warmup: 0 until the warmup ends, then `(x − W)/(total − W)` (the recipe's division, int/int
    /// in Python, correctly rounded both ways), held at 1 past the end.
    static func progress(_ x: Int, warmup: Int, total: Int) -> Double {
        x <= warmup ? 0 : min(1, Double(x - warmup) / Double(total - warmup))
    }

    /// Throws unless a span of `iterations` steps of `stepsPerEpoch` per epoch at `baseLR` can be trained.
    static func validate(baseLR: Double, iterations: Int, stepsPerEpoch: Int) throws {
        guard baseLR.isFinite, baseLR > 0 else {
            throw LearningRateScheduleError(description: "learning rate \(baseLR) must be positive")
        }
        guard stepsPerEpoch >= 1 else {
            throw LearningRateScheduleError(description:
                "an epoch of \(stepsPerEpoch) steps cannot be trained; the batch size must not exceed the number of training images")
        }
        guard iterations >= 1 else {
            throw LearningRateScheduleError(description: "training of \(iterations) iterations: needs at least 1")
        }
    }
}
