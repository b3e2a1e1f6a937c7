import ArgumentParser

/// `runexp data`: tools for datasets (writing the synthetic set, measuring normalisation).
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Write the built-in synthetic dataset or measure a dataset's channel statistics.",
        discussion: """
            Examples:
              runexp data synthetic --out data/synthetic --count 20
              runexp data stats experiments/drive_unet.yaml --labelled-only
            """,
        subcommands: [DataSynthetic.self, DataStats.self])
}
