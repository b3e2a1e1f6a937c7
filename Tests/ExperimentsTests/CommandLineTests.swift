import Foundation
import XCTest
@testable import Experiments
@testable import Nets

/// The `predict` and `data` commands, run as the built `runexp` binary (skipped when the
/// binary is not beside the test bundle): files written, exit statuses, and results equal to
/// the library's evaluation path on the same pixels.
final class CommandLineTests: XCTestCase {
    func binary() throws -> String { try RunexpBinary.path() }

    func runexp(_ arguments: [String], in directory: String) throws -> RunexpBinary.Outcome {
        try RunexpBinary.run(arguments, in: directory)
    }

    static let tinyYAML = """
        name: tiny
        seed: 3
        data:
          dataset: synthetic
          num_classes: 2
          crop: null
          scale: null
          mean: [0.5, 0.3, 0.2]
          std: [0.2, 0.1, 0.1]
          synthetic: {size: 72, count: 4, val_count: 2}
        model: {name: unet, base_c: 4, upsample: bilinear}
        schedule: {epochs: 2, batch_size: 2}
        """

    /// A run folder of `tinyYAML` as the trainer leaves it (config.yaml, checkpoints/best.safetensors)
    /// at `runDir`, its weights initialised from `weightsSeed` (the config's seed unless given) and
    /// balanced so both classes get predicted; with the model, the synthetic generator, and the
    /// evaluation loader of its validation image (sample 4).
    func runFolder(_ runDir: String, weightsSeed: Int? = nil) throws
        -> (model: any SegmentationModel, generator: SyntheticFundus, loader: DataLoader) {
        let run = try Experiment.parse(Self.tinyYAML, file: "tiny.yaml", options: ConfigOptions(checkPaths: false)).runs[0]
        try FileManager.default.createDirectory(atPath: runDir + "/checkpoints", withIntermediateDirectories: true)
        try run.configYAML.write(toFile: runDir + "/config.yaml", atomically: true, encoding: .utf8)
        var config = run.config
        if let weightsSeed { config.seed = weightsSeed }
        let model = try ModelFactory.makeModel(config, at: run.locations)
        // The generator of the config's data (`data.synthetic` has no lesions by default).
        let generator = try SyntheticFundus(size: 72, seed: RunSetup.syntheticDataSeed, lesions: false)
        let (_, val) = try SyntheticDataset.split(generator, trainCount: 4, valCount: 1)
        let loader = try DataLoader(dataset: val, transform: .eval(EvalTransform(mean: [0.5, 0.3, 0.2], std: [0.2, 0.1, 0.1])),
                                    seed: 0, batchSize: 1, shuffle: false)
        try PredictionTests.balance(model, on: loader.batch([0], epoch: 0).images)
        try model.save(to: runDir + "/checkpoints/best.safetensors")
        return (model, generator, loader)
    }

