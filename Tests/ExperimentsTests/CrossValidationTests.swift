import Foundation
import XCTest
@testable import Experiments
@testable import Nets

/// Cross-validation (`data.folds`, `data.fold`, `splits.json`) and checkpoint ensembles: the
/// folds partition the training images and follow the split seed only; the split is written
/// once per experiment and read back, and a file that does not fit is a located error;
/// `sweep: {data.fold: all}` expands to the folds; fold runs validate on their fold; an
/// ensemble's prediction is the mean of its members' probabilities.
final class CrossValidationTests: XCTestCase {
    /// A tiny cross-validation of the synthetic data: 7 training images in 3 folds (3, 2, 2).
    func cvYAML(extra: String = "", data: String = "") -> String {
        """
        name: cv
        data:
          dataset: synthetic
          crop: null
          scale: null
          mean: [0.5, 0.3, 0.2]
          std: [0.2, 0.1, 0.1]
          synthetic: {size: 64, count: 7, val_count: 2}
          folds: 3
        \(data)
        model: {name: unet, base_c: 4}
        schedule: {epochs: 1, batch_size: 2}
        sweep:
          data.fold: all
        \(extra)
        """
    }

    func names(_ dataset: any Dataset) throws -> [String] {
        try (0..<dataset.count).map { try XCTUnwrap(dataset.sample($0).name) }
    }

    // MARK: The split

    func testFoldsPartitionTheTrainingImagesBySplitSeedAlone() {
        let names = (0..<23).map { String(format: "img_%02d", $0) }
        let folds = KFold.validationFolds(of: names.shuffled(), k: 5, seed: 0)
        XCTAssertEqual(folds.count, 5)
        XCTAssertEqual(folds.flatMap { $0 }.sorted(), names, "every image in exactly one fold")
        XCTAssertEqual(folds.map(\.count), [5, 5, 5, 4, 4], "sizes differ by at most one, the longer first")
        // The listing order does not matter, the seed does.
        XCTAssertEqual(KFold.validationFolds(of: names, k: 5, seed: 0), folds)
        XCTAssertNotEqual(KFold.validationFolds(of: names, k: 5, seed: 1), folds)
        let file = SplitsFile(drawing: names, k: 5, seed: 0)
        for (fold, val) in zip(file.folds, folds) {
            XCTAssertEqual(fold.val, val)
            XCTAssertEqual(fold.train, names.filter { !val.contains($0) }, "train is every other image, sorted")
        }
        XCTAssertNil(file.mismatch(names: names, k: 5))
        XCTAssertEqual(try SplitsFile.read(writeTemporary(file.json)), file, "the file reads back as written")
    }

    /// Replicates (`seed` swept) of a fold validate on the same images; the split seed changes them.
    func testTheRunSeedDoesNotMoveTheFolds() throws {
        func valNames(_ overrides: [String]) throws -> [String] {
            let run = try loadConfig(cvYAML(), overrides: overrides).runs[1]
            return try names(RunSetup.datasets(run.config, at: run.locations, splits: nil).1)
        }
        let fold1 = try valNames([])
        XCTAssertEqual(fold1.count, 2)
        XCTAssertEqual(try valNames(["seed=7"]), fold1)
        XCTAssertNotEqual(try valNames(["data.split_seed=5"]), fold1)
        // The test images (val_count) stay out of every fold.
        let run = try loadConfig(cvYAML()).runs[0]
        let (train, val) = try RunSetup.datasets(run.config, at: run.locations, splits: nil)
        XCTAssertEqual(try (names(train) + names(val)).sorted(), (0..<7).map(SyntheticDataset.name))
    }

