import XCTest
@testable import Experiments

/// Typed config: defaults, every kind of located error (positions counted by hand in the
/// test text), `base:` inheritance, `--set` overrides, paths and the canonical round trip.
final class ConfigTests: XCTestCase {
    func single(_ text: String, overrides: [String] = []) throws -> ExperimentConfig {
        let experiment = try loadConfig(text, overrides: overrides)
        XCTAssertEqual(experiment.runs.count, 1)
        return experiment.runs[0].config
    }

    func testDefaultsAreTheDRIVERecipe() throws {
        let c = try single("")
        var expected = ExperimentConfig(name: "exp")
        expected.loss.classWeights = [1, 2]
        XCTAssertEqual(c, expected)
        XCTAssertEqual(c.data.dataset, .drive)
        XCTAssertEqual(c.data.crop, CropSize(height: 480, width: 480))
        XCTAssertEqual(c.model.baseC, 32)
        XCTAssertEqual(c.model.upsample, .bilinear)
        XCTAssertEqual(c.optimizer.lr, 0.01)
        XCTAssertEqual(c.optimizer.momentum, 0.9)
        XCTAssertEqual(c.optimizer.weightDecay, 1e-4)
        XCTAssertEqual(c.schedule.epochs, 200)
        XCTAssertEqual(c.schedule.batchSize, 4)
        XCTAssertEqual(c.schedule.warmup, WarmupConfig())
        XCTAssertEqual(c.schedule.warmup.factor, 1e-3)
        XCTAssertEqual(c.schedule.decay, .poly)
        XCTAssertEqual(c.schedule.power, 0.9)
        XCTAssertEqual(c.eval.metric, .dice)
    }

    /// The example of the issue, verbatim.
    func testIssueExample() throws {
        let text = """
        name: drive_unet
        seed: 0
        data: {dataset: drive, root: data/DRIVE, num_classes: 2, ignore_index: 255, crop: 480,
               mean: [0.709, 0.381, 0.224], std: [0.127, 0.079, 0.043]}
        model: {name: unet, base_c: 32, upsample: bilinear}      # or transposed
        loss: {ce: 1.0, dice: 1.0, focal: 0.0, focal_gamma: 2.0, class_weights: [1.0, 2.0]}
        optimizer: {name: sgd, lr: 0.01, momentum: 0.9, weight_decay: 1.0e-4}
        schedule: {epochs: 200, batch_size: 4, warmup: {epochs: 1, factor: 1.0e-3, shape: linear}, decay: poly, power: 0.9}
        stages:
          - {epochs: 50, freeze: [encoder], batch_size: 8, lr: 1.0e-4}
          - {epochs: 150, lr: 1.0e-5}
        init: {checkpoint: null}
        eval: {every: 1, metric: dice, save_best: true}
        sweep:
          model.base_c: [32, 64]
          model.upsample: [bilinear, transposed]
          seed: [0, 1, 2]
        """
        let e = try loadConfig(text)
        XCTAssertEqual(e.name, "drive_unet")
        XCTAssertEqual(e.runs.count, 12)
        XCTAssertEqual(e.runs[0].id, "base_c=32,upsample=bilinear,seed=0")
        XCTAssertEqual(e.runs[11].id, "base_c=64,upsample=transposed,seed=2")
        let c = e.runs[0].config
        XCTAssertEqual(c.stages, [StageConfig(epochs: 50, freeze: ["encoder"], batchSize: 8, lr: 1e-4),
                                  StageConfig(epochs: 150, freeze: [], batchSize: 4, lr: 1e-5)])
        XCTAssertNil(c.initialization.checkpoint)
    }

    func testUnknownKeysSuggestTheClosestName() {
        XCTAssertEqual(configErrors("modle:\n  base_c: 32\n"), ["exp.yaml:1:1: unknown key 'modle'; did you mean 'model'?"])
        XCTAssertEqual(configErrors("model: {bas_c: 32}\n"), ["exp.yaml:1:9: unknown key 'bas_c' in model; did you mean 'base_c'?"])
        // The issue's own example: a longer spelling of a key suggests the key it starts with.
        XCTAssertEqual(configErrors("model:\n  base_channels: 32\n"),
                       ["exp.yaml:2:3: unknown key 'base_channels' in model; did you mean 'base_c'?"])
        XCTAssertEqual(configErrors("schedule:\n  warmup: {epoch: 2}\n"),
                       ["exp.yaml:2:12: unknown key 'epoch' in schedule.warmup; did you mean 'epochs'?"])
        XCTAssertEqual(configErrors("optimizer: {zzz: 1}\n"), ["exp.yaml:1:13: unknown key 'zzz' in optimizer"])
    }

