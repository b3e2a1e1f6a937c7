import ArgumentParser
import Experiments
import Nets

@main
struct RunExp: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runexp",
        abstract: "A declarative experiment runner for semantic segmentation.",
        version: runexpVersion,
        subcommands: [Bench.self])
}
