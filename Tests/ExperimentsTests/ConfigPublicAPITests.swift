import XCTest
import Experiments  // not @testable: only what the CLI and trainer can see

/// The config API as the command line and the trainer use it, through public names only.
final class ConfigPublicAPITests: XCTestCase {
    func testLoadExpandAndReport() throws {
        let options = ConfigOptions(checkPaths: false, currentDirectory: packageRoot)
        let experiment = try Experiment.load("experiments/drive_unet_sweep.yaml", overrides: ["threads=2"], options: options)
        XCTAssertEqual(experiment.file, "experiments/drive_unet_sweep.yaml")
        XCTAssertEqual(experiment.name, "drive_unet_sweep")
        let run: RunSpec = experiment.runs[0]
        XCTAssertEqual(run.swept.map(\.key), ["base_c", "upsample", "seed"])
        XCTAssertEqual(run.directoryName, "\(run.id)@\(run.hash)")
        let config: ExperimentConfig = run.config
        XCTAssertEqual(config.threads, 2)
        XCTAssertEqual(config.model.name, ModelName.unet)
        XCTAssertTrue(run.configYAML.contains("threads: 2\n"))
        let located: ConfigError = run.locations.error("not available yet", at: "model.name")
        XCTAssertEqual(located.file, "experiments/drive_unet.yaml")
        XCTAssertEqual(located.description, "experiments/drive_unet.yaml:21:15: not available yet")

        do {
            _ = try Experiment.parse("model: {base_c: 0}\n", file: "bad.yaml", options: options)
            XCTFail("expected errors")
        } catch {
            let errors: ConfigErrors = error
            XCTAssertEqual(errors.description, "bad.yaml:1:17: model.base_c must be >= 1, got 0")
            XCTAssertEqual(errors.errors.map(\.line), [1])
        }
    }

    func testRunBuiltInCode() {
        var config = ExperimentConfig(name: "tiny")
        config.data.dataset = .synthetic
        config.model.baseC = 4
        let run = RunSpec(config: config)
        XCTAssertEqual(run.id, "run")
        XCTAssertEqual(run.hash, config.hash)
        XCTAssertEqual(run.locations["model.base_c"].description, "<config built in code>")
    }
}
