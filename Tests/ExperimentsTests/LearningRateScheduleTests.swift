import Foundation
import XCTest
import Nets
@testable import Experiments

final class LearningRateScheduleTests: XCTestCase {
    typealias Schedule = LearningRateSchedule

    /// The DRIVE recipe's lambda as closed-form Swift, in the recipe's order of operations:
    /// `x <= W`: warmup_factor·(1 − x/W) + x/W, else (1 − (x − W)/((epochs − warmup_epochs)·num_step))^0.9.
    static func recipeFactor(_ x: Int, stepsPerEpoch: Int, epochs: Int, warmupEpochs: Int, warmupFactor: Double) -> Double {
        let w = warmupEpochs * stepsPerEpoch
        if warmupEpochs > 0 && x <= w {
            let alpha = Double(x) / Double(w)
            return warmupFactor * (1 - alpha) + alpha
        }
        return pow(1 - Double(x - w) / Double((epochs - warmupEpochs) * stepsPerEpoch), 0.9)
    }

    /// The DRIVE recipe: lr 0.01, 200 epochs of 5 steps (20 images at batch 4), 1 warmup epoch from 1e-3.
    static func drive() throws -> Schedule {
        try Schedule(baseLR: 0.01, totalIterations: 1000, stepsPerEpoch: 5,
                     warmup: .init(shape: .linear, iterations: 5, factor: 1e-3), decay: .poly(power: 0.9, minLR: 0))
    }

