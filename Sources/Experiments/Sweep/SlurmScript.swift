import Foundation

/// The sbatch script `runexp submit --slurm` writes: a job array whose every task runs the same
/// `runexp` command on one shared results folder. The run locks give each run to one task at a
/// time, so tasks need no shard of their own; a task that finds nothing left to claim exits
/// (`--no-wait`) instead of holding its allocation, and a task killed or requeued leaves its run
/// to the next task or submission, which resumes it from its checkpoint.
///
/// Before the time limit Slurm sends the batch shell SIGUSR1 (`--signal=B:USR1@SECONDS`), which
/// passes SIGTERM on to runexp: runexp finishes its step, checkpoints and exits, and the script
/// requeues the task. USR1, not TERM, because `scancel` sends TERM too and a cancelled task must
/// stay cancelled. `--requeue` also lets Slurm requeue a task after a preemption or node failure.
public struct SlurmScript: Equatable, Sendable {
    public var jobName: String
    /// Array tasks, and how many may run at once (nil: as many as Slurm allows).
    public var tasks: Int
    public var maxParallel: Int?
    public var partition: String?
    /// `HH:MM:SS` (or any form sbatch takes).
    public var time: String?
    public var cpusPerTask: Int
    public var memory: String?
    /// Seconds before the time limit at which SIGTERM asks runexp to checkpoint.
    public var signalSeconds = 120
    /// More `#SBATCH` lines, as given (`--sbatch-arg=--qos=low`).
    public var extraArguments: [String] = []
    /// Where the tasks start and where their output goes (absolute paths).
    public var workingDirectory: String
    public var logDirectory: String
    /// The command every task runs, as argument words (the runexp binary first).
    public var command: [String]

    public init(jobName: String, tasks: Int, maxParallel: Int? = nil, partition: String? = nil, time: String? = nil,
                cpusPerTask: Int = 1, memory: String? = nil, extraArguments: [String] = [], workingDirectory: String,
                logDirectory: String, command: [String]) {
        self.jobName = jobName
        self.tasks = tasks
        self.maxParallel = maxParallel
        self.partition = partition
        self.time = time
        self.cpusPerTask = cpusPerTask
        self.memory = memory
        self.extraArguments = extraArguments
        self.workingDirectory = workingDirectory
        self.logDirectory = logDirectory
        self.command = command
    }

    /// The script's text.
    public var text: String {
        var lines = [
            "#!/bin/bash",
            "# Written by `runexp submit`. Every task of this array runs the command below on one results",
            "# folder; run locks give each run to one task. Edit and resubmit with: sbatch \(Self.quoted(logDirectory))/runexp.sbatch",
            "#SBATCH --job-name=\(jobName)",
            "#SBATCH --array=0-\(tasks - 1)" + (maxParallel.map { "%\($0)" } ?? ""),
            "#SBATCH --ntasks=1",
            "#SBATCH --cpus-per-task=\(cpusPerTask)",
        ]
        if let partition { lines.append("#SBATCH --partition=\(partition)") }
        if let time { lines.append("#SBATCH --time=\(time)") }
        if let memory { lines.append("#SBATCH --mem=\(memory)") }
        lines += [
            "#SBATCH --output=\(logDirectory)/%A_%a.out",
            "#SBATCH --open-mode=append",
            "#SBATCH --signal=B:USR1@\(signalSeconds)",
            "#SBATCH --requeue",
        ]
        lines += extraArguments.map { "#SBATCH \($0)" }
        lines += [
            "",
            "cd \(Self.quoted(workingDirectory)) || exit 1",
            command.map(Self.quoted).joined(separator: " ") + " --threads \"${SLURM_CPUS_PER_TASK:-1}\" --no-wait &",
            "runexp=$!",
            "# USR1 comes before the time limit: runexp checkpoints and exits, and the task goes back in",
            "# the queue to resume where it stopped. scancel's TERM reaches runexp itself, which",
            "# checkpoints and stops for good; the shell only waits for it.",
            "trap 'requeue=1; kill -TERM $runexp' USR1",
            "trap : TERM",
            "wait $runexp; status=$?",
            "while [ $status -gt 128 ] && kill -0 $runexp 2>/dev/null; do wait $runexp; status=$?; done",
            "if [ \"${requeue:-}\" = 1 ]; then scontrol requeue \"$SLURM_JOB_ID\"; fi",
            "exit $status",
            "",
        ]
        return lines.joined(separator: "\n")
    }

    /// `word` as one shell word: as is when it is plain, else in single quotes.
    static func quoted(_ word: String) -> String {
        let plain = !word.isEmpty && word.allSatisfy { $0.isLetter || $0.isNumber || "/._-=+:,@%".contains($0) }
        return plain ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