    func testWrongTypes() {
        XCTAssertEqual(configErrors("model:\n  base_c: abc\n"), ["exp.yaml:2:11: model.base_c: expected an integer, got 'abc'"])
        XCTAssertEqual(configErrors("optimizer: {lr: abc}\n"), ["exp.yaml:1:17: optimizer.lr: expected a number, got 'abc'"])
        XCTAssertEqual(configErrors("optimizer: {lr: '1e-4'}\n"),
                       ["exp.yaml:1:17: optimizer.lr: expected a number, got '1e-4' (quoted, so a string)"])
        XCTAssertEqual(configErrors("eval: {save_best: yes}\n"),
                       ["exp.yaml:1:19: eval.save_best: expected true or false, got 'yes' (YAML 1.2 reads it as a string)"])
        XCTAssertEqual(configErrors("data: {mean: 0.5}\n"), ["exp.yaml:1:14: data.mean: expected a list, got '0.5'"])
        XCTAssertEqual(configErrors("data: {std: [0.1, x, 0.3]}\n"), ["exp.yaml:1:19: data.std.1: expected a number, got 'x'"])
        XCTAssertEqual(configErrors("model: unet\n"), ["exp.yaml:1:8: model must be a mapping of keys to values, got 'unet'"])
        XCTAssertEqual(configErrors("model:\n  upsample: bilinaer\n"),
                       ["exp.yaml:2:13: model.upsample must be 'bilinear' or 'transposed', got 'bilinaer'; did you mean 'bilinear'?"])
        XCTAssertEqual(configErrors("optimizer: {name: rmsprop}\n"),
                       ["exp.yaml:1:19: optimizer.name must be 'sgd', 'adam' or 'adamw', got 'rmsprop'"])
    }

    func testOutOfRangeValues() {
        XCTAssertEqual(configErrors("optimizer: {lr: -0.1}\n"), ["exp.yaml:1:17: optimizer.lr must be > 0, got -0.1"])
        XCTAssertEqual(configErrors("schedule: {epochs: 0}\n"),
                       ["exp.yaml:1:20: schedule.epochs must be >= 1, got 0"])
        XCTAssertEqual(configErrors("data: {ignore_index: -1}\n"), ["exp.yaml:1:22: data.ignore_index must be >= 0, got -1"])
        XCTAssertEqual(configErrors("data: {hflip: 1.5}\n"), ["exp.yaml:1:15: data.hflip is a probability and must be in [0, 1], got 1.5"])
        XCTAssertEqual(configErrors("loss: {class_weights: [1, 2, 3]}\n"),
                       ["exp.yaml:1:23: loss.class_weights needs one weight per class (data.num_classes is 2), has 3, got [1, 2, 3]"])
        XCTAssertEqual(configErrors("data: {mean: [0.5]}\n"), ["exp.yaml:1:14: data.mean has 1 values but model.in_channels is 3"])
        XCTAssertEqual(configErrors("model: {in_channels: 1}\ndata: {mean: [0.5]}\n"),
                       ["exp.yaml:1:22: model.in_channels is 1, so data.std needs 1 values (the default is DRIVE's 3)"])
        XCTAssertEqual(configErrors("data: {crop: [480]}\n"), ["exp.yaml:1:14: data.crop must be a size >= 1 or [height, width], got [480]"])
        XCTAssertEqual(configErrors("data: {label_map: {255: 7}}\n"),
                       ["exp.yaml:1:25: data.label_map.255 must be a class id below 2 or the ignore_index 255, got 7"])
        XCTAssertEqual(configErrors("optimizer: {name: adam, betas: [0.9, 1.5]}\n"),
                       ["exp.yaml:1:32: optimizer.betas must be [beta1, beta2], each in [0, 1), got [0.9, 1.5]"])
    }

