import ArgumentParser
import Experiments
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
              runexp bench --threads 2
            """,
        version: "\(runexpVersion) (\(CLibraries.summary))",
        subcommands: [Run.self, Bench.self, Predict.self, DataCommand.self],
        defaultSubcommand: Run.self)
}
