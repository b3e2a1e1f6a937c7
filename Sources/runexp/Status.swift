import ArgumentParser
import Experiments
import Foundation

/// `runexp status EXP.yaml | RESULTS/EXPERIMENT`: where every run of an experiment stands.
struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List every run of an experiment as done, running, failed, interrupted or pending.",
        discussion: """
            A running run names the process holding it (pid, host, since
            when); a failed one its error; an interrupted one began and no
            process holds it now (the same command resumes it). Given a
            results folder instead of a YAML file, it lists the run folders
            found there.
            Examples:
              runexp status experiments/ablation_upsample.yaml
              runexp status results/ablation_upsample
              runexp status experiments/ablation_upsample.yaml --retry-failed --threads 2
            """)

    @Argument(help: "The experiment's YAML file, or its results folder (results/<experiment>).") var experiment: String
    @Option(name: .customLong("set"), help: ArgumentHelp("Override a setting as the run command did (repeatable).",
                                                         valueName: "key=value"))
    var overrides: [String] = []
    @Option(help: "Folder for results.") var results = "results"
    @Flag(help: "Train the failed runs again (diverged ones from their last checkpoint), then list the runs.")
    var retryFailed = false
    @Option(help: "Threads for --retry-failed (as the run command's --threads).") var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if isFolder && (retryFailed || !overrides.isEmpty) {
            throw ValidationError("--retry-failed and --set need the experiment's YAML file, not its results folder")
        }
    }

    private var isFolder: Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: experiment, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    func run() throws {
        if isFolder {
            let entries = RunLedger.entries(inFolder: experiment)
            guard !entries.isEmpty else { throw ValidationError("\(experiment): no run folder (with a config.yaml) in it") }
            print(RunLedger.render(entries, title: URL(fileURLWithPath: experiment).lastPathComponent))
            return
        }
        // A retry that fails again or is interrupted still lists the runs, then exits as the run command would.
        var retryExit: ExitCode?
        if retryFailed {
            let train = try Run.parse([experiment, "--results", results, "--retry-failed"]
                                      + overrides.flatMap { ["--set", $0] } + (threads.map { ["--threads", "\($0)"] } ?? []))
            do {
                try train.run()
            } catch let code as ExitCode where code.rawValue != 2 {
                retryExit = code
            }
        }
        let loaded: Experiment
        do {
            loaded = try Experiment.load(experiment, overrides: overrides, options: ConfigOptions(checkPaths: false))
        } catch {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            throw ExitCode(2)
        }
        print(RunLedger.render(RunLedger.entries(loaded, resultsRoot: results),
                               title: "\(loaded.name) (\(results)/\(loaded.name))"))
        if let retryExit { throw retryExit }
    }
}
