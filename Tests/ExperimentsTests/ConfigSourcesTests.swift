import XCTest
@testable import Experiments

/// `base:` inheritance, `--set` overrides, the round trip of `config.yaml`, and the
/// example files under experiments/.
final class ConfigSourcesTests: XCTestCase {
    func testBaseMergesMapsReplacesListsAndKeepsLocations() throws {
        let dir = try ConfigFolder()
        try dir.write("configs/common.yaml", """
        model: {base_c: 32, upsample: transposed}
        data: {mean: [0.1, 0.2, 0.3], hflip: 7}
        optimizer: {lr: 0.02}
        """)
        try dir.write("configs/child.yaml", """
        base: common.yaml
        model: {base_c: 64}
        data: {mean: [0.5, 0.5, 0.5]}
        """)
        let options = dir.options()
        XCTAssertEqual(ConfigTests.errors { try Experiment.load("configs/child.yaml", options: options) },
                       ["configs/common.yaml:2:38: data.hflip is a probability and must be in [0, 1], got 7"])
        let c = try Experiment.load("configs/child.yaml", overrides: ["data.hflip=0.25"], options: options).runs[0].config
        XCTAssertEqual(c.name, "child")
        XCTAssertEqual(c.model.baseC, 64)
        XCTAssertEqual(c.model.upsample, .transposed)
        XCTAssertEqual(c.data.mean, [0.5, 0.5, 0.5])
        XCTAssertEqual(c.data.hflip, 0.25)
        XCTAssertEqual(c.optimizer.lr, 0.02)
    }

    func testBaseErrors() throws {
        let dir = try ConfigFolder()
        try dir.write("a.yaml", "base: b.yaml\n")
        try dir.write("b.yaml", "base: [a.yaml]\n")
        try dir.write("c.yaml", "seed: 1\nbase: missing.yaml\n")
        let options = dir.options()
        XCTAssertEqual(ConfigTests.errors { try Experiment.load("a.yaml", options: options) },
                       ["b.yaml:1:8: base files include each other: a.yaml -> b.yaml -> a.yaml"])
        XCTAssertEqual(ConfigTests.errors { try Experiment.load("c.yaml", options: options) },
                       ["c.yaml:2:7: base file 'missing.yaml' not found"])
        XCTAssertEqual(ConfigTests.errors { try Experiment.load("none.yaml", options: options) },
                       ["none.yaml: config file not found"])
    }

    func testSetOverrides() throws {
        let text = "model: {base_c: 32}\nstages:\n  - {epochs: 100}\n  - {epochs: 100}\n"
        let c = try loadConfig(text, overrides: ["model.base_c=64", "stages.1.lr=1e-3", "optimizer={name: adam}", "data.crop=[256, 128]"]).runs[0].config
        XCTAssertEqual(c.model.baseC, 64)
        XCTAssertEqual(c.stages[1].lr, 1e-3)
        XCTAssertEqual(c.optimizer.name, .adam)
        XCTAssertEqual(c.data.crop, CropSize(height: 256, width: 128))
        XCTAssertEqual(configErrors(text, overrides: ["model.bas_c=64"]),
                       ["--set model.bas_c=64: unknown key 'bas_c' in model; did you mean 'base_c'?"])
        XCTAssertEqual(configErrors(text, overrides: ["model.base_c=abc"]),
                       ["--set model.base_c=abc: model.base_c: expected an integer, got 'abc'"])
        XCTAssertEqual(configErrors(text, overrides: ["stages.5.lr=1"]),
                       ["--set stages.5.lr=1: stages has 2 entries, so stages.5 does not exist"])
        XCTAssertEqual(configErrors(text, overrides: ["stages.x.lr=1"]),
                       ["--set stages.x.lr=1: stages is a list; address an entry by its index, as in stages.0, not 'x'"])
        XCTAssertEqual(configErrors(text, overrides: ["model.base_c"]),
                       ["--set model.base_c: --set takes PATH=VALUE, as in --set model.base_c=64"])
        XCTAssertEqual(configErrors(text, overrides: ["model.base_c=[1,"]).count, 1)
        XCTAssertEqual(configErrors(text, overrides: ["model.base_c.x=1"]),
                       ["--set model.base_c.x=1: model.base_c is a value, not a section with key 'x'"])
    }

    func testConfigYAMLRoundTripKeepsConfigAndHash() throws {
        let dir = try ConfigFolder()
        try dir.makeFolder("data/DRIVE")
        try dir.write("exp.yaml", """
        data: {root: data/DRIVE, label_map: {255: 1, 0: 0}, crop: [64, 96], val_fraction: 0.2, scale: null}
        model: {backbone: resnet50}
        loss: {focal: 0.5, focal_alpha: 0.25, dice: 0}
        optimizer: {name: adamw, lr: 3.0e-4, betas: [0.8, 0.99], eps: 1e-6}
        schedule: {decay: step, milestones: [50, 150], gamma: 0.5, warmup: {epochs: 0}}
        stages: [{epochs: 20, freeze: [encoder, "odd name"]}, {epochs: 180, lr: 1e-5}]
        init: {checkpoint: null}
        threads: 2
        sweep:
          seed: [0, 1]
          optimizer.lr: [1.0e-3, 2e-3]
          random: {n: 2, seed: 3, params: {data.hflip: {uniform: [0, 1]}}}
        """)
        let options = dir.options(checkPaths: true)
        let e = try Experiment.load("exp.yaml", options: options)
        XCTAssertEqual(e.runs.count, 8)
        XCTAssertEqual(Set(e.runs.map(\.hash)).count, 8)
        for run in e.runs {
            try dir.write("results/\(run.directoryName)/config.yaml", run.configYAML)
            let again = try Experiment.load("results/\(run.directoryName)/config.yaml", options: options)
            XCTAssertEqual(again.runs.count, 1)
            XCTAssertEqual(again.runs[0].config, run.config, run.configYAML)
            XCTAssertEqual(again.runs[0].hash, run.hash)
            XCTAssertEqual(again.runs[0].config.yaml, run.config.yaml)
            XCTAssertEqual(again.runs[0].id, "run")
        }
        let c = e.runs[0].config
        XCTAssertEqual(c.data.labelMap, [0: 0, 255: 1])
        XCTAssertEqual(c.loss.focalAlpha, [0.25, 0.25])
        XCTAssertEqual(c.threads, 2)
    }