    /// The first training run writes splits.json; later ones read it, even when it differs from
    /// what the seed would draw now (a rerun sees the split its experiment began with). Checks
    /// and dry runs write nothing.
    func testSplitsFileIsWrittenOnceAndReadBack() throws {
        let dir = try temporaryFolder()
        let runs = try loadConfig(cvYAML()).runs
        let path = dir + "/splits.json"
        func valNames(_ run: RunSpec, creates: Bool) throws -> [String] {
            try names(RunSetup.datasets(run.config, at: run.locations,
                                        splits: SplitsStore(experimentDirectory: dir, creates: creates)).1)
        }
        let drawn = try valNames(runs[0], creates: false)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), "a check does not write the split")
        XCTAssertEqual(try valNames(runs[0], creates: true), drawn)
        let written = try SplitsFile.read(path)
        XCTAssertEqual(written, SplitsFile(drawing: (0..<7).map(SyntheticDataset.name), k: 3, seed: 0))
        XCTAssertEqual(written.folds[0].val, drawn)

        // Someone moves an image from fold 0's validation to its training: the file is what counts.
        var edited = written
        let moved = edited.folds[0].val.removeFirst()
        edited.folds[0].train = (edited.folds[0].train + [moved]).sorted()
        try AtomicFile.write(edited.json, to: path)
        XCTAssertEqual(try valNames(runs[0], creates: true), edited.folds[0].val)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), edited.json, "never rewritten")
    }

    func testASplitsFileThatDoesNotFitIsALocatedError() throws {
        let dir = try temporaryFolder() + "/cv"  // the experiment folder of `cv` under a results folder
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let runs = try loadConfig(cvYAML(), overrides: ["data.split_seed=4"]).runs
        func error(_ run: RunSpec) -> String {
            do {
                _ = try RunSetup.datasets(run.config, at: run.locations, splits: SplitsStore(experimentDirectory: dir, creates: true))
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        let names = (0..<7).map(SyntheticDataset.name)
        try AtomicFile.write(SplitsFile(drawing: names, k: 3, seed: 0).json, to: dir + "/splits.json")
        XCTAssertEqual(error(runs[0]), "--set data.split_seed=4: \(dir)/splits.json was drawn with split seed 0 but "
                       + "data.split_seed is 4; delete it to split the training images again, or set data.splits to a file of your own")
        try AtomicFile.write(SplitsFile(drawing: names, k: 2, seed: 4).json, to: dir + "/splits.json")
        XCTAssertEqual(error(runs[0]), "exp.yaml:9:10: \(dir)/splits.json does not fit this data: has 2 folds but data.folds "
                       + "is 3; delete it to split the training images again, or set data.splits to a file of your own")
        var other = SplitsFile(drawing: names, k: 3, seed: 4)
        other.folds[2].val.append("synthetic_0099")
        try AtomicFile.write(other.json, to: dir + "/splits.json")
        XCTAssertEqual(error(runs[2]), "exp.yaml:9:10: \(dir)/splits.json does not fit this data: fold 2 names 1 image that "
                       + "is not among the 7 training images: synthetic_0099; delete it to split the training images again, "
                       + "or set data.splits to a file of your own")
        let tooFew = try loadConfig(cvYAML(), overrides: ["data.synthetic.count=2"]).runs[0]
        XCTAssertThrowsError(try RunSetup.datasets(tooFew.config, at: tooFew.locations, splits: nil)) {
            XCTAssertEqual("\($0)", "exp.yaml:9:10: data.folds is 3 but there are 2 training images; each fold needs at least "
                           + "one to validate on")
        }
        // Validation before training reports it, and trains nothing.
        let runner = SweepRunner(experiment: try loadConfig(cvYAML(), overrides: ["data.split_seed=4"]),
                                 options: SweepOptions(resultsRoot: parentFolder(dir)))
        XCTAssertThrowsError(try runner.validate()) {
            XCTAssertTrue("\($0)".contains("fold 2 names 1 image that is not among the 7 training images"), "\($0)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["splits.json"])
    }

    /// `data.splits` reads a file of the user's, nnU-Net's `splits_final.json` list included,
    /// relative to the YAML file; one that does not fit names itself at data.splits.
    func testAUserSplitsFileIsReadAsNnUNetWritesIt() throws {
        let folder = try ConfigFolder()
        let names = (0..<7).map(SyntheticDataset.name)
        let folds = [Array(names[0..<3]), Array(names[3..<5]), Array(names[5...])]
        let list = "[" + folds.map { val in
            "{\"train\": [" + names.filter { !val.contains($0) }.map(JSONText.quoted).joined(separator: ", ")
                + "], \"val\": [" + val.map(JSONText.quoted).joined(separator: ", ") + "]}"
        }.joined(separator: ",\n") + "]"
        try folder.write("exp/splits_final.json", list)
        try folder.write("exp/cv.yaml", cvYAML(data: "  splits: splits_final.json"))
        let experiment = try Experiment.load("exp/cv.yaml", options: folder.options(checkPaths: true))
        XCTAssertEqual(experiment.runs[0].config.data.splits, "exp/splits_final.json")
        XCTAssertFalse(experiment.runs[0].config.yaml.contains("split_seed"), "the user's file has no seed")
        let dir = try temporaryFolder()
        for (i, run) in experiment.runs.enumerated() {
            let config = resolved(run.config, in: folder.path)
            let (train, val) = try RunSetup.datasets(config, at: run.locations,
                                                     splits: SplitsStore(experimentDirectory: dir, creates: true))
            XCTAssertEqual(try self.names(val), folds[i])
            XCTAssertEqual(try self.names(train).count, 7 - folds[i].count)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/splits.json"), "the user's file is used, not copied")

        try folder.write("exp/splits_final.json", "[{\"train\": [\"a\"], \"val\": [\"b\"]}]")
        let run = experiment.runs[0]
        XCTAssertThrowsError(try RunSetup.datasets(resolved(run.config, in: folder.path), at: run.locations, splits: nil)) {
            XCTAssertEqual("\($0)", "exp/cv.yaml:10:11: \(folder.path)/exp/splits_final.json does not fit this data: has 1 "
                           + "folds but data.folds is 3; correct it, or point data.splits at another file")
        }
    }

    // MARK: Config keys and the sweep

    func testFoldAllExpandsToTheFoldsAndKeysAreWrittenOnlyWhenSet() throws {
        let runs = try loadConfig(cvYAML()).runs
        XCTAssertEqual(runs.map(\.id), ["fold=0", "fold=1", "fold=2"])
        XCTAssertEqual(runs.map(\.config.data.fold), [0, 1, 2])
        XCTAssertEqual(Set(runs.map(\.hash)).count, 3)
        XCTAssertTrue(runs[1].config.yaml.contains("  val_fraction: null\n  folds: 3\n  fold: 1\n  split_seed: 0\n"),
                      runs[1].config.yaml)
        let again = try loadConfig(runs[1].configYAML)
        XCTAssertEqual(again.runs.map(\.hash), [runs[1].hash], "config.yaml repeats the fold run")
        // Configs without cross-validation write none of the keys, so their hashes stay.
        let plain = try loadConfig("seed: 0\n").runs[0].config.yaml
        for key in ["folds", "fold:", "split_seed", "splits"] { XCTAssertFalse(plain.contains(key), key) }
        // run@91148df8 is the DRIVE recipe on the shared DRIVE copy (the path is only text here).
        let drive = try Experiment.load(packageRoot + "/experiments/drive_unet.yaml", overrides: ["data.root=/work/shared/data/DRIVE"],
                                        options: ConfigOptions(checkPaths: false))
        XCTAssertEqual(drive.runs[0].hash, "91148df8", "the DRIVE recipe's run keeps its folder")
        let cv = try Experiment.load(packageRoot + "/experiments/drive_unet_cv.yaml", options: ConfigOptions(checkPaths: false))
        XCTAssertEqual(cv.runs.map(\.id), (0..<5).map { "fold=\($0)" })
        // With other swept keys, the fold axis keeps its place.
        let grid = try loadConfig(cvYAML(extra: "  seed: [0, 1]"))
        XCTAssertEqual(grid.runs.map(\.id).prefix(3), ["fold=0,seed=0", "fold=0,seed=1", "fold=1,seed=0"])
    }

    func testCrossValidationMistakesAreLocatedErrors() {
        let synthetic = "name: e\ndata: {dataset: synthetic, "
        XCTAssertEqual(configErrors(synthetic + "fold: 1}\n"),
                       ["exp.yaml:2:34: data.fold needs data.folds, the number of cross-validation folds, got 1"])
        XCTAssertEqual(configErrors(synthetic + "folds: 3}\n"),
                       ["exp.yaml:2:7: data.fold must be given with data.folds: one fold (data.fold: 0), or every fold with "
                        + "sweep: {data.fold: all}"])
        XCTAssertEqual(configErrors(synthetic + "folds: 3, fold: 3}\n"),
                       ["exp.yaml:2:44: data.fold must be a fold from 0 to 2 (data.folds is 3), got 3"])
        XCTAssertEqual(configErrors(synthetic + "folds: 1, fold: 0}\n").first,
                       "exp.yaml:2:35: data.folds must be at least 2 (the number of cross-validation folds), got 1")
        XCTAssertEqual(configErrors(synthetic + "folds: 3, fold: 0, val_fraction: 0.2}\n"),
                       ["exp.yaml:2:35: data.folds cannot be combined with data.val_fraction (both choose the validation "
                        + "images; keep one), got 3"])
        XCTAssertEqual(configErrors(synthetic + "}\nsweep: {data.fold: all}\n"),
                       ["exp.yaml:3:20: sweep: data.fold: all sweeps the folds of a cross-validation, but data.folds (how "
                        + "many) is not set; add it, e.g. data: {folds: 5}"])
        XCTAssertEqual(configErrors(synthetic + "}\nsweep: {data.folds: [3, 5], data.fold: all}\n"),
                       ["exp.yaml:3:40: sweep: data.fold: all needs one data.folds for every run, but data.folds is swept; "
                        + "list the folds instead"])
        XCTAssertEqual(configErrors(synthetic + "folds: 3, fold: 0}\nsweep: {model.base_c: all}\n"),
                       ["exp.yaml:3:23: sweep: 'model.base_c' needs a non-empty list of values, as in [all, ...]; got 'all'"],
                       "only data.fold takes all")
    }

    // MARK: Training

    /// Each fold run of a tiny cross-validation validates on its fold's images: `runexp eval`'s
    /// scores of its best checkpoint on the val split (read through splits.json) are those of
    /// its best epoch, and the folds' validation images cover the training images once. A
    /// second pass skips the runs and leaves splits.json as it was.
    func testFoldRunsValidateOnTheirFold() throws {
        let results = try temporaryFolder()
        let experiment = try loadConfig(cvYAML(data: "  hflip: 0\n  vflip: 0"))
        let runner = SweepRunner(experiment: experiment, options: SweepOptions(resultsRoot: results),
                                 reporter: ProgressReporter(live: false, write: { _ in }))
        try runner.validate()
        XCTAssertFalse(FileManager.default.fileExists(atPath: runner.experimentDirectory + "/splits.json"))
        XCTAssertEqual(try runner.run().failed, 0)
        let path = runner.experimentDirectory + "/splits.json"
        let split = try SplitsFile.read(path)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertEqual(split.folds.flatMap(\.val).sorted(), (0..<7).map(SyntheticDataset.name))
        for (i, run) in experiment.runs.enumerated() {
            let store = SplitsStore(runDirectory: runner.directory(of: run), creates: false)
            let val = try Evaluation.dataset(run.config, at: run.locations, split: .val, splits: store)
            XCTAssertEqual(try names(val), split.folds[i].val, run.id)
            let records = try MetricsLog.read(runner.directory(of: run) + "/metrics.jsonl")
            let best = try XCTUnwrap(EpochRecord.best(in: records, by: { $0.dice })?.scores)
            let eval = try Evaluation.checkpoint(runner.directory(of: run) + "/checkpoints/best.safetensors", config: run.config,
                                                 at: run.locations, split: .val, splits: store)
            // metrics.jsonl keeps the shortest round-trip text; Foundation's reader may round the last bit.
            XCTAssertEqual(eval.globalAccuracy, best.globalAccuracy, accuracy: 1e-12, run.id)
            XCTAssertEqual(eval.meanIoU, best.meanIoU, accuracy: 1e-12, run.id)
        }
        XCTAssertEqual(try runner.run().failed, 0)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), text)
    }

    // MARK: Ensembles

    /// Two checkpoints' ensemble predicts the mean of their foreground probabilities and its
    /// argmax; one checkpoint predicts exactly as its Predictor does; a checkpoint of another
    /// class count cannot join.
    func testEnsembleIsTheMeanOfItsMembersProbabilities() throws {
        let dir = try temporaryFolder()
        let run = try loadConfig(cvYAML()).runs[0]
        func checkpoint(_ seed: Int, classes: Int = 2) throws -> Predictor {
            var config = run.config
            config.seed = seed
            config.data.numClasses = classes
            let model = try ModelFactory.makeModel(config, at: run.locations)
            let path = dir + "/\(seed)-\(classes).safetensors"
            try model.save(to: path)
            return try Predictor(config: config, at: run.locations, checkpoint: path)
        }
        let (a, b) = (try checkpoint(1), try checkpoint(2))
        let sample = try SyntheticDataset(generator: SyntheticFundus(size: 64, seed: RunSetup.syntheticDataSeed), indices: 0..<1)
            .sample(0)
        let (pa, pb) = (try a.predict(sample), try b.predict(sample))
        let both = try PredictorEnsemble([a, b]).predict(sample)
        let (fa, fb, mean) = (try XCTUnwrap(pa.foreground), try XCTUnwrap(pb.foreground), try XCTUnwrap(both.foreground))
        XCTAssertNotEqual(fa, fb, "the members differ, so the test can tell a mean from either")
        // Float sums of two probabilities and a halving: within a few ulps of 1.
        for i in mean.indices { XCTAssertEqual(mean[i], (fa[i] + fb[i]) / 2, accuracy: 1e-6) }
        // Two classes: the argmax is class 1 where the mean probability of class 1 beats class 0's.
        XCTAssertEqual(both.classes.values, zip(mean, mean.map { 1 - $0 }).map { $0 > $1 ? 1 : 0 })
        let one = try PredictorEnsemble([a]).predict(sample)
        XCTAssertEqual(one.classes.values, pa.classes.values)
        XCTAssertEqual(one.foreground, pa.foreground)
        XCTAssertThrowsError(try PredictorEnsemble([a, try checkpoint(3, classes: 3)])) {
            XCTAssertEqual("\($0)", "\(dir)/3-3.safetensors has 3 classes but \(dir)/1-2.safetensors has 2; an ensemble "
                           + "averages the class probabilities of models of the same data")
        }
    }

    /// `runexp predict` with two checkpoints writes the ensemble's mean probability; the
    /// command line still reads images written right after a single checkpoint.
    func testPredictCommandEnsemblesCheckpoints() throws {
        _ = try RunexpBinary.path()
        let dir = try temporaryFolder()
        try cvYAML().write(toFile: dir + "/cv.yaml", atomically: true, encoding: .utf8)
        let trained = try RunexpBinary.run(["cv.yaml", "--threads", "1"], in: dir)
        XCTAssertEqual(trained.status, 0, trained.stderr)
        let folders = try FileManager.default.contentsOfDirectory(atPath: dir + "/results/cv").filter { $0.hasPrefix("fold=") }.sorted()
        XCTAssertEqual(folders.count, 3)
        let checkpoints = folders.prefix(2).map { "results/cv/\($0)/checkpoints/last.safetensors" }
        try SyntheticDataset.export(SyntheticFundus(size: 64, seed: 1), indices: 0..<1, to: dir + "/data")
        let image = "data/images/synthetic_0000.png"
        for (k, ck) in checkpoints.enumerated() {
            let single = try RunexpBinary.run(["predict", "--checkpoint", ck, image, "--probabilities", "--out", "p\(k)"], in: dir)
            XCTAssertEqual(single.status, 0, single.stderr)
        }
        let both = try RunexpBinary.run(["predict", "--checkpoint"] + checkpoints + [image, "--probabilities", "--out", "pe"], in: dir)
        XCTAssertEqual(both.status, 0, both.stderr)
        func probability(_ folder: String) throws -> [Int] {
            try XCTUnwrap(ImageCodec.read(dir + "/\(folder)/synthetic_0000_prob.png").samples16).map { Int($0) }
        }
        let (p0, p1, pe) = (try probability("p0"), try probability("p1"), try probability("pe"))
        // 16-bit rounding of each file: the mean of two rounded values is within one step of the rounded mean.
        for i in pe.indices { XCTAssertLessThanOrEqual(abs(2 * pe[i] - p0[i] - p1[i]), 2, "pixel \(i)") }
        XCTAssertNotEqual(p0, p1)
        let mixed = try RunexpBinary.run(["predict", "--checkpoint", checkpoints[0], "--checkpoint", checkpoints[1],
                                          "--config", "cv.yaml", image, "--out", "px"], in: dir)
        XCTAssertEqual(mixed.status, 2, mixed.stderr)
        XCTAssertTrue(mixed.stderr.contains("--config names one run's config"), mixed.stderr)
    }

    // MARK: Helpers

    /// `config` with its relative data.splits made absolute under `folder` (the current folder of the load).
    func resolved(_ config: ExperimentConfig, in folder: String) -> ExperimentConfig {
        var config = config
        if let splits = config.data.splits, !splits.hasPrefix("/") { config.data.splits = folder + "/" + splits }
        return config
    }

    func writeTemporary(_ text: String) throws -> String {
        let path = try temporaryFolder() + "/splits.json"
        try AtomicFile.write(text, to: path)
        return path
    }
}