    /// The default warmup (one epoch) gives way in a one-epoch run instead of being an error
    /// about a setting the user never wrote; longer runs keep it.
    func testDefaultWarmupFitsOneEpochRuns() throws {
        let one = try Experiment.parse("schedule: {epochs: 1}\n", options: ConfigOptions(checkPaths: false)).runs[0]
        XCTAssertEqual(one.config.schedule.warmup.epochs, 0)
        XCTAssertTrue(one.configYAML.contains("warmup:\n    epochs: 0"), one.configYAML)
        let two = try Experiment.parse("schedule: {epochs: 2}\n", options: ConfigOptions(checkPaths: false)).runs[0]
        XCTAssertEqual(two.config.schedule.warmup, WarmupConfig())
    }

    /// A swept or overridden key the chosen model never reads would train one config twice
    /// under two names; it is an error naming the key and the model.
    func testSettingsTheModelIgnoresCannotBeSweptOrSet() {
        let fcn = "model: {name: fcn, backbone: resnet18}\n"
        XCTAssertEqual(configErrors(fcn + "sweep:\n  model.base_c: [16, 32]\n"),
                       ["exp.yaml:3:22: runs 'base_c=16' and 'base_c=32' would train the same config: model fcn does not "
                        + "use model.base_c; take model.base_c out of the sweep"])
        XCTAssertEqual(configErrors(fcn + "sweep:\n  model.base_c: [16, 32]\n  seed: [1, 2]\n").count, 1,
                       "one error per key, not per pair of runs")
        XCTAssertEqual(configErrors(fcn, overrides: ["model.upsample=transposed"]),
                       ["--set model.upsample=transposed: model fcn does not use model.upsample, so this --set changes nothing"])
        XCTAssertEqual(configErrors("model: {encoder: vgg16}\n", overrides: ["model.base_c=8"]),
                       ["--set model.base_c=8: a UNet with encoder vgg16 does not use model.base_c, so this --set changes nothing"])
        // A one-epoch run drops the default warmup, so its factor does not apply either.
        XCTAssertEqual(configErrors("schedule: {epochs: 1}\n", overrides: ["schedule.warmup.factor=0.1"]),
                       ["--set schedule.warmup.factor=0.1: this config does not use schedule.warmup.factor, so this --set changes nothing"])
        // A key used by only some runs of a zip (warmup shape with and without warmup) is fine.
        XCTAssertEqual(configErrors("sweep:\n  zip:\n    - schedule.warmup.shape: [linear, cosine]\n"
                                    + "      schedule.warmup.epochs: [0, 5]\n"), [])
        // In a grid over models, the FCN runs of a base_c sweep are the duplicates.
        XCTAssertEqual(configErrors(fcn + "sweep:\n  model.name: [unet, fcn]\n  model.base_c: [16, 32]\n"),
                       ["exp.yaml:4:22: runs 'name=fcn,base_c=16' and 'name=fcn,base_c=32' would train the same config: "
                        + "model fcn does not use model.base_c; take model.base_c out of the sweep"])
    }

    func testContradictions() {
        XCTAssertEqual(configErrors("schedule: {epochs: 100}\nstages:\n  - {epochs: 50}\n  - {epochs: 40}\n"),
                       ["exp.yaml:3:3: stages add up to 90 epochs, but schedule.epochs is 100 (line 1); make them agree or drop schedule.epochs"])
        XCTAssertEqual(configErrors("schedule: {epochs: 3, warmup: {epochs: 3}}\n"),
                       ["exp.yaml:1:40: schedule.warmup.epochs must be less than schedule.epochs (3), got 3"])
        XCTAssertEqual(configErrors("schedule: {epochs: 1, warmup: {epochs: 1}}\n"),
                       ["exp.yaml:1:40: schedule.warmup.epochs must be less than schedule.epochs (1), got 1"])
        XCTAssertEqual(configErrors("optimizer: {momentum: 0, nesterov: true}\n"),
                       ["exp.yaml:1:36: optimizer.nesterov needs optimizer.momentum > 0, got true"])
        XCTAssertEqual(configErrors("loss: {focal: 1, focal_gamma: -1}\n"),
                       ["exp.yaml:1:31: loss.focal_gamma must be >= 0 when loss.focal > 0, got -1"])
        XCTAssertEqual(configErrors("loss: {focal: 0, focal_gamma: -1}\n"), [])  // unused when focal is 0
        XCTAssertEqual(configErrors("data: {ignore_index: 1}\n"),
                       ["exp.yaml:1:22: data.ignore_index must not be a class id (data.num_classes is 2), got 1"])
        XCTAssertEqual(configErrors("schedule: {decay: step}\n"),
                       ["exp.yaml:1:19: schedule.decay is step, so schedule.milestones (epochs at which lr drops) is required"])
        XCTAssertEqual(configErrors("schedule: {epochs: 10, decay: step, milestones: [5, 3]}\n"),
                       ["exp.yaml:1:49: schedule.milestones must be increasing epochs in 1...9, got [5, 3]"])
        XCTAssertEqual(configErrors("optimizer: {lr: 0.01}\nschedule: {decay: cosine, min_lr: 0.1}\n"),
                       ["exp.yaml:2:35: schedule.min_lr must be >= 0 and below optimizer.lr (0.01), got 0.1"])
        XCTAssertEqual(configErrors("loss: {ce: 0, dice: 0}\n"),
                       ["exp.yaml:1:7: loss: every term has weight 0, so there is nothing to train; set loss.ce, loss.dice or loss.focal > 0"])
    }

