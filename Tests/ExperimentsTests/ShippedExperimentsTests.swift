import Foundation
import XCTest
@testable import Experiments

/// Every file in experiments/ passes what `runexp FILE --dry-run` checks: the config and its
/// sweep are valid, and every run builds (model, freeze names, schedule, data). DRIVE-based
/// files are built against the shared DRIVE copy when it is present; files whose dataset is
/// absent here (VOC, HRF, CHASE_DB1, STARE) are checked without their data.
final class ShippedExperimentsTests: XCTestCase {
    let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    var drive: String? {
        let path = packageRoot + "/../shared/data/DRIVE"
        return FileManager.default.fileExists(atPath: path + "/training") ? path : nil
    }

    func testEveryShippedExperimentPassesDryRun() throws {
        let dir = packageRoot + "/experiments"
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".yaml") }.sorted()
        XCTAssertGreaterThanOrEqual(files.count, 12, "\(files)")
        for file in files {
            let path = dir + "/" + file
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let usesDrive = text.contains("dataset: drive") || text.contains("base: drive_")
            let usesVOC = ["voc", "hrf", "chase_db1", "stare"].contains { text.contains("dataset: \($0)") }
            if usesDrive && drive == nil { continue }
            let overrides = usesDrive ? ["data.root=\(drive!)"] : []
            let experiment: Experiment
            do {
                experiment = try Experiment.load(path, overrides: overrides, options: ConfigOptions(checkPaths: !usesVOC))
            } catch {
                XCTFail("\(file): \(error)")
                continue
            }
            XCTAssertFalse(experiment.runs.isEmpty, file)
            if usesVOC {
                // No such data here: build each run's model and check its freeze names without data.
                for run in experiment.runs {
                    XCTAssertNoThrow(try ModelFactory.makeModel(run.config, at: run.locations), "\(file) \(run.id)")
                }
                continue
            }
            let runner = SweepRunner(experiment: experiment, options: SweepOptions(resultsRoot: NSTemporaryDirectory()))
            XCTAssertNoThrow(try runner.validate(), file)
        }
    }

    /// Validation builds each model's skeleton instead of the model: it must have the model's
    /// keys, groups and minimum input side, for every model the shipped experiments name.
    func testModelSkeletonsHaveTheModelsNamesGroupsAndMinimumSide() throws {
        let dir = packageRoot + "/experiments"
        var seen: Set<String> = []
        for file in try FileManager.default.contentsOfDirectory(atPath: dir).filter({ $0.hasSuffix(".yaml") }).sorted() {
            let experiment = try Experiment.load(dir + "/" + file, options: ConfigOptions(checkPaths: false))
            for run in experiment.runs where seen.insert("\(run.config.model)|\(run.config.data.numClasses)").inserted {
                let full = try ModelFactory.makeModel(run.config, at: run.locations)
                let skeleton = try ModelFactory.makeModel(run.config, at: run.locations, skeleton: true)
                let name = "\(file) \(run.id)"
                let (keys, expected) = (skeleton.namedParameters().map(\.0), full.namedParameters().map(\.0))
                XCTAssertTrue(keys == expected, "\(name): skeleton keys differ, first at "
                              + "\(zip(keys, expected).first { $0 != $1 } ?? (keys.last ?? "", expected.last ?? ""))")
                XCTAssertEqual(skeleton.groups, full.groups, name)
                XCTAssertEqual(skeleton.minimumInputSide, full.minimumInputSide, name)
                XCTAssertLessThanOrEqual(skeleton.parameterCount, min(full.parameterCount, 1_000_000), name)
            }
        }
        XCTAssertGreaterThanOrEqual(seen.count, 8, "\(seen)")
    }

    func testShippedAblationsExpandAsDocumented() throws {
        let dir = packageRoot + "/experiments/"
        let options = ConfigOptions(checkPaths: false)
        func treatments(_ file: String) throws -> [RunSpec] {
            let runs = try Experiment.load(dir + file, options: options).runs
            // Every shipped ablation compares its methods over seeds 0, 1, 2, the seed varying fastest.
            XCTAssertEqual(runs.map(\.config.seed), Array(repeating: [0, 1, 2], count: runs.count / 3).flatMap { $0 }, file)
            return stride(from: 0, to: runs.count, by: 3).map { runs[$0] }
        }
        XCTAssertEqual(try treatments("ablation_upsample.yaml").map(\.config.model.upsample), [.bilinear, .transposed])
        XCTAssertEqual(try treatments("ablation_width.yaml").map { $0.config.model.baseC }, [16, 32, 64])
        let loss = try treatments("ablation_loss.yaml")
        XCTAssertEqual(loss.count, 8)
        XCTAssertEqual(Set(loss.map { "\($0.config.loss.dice),\($0.config.loss.focal)" }).count, 4)
        let models = try treatments("ablation_models.yaml")
        XCTAssertEqual(models.map { $0.config.model.name.rawValue }, ["unet", "unetpp", "deeplabv3plus", "lraspp"])
        XCTAssertTrue(models.allSatisfy { $0.config.schedule.epochs == 100 })
        let prune = try treatments("ablation_unetpp_prune.yaml")
        XCTAssertEqual(prune.map(\.config.model.prune), [1, 2, 3, 4])
        XCTAssertTrue(prune.allSatisfy { $0.config.model.name == .unetpp && $0.config.model.deepSupervision })
        XCTAssertEqual(try treatments("ablation_warmup.yaml").map { $0.config.schedule.warmup.epochs }, [0, 5, 5, 5])
        let freeze = try treatments("ablation_freeze.yaml")
        XCTAssertEqual(freeze.map { $0.config.stages.map(\.freeze) }, [[["encoder"], []], [[]]])
        // A swept list keeps a short, still distinct id: its start and a digest of the whole.
        XCTAssertTrue(freeze.allSatisfy { $0.id.count <= 40 }, "\(freeze.map(\.id))")
        XCTAssertEqual(Set(freeze.map(\.id)).count, 2)
        XCTAssertEqual(try treatments("ablation_fcn_variants.yaml").map { $0.config.model.variant.rawValue }, ["32s", "16s", "8s"])
        XCTAssertEqual(try treatments("ablation_aspp.yaml").map { $0.config.model.asppRates },
                       [[6, 12, 18], [3, 6, 9], [12, 24, 36]])
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("ablation_") }
        XCTAssertEqual(files.count, 9, "a new ablation needs its line above")
    }
}