    /// Settings that do not apply (synthetic data's root, SGD keys under Adam, UNet keys
    /// under FCN, focal settings at weight 0) are dropped from config.yaml and must not
    /// make the re-read config differ.
    func testRoundTripWithIgnoredSettings() throws {
        let text = """
        data: {dataset: synthetic, root: elsewhere, synthetic: {size: 96, lesions: true}}
        model: {name: fcn, base_c: 8, upsample: transposed}
        loss: {focal: 0, focal_gamma: 5}
        optimizer: {name: adam, momentum: 0.5, nesterov: true}
        schedule: {decay: none, power: 2, warmup: {epochs: 0, factor: 0.5}}
        init: {checkpoint: null, strict: false}
        """
        let run = try loadConfig(text).runs[0]
        let again = try loadConfig(run.configYAML, file: "config.yaml").runs[0]
        XCTAssertEqual(again.config, run.config, run.configYAML)
        XCTAssertEqual(again.hash, run.hash)
        XCTAssertEqual(run.config.data.synthetic?.size, 96)
        XCTAssertEqual(run.config.data.root, DataConfig().root)
    }

    func testThreadsDoNotChangeTheHash() throws {
        let a = try loadConfig("seed: 1\n").runs[0]
        let b = try loadConfig("seed: 1\n", overrides: ["threads=8"]).runs[0]
        XCTAssertEqual(a.hash, b.hash)
        XCTAssertNotEqual(a.config.yaml, b.config.yaml)
        XCTAssertNotEqual(try loadConfig("seed: 2\n").runs[0].hash, a.hash)
        XCTAssertEqual(a.hash.count, 8)
        XCTAssertTrue(a.hash.allSatisfy(\.isHexDigit))
    }

    func testConfigLocationsForTheTrainer() throws {
        let run = try loadConfig("model:\n  name: fcn\nstages:\n  - {epochs: 200, freeze: [encoder]}\n").runs[0]
        XCTAssertEqual(run.locations["model.name"].description, "exp.yaml:2:9")
        XCTAssertEqual(run.locations["stages.0.freeze"].description, "exp.yaml:4:27")
        XCTAssertEqual(run.locations["optimizer.lr"].description, "exp.yaml:1:1")  // a default: the file
        XCTAssertEqual(run.locations.error("fcn is not available yet", at: "model.name").description,
                       "exp.yaml:2:9: fcn is not available yet")
    }

    func testExampleFilesLoadAndValidate() throws {
        let options = ConfigOptions(checkPaths: false, currentDirectory: packageRoot)
        let quick = try Experiment.load("experiments/quickstart.yaml", options: ConfigOptions(checkPaths: true, currentDirectory: packageRoot))
        XCTAssertEqual(quick.runs.count, 1)
        XCTAssertEqual(quick.runs[0].config.data.dataset, .synthetic)
        XCTAssertEqual(quick.runs[0].config.model.baseC, 16)

        let drive = try Experiment.load("experiments/drive_unet.yaml", options: options)
        var recipe = ExperimentConfig(name: "drive_unet")
        recipe.loss.classWeights = [1, 2]
        XCTAssertEqual(drive.runs.map(\.config), [recipe])

        let sweep = try Experiment.load("experiments/drive_unet_sweep.yaml", options: options)
        XCTAssertEqual(sweep.runs.count, 12)
        XCTAssertEqual(sweep.sweptPaths, ["model.base_c", "model.upsample", "seed"])
        XCTAssertEqual(sweep.runs[5].id, "base_c=32,upsample=transposed,seed=2")
        XCTAssertEqual(sweep.runs[5].config.schedule, recipe.schedule)
    }

    /// The YAML blocks of experiments/README.md are real configs: the key reference loads
    /// to the defaults, the sweep example expands (2 × 2 grid × 3 seeds × 2 zip × 20 draws).
    func testReadmeExamplesLoad() throws {
        let readme = try String(contentsOfFile: packageRoot + "/experiments/README.md", encoding: .utf8)
        let blocks = readme.components(separatedBy: "```yaml\n").dropFirst().map { $0.components(separatedBy: "```")[0] }
        XCTAssertEqual(blocks.count, 2)
        var defaults = ExperimentConfig(name: "exp")
        defaults.loss.classWeights = [1, 2]
        XCTAssertEqual(try loadConfig(blocks[0]).runs.map(\.config), [defaults])
        XCTAssertEqual(try loadConfig(blocks[1]).runs.count, 480)
    }
}
