import Foundation
import XCTest
@testable import Experiments
@testable import Nets

/// End-to-end runs of tiny experiments on synthetic data: folders and files per run, the
/// sweep summary, skipping finished runs, exact resume after an interruption, divergence.
final class RunnerTests: XCTestCase {
    var results = ""
    /// Every results folder a test used (tests that compare two runs add a suffix for the second).
    var base = ""

    override func setUp() {
        base = NSTemporaryDirectory() + "runexp-runner-\(UUID().uuidString)"
        results = base
        Interrupt.reset()
    }

    override func tearDown() {
        Interrupt.reset()
        for suffix in ["", "-resumed", "-full"] { try? FileManager.default.removeItem(atPath: base + suffix) }
    }

    /// A UNet base_c 4 on eight 64-pixel synthetic images: seconds per run in a debug build.
    func tinyExperiment(epochs: Int = 2, extra: String = "") -> String {
        """
        name: tiny
        seed: 3
        data:
          dataset: synthetic
          num_classes: 2
          crop: null
          scale: null
          mean: [0.5, 0.3, 0.2]
          std: [0.2, 0.1, 0.1]
          synthetic: {size: 64, count: 8, val_count: 2}
        model: {name: unet, base_c: 4, upsample: bilinear}
        loss: {ce: 1.0, dice: 1.0}
        optimizer: {name: sgd, lr: 0.01, momentum: 0.9, weight_decay: 1.0e-4}
        schedule: {epochs: \(epochs), batch_size: 4, warmup: {epochs: 1, factor: 1.0e-3, shape: linear}, decay: poly}
        \(extra)
        """
    }

    func runner(_ yaml: String, reporter: ProgressReporter = ProgressReporter(live: false, write: { _ in })) throws
        -> SweepRunner {
        let experiment = try Experiment.parse(yaml, file: "tiny.yaml", options: ConfigOptions(checkPaths: false))
        return SweepRunner(experiment: experiment, options: SweepOptions(resultsRoot: results), reporter: reporter)
    }

    func testGridSweepWritesFourRunsAndASummary() throws {
        let sweep = try runner(tinyExperiment(extra: "sweep: {model.upsample: [bilinear, transposed], seed: [0, 1]}"))
        XCTAssertEqual(sweep.experiment.runs.map(\.id), ["upsample=bilinear,seed=0", "upsample=bilinear,seed=1",
                                                         "upsample=transposed,seed=0", "upsample=transposed,seed=1"])
        let (failed, interrupted) = try sweep.run()
        XCTAssertEqual(failed, 0)
        XCTAssertFalse(interrupted)
        let fm = FileManager.default
        for run in sweep.experiment.runs {
            let dir = sweep.directory(of: run)
            for file in ["config.yaml", "result.txt", "metrics.jsonl", "log.txt", "run.json",
                         "checkpoints/last.safetensors", "checkpoints/best.safetensors",
                         "checkpoints/last.resume.safetensors"] {
                XCTAssertTrue(fm.fileExists(atPath: dir + "/" + file), "\(run.id): no \(file)")
            }
            let result = try String(contentsOfFile: dir + "/result.txt", encoding: .utf8)
            XCTAssertTrue(result.hasPrefix("[epoch: 0]\ntrain_loss: "), result)
            XCTAssertTrue(result.contains("[epoch: 1]") && result.contains("[best: epoch"), result)
            XCTAssertEqual(try MetricsLog.read(dir + "/metrics.jsonl").count, 2)
            // The saved config re-runs exactly this run: same hash.
            let again = try Experiment.load(dir + "/config.yaml", options: ConfigOptions(checkPaths: false))
            XCTAssertEqual(again.runs.map(\.hash), [run.hash])
        }
        let csv = try String(contentsOfFile: sweep.experimentDirectory + "/summary.csv", encoding: .utf8)
        let rows = csv.components(separatedBy: .newlines).filter { !$0.isEmpty }
        XCTAssertEqual(rows.count, 7, "header, 4 runs, and a group row per upsampling over its 2 seeds: \(csv)")
        XCTAssertEqual(rows.dropFirst().filter { $0.contains(",done,") }.count, 4, csv)
        XCTAssertEqual(rows.suffix(2).map { $0.split(separator: ",").prefix(2).joined(separator: ",") },
                       ["upsample=bilinear,group", "upsample=transposed,group"])
        XCTAssertTrue(fm.fileExists(atPath: sweep.experimentDirectory + "/summary.md"))
        // runexp report: the table of the two upsamplings over their seeds, and its four files.
        let report = try RunexpBinary.run(["report", sweep.experimentDirectory, "--baseline", "upsample=bilinear"], in: results)
        XCTAssertEqual(report.status, 0, report.stderr)
        XCTAssertTrue(report.stdout.contains("; n = 2 each;") && report.stdout.contains("| transposed |"), report.stdout)
        for file in ["report.md", "report.csv", "report.tex", "report.html"] {
            XCTAssertTrue(fm.fileExists(atPath: sweep.experimentDirectory + "/" + file), file)
        }
        let html = try String(contentsOfFile: sweep.experimentDirectory + "/report.html", encoding: .utf8)
        XCTAssertTrue(html.contains("<img class=\"preview\"") && html.contains("href=\"upsample=bilinear,seed=0@"), "previews and links")
        let bad = try RunexpBinary.run(["report", sweep.experimentDirectory, "--cols", "width"], in: results)
        XCTAssertEqual(bad.status, 2)
        XCTAssertEqual(bad.stderr, "--cols width: the runs vary upsample (see runexp --help)\n")
        // The best checkpoint opens as a plain state dict with the UNet's keys.
        let best = try SafeTensors.read(sweep.directory(of: sweep.experiment.runs[0]) + "/checkpoints/best.safetensors")
        XCTAssertNotNil(best["in_conv.0.weight"])
        XCTAssertNotNil(best["up4.conv.4.running_var"])
    }

