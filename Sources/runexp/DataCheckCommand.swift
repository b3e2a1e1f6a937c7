import ArgumentParser
import Experiments
import Foundation

/// `runexp data check`: reads every image and mask file an experiment trains and validates on,
/// as `runexp FILE.yaml` does before its first epoch, and lists every problem.
struct DataCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Read every image and mask of an experiment's datasets and list every problem.",
        discussion: """
            Decodes each file (so truncated files are found too) and reports, one line per problem \
            starting with the file: files that are not readable images, masks whose size differs \
            from their image's, colour masks without data.palette, mask values that are no class id, \
            colour images with model.in_channels 1, and images too small for the model. Exits with \
            status 2 when anything is wrong (as `runexp FILE.yaml` does before training), 0 otherwise.

            Example:
              runexp data check experiments/drive_unet.yaml --set data.root=/data/DRIVE
            """)

    @Argument(help: "The experiment's YAML file.") var file: String
    @Option(name: .customLong("set"), help: ArgumentHelp("Override a setting, e.g. --set data.root=/data/DRIVE (repeatable).",
                                                         valueName: "key=value"))
    var overrides: [String] = []

    func run() throws {
        let runner = try CommandErrors.loadingConfig {
            let runner = SweepRunner(experiment: try Experiment.load(file, overrides: overrides), options: SweepOptions())
            try runner.validate()
            return runner
        }
        let report = try DataCheckCommand.check(runner)
        print("data ok: \(report.samples) samples, \(report.files) files read")
    }

    /// Runs the data check of `runner`'s runs; prints every problem and exits with status 2
    /// when there is one.
    static func check(_ runner: SweepRunner) throws -> DataCheck.Report {
        let report = try CommandErrors.loadingConfig { try runner.checkData() }
        guard !report.problems.isEmpty else { return report }
        CommandErrors.print(report.problems.map(\.description).joined(separator: "\n"))
        if report.problems.count > 1 {
            let files = Set(report.problems.map(\.file)).count
            CommandErrors.print("\(report.problems.count) data problems in \(files) of \(report.files) files; nothing was trained")
        }
        throw ExitCode(2)
    }
}