    func testPredictWritesClassAndOverlayPNGsAndReportsBadImages() throws {
        _ = try binary()
        let dir = try temporaryFolder()
        // The checkpoint holds weights of another seed than the config's, so a prediction that
        // ignored it would differ.
        let run = try Experiment.parse(Self.tinyYAML, file: "tiny.yaml", options: ConfigOptions(checkPaths: false)).runs[0]
        let (model, generator, loader) = try runFolder(dir + "/results/tiny/run@\(run.hash)", weightsSeed: 7)

        try SyntheticDataset.export(generator, indices: 4..<5, to: dir + "/data")
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: dir + "/broken.png"))
        let result = try runexp(["predict", "--checkpoint", "results/tiny/run@\(run.hash)/checkpoints/best.safetensors",
                                 "data/images/synthetic_0004.png", "broken.png", "missing.jpg", "--out", "pred"], in: dir)
        XCTAssertEqual(result.status, 1, result.stderr)
        let errors = result.stderr.split(separator: "\n")
        XCTAssertEqual(errors.count, 3, result.stderr)
        XCTAssertTrue(errors[0].hasPrefix("broken.png: "), result.stderr)
        XCTAssertTrue(errors[1].hasPrefix("missing.jpg: "), result.stderr)
        XCTAssertEqual(errors[2], "2 of 3 images failed")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/pred").sorted(),
                       ["synthetic_0004.png", "synthetic_0004_overlay.png"])

        // Expected: the model on the validation sample through the evaluation loader
        // (normalise, pad 72 → 80, eval forward), argmax written out here.
        model.setTraining(false)
        let logits = model(try loader.batch([0], epoch: 0).images).out
        let classes = try ImageCodec.read(dir + "/pred/synthetic_0004.png")
        let overlay = try ImageCodec.read(dir + "/pred/synthetic_0004_overlay.png")
        XCTAssertEqual([classes.width, classes.height, overlay.width, overlay.height], [72, 72, 72, 72])
        XCTAssertEqual(classes.colorModel, .indexed)
        XCTAssertEqual(overlay.colorModel, .rgb)
        let labels = try XCTUnwrap(classes.labelValues())
        let image = generator.sample(4).image
        var vessel = 0
        for y in 0..<72 {
            for x in 0..<72 {
                let o = logits.offset(0, 0, y, x), p = y * 72 + x
                let expected: Int32 = logits.data[o + 1] > logits.data[o] ? 1 : 0
                XCTAssertEqual(labels[p], expected, "class at \(x),\(y)")
                let shown = (0..<3).map { overlay[x: x, y: y, c: $0] }
                let input = Array(image[3 * p..<3 * p + 3])
                if expected == 0 {
                    XCTAssertEqual(shown, input)
                } else {
                    vessel += 1
                    XCTAssertEqual(shown, zip(input, [128, 0, 0]).map { UInt8((Int($0) + $1 + 1) / 2) })
                }
            }
        }
        XCTAssertTrue(vessel > 0 && vessel < 72 * 72, "both classes predicted: \(vessel)")
    }

    /// `--mask` blanks the prediction outside the field of view (background, probability 0);
    /// `--probabilities` writes round(p × 65535) of the foreground softmax as 16-bit gray; a
    /// mask of another size is a located error for that image; more masks than one but not one
    /// per image is a usage error.
    func testPredictMasksTheFieldOfViewAndWritesProbabilities() throws {
        _ = try binary()
        let dir = try temporaryFolder()
        let (model, generator, loader) = try runFolder(dir + "/run")
        try SyntheticDataset.export(generator, indices: 4..<5, to: dir + "/data")
        // The field of view: the left half.
        let fov = Image(width: 72, height: 72, colorModel: .gray,
                        samples: (0..<72 * 72).map { $0 % 72 < 36 ? 255 : 0 })
        try ImageCodec.writePNG(fov, to: dir + "/fov.png")
        try ImageCodec.writePNG(Image(width: 8, height: 8, colorModel: .gray, samples: [UInt8](repeating: 255, count: 64)),
                                to: dir + "/small.png")

        let result = try runexp(["predict", "--checkpoint", "run/checkpoints/best.safetensors", "--mask", "fov.png",
                                 "--probabilities", "data/images/synthetic_0004.png", "--out", "pred"], in: dir)
        XCTAssertEqual(result.status, 0, result.stderr)
        model.setTraining(false)
        let logits = model(try loader.batch([0], epoch: 0).images).out
        let classes = try XCTUnwrap(try ImageCodec.read(dir + "/pred/synthetic_0004.png").labelValues())
        let probability = try ImageCodec.read(dir + "/pred/synthetic_0004_prob.png")
        XCTAssertEqual(probability.bitDepth, 16)
        let p16 = try XCTUnwrap(probability.samples16)
        var inside = [0, 0]
        for y in 0..<72 {
            for x in 0..<72 {
                let o = logits.offset(0, 0, y, x), i = y * 72 + x
                guard x < 36 else {
                    XCTAssertEqual(classes[i], 0, "outside at \(x),\(y)")
                    XCTAssertEqual(p16[i], 0, "outside at \(x),\(y)")
                    continue
                }
                let p = 1 / (1 + exp(Double(logits.data[o]) - Double(logits.data[o + 1])))
                XCTAssertEqual(Double(p16[i]), (p * 65535).rounded(), accuracy: 1, "p at \(x),\(y)")
                XCTAssertEqual(classes[i], logits.data[o + 1] > logits.data[o] ? 1 : 0)
                inside[Int(classes[i])] += 1
            }
        }
        XCTAssertTrue(inside[0] > 0 && inside[1] > 0, "both classes inside: \(inside)")

        let wrongSize = try runexp(["predict", "--checkpoint", "run/checkpoints/best.safetensors", "--mask", "small.png",
                                    "data/images/synthetic_0004.png", "--out", "pred2"], in: dir)
        XCTAssertEqual(wrongSize.status, 1)
        XCTAssertTrue(wrongSize.stderr.hasPrefix("small.png: the mask is 8x8 but data/images/synthetic_0004.png is 72x72"),
                      wrongSize.stderr)
        let twoMasks = try runexp(["predict", "--checkpoint", "run/checkpoints/best.safetensors", "--mask", "fov.png",
                                   "--mask", "fov.png", "data/images/synthetic_0004.png", "--out", "pred3"], in: dir)
        XCTAssertEqual(twoMasks.status, 2, twoMasks.stderr)
        XCTAssertTrue(twoMasks.stderr.contains("--mask: give one mask for all images or one per image (1), not 2"),
                      twoMasks.stderr)
    }

    /// `predict --split val` segments the run's own validation images, named by their stems and
    /// blanked outside the synthetic fundus's field of view (its ignored pixels); `--set
    /// eval.mode=slide` tiles them as the library's `Inference` does; a split with files is a
    /// usage error.
    func testPredictASplitBlanksOutsideItsFieldOfViewAndSlides() throws {
        _ = try binary()
        let dir = try temporaryFolder()
        let (model, _, loader) = try runFolder(dir + "/run")
        let result = try runexp(["predict", "--checkpoint", "run/checkpoints/best.safetensors", "--split", "val",
                                 "--set", "eval.mode=slide", "--set", "eval.crop=48", "--set", "eval.tta=[hflip]",
                                 "--out", "pred"], in: dir)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/pred").sorted(),
                       ["synthetic_0004.png", "synthetic_0004_overlay.png", "synthetic_0005.png", "synthetic_0005_overlay.png"])
        var settings = InferenceConfig()
        settings.mode = .slide
        (settings.crop, settings.stride, settings.tta) = (CropSize(height: 48, width: 48), CropSize(height: 24, width: 24), [.hflip])
        model.setTraining(false)
        let batch = try loader.batch([0], epoch: 0)
        let expected = batch.unpadded(Predictor.argmax(Inference(settings, padMultiple: 16).scores(model, batch).values), item: 0)
        let truth = batch.unpadded(batch.labels, item: 0)
        let classes = try XCTUnwrap(try ImageCodec.read(dir + "/pred/synthetic_0004.png").labelValues())
        var counts = [0, 0, 0]  // outside, background, vessel
        for p in 0..<72 * 72 {
            if truth.values[p] == 255 {
                XCTAssertEqual(classes[p], 0, "outside the field of view at \(p % 72),\(p / 72)")
                counts[0] += 1
            } else {
                XCTAssertEqual(classes[p], expected.values[p], "at \(p % 72),\(p / 72)")
                counts[1 + Int(classes[p])] += 1
            }
        }
        XCTAssertTrue(counts.allSatisfy { $0 > 0 }, "\(counts)")
        XCTAssertTrue(expected.values.indices.contains { truth.values[$0] == 255 && expected.values[$0] == 1 },
                      "the blanking changed something")

        let both = try runexp(["predict", "--checkpoint", "run/checkpoints/best.safetensors", "--split", "val",
                               "x.png", "--out", "pred2"], in: dir)
        XCTAssertEqual(both.status, 2, both.stderr)
        XCTAssertTrue(both.stderr.contains("give image files or --split (one of them)"), both.stderr)
        let noTest = try runexp(["predict", "--checkpoint", "run/checkpoints/best.safetensors", "--split", "test",
                                 "--out", "pred3"], in: dir)
        XCTAssertEqual(noTest.status, 2, noTest.stderr)
        XCTAssertTrue(noTest.stderr.contains("only the retinal-vessel benchmarks (drive, hrf, chase_db1, stare) have a test split apart from val"), noTest.stderr)
    }

    /// `runexp eval` scores a run's best checkpoint exactly as its own validation did: the
    /// scores in eval.json equal those of the best epoch in metrics.jsonl, bit for bit, and
    /// eval.txt holds the result block with the paper metrics, its classes named as in result.txt.
    func testEvalReproducesTheBestEpochsValidation() throws {
        _ = try binary()
        let dir = try temporaryFolder()
        let yaml = Self.tinyYAML + "\neval: {metrics: true}\n"
        try yaml.write(toFile: dir + "/tiny.yaml", atomically: true, encoding: .utf8)
        let trained = try runexp(["tiny.yaml", "--results", "results", "--threads", "1"], in: dir)
        XCTAssertEqual(trained.status, 0, trained.stderr)
        let runDir = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: dir + "/results/tiny").first { $0.hasPrefix("run@") })
        let result = try runexp(["eval", "--checkpoint", "results/tiny/\(runDir)/checkpoints/best.safetensors",
                                 "--threads", "1"], in: dir)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("pixel scores (vessel, argmax; ignore_index pixels excluded; pooled over"),
                      result.stdout)
        let records = try MetricsLog.read(dir + "/results/tiny/\(runDir)/metrics.jsonl")
        let best = try XCTUnwrap(EpochRecord.best(in: records, by: { $0.dice })?.scores)
        // Compared as written (shortest round-trip text): Foundation's JSON reader rounds some doubles.
        let raw = try String(contentsOfFile: dir + "/results/tiny/\(runDir)/eval.json", encoding: .utf8)
        XCTAssertTrue(raw.contains("\"dice\":\(best.dice),") && raw.contains("\"miou\":\(best.meanIoU),"), raw)
        let roc = try XCTUnwrap(best.pixel?.rocAUC.pooled[1]), ap = try XCTUnwrap(best.pixel?.prAUC.pooled[1])
        XCTAssertTrue(raw.contains("\"auc_roc\":{\"pooled\":[null,\(roc)]") && raw.contains("\"auc_pr\":{\"pooled\":[null,\(ap)]"), raw)
        let text = try String(contentsOfFile: dir + "/results/tiny/\(runDir)/eval.txt", encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("[eval: results/tiny/\(runDir)/checkpoints/best.safetensors, val split, whole image]\ndice coefficient: "), text)
        XCTAssertTrue(text.contains("\nclasses: ['background', 'vessel']\naverage row correct: "), text)
        // The same scores print the same lines as the best epoch's block of result.txt.
        let resultText = try String(contentsOfFile: dir + "/results/tiny/\(runDir)/result.txt", encoding: .utf8)
        XCTAssertTrue(resultText.contains(text.drop { $0 != "\n" }.dropFirst()), resultText)
    }

    /// `runexp eval --observer` on the real DRIVE copy (skipped without it): the second human
    /// observer against the first, in the field of view, gives the baseline the literature
    /// quotes (Se 0.7760, Sp 0.9724, Acc 0.9472 as means over the 20 test images).
    func testSecondObserverOnDRIVEIsThePublishedBaseline() throws {
        let drive = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path + "/../shared/data/DRIVE"
        guard FileManager.default.fileExists(atPath: drive + "/test/2nd_manual") else {
            throw XCTSkip("no DRIVE copy at \(drive)")
        }
        _ = try binary()
        let dir = try temporaryFolder()
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        let result = try runexp(["eval", "--observer", root + "/experiments/drive_unet.yaml", "--set", "data.root=\(drive)",
                                 "--out", "obs"], in: dir)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("sensitivity: 0.7746 | 0.7760 ± 0.0594"), result.stdout)
        XCTAssertTrue(result.stdout.contains("specificity: 0.9725 | 0.9725 ± 0.0083"), result.stdout)
        XCTAssertTrue(result.stdout.contains("global correct: 94.7"), result.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/obs/eval.json"))
        // --split test is DRIVE's test/ even when validation images are held out of training/.
        let heldOut = try runexp(["eval", "--observer", root + "/experiments/drive_unet.yaml", "--set", "data.root=\(drive)",
                                  "--set", "data.val_fraction=0.25", "--split", "test", "--out", "obs2"], in: dir)
        XCTAssertEqual(heldOut.status, 0, heldOut.stderr)
        XCTAssertTrue(heldOut.stdout.contains("sensitivity: 0.7746 | 0.7760 ± 0.0594"), heldOut.stdout)
        // Not DRIVE: a located error, exit 2.
        try Self.tinyYAML.write(toFile: dir + "/tiny.yaml", atomically: true, encoding: .utf8)
        let notDrive = try runexp(["eval", "--observer", "tiny.yaml"], in: dir)
        XCTAssertEqual(notDrive.status, 2, notDrive.stderr)
        XCTAssertTrue(notDrive.stderr.contains("the synthetic dataset has no second observer's annotations"), notDrive.stderr)
    }

    func testPredictFailsEarlyOnMissingCheckpointOrBadConfig() throws {
        let dir = try temporaryFolder()
        let missing = try runexp(["predict", "--checkpoint", "nope/checkpoints/best.safetensors", "a.png", "--out", "p"], in: dir)
        XCTAssertEqual(missing.status, 1)
        XCTAssertEqual(missing.stderr, "nope/checkpoints/best.safetensors: checkpoint not found\n")

        try FileManager.default.createDirectory(atPath: dir + "/run/checkpoints", withIntermediateDirectories: true)
        try Data([0]).write(to: URL(fileURLWithPath: dir + "/run/checkpoints/best.safetensors"))
        let noConfig = try runexp(["predict", "--checkpoint", "run/checkpoints/best.safetensors", "a.png", "--out", "p"], in: dir)
        XCTAssertEqual(noConfig.status, 2)
        XCTAssertTrue(noConfig.stderr.contains("no config.yaml"), noConfig.stderr)

        try "model: {name: unet, base_c: -1}\n".write(toFile: dir + "/run/config.yaml", atomically: true, encoding: .utf8)
        let badConfig = try runexp(["predict", "--checkpoint", "run/checkpoints/best.safetensors", "a.png", "--out", "p"], in: dir)
        XCTAssertEqual(badConfig.status, 2)
        XCTAssertTrue(badConfig.stderr.hasPrefix(dir + "/run/config.yaml:1:"), badConfig.stderr)

        try Self.tinyYAML.write(toFile: dir + "/run/config.yaml", atomically: true, encoding: .utf8)
        let badCheckpoint = try runexp(["predict", "--checkpoint", "run/checkpoints/best.safetensors", "a.png", "--out", "p"],
                                       in: dir)
        XCTAssertEqual(badCheckpoint.status, 1)
        XCTAssertTrue(badCheckpoint.stderr.hasPrefix("run/checkpoints/best.safetensors: "), badCheckpoint.stderr)
        XCTAssertEqual(badCheckpoint.stderr.split(separator: "\n").count, 1, badCheckpoint.stderr)
    }

    func testDataSyntheticAndStats() throws {
        _ = try binary()
        let dir = try temporaryFolder()
        let written = try runexp(["data", "synthetic", "--out", "set", "--size", "64", "--count", "2", "--seed", "9"], in: dir)
        XCTAssertEqual(written.status, 0, written.stderr)
        let generator = try SyntheticFundus(size: 64, seed: 9, lesions: false)
        for i in 0..<2 {
            XCTAssertEqual(try ImageCodec.read("\(dir)/set/images/synthetic_000\(i).png").samples, generator.sample(i).image)
            XCTAssertEqual(try ImageCodec.read("\(dir)/set/masks/synthetic_000\(i).png").labelValues(),
                           try SyntheticDataset(generator: generator, indices: 0..<2).sample(i).label)
        }
        XCTAssertEqual(try runexp(["data", "synthetic", "--out", "x", "--size", "8"], in: dir).status, 2,
                       "a size out of range is a usage error")

        try Self.tinyYAML.write(toFile: dir + "/tiny.yaml", atomically: true, encoding: .utf8)
        let run = try Experiment.parse(Self.tinyYAML, file: "tiny.yaml", options: ConfigOptions(checkPaths: false)).runs[0]
        for labelledOnly in [false, true] {
            let stats = try runexp(["data", "stats", "tiny.yaml", "--pooled"] + (labelledOnly ? ["--labelled-only"] : []), in: dir)
            XCTAssertEqual(stats.status, 0, stats.stderr)
            let expected = try DatasetStatistics.meanStd(DatasetStatistics.trainingDataset(run.config, at: run.locations),
                                                         ignoreIndex: labelledOnly ? 255 : nil, method: .pooled)
            let lines = stats.stdout.split(separator: "\n").map(String.init)
            XCTAssertEqual(lines.count, 3, stats.stdout)
            XCTAssertTrue(lines[0].hasPrefix("# synthetic training set of tiny.yaml: 4 images"), lines[0])
            // The YAML lines parse back, through the config reader, to the statistics at 4 digits.
            let yaml = Self.tinyYAML.replacingOccurrences(of: "  mean: [0.5, 0.3, 0.2]\n  std: [0.2, 0.1, 0.1]\n",
                                                          with: "  " + lines[1] + "\n  " + lines[2] + "\n")
            let config = try Experiment.parse(yaml, options: ConfigOptions(checkPaths: false)).runs[0].config
            for k in 0..<3 {
                XCTAssertEqual(config.data.mean[k], expected.mean[k], accuracy: 5e-4 * expected.mean[k])
                XCTAssertEqual(config.data.std[k], expected.std[k], accuracy: 5e-4 * expected.std[k])
            }
        }
        let bad = try runexp(["data", "stats", "tiny.yaml", "--set", "data.num_classes=1"], in: dir)
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.hasPrefix("--set data.num_classes=1: "), bad.stderr)
    }
}