    func testStagesSetTheEpochsWhenScheduleDoesNot() throws {
        let c = try single("optimizer: {lr: 0.05}\nstages:\n  - {epochs: 5, freeze: encoder}\n  - {epochs: 7, batch_size: 2}\n")
        XCTAssertEqual(c.schedule.epochs, 12)
        XCTAssertEqual(c.stages, [StageConfig(epochs: 5, freeze: ["encoder"], batchSize: 4, lr: 0.05),
                                  StageConfig(epochs: 7, freeze: [], batchSize: 2, lr: 0.05)])
        XCTAssertEqual(configErrors("stages:\n  - {freeze: [encoder]}\n"), ["exp.yaml:2:5: stages.0 needs epochs"])
    }

    func testAllErrorsOfAFileTogetherInLineOrder() {
        let text = """
        optimizer:
          lr: 0
        model:
          base_c: x
        data:
          hflip: 2
        """
        XCTAssertEqual(configErrors(text), [
            "exp.yaml:2:7: optimizer.lr must be > 0, got 0",
            "exp.yaml:4:11: model.base_c: expected an integer, got 'x'",
            "exp.yaml:6:10: data.hflip is a probability and must be in [0, 1], got 2",
        ])
    }

    func testKeysThatDoNotApplyAreIgnoredAndNotWritten() throws {
        let c = try single("optimizer: {name: adam, momentum: 0.5, lr: 0.001}\nmodel: {name: fcn, base_c: 8}\n")
        XCTAssertEqual(c.optimizer.momentum, OptimizerConfig().momentum)
        XCTAssertEqual(c.model.baseC, ModelConfig().baseC)
        XCTAssertFalse(c.yaml.contains("momentum"))
        XCTAssertFalse(c.yaml.contains("base_c"))
        XCTAssertTrue(c.yaml.contains("betas: [0.9, 0.999]"))
    }

    func testNameDefaultsToTheFileNameAndMustSuitAFolder() throws {
        XCTAssertEqual(try loadConfig("", file: "sub/my_exp.yaml").name, "my_exp")
        XCTAssertEqual(configErrors("name: ../x\n"),
                       ["exp.yaml:1:7: name must be usable as a folder name (letters, digits, '_', '-', '.'; not starting with '.'), got ../x"])
    }

