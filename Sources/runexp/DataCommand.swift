import ArgumentParser

/// `runexp data`: tools for datasets (writing the synthetic set, measuring normalisation).
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Check a dataset's files, write the built-in synthetic dataset, or measure channel statistics.",
        discussion: """
            Examples:
              runexp data check experiments/drive_unet.yaml
              runexp data synthetic --out data/synthetic --count 20
              runexp data stats experiments/drive_unet.yaml --labelled-only
            """,
        subcommands: [DataCheckCommand.self, DataSynthetic.self, DataStats.self])
}