    func testRerunningTrainsNothing() throws {
        let yaml = tinyExperiment(epochs: 2)
        _ = try runner(yaml).run()
        var trained = 0
        let reporter = ProgressReporter(live: false, write: { _ in })
        reporter.afterStep = { _ in trained += 1 }
        let again = try runner(yaml, reporter: reporter)
        let metrics = again.directory(of: again.experiment.runs[0]) + "/metrics.jsonl"
        let before = try String(contentsOfFile: metrics, encoding: .utf8)
        _ = try again.run()
        XCTAssertEqual(trained, 0)
        XCTAssertEqual(try String(contentsOfFile: metrics, encoding: .utf8), before)
    }

    /// Interrupting in the middle of an epoch and resuming gives bit-identical metrics and
    /// weights to a run that never stopped (same seed, same threads).
    func testInterruptedRunResumesToTheSameResult() throws {
        let yaml = tinyExperiment(epochs: 3)
        let whole = try runner(yaml)
        _ = try whole.run()
        let wholeDir = whole.directory(of: whole.experiment.runs[0])

        results += "-resumed"
        let reporter = ProgressReporter(live: false, write: { _ in })
        reporter.afterStep = { iteration in if iteration == 3 { Interrupt.request() } }  // epoch 1, batch 1 of 2
        let first = try runner(yaml, reporter: reporter)
        let (_, interrupted) = try first.run()
        XCTAssertTrue(interrupted)
        let dir = first.directory(of: first.experiment.runs[0])
        XCTAssertEqual(RunStatusFile.read(dir)?.status, .interrupted)
        XCTAssertEqual(try MetricsLog.read(dir + "/metrics.jsonl").count, 1)
        Interrupt.reset()
        _ = try runner(yaml).run()
        XCTAssertEqual(RunStatusFile.read(dir)?.status, .done)

        let a = try MetricsLog.read(wholeDir + "/metrics.jsonl"), b = try MetricsLog.read(dir + "/metrics.jsonl")
        XCTAssertEqual(a.map(\.trainLoss), b.map(\.trainLoss))
        XCTAssertEqual(a.map(\.lr), b.map(\.lr))
        XCTAssertEqual(a.map(\.scores), b.map(\.scores))
        let wa = try SafeTensors.read(wholeDir + "/checkpoints/last.safetensors")
        let wb = try SafeTensors.read(dir + "/checkpoints/last.safetensors")
        XCTAssertEqual(Set(wa.keys), Set(wb.keys))
        for (key, t) in wa { XCTAssertEqual(t.array, wb[key]?.array, key) }
    }