    func testDataFolderIsFoundNextToTheYAMLThenInTheCurrentFolder() throws {
        let dir = try ConfigFolder()
        try dir.write("experiments/a.yaml", "data: {root: data/DRIVE}\n")
        let options = dir.options(checkPaths: true)
        XCTAssertEqual(Self.errors { try Experiment.load("experiments/a.yaml", options: options) },
                       ["experiments/a.yaml:1:14: data.root folder 'data/DRIVE' not found (looked for experiments/data/DRIVE and data/DRIVE); give it with --set data.root=PATH"])
        try dir.makeFolder("data/DRIVE")
        XCTAssertEqual(try Experiment.load("experiments/a.yaml", options: options).runs[0].config.data.root, "data/DRIVE")
        try dir.makeFolder("experiments/data/DRIVE")
        XCTAssertEqual(try Experiment.load("experiments/a.yaml", options: options).runs[0].config.data.root, "experiments/data/DRIVE")
        // --set paths are relative to the current folder only; synthetic data needs none.
        XCTAssertEqual(try Experiment.load("experiments/a.yaml", overrides: ["data.root=data/DRIVE"], options: options).runs[0].config.data.root, "data/DRIVE")
        XCTAssertEqual(Self.errors { try Experiment.load("experiments/a.yaml", overrides: ["data.root=nope"], options: options) },
                       ["--set data.root=nope: data.root folder 'nope' not found; give it with --set data.root=PATH"])
        XCTAssertNoThrow(try Experiment.load("experiments/a.yaml", overrides: ["data.dataset=synthetic", "data.root=nope"], options: options))
        try dir.write("b.yaml", "init: {checkpoint: best.safetensors}\n")
        XCTAssertEqual(Self.errors { try Experiment.load("b.yaml", options: options) },
                       ["b.yaml:1:20: init.checkpoint file 'best.safetensors' not found; give it with --set init.checkpoint=PATH"])
    }

    static func errors(_ body: () throws -> Experiment) -> [String] {
        do { _ = try body(); return [] } catch let e as ConfigErrors { return e.errors.map(\.description) } catch { return ["\(error)"] }
    }

    /// `data.class_names` lets `eval.metric` name a class; config.yaml keeps the name.
    func testMetricsNameClassesByDataClassNames() throws {
        let run = try loadConfig("data: {class_names: [background, vessel]}\neval: {metric: f1.vessel, metrics: true}\n").runs[0]
        XCTAssertEqual(run.config.eval.metric.classIndex, 1)
        XCTAssertEqual(run.config.eval.metric.rawValue, "f1.vessel")
        XCTAssertTrue(run.configYAML.contains("metric: f1.vessel"), run.configYAML)
        XCTAssertEqual(try loadConfig(run.configYAML).runs[0].config, run.config)
        XCTAssertFalse(try loadConfig("name: exp\n").runs[0].configYAML.contains("class_names"))
    }

    /// Cityscapes and ADE20K default to their benchmark's class count, and their own class
    /// names (as DRIVE's and VOC's) name the classes of eval.metric.
    func testBenchmarksBringTheirClassesAndNames() throws {
        let city = try loadConfig("data: {dataset: cityscapes, root: cs}\neval: {metric: iou.car}\n").runs[0].config
        XCTAssertEqual(city.data.numClasses, 19)
        XCTAssertEqual(city.eval.metric.classIndex, 13)
        XCTAssertEqual(try loadConfig("data: {dataset: ade20k, root: ade}\n").runs[0].config.data.numClasses, 150)
        XCTAssertEqual(try loadConfig("eval: {metric: f1.vessel, metrics: true}\n").runs[0].config.eval.metric.classIndex, 1)
        XCTAssertEqual(configErrors("data: {dataset: cityscapes, root: cs, num_classes: 20}\n"),
                       ["exp.yaml:1:52: data.num_classes must be 19 for cityscapes, the benchmark's classes, got 20"])
        XCTAssertEqual(configErrors("data: {dataset: voc, root: voc, year: 2010}\n"),
                       ["exp.yaml:1:39: data.year must be 2007 or 2012, got 2010"])
    }

    /// `precision` defaults to fp32 and is then absent from config.yaml, so fp32 runs keep the
    /// hashes they had before the key existed; bf16 is written and changes the hash.
    func testPrecisionIsWrittenOnlyWhenBF16() throws {
        let fp32 = try loadConfig("seed: 1\n").runs[0]
        XCTAssertEqual(fp32.config.precision, .fp32)
        XCTAssertFalse(fp32.config.yaml.contains("precision"))
        let bf16 = try loadConfig("seed: 1\nprecision: bf16\n").runs[0]
        XCTAssertEqual(bf16.config.precision, .bf16)
        XCTAssertTrue(bf16.config.yaml.contains("precision: bf16"))
        XCTAssertNotEqual(bf16.hash, fp32.hash)
        XCTAssertEqual(try loadConfig("seed: 1\nprecision: fp32\n").runs[0].hash, fp32.hash)
        XCTAssertEqual(configErrors("precision: fp16\n"), ["exp.yaml:1:12: precision must be 'fp32' or 'bf16', got 'fp16'; did you mean 'fp32'?"])
    }
}
