import ArgumentParser
import Experiments
import Foundation
import Nets

/// `runexp data stats`: the per-channel mean and std of an experiment's training images.
struct DataStats: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Print the per-channel mean and std of an experiment's training images.",
        discussion: """
            Reads every training image of the experiment's dataset (scaled to [0, 1], before \
            augmentation) and prints `mean:` and `std:` lines to paste into its data: section. \
            By default each image's mean and std are averaged, as the PyTorch DRIVE recipe computed \
            its numbers; --pooled treats all pixels as one population instead. With --labelled-only, \
            pixels labelled ignore_index (e.g. outside DRIVE's field of view) are left out. \
            Config errors exit with status 2.

            Example:
              runexp data stats experiments/drive_unet.yaml --labelled-only
            """)

    @Argument(help: "The experiment's YAML file.") var file: String
    @Option(name: .customLong("set"), help: ArgumentHelp("Override a setting, e.g. --set data.root=/data/DRIVE (repeatable).",
                                                         valueName: "key=value"))
    var overrides: [String] = []
    @Flag(help: "Count only pixels whose label is not the ignore index.") var labelledOnly = false
    @Flag(help: "Statistics of all pixels together instead of the average of per-image statistics.") var pooled = false
    @Option(help: "Threads (default: OMP_NUM_THREADS, else all cores).") var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        if let threads { Threads.set(threads) }
        let experiment = try CommandErrors.loadingConfig { try Experiment.load(file, overrides: overrides) }
        let run = experiment.runs[0]
        if experiment.runs.count > 1 {
            CommandErrors.print("note: \(file) has \(experiment.runs.count) runs; measuring the first (\(run.id))")
        }
        let dataset = try CommandErrors.loadingConfig {
            try DatasetStatistics.trainingDataset(run.config, at: run.locations)
        }
        let stats: (mean: [Double], std: [Double])
        do {
            stats = try DatasetStatistics.meanStd(dataset, ignoreIndex: labelledOnly ? Int32(run.config.data.ignoreIndex) : nil,
                                                  method: pooled ? .pooled : .perImage)
        } catch {
            CommandErrors.print("\(error)")
            throw ExitCode(1)
        }
        let which = labelledOnly ? "labelled pixels" : "all pixels"
        print("# \(run.config.data.dataset.rawValue) training set of \(file): \(dataset.count) images, \(which), "
              + (pooled ? "pooled" : "per-image average"))
        print("mean: " + Self.list(stats.mean))
        print("std: " + Self.list(stats.std))
        if stats.std.contains(0) {
            CommandErrors.print("note: a channel is constant (std 0); a config's std must be > 0")
        }
    }

    /// `[0.709, 0.381, 0.224]`: four significant digits, a YAML flow list.
    static func list(_ values: [Double]) -> String {
        "[" + values.map { String(format: "%.4g", $0) }.joined(separator: ", ") + "]"
    }
}
