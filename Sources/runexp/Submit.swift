import ArgumentParser
import Experiments
import Foundation
import Nets

/// `runexp submit FILE.yaml --slurm`: trains an experiment's runs as a Slurm job array.
struct Submit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train an experiment's runs on a Slurm cluster, as a job array sharing one results folder.",
        discussion: """
            Validates the experiment and checks its data as `runexp FILE.yaml` does, writes \
            RESULTS/<experiment>/slurm/runexp.sbatch (readable, editable, resubmittable with sbatch) \
            and submits it. Every array task runs `runexp FILE.yaml` on the same results folder: run \
            locks give each run to one task, a task exits when nothing is left to claim, and a run \
            whose task was cancelled, preempted or timed out resumes from its checkpoint when a task \
            of this or a later submission reaches it. Slurm sends SIGUSR1 120 s before the time limit; \
            runexp checkpoints, exits, and the task is requeued (scancel stops it for good).

            Example:
              runexp submit experiments/drive_unet_sweep.yaml --slurm --partition cpu --time 12:00:00 \\
                --cpus-per-task 8 --max-parallel 4
            """)

    @Argument(help: "The experiment's YAML file.") var file: String
    @Flag(help: "Submit to Slurm (the only scheduler so far).") var slurm = false
    @Option(name: .customLong("set"), help: ArgumentHelp("Override a setting (repeatable), as for run.", valueName: "key=value"))
    var overrides: [String] = []
    @Option(help: ArgumentHelp("Train only runs whose id matches this shell glob.", valueName: "glob")) var only: String?
    @Option(help: "Folder for results (shared by every node).") var results = "results"
    @Option(help: "Threads per task (default: --cpus-per-task).") var threads: Int?
    @Option(help: "Array tasks (default: one per selected run).") var tasks: Int?
    @Option(help: "Tasks running at once (sbatch --array=...%K).") var maxParallel: Int?
    @Option(help: "Slurm partition.") var partition: String?
    @Option(help: ArgumentHelp("Time limit per task.", valueName: "HH:MM:SS")) var time: String?
    @Option(help: "CPUs per task (default: --threads, else 1).") var cpusPerTask: Int?
    @Option(help: ArgumentHelp("Memory per task, as sbatch takes it.", valueName: "M")) var mem: String?
    @Option(name: .customLong("sbatch-arg"), parsing: .unconditionalSingleValue,
            help: ArgumentHelp("More sbatch options, one per use (--sbatch-arg=--qos=low).", valueName: "ARG"))
    var sbatchArguments: [String] = []
    @Flag(help: "Print the script instead of writing and submitting it.") var dryRun = false

    func validate() throws {
        guard slurm else { throw ValidationError("say where to submit: --slurm") }
        for (name, value) in [("--threads", threads), ("--tasks", tasks), ("--max-parallel", maxParallel),
                              ("--cpus-per-task", cpusPerTask)] {
            if let value, value < 1 { throw ValidationError("\(name) must be at least 1") }
        }
    }

    func run() throws {
        let runner = try CommandErrors.loadingConfig {
            let experiment = try Experiment.load(file, overrides: overrides)
            let runner = SweepRunner(experiment: experiment, options: SweepOptions(resultsRoot: results, only: only))
            if runner.selectedRuns.isEmpty {
                throw ConfigErrors([ConfigError("no run of the \(experiment.runs.count) matches --only", at: .argument(file))])
            }
            try runner.validate()
            return runner
        }
        _ = try DataCheckCommand.check(runner)

        let cwd = FileManager.default.currentDirectoryPath
        func absolute(_ path: String) -> String { path.hasPrefix("/") ? path : cwd + "/" + path }
        let logDirectory = absolute(runner.experimentDirectory) + "/slurm"
        let binary = absolute(CommandLine.arguments[0].contains("/") ? CommandLine.arguments[0] : Submit.onPath("runexp"))
        var command = [binary, absolute(file), "--results", absolute(results)]
        for o in overrides { command += ["--set", o] }
        if let only { command += ["--only", only] }
        let script = SlurmScript(
            jobName: "runexp-" + runner.experiment.name, tasks: tasks ?? runner.selectedRuns.count, maxParallel: maxParallel,
            partition: partition, time: time, cpusPerTask: cpusPerTask ?? threads ?? 1, memory: mem,
            extraArguments: sbatchArguments, workingDirectory: cwd, logDirectory: logDirectory, command: command)
        if dryRun {
            print(script.text, terminator: "")
            return
        }
        let path = logDirectory + "/runexp.sbatch"
        do {
            try FileManager.default.createDirectory(atPath: logDirectory, withIntermediateDirectories: true)
            try AtomicFile.write(script.text, to: path)
        } catch {
            CommandErrors.print("\(error)")
            throw ExitCode(1)
        }
        let sbatch = Submit.onPath("sbatch")
        guard FileManager.default.isExecutableFile(atPath: sbatch) else {
            CommandErrors.print("sbatch not found on PATH; the script is written: submit it with `sbatch \(path)`")
            throw ExitCode(1)
        }
        let result = try Submit.runAndWait(sbatch, ["--parsable", path])
        guard result.status == 0 else {
            CommandErrors.print("sbatch \(path): " + result.output.trimmingCharacters(in: .whitespacesAndNewlines))
            throw ExitCode(1)
        }
        let job = result.output.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        print("submitted job \(job): \(script.tasks) task\(script.tasks == 1 ? "" : "s") for "
              + "\(runner.selectedRuns.count) run\(runner.selectedRuns.count == 1 ? "" : "s") of '\(runner.experiment.name)'; "
              + "script \(path), output \(logDirectory)/\(job)_<task>.out")
    }

    /// `name` found on PATH, or `name` itself.
    static func onPath(_ name: String) -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") {
            return "\(dir)/\(name)"
        }
        return name
    }

    /// Runs `executable` and returns its status and its stdout and stderr together.
    static func runAndWait(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
