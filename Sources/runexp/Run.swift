import ArgumentParser
import Experiments
import Foundation
import Nets

/// `runexp [run] FILE.yaml`: expands the experiment's sweep and trains its runs.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train the runs of an experiment (the default command).",
        discussion: """
            Each run writes results/<experiment>/<run-id>@<hash>/ with config.yaml, result.txt,
            metrics.jsonl, log.txt and checkpoints/. Finished runs are skipped and interrupted
            ones resume from their last checkpoint. Every image and mask is read first; config and
            data errors exit with status 2 before anything trains.
            Example: runexp experiments/drive_unet.yaml --set schedule.epochs=50 --only 'base_c=32,*'
            """)

    @Argument(help: "The experiment's YAML file.") var file: String
    @Option(name: .customLong("set"), help: ArgumentHelp("Override a setting, e.g. --set model.base_c=64 (repeatable).",
                                                         valueName: "key=value"))
    var overrides: [String] = []
    @Option(help: "Folder for results.") var results = "results"
    @Flag(help: "Validate and list the expanded runs without training.") var dryRun = false
    @Option(help: ArgumentHelp("Train only runs whose id matches this shell glob.", valueName: "glob")) var only: String?
    @Option(help: ArgumentHelp("Train runs I, I+N, I+2N, … of the sweep (0 ≤ I < N); `slurm` takes I and N from "
                               + "SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT.", valueName: "I/N"))
    var shard: String?
    @Option(help: "Threads (default: the config's `threads`, else SLURM_CPUS_PER_TASK, else OMP_NUM_THREADS, else all cores).")
    var threads: Int?
    @Flag(help: "Leave runs that another process holds to it instead of waiting for them at the end.") var noWait = false
    @Flag(help: "Train only the runs that failed, diverged ones included (from their last checkpoint).")
    var retryFailed = false

    func parsedShard() throws -> (index: Int, count: Int)? {
        guard let shard else { return nil }
        if shard == "slurm" {
            let env = ProcessInfo.processInfo.environment
            guard let i = env["SLURM_ARRAY_TASK_ID"].flatMap(Int.init), let n = env["SLURM_ARRAY_TASK_COUNT"].flatMap(Int.init),
                  n >= 1, i >= 0, i < n else {
                throw ValidationError("--shard slurm needs SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT (run it in a Slurm array task)")
            }
            return (i, n)
        }
        let parts = shard.split(separator: "/").compactMap { Int($0) }
        guard parts.count == 2, parts[1] >= 1, parts[0] >= 0, parts[0] < parts[1] else {
            throw ValidationError("--shard must be I/N with 0 ≤ I < N, e.g. --shard 0/4 (got '\(shard)')")
        }
        return (parts[0], parts[1])
    }

    func validate() throws {
        _ = try parsedShard()
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        let experiment: Experiment
        let runner: SweepRunner
        do {
            experiment = try Experiment.load(file, overrides: overrides)
            runner = SweepRunner(experiment: experiment,
                                 options: SweepOptions(resultsRoot: results, only: only, shard: try parsedShard(),
                                                       waitForOthers: !noWait, retryFailed: retryFailed))
            if retryFailed && runner.selectedRuns.isEmpty {
                print("no failed run to retry in \(runner.experimentDirectory)")
                return
            }
            if runner.selectedRuns.isEmpty {
                throw ConfigErrors([ConfigError("no run of the \(experiment.runs.count) matches --only/--shard",
                                                at: .argument(file))])
            }
            try runner.validate()
        } catch let errors as ConfigErrors {
            FileHandle.standardError.write(Data((errors.description + "\n").utf8))
            throw ExitCode(2)
        }
        // Every data file is read before the first epoch, so a bad file stops nothing half-way.
        _ = try DataCheckCommand.check(runner)
        if dryRun {
            print(DryRunTable.render(experiment: experiment, runs: runner.selectedRuns, directory: runner.experimentDirectory))
            return
        }
        let slurmCPUs = ProcessInfo.processInfo.environment["SLURM_CPUS_PER_TASK"].flatMap(Int.init).flatMap { $0 > 0 ? $0 : nil }
        if let n = threads ?? (experiment.runs.first.map { $0.config.threads }.flatMap { $0 > 0 ? $0 : nil }) ?? slurmCPUs {
            Threads.set(n)
        }
        Interrupt.install()
        let (failed, interrupted) = try runner.run()
        print("summary: \(runner.experimentDirectory)/summary.md")
        if interrupted { throw ExitCode(128 + Interrupt.signalNumber) }
        if failed > 0 { throw ExitCode(1) }
    }
}