    /// Float64 vectors of the fixture, read from the raw bytes: the Nets reader rounds to Float32,
    /// which would hide a last-bit difference from the recipe.
    static func fixture() throws -> [String: [Double]] {
        let path = try XCTUnwrap(Bundle.module.path(forResource: "lr_schedule", ofType: "safetensors", inDirectory: "Fixtures"))
        let header = try SafeTensors.readHeader(path)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        var out: [String: [Double]] = [:]
        for info in header.tensors {
            XCTAssertEqual(info.dtype, .f64, info.name)
            out[info.name] = bytes.withUnsafeBytes { raw in
                (0..<info.count).map { k in
                    Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(
                        fromByteOffset: header.dataStart + info.dataOffsets.lowerBound + 8 * k, as: UInt64.self)))
                }
            }
        }
        return out
    }

    /// Asserts `|a − b| ≤ tolerance·|b|` at every index.
    func assertClose(_ a: [Double], _ b: [Double], relative tolerance: Double, _ name: String,
                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, name, file: file, line: line)
        for (i, (x, y)) in zip(a, b).enumerated() where abs(x - y) > tolerance * abs(y) {
            XCTFail("\(name)[\(i)]: \(x) vs \(y)", file: file, line: line)
        }
    }

    // MARK: The recipe

    /// Exact equality: the same IEEE operations in the same order, and the same `pow`.
    func testDriveRecipeMatchesClosedFormLambda() throws {
        let s = try Self.drive()
        let w = 5
        for x in [0, 1, w - 1, w, w + 1, 500, 999, 1000] {
            let expected = 0.01 * Self.recipeFactor(x, stepsPerEpoch: 5, epochs: 200, warmupEpochs: 1, warmupFactor: 1e-3)
            XCTAssertEqual(s.lr(at: x), expected, "iteration \(x)")
        }
        for x in 0...1000 {
            XCTAssertEqual(s.lr(at: x), 0.01 * Self.recipeFactor(x, stepsPerEpoch: 5, epochs: 200, warmupEpochs: 1,
                                                                   warmupFactor: 1e-3))
        }
        XCTAssertEqual(s.lr(at: 0), 1e-5)
        XCTAssertEqual(s.lr(at: w), 0.01)
        XCTAssertEqual(s.lr(at: 1000), 0)
        XCTAssertEqual(s.lr(at: 5000), 0, "past the end the rate holds its final value")
    }

    /// PyTorch's LambdaLR with the recipe's lambda, every iteration of 3 epochs × 7 steps, plus the
    /// rate after the last step. Relative 1e-15: Python and Swift both call the C library's `pow`
    /// on the same operands, so the values agree to the bit on one platform; the bound leaves room
    /// for a last-ulp difference between C libraries.
    func testRecipeMatchesPyTorchLambdaLR() throws {
        let fixture = try Self.fixture()
        let warm = try Schedule(baseLR: 0.01, totalIterations: 21, stepsPerEpoch: 7,
                                warmup: .init(shape: .linear, iterations: 7, factor: 1e-3), decay: .poly(power: 0.9, minLR: 0))
        assertClose((0...21).map(warm.lr(at:)), try XCTUnwrap(fixture["recipe_warmup"]), relative: 1e-15, "recipe_warmup")
        let plain = try Schedule(baseLR: 0.01, totalIterations: 21, stepsPerEpoch: 7, decay: .poly(power: 0.9, minLR: 0))
        assertClose((0...21).map(plain.lr(at:)), try XCTUnwrap(fixture["recipe_no_warmup"]), relative: 1e-15, "recipe_no_warmup")
        // Same curve through PyTorch's recursive PolynomialLR, which accumulates rounding: 1e-12.
        assertClose((0...21).map(plain.lr(at:)), try XCTUnwrap(fixture["polynomial"]), relative: 1e-12, "polynomial")
    }

    /// PyTorch's CosineAnnealingLR (per iteration), MultiStepLR and StepLR (per epoch). CosineAnnealingLR
    /// computes recursively, so its values drift from the closed form by rounding: relative 1e-12.
    func testOtherDecaysMatchPyTorchSchedulers() throws {
        let fixture = try Self.fixture()
        let cosine = try Schedule(baseLR: 0.01, totalIterations: 21, stepsPerEpoch: 7, decay: .cosine(minLR: 1e-4))
        assertClose((0...21).map(cosine.lr(at:)), try XCTUnwrap(fixture["cosine"]), relative: 1e-12, "cosine")
        let multi = try Schedule(baseLR: 0.01, totalIterations: 21, stepsPerEpoch: 7,
                                 decay: .step(milestones: [1, 2], gamma: 0.1))
        assertClose((0...21).map(multi.lr(at:)), try XCTUnwrap(fixture["multistep"]), relative: 1e-12, "multistep")
        let every = try Schedule(baseLR: 1e-4, totalIterations: 21, stepsPerEpoch: 7, decay: .stepEvery(epochs: 1, gamma: 0.96))
        assertClose((0...21).map(every.lr(at:)), try XCTUnwrap(fixture["steplr"]), relative: 1e-12, "steplr")
    }

    // MARK: Warmup shapes and decays

    func testConstantWarmupHoldsFactorUntilItEnds() throws {
        let s = try Schedule(baseLR: 0.1, totalIterations: 100, stepsPerEpoch: 10,
                             warmup: .init(shape: .constant, iterations: 10, factor: 0.25), decay: .none)
        XCTAssertEqual(s.lr(at: 0), 0.025)
        XCTAssertEqual(s.lr(at: 9), 0.025)
        XCTAssertEqual(s.lr(at: 10), 0.1)
        XCTAssertEqual(s.lr(at: 99), 0.1)
    }

    /// Closed-form values of the half cosine; relative 1e-15 (one rounding of cos).
    func testCosineWarmupBoundaries() throws {
        let f = 0.01, w = 8
        let s = try Schedule(baseLR: 2, totalIterations: 40, stepsPerEpoch: 8,
                             warmup: .init(shape: .cosine, iterations: w, factor: f), decay: .cosine(minLR: 0))
        XCTAssertEqual(s.lr(at: 0), 2 * f)
        XCTAssertEqual(s.lr(at: w / 2), 2 * (f + (1 - f) / 2), accuracy: 1e-15 * 2)
        XCTAssertEqual(s.lr(at: w - 1), 2 * (f + (1 - f) * (1 - cos(Double.pi * 7 / 8)) / 2), accuracy: 1e-15 * 2)
        XCTAssertEqual(s.lr(at: w), 2, "the warmup ends at the base rate, where the decay begins")
        XCTAssertLessThan(s.lr(at: w + 1), 2)
        let rising = (0...w).map(s.lr(at:))
        XCTAssertEqual(rising, rising.sorted(), "the warmup never goes down")
    }

    /// The recipe's linear warmup includes x == W, where its expression is exactly 1.
    func testLinearWarmupBoundary() throws {
        let warmup = Schedule.Warmup(shape: .linear, iterations: 4, factor: 0.1)
        XCTAssertEqual(warmup.multiplier(at: 0), 0.1)
        XCTAssertEqual(warmup.multiplier(at: 2), 0.1 * 0.5 + 0.5)
        XCTAssertEqual(warmup.multiplier(at: 4), 1)
        XCTAssertEqual(warmup.multiplier(at: 5), 1)
        XCTAssertEqual(Schedule.Warmup.none.multiplier(at: 0), 1)
    }

    func testCosineDecayEndsAtMinLR() throws {
        let s = try Schedule(baseLR: 0.01, totalIterations: 105, stepsPerEpoch: 5,
                             warmup: .init(shape: .linear, iterations: 5, factor: 1e-3), decay: .cosine(minLR: 1e-5))
        XCTAssertEqual(s.lr(at: 5), 0.01)
        XCTAssertEqual(s.lr(at: 55), (0.01 + 1e-5) / 2, accuracy: 1e-18, "halfway: the mean of the two rates")
        XCTAssertEqual(s.lr(at: 105), 1e-5, "cos(π) is exactly −1")
        XCTAssertGreaterThan(s.lr(at: 104), 1e-5)
    }

    func testPolyDecayWithMinLR() throws {
        let s = try Schedule(baseLR: 0.01, totalIterations: 50, stepsPerEpoch: 5, decay: .poly(power: 2, minLR: 1e-4))
        XCTAssertEqual(s.lr(at: 0), 0.01)
        XCTAssertEqual(s.lr(at: 25), 1e-4 + (0.01 - 1e-4) * 0.25, accuracy: 1e-18)
        XCTAssertEqual(s.lr(at: 50), 1e-4)
    }

    /// MultiStepLR semantics per epoch: the rate drops in the first step of each milestone epoch.
    func testStepDecayAtMilestones() throws {
        let s = try Schedule(baseLR: 1, totalIterations: 40, stepsPerEpoch: 4, decay: .step(milestones: [2, 5], gamma: 0.1))
        XCTAssertEqual(s.lr(at: 7), 1, "last step of epoch 1")
        XCTAssertEqual(s.lr(at: 8), 0.1, "first step of epoch 2")
        XCTAssertEqual(s.lr(at: 19), 0.1, "last step of epoch 4")
        XCTAssertEqual(s.lr(at: 20), 0.01, accuracy: 1e-17, "first step of epoch 5")
        XCTAssertEqual(s.lr(at: 39), 0.01, accuracy: 1e-17)
        let every = try Schedule(baseLR: 1, totalIterations: 40, stepsPerEpoch: 4, decay: .stepEvery(epochs: 3, gamma: 0.5))
        XCTAssertEqual([0, 11, 12, 23, 24].map(every.lr(at:)), [1, 1, 0.5, 0.5, 0.25])
    }

    func testContradictorySettingsThrowReadableErrors() {
        func message(_ make: () throws -> Any) -> String {
            do { _ = try make(); return "no error" } catch { return "\(error)" }
        }
        let linear = Schedule.Warmup(shape: .linear, iterations: 5, factor: 1e-3)
        XCTAssertTrue(message { try Schedule(baseLR: 0, totalIterations: 10, stepsPerEpoch: 5, decay: .none) }
            .contains("learning rate 0.0 must be positive"))
        XCTAssertTrue(message { try Schedule(baseLR: 0.1, totalIterations: 10, stepsPerEpoch: 0, decay: .none) }
            .contains("batch size"))
        XCTAssertTrue(message { try Schedule(baseLR: 0.1, totalIterations: 5, stepsPerEpoch: 5, warmup: linear, decay: .none) }
            .contains("does not fit"))
        XCTAssertTrue(message {
            try Schedule(baseLR: 0.1, totalIterations: 50, stepsPerEpoch: 5, warmup: .init(shape: .cosine, iterations: 5, factor: 0),
                         decay: .none)
        }.contains("warmup factor 0.0"))
        XCTAssertTrue(message { try Schedule(baseLR: 0.1, totalIterations: 50, stepsPerEpoch: 5, decay: .cosine(minLR: 0.2)) }
            .contains("minimum learning rate 0.2"))
        XCTAssertTrue(message { try Schedule(baseLR: 0.1, totalIterations: 50, stepsPerEpoch: 5, decay: .poly(power: 0, minLR: 0)) }
            .contains("power"))
        XCTAssertTrue(message {
            try Schedule(baseLR: 0.1, totalIterations: 50, stepsPerEpoch: 5, decay: .step(milestones: [6, 3], gamma: 0.1))
        }.contains("strictly increasing"))
        XCTAssertTrue(message {
            try Schedule(baseLR: 0.1, totalIterations: 50, stepsPerEpoch: 5, decay: .step(milestones: [3, 10], gamma: 0.1))
        }.contains("1..<10"))
        XCTAssertTrue(message { try StagedSchedule(stages: [], decay: .none) }.contains("at least one stage"))
        XCTAssertEqual(message {
            try StagedSchedule(stages: [.init(epochs: 2, stepsPerEpoch: 3, baseLR: 1e-3), .init(epochs: 1, stepsPerEpoch: 3, baseLR: 1e-4)],
                               warmupShape: .linear, warmupEpochs: 1, warmupFactor: 0.1, decay: .none, warmupScope: .perStage)
        }, "stage 2: warmup of 3 iterations does not fit in 3 iterations of training; shorten the warmup")
    }

    // MARK: Stages

    /// The freeze-then-unfreeze example: 50 epochs at batch 8 (3 steps of 20 images, last batch kept)
    /// and lr 1e-4, then 150 epochs at batch 2 (10 steps) and lr 1e-5; defaults: warmup once, decay per stage.
    func testStagesSwitchBaseLRAndStepsPerEpoch() throws {
        let stages = [StagedSchedule.Stage(epochs: 50, stepsPerEpoch: 3, baseLR: 1e-4),
                      StagedSchedule.Stage(epochs: 150, stepsPerEpoch: 10, baseLR: 1e-5)]
        let s = try StagedSchedule(stages: stages, warmupShape: .linear, warmupEpochs: 1, warmupFactor: 1e-3,
                                   decay: .poly(power: 0.9, minLR: 0))
        XCTAssertEqual(s.totalIterations, 150 + 1500)
        XCTAssertEqual(s.totalEpochs, 200)
        XCTAssertEqual(s.position(of: 0), .init(stage: 0, epoch: 0, epochInStage: 0, iterationInStage: 0, iterationInEpoch: 0))
        XCTAssertEqual(s.position(of: 149), .init(stage: 0, epoch: 49, epochInStage: 49, iterationInStage: 149, iterationInEpoch: 2))
        XCTAssertEqual(s.position(of: 150), .init(stage: 1, epoch: 50, epochInStage: 0, iterationInStage: 0, iterationInEpoch: 0))
        XCTAssertEqual(s.position(of: 163), .init(stage: 1, epoch: 51, epochInStage: 1, iterationInStage: 13, iterationInEpoch: 3))
        XCTAssertEqual(s.firstIteration(ofStage: 1), 150)
        XCTAssertEqual(s.firstIteration(ofEpoch: 51), 160)
        XCTAssertEqual(s.firstIteration(ofEpoch: 200), 1650)
        for e in [0, 1, 49, 50, 51, 199] { XCTAssertEqual(s.position(of: s.firstIteration(ofEpoch: e)).epoch, e) }

        // Each stage is exactly its own single schedule; only the first warms up.
        let first = try Schedule(baseLR: 1e-4, totalIterations: 150, stepsPerEpoch: 3,
                                 warmup: .init(shape: .linear, iterations: 3, factor: 1e-3), decay: .poly(power: 0.9, minLR: 0))
        let second = try Schedule(baseLR: 1e-5, totalIterations: 1500, stepsPerEpoch: 10, decay: .poly(power: 0.9, minLR: 0))
        for x in 0..<150 { XCTAssertEqual(s.lr(at: x), first.lr(at: x)) }
        for x in 0...1500 { XCTAssertEqual(s.lr(at: 150 + x), second.lr(at: x)) }
        XCTAssertEqual(s.lr(at: 0), 1e-4 * 1e-3, "base · factor, as LambdaLR computes it")
        XCTAssertEqual(s.lr(at: 149), 1e-4 * pow(1.0 / 147, 0.9), accuracy: 1e-18)
        XCTAssertEqual(s.lr(at: 150), 1e-5, "stage 2 starts at its own rate, no warmup")
        XCTAssertEqual(s.lr(at: 1650), 0)
    }

    func testPerStageWarmupRestartsEachStage() throws {
        let s = try StagedSchedule(stages: [.init(epochs: 4, stepsPerEpoch: 3, baseLR: 1e-2), .init(epochs: 4, stepsPerEpoch: 6, baseLR: 1e-3)],
                                   warmupShape: .constant, warmupEpochs: 1, warmupFactor: 0.1, decay: .none, warmupScope: .perStage)
        XCTAssertEqual([0, 2, 3, 12, 17, 18].map(s.lr(at:)), [1e-3, 1e-3, 1e-2, 1e-4, 1e-4, 1e-3])
    }

    /// One stage: every scope combination is the plain schedule, to the bit.
    func testSingleStageEqualsPlainSchedule() throws {
        let plain = try Self.drive()
        for warmupScope in StagedSchedule.Scope.allCases {
            for decayScope in StagedSchedule.Scope.allCases {
                let s = try StagedSchedule(stages: [.init(epochs: 200, stepsPerEpoch: 5, baseLR: 0.01)], warmupShape: .linear,
                                           warmupEpochs: 1, warmupFactor: 1e-3, decay: .poly(power: 0.9, minLR: 0),
                                           warmupScope: warmupScope, decayScope: decayScope)
                for x in 0...1000 where s.lr(at: x) != plain.lr(at: x) {
                    XCTFail("\(warmupScope)/\(decayScope) at \(x): \(s.lr(at: x)) vs \(plain.lr(at: x))")
                    break
                }
            }
        }
    }

    /// A decay over the run follows the epochs, not the iterations: at the first step of global epoch e
    /// the cosine stands at (1 + cos(π e/E))/2 whatever the stages' steps per epoch, and the base rate
    /// switches at the stage boundary. Relative 1e-15 (one rounding of cos).
    func testRunDecayFollowsEpochsAcrossStages() throws {
        let s = try StagedSchedule(stages: [.init(epochs: 2, stepsPerEpoch: 3, baseLR: 1), .init(epochs: 2, stepsPerEpoch: 5, baseLR: 0.5)],
                                   decay: .cosine(minLR: 0), decayScope: .run)
        for e in 0..<4 {
            let base = e < 2 ? 1.0 : 0.5
            XCTAssertEqual(s.lr(at: s.firstIteration(ofEpoch: e)), base * (1 + cos(Double.pi * Double(e) / 4)) / 2, accuracy: 1e-15)
        }
        XCTAssertEqual(s.lr(at: 6), 0.25, accuracy: 1e-16, "stage 2's rate, halfway down the cosine")
        XCTAssertEqual(s.lr(at: 6 + 2), 0.5 * (1 + cos(Double.pi * 2.4 / 4)) / 2, accuracy: 1e-15, "2 of 5 steps into epoch 2")
        XCTAssertEqual(s.lr(at: s.totalIterations), 0)

        // Milestones count epochs of the run with decay over the run, epochs of the stage per stage.
        let stages = [StagedSchedule.Stage(epochs: 3, stepsPerEpoch: 2, baseLR: 1), .init(epochs: 3, stepsPerEpoch: 4, baseLR: 1)]
        let run = try StagedSchedule(stages: stages, decay: .step(milestones: [4], gamma: 0.1), decayScope: .run)
        XCTAssertEqual([0, 6, 9, 10].map(run.lr(at:)), [1, 1, 1, 0.1])
        let perStage = try StagedSchedule(stages: stages, decay: .step(milestones: [1], gamma: 0.1))
        XCTAssertEqual([0, 1, 2, 6, 9, 10].map(perStage.lr(at:)), [1, 1, 0.1, 1, 1, 0.1])
    }
}
