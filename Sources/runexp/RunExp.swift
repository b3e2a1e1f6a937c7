import ArgumentParser
import Experiments
import Foundation
import Nets

@main
struct RunExp: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runexp",
        abstract: "A declarative experiment runner for semantic segmentation.",
        discussion: """
            Examples:
              runexp experiments/quickstart.yaml
              runexp experiments/drive_unet.yaml --set model.base_c=64 --dry-run
              runexp predict --checkpoint RUN/checkpoints/best.safetensors a.png --out pred
              runexp data synthetic --out data/synthetic
              runexp status experiments/drive_unet_sweep.yaml
              runexp bench --threads 2
              runexp submit experiments/drive_unet_sweep.yaml --slurm --time 12:00:00 --cpus-per-task 8
            """,
        version: "\(runexpVersion) (\(CLibraries.summary))",
        subcommands: [Run.self, Status.self, Report.self, Submit.self, Bench.self, Predict.self, Eval.self, DataCommand.self],
        defaultSubcommand: Run.self)

    /// Exit statuses (README, "Exit status"): 0 every run done, 1 some run or image failed,
    /// 2 a config, data or command-line error found before anything trained, 128+N stopped by
    /// signal N. A command-line mistake prints one line, not the usage text.
    static func main() {
        OpenMPWaitPolicy.passiveUnlessChosen()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let status = exitCode(for: error)
            if status == .success || error is ExitCode { exit(withError: error) }
            let usage = status == .validationFailure
            let text = message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            FileHandle.standardError.write(Data((text + (usage ? " (see runexp --help)" : "") + "\n").utf8))
            Foundation.exit(usage ? 2 : status.rawValue)
        }
    }
}