    /// progress.png appears with the first evaluation and a resumed run redraws it from all its
    /// records: the file ends up byte for byte the chart of what metrics.jsonl holds.
    func testProgressChartIsDrawnAfterEachEvaluationAndAfterAResume() throws {
        let yaml = tinyExperiment(epochs: 3)
        let reporter = ProgressReporter(live: false, write: { _ in })
        reporter.afterStep = { iteration in if iteration == 3 { Interrupt.request() } }  // epoch 1, batch 1 of 2
        let first = try runner(yaml, reporter: reporter)
        XCTAssertTrue(try first.run().interrupted)
        let dir = first.directory(of: first.experiment.runs[0]), path = dir + "/" + ProgressChart.fileName
        let early = try ImageCodec.read(path)
        XCTAssertEqual([early.width, early.height], [720, 750])
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        Interrupt.reset()
        _ = try runner(yaml).run()
        let after = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertNotEqual(before, after)
        let records = try MetricsLog.read(dir + "/metrics.jsonl")
        XCTAssertEqual(records.map(\.epoch), [0, 1, 2])
        XCTAssertEqual(Array(after), try ProgressChart.figure(records, metric: .dice).png())
    }

    /// The chart is for watching a run: a progress.png that cannot be written (a full disk
    /// here) is logged, and the run trains on and ends done.
    func testUnwritableProgressChartIsLoggedAndTheRunGoesOn() throws {
        AtomicFile.failure = AtomicFile.Failure(suffix: "/" + ProgressChart.fileName, step: .write, after: 0)
        defer { AtomicFile.failure = nil }
        let sweep = try runner(tinyExperiment(epochs: 2))
        XCTAssertEqual(try sweep.run().failed, 0)
        let dir = sweep.directory(of: sweep.experiment.runs[0])
        XCTAssertEqual(RunStatusFile.read(dir)?.status, .done)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/" + ProgressChart.fileName))
        let log = try String(contentsOfFile: dir + "/log.txt", encoding: .utf8)
        XCTAssertTrue(log.contains("progress.png not written: \(dir)/progress.png: cannot write: No space left on device"), log)
    }

    /// A full disk while saving (the atomic writer's failure injection: ENOSPC on the second
    /// checkpoint) stops the run and the sweep with the OS's reason, keeps the previous
    /// checkpoint readable, and the same command later resumes to the uninterrupted result.
    func testFullDiskStopsTheRunWithItsCheckpointIntact() throws {
        let yaml = tinyExperiment(epochs: 3, extra: "sweep: {seed: [3, 4]}")
        let whole = try runner(yaml)
        _ = try whole.run()

        results += "-full"
        var messages: [String] = []
        let reporter = ProgressReporter(live: false, write: { messages.append($0) })
        AtomicFile.failure = AtomicFile.Failure(suffix: "/last.resume.safetensors", step: .write, after: 1)
        defer { AtomicFile.failure = nil }
        let full = try runner(yaml, reporter: reporter)
        let (failed, interrupted) = try full.run()
        XCTAssertEqual(failed, 1)
        XCTAssertFalse(interrupted)
        let dir = full.directory(of: full.experiment.runs[0])
        let stop = messages.first { $0.contains("stopped:") } ?? ""
        XCTAssertTrue(stop.hasPrefix("[1/2] seed=3: stopped: \(dir)/checkpoints/last.resume.safetensors: cannot write: "
                                     + "No space left on device; its last checkpoint is intact"), messages.joined(separator: "\n"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: full.directory(of: full.experiment.runs[1])),
                       "the sweep stops: the next run would hit the same full disk")
        let resume = try SafeTensors.readFile(Checkpoint.resumePath(dir))
        XCTAssertTrue(resume.metadata["progress"]?.contains("\"epoch\":1") ?? false, "epoch 0's checkpoint is intact")
        XCTAssertEqual(RunStatusFile.read(dir)?.status, .interrupted)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/checkpoints").filter { $0.hasPrefix(".") }, [],
                       "no temporary file is left behind")

        AtomicFile.failure = nil
        let (failedAgain, _) = try runner(yaml).run()
        XCTAssertEqual(failedAgain, 0)
        for (a, b) in zip(whole.experiment.runs, full.experiment.runs) {
            let wa = try SafeTensors.read(whole.directory(of: a) + "/checkpoints/last.safetensors")
            let wb = try SafeTensors.read(full.directory(of: b) + "/checkpoints/last.safetensors")
            for (key, t) in wa { XCTAssertEqual(t.array, wb[key]?.array, key) }
            XCTAssertEqual(try MetricsLog.read(whole.directory(of: a) + "/metrics.jsonl").map(\.trainLoss),
                           try MetricsLog.read(full.directory(of: b) + "/metrics.jsonl").map(\.trainLoss))
        }
    }

    func testDivergedRunIsMarkedFailedAndTheSweepGoesOn() throws {
        let sweep = try runner(tinyExperiment(epochs: 2, extra: "sweep: {optimizer.lr: [1.0e+30, 0.01]}"))
        let (failed, _) = try sweep.run()
        XCTAssertEqual(failed, 1)
        let statuses = sweep.experiment.runs.map { RunStatusFile.read(sweep.directory(of: $0)) }
        XCTAssertEqual(statuses.map { $0?.status }, [.failed, .done])
        XCTAssertTrue(statuses[0]?.note.hasPrefix("diverged (loss") ?? false, "\(String(describing: statuses[0]))")
        let md = try String(contentsOfFile: sweep.experimentDirectory + "/summary.md", encoding: .utf8)
        XCTAssertTrue(md.contains("failed") && md.contains("diverged"), md)
    }

    /// `eval.early_stop`: with min_delta 1 no Dice can improve on the first, so a patience of 2
    /// ends the 6-epoch run after epoch 2, done and saying why (status, result.txt, summary);
    /// running it again trains nothing more.
    func testEarlyStopEndsTheRunDone() throws {
        let sweep = try runner(tinyExperiment(epochs: 6, extra: "eval: {early_stop: {patience: 2, min_delta: 1.0}}"))
        let (failed, _) = try sweep.run()
        XCTAssertEqual(failed, 0)
        let dir = sweep.directory(of: sweep.experiment.runs[0])
        let status = try XCTUnwrap(RunStatusFile.read(dir))
        XCTAssertEqual(status.status, .done)
        XCTAssertTrue(status.note.hasPrefix("stopped early after epoch 2: dice did not improve by more than 1.0 in 2 "
                                            + "evaluations (best at epoch 0)"), status.note)
        XCTAssertEqual(try MetricsLog.read(dir + "/metrics.jsonl").map(\.epoch), [0, 1, 2])
        let result = try String(contentsOfFile: dir + "/result.txt", encoding: .utf8)
        XCTAssertTrue(result.contains("stopped: stopped early after epoch 2"), result)
        let md = try String(contentsOfFile: sweep.experimentDirectory + "/summary.md", encoding: .utf8)
        XCTAssertTrue(md.contains("stopped early"), md)
        _ = try sweep.run()
        XCTAssertEqual(try MetricsLog.read(dir + "/metrics.jsonl").map(\.epoch), [0, 1, 2])
        XCTAssertEqual(EarlyStopConfig(patience: 2, minDelta: 0).stopNote([(0, 0.5), (1, 0.6), (2, 0.6), (3, .nan)],
                                                                           metric: "dice")?.hasPrefix("stopped early after epoch 3") ?? false, true)
        XCTAssertNil(EarlyStopConfig(patience: 2, minDelta: 0).stopNote([(0, 0.5), (1, 0.6), (2, 0.6)], metric: "dice"))
    }

    /// `init.checkpoint` starts a run from another run's weights (strict by default).
    func testInitFromAnotherRunsBestCheckpoint() throws {
        let first = try runner(tinyExperiment(epochs: 2))
        _ = try first.run()
        let best = first.directory(of: first.experiment.runs[0]) + "/checkpoints/best.safetensors"
        let second = try runner(tinyExperiment(epochs: 2, extra: "init: {checkpoint: '\(best)'}")
            .replacingOccurrences(of: "name: tiny", with: "name: tiny_finetune"))
        _ = try second.run()
        let log = try String(contentsOfFile: second.directory(of: second.experiment.runs[0]) + "/log.txt", encoding: .utf8)
        XCTAssertTrue(log.contains("initialised from \(best)"), log)
        XCTAssertTrue(log.contains("loaded"), log)

        // A checkpoint of another architecture fails strictly, naming the mismatch.
        let wide = try runner(tinyExperiment(epochs: 2, extra: "init: {checkpoint: '\(best)'}")
            .replacingOccurrences(of: "base_c: 4", with: "base_c: 8").replacingOccurrences(of: "name: tiny", with: "name: wide"))
        let (failed, _) = try wide.run()
        XCTAssertEqual(failed, 1)
        let status = RunStatusFile.read(wide.directory(of: wide.experiment.runs[0]))
        XCTAssertTrue(status?.note.contains("shape mismatch") ?? false, "\(String(describing: status))")
    }

    /// `--set` values name the run (as Hydra's override dirnames do), and the summary lists
    /// every run folder of the experiment, not only this invocation's runs.
    func testOverridesNameRunsAndTheSummaryKeepsEarlierVariants() throws {
        let quiet = ProgressReporter(live: false, write: { _ in })
        _ = try runner(tinyExperiment(epochs: 2)).run()
        let experiment = try Experiment.parse(tinyExperiment(epochs: 2), file: "tiny.yaml",
                                              overrides: ["model.base_c=8", "threads=1"],
                                              options: ConfigOptions(checkPaths: false))
        XCTAssertEqual(experiment.runs.map(\.id), ["base_c=8"])
        let sweep = SweepRunner(experiment: experiment, options: SweepOptions(resultsRoot: results), reporter: quiet)
        _ = try sweep.run()
        let csv = try String(contentsOfFile: sweep.experimentDirectory + "/summary.csv", encoding: .utf8)
        let rows = csv.components(separatedBy: .newlines).filter { !$0.isEmpty }
        XCTAssertEqual(rows.count, 3, csv)
        XCTAssertTrue(rows[0].hasPrefix("run,status,base_c,"), rows[0])
        // The earlier run's class names come from its saved config.yaml, and agree with this run's.
        XCTAssertTrue(rows[0].contains(",best_iou_vessel,"), rows[0])
        XCTAssertTrue(rows[1].hasPrefix("base_c=8,done,8,"), rows[1])
        XCTAssertTrue(rows[2].hasPrefix("run,done,,"), rows[2])
    }

    /// `model.pretrained` loads a torchvision classification state dict into the backbone by
    /// name (its `fc` is skipped), and an FCN with the auxiliary head trains through the runner.
    func testPretrainedBackboneAndAuxiliaryHeadTrain() throws {
        var rng = SeededRandom(seed: 42)
        let imagenet = ResNet(.resnet18, numClasses: 1000, rng: &rng)  // the keys of torchvision's resnet18()
        let weights = NSTemporaryDirectory() + "resnet18-\(UUID().uuidString).safetensors"
        defer { try? FileManager.default.removeItem(atPath: weights) }
        try imagenet.save(to: weights)
        let yaml = tinyExperiment(epochs: 2).replacingOccurrences(
            of: "model: {name: unet, base_c: 4, upsample: bilinear}",
            with: "model: {name: fcn, backbone: resnet18, output_stride: 16, aux: true, pretrained: '\(weights)'}")
        let sweep = try runner(yaml)
        let (failed, _) = try sweep.run()
        XCTAssertEqual(failed, 0)
        let dir = sweep.directory(of: sweep.experiment.runs[0])
        let log = try String(contentsOfFile: dir + "/log.txt", encoding: .utf8)
        XCTAssertTrue(log.contains("pretrained backbone from \(weights)"), log)
        XCTAssertTrue(log.contains("fc.weight"), "the skipped classifier is reported: \(log)")
        let records = try MetricsLog.read(dir + "/metrics.jsonl")
        XCTAssertEqual(records.count, 2)
        XCTAssertTrue(records.allSatisfy { $0.trainLoss.isFinite })
        let last = try SafeTensors.read(dir + "/checkpoints/last.safetensors")
        XCTAssertNotNil(last["aux_classifier.4.weight"])
        XCTAssertNotNil(last["backbone.layer4.1.bn2.running_var"])
    }

    /// Freeze-then-unfreeze: the frozen stage leaves the encoder bitwise unchanged, and the
    /// optimizer state of the parameters that kept training carries across the stage change
    /// (Adam's per-parameter step counts add up over both stages).
    func testStagesFreezeThenUnfreezeAndCarryOptimizerState() throws {
        let yaml = tinyExperiment(epochs: 2, extra: """
            stages:
              - {epochs: 1, freeze: [encoder], batch_size: 4, lr: 0.001}
              - {epochs: 1, batch_size: 2, lr: 0.0005}
            """).replacingOccurrences(of: "optimizer: {name: sgd, lr: 0.01, momentum: 0.9, weight_decay: 1.0e-4}",
                                      with: "optimizer: {name: adam, lr: 0.001}")
            .replacingOccurrences(of: "warmup: {epochs: 1,", with: "warmup: {epochs: 0,")
        var encoderAfterStage1: [Float]?
        let reporter = ProgressReporter(live: false, write: { _ in })
        let sweep = try runner(yaml, reporter: reporter)
        let dir = sweep.directory(of: sweep.experiment.runs[0])
        var rng = SeededRandom(seed: 3)
        let initial = UNet(inChannels: 3, numClasses: 2, baseChannels: 4, bilinear: true, rng: &rng)
        // 8 images: stage 1 has 2 steps of 4, stage 2 has 4 steps of 2.
        reporter.afterStep = { iteration in
            if iteration == 3 {  // the first step of stage 2: last.safetensors still holds the end of stage 1
                encoderAfterStage1 = (try? SafeTensors.read(dir + "/checkpoints/last.safetensors"))?["in_conv.0.weight"]?.array
            }
        }
        _ = try sweep.run()
        // After stage 1's only epoch the checkpoint holds the encoder as initialised.
        XCTAssertEqual(encoderAfterStage1, initial.inConv.namedParameters()[0].1.value.array)
        let state = try SafeTensors.read(Checkpoint.resumePath(dir))
        XCTAssertEqual(state["optimizer.out_conv.0.weight.step"]?.data[0], 6, "decoder: 2 + 4 steps")
        XCTAssertEqual(state["optimizer.in_conv.0.weight.step"]?.data[0], 4, "encoder: stage 2 only")
        let final = try SafeTensors.read(dir + "/checkpoints/last.safetensors")
        XCTAssertNotEqual(final["in_conv.0.weight"]?.array, encoderAfterStage1, "unfrozen in stage 2")
    }

    /// A crop smaller than the network's poolings allow is a located config error before
    /// anything trains, not a failure at the first batch or a trap in the engine.
    func testCropSmallerThanTheModelAllowsIsAConfigError() throws {
        let sweep = try runner(tinyExperiment(epochs: 2).replacingOccurrences(of: "crop: null", with: "crop: 8"))
        XCTAssertThrowsError(try sweep.validate()) { error in
            XCTAssertEqual("\(error)", "tiny.yaml:6:9: data.crop 8x8 is smaller than this model's minimum input of 16x16; "
                           + "set it to at least 16")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: sweep.experimentDirectory))
    }

    /// Full images smaller than the network allows (no crop) fail the run with the image named.
    func testImagesSmallerThanTheModelAllowsAreAnError() throws {
        let sweep = try runner(tinyExperiment(epochs: 2).replacingOccurrences(of: "scale: null", with: "scale: [0.1, 0.1]"))
        let (failed, _) = try sweep.run()
        XCTAssertEqual(failed, 1)
        let note = RunStatusFile.read(sweep.directory(of: sweep.experiment.runs[0]))?.note ?? ""
        XCTAssertTrue(note.contains("images of 6x6 are smaller than this model's minimum input of 16x16"), note)
    }

    func testDeepLabWithBatchOfOneIsALocatedError() throws {
        let yaml = tinyExperiment(epochs: 2)
            .replacingOccurrences(of: "model: {name: unet, base_c: 4, upsample: bilinear}",
                                  with: "model: {name: deeplabv3, backbone: resnet18}")
            .replacingOccurrences(of: "batch_size: 4", with: "batch_size: 1")
        XCTAssertThrowsError(try runner(yaml).validate()) { error in
            XCTAssertTrue("\(error)".hasPrefix("tiny.yaml:14:"), "\(error)")
            XCTAssertTrue("\(error)".contains("deeplabv3 trains with batch_size >= 2"), "\(error)")
        }
    }

    func testOnlyAndShardSelectRuns() throws {
        let yaml = tinyExperiment(extra: "sweep: {model.base_c: [4, 8], seed: [0, 1, 2]}")
        let experiment = try Experiment.parse(yaml, file: "tiny.yaml", options: ConfigOptions(checkPaths: false))
        let only = SweepRunner(experiment: experiment, options: SweepOptions(resultsRoot: results, only: "base_c=8,*"))
        XCTAssertEqual(only.selectedRuns.map(\.id), ["base_c=8,seed=0", "base_c=8,seed=1", "base_c=8,seed=2"])
        let shard = SweepRunner(experiment: experiment, options: SweepOptions(resultsRoot: results, shard: (1, 4)))
        XCTAssertEqual(shard.selectedRuns.map(\.index), [1, 5])
    }

    func testUnknownFreezeNameIsALocatedErrorBeforeTraining() throws {
        let yaml = tinyExperiment(extra: """
            stages:
              - {epochs: 1, freeze: [encoder]}
              - {epochs: 1, freeze: [down9]}
            """)
        let sweep = try runner(yaml)
        XCTAssertThrowsError(try sweep.validate()) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("tiny.yaml:17:"), text)
            XCTAssertTrue(text.contains("'down9' is neither a group of this model"), text)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: sweep.experimentDirectory))
    }
}
