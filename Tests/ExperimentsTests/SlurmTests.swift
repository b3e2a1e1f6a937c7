import Foundation
import XCTest
@testable import Experiments
@testable import Nets

/// `runexp submit --slurm` against a real one-node Slurm (scripts/slurm-local.sh installs
/// slurm-wlm and munge from Debian and starts munged, slurmctld and slurmd; the test stops them).
/// A 4-run sweep as an array of 2 tasks gives the runs of a serial sweep; a job cancelled
/// mid-run and submitted again finishes every run exactly once.
final class SlurmTests: XCTestCase {
    static let script = packageRoot + "/scripts/slurm-local.sh"

    func shell(_ command: String, in directory: String? = nil) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", command]
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        // Output goes to a file, not a pipe: daemons the command starts keep its descriptors open.
        let log = NSTemporaryDirectory() + "runexp-slurm-shell-\(UUID().uuidString).log"
        FileManager.default.createFile(atPath: log, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: log) }
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: log))
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try handle.close()
        return (process.terminationStatus, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }

    /// Waits until Slurm has no job of `job` left (bounded). A task that requeues itself can
    /// drop out of `squeue` for a moment on a loaded machine, so the queue must stay empty for
    /// ten polls (3 s) in a row.
    func waitForJob(_ job: String, seconds: Double = 300) throws {
        let deadline = Date().addingTimeInterval(seconds)
        var emptyPolls = 0
        while Date() < deadline {
            let queue = try shell("squeue -h -j \(job) -o %i 2>/dev/null")
            emptyPolls = queue.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? emptyPolls + 1 : 0
            if emptyPolls >= 10 { return }
            usleep(300_000)
        }
        XCTFail("job \(job) still queued after \(seconds) s")
    }

    func submit(_ dir: String, _ extra: [String] = []) throws -> String {
        let result = try RunexpBinary.run(["submit", "sweep.yaml", "--slurm", "--tasks", "2", "--time", "00:10:00"] + extra,
                                          in: dir, threads: 1)
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        let job = result.stdout.components(separatedBy: "submitted job ").dropFirst().first?
            .split(separator: ":").first.map(String.init) ?? ""
        XCTAssertFalse(job.isEmpty, result.stdout)
        return job
    }

    func testSweepAsAJobArrayAndACancelledJobResubmitted() throws {
        _ = try RunexpBinary.path()
        try XCTSkipIf(geteuid() != 0, "the local Slurm cluster needs root (CI runs as root)")
        let started = try shell("bash \(Self.script) start")
        guard started.status == 0 else {
            return XCTFail("could not start the local Slurm cluster: \(started.output)")
        }
        addTeardownBlock { _ = try? self.shell("bash \(Self.script) stop") }

        let dir = NSTemporaryDirectory() + "runexp-slurm-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        let yaml = ProcessSafetyTests.experiment(name: "sweep", model: "{name: unet, base_c: 8, upsample: bilinear}",
                                                 epochs: 30, extra: "sweep: {seed: [1, 2], optimizer.lr: [0.01, 0.02]}")
        try yaml.write(toFile: dir + "/sweep.yaml", atomically: true, encoding: .utf8)
        let serial = try RunexpBinary.run(["sweep.yaml", "--results", "serial"], in: dir, threads: 1)
        XCTAssertEqual(serial.status, 0, serial.stderr)
        let expected = try RunFolders.byID(dir + "/serial", "sweep")

        func assertMatchesSerial(_ results: String, _ label: String) throws {
            let trained = try RunFolders.byID(dir + "/" + results, "sweep")
            XCTAssertEqual(Set(trained.keys), Set(expected.keys), label)
            for (id, folder) in trained {
                XCTAssertEqual(RunStatusFile.read(folder)?.status, .done, "\(label) \(id)")
                XCTAssertEqual(try String(contentsOfFile: folder + "/result.txt", encoding: .utf8).isEmpty, false)
                let log = try String(contentsOfFile: folder + "/log.txt", encoding: .utf8)
                XCTAssertEqual(log.components(separatedBy: "\n").filter { $0.contains("done in") }.count, 1, "\(id): \(log)")
                XCTAssertEqual(try MetricsLog.read(folder + "/metrics.jsonl").count, 30, "\(label) \(id)")
                try RunFolders.assertSame(try XCTUnwrap(expected[id]), folder, "\(label) \(id)")
            }
        }

        // Two tasks share the four runs through the run locks.
        let job = try submit(dir, ["--results", "array"])
        try waitForJob(job)
        try assertMatchesSerial("array", "array job \(job)")
        let script = try String(contentsOfFile: dir + "/array/sweep/slurm/runexp.sbatch", encoding: .utf8)
        XCTAssertTrue(script.contains("#SBATCH --array=0-1"), script)

        // Cancelled once a run is under way, then submitted again: every run finishes once.
        let first = try submit(dir, ["--results", "cancelled"])
        let deadline = Date().addingTimeInterval(120)
        func checkpoints() -> Int {
            ((try? RunFolders.byID(dir + "/cancelled", "sweep")) ?? [:]).values
                .filter { FileManager.default.fileExists(atPath: $0 + "/checkpoints/last.resume.safetensors") }.count
        }
        while checkpoints() == 0 && Date() < deadline { usleep(50_000) }
        let cancel = try shell("scancel \(first)")
        XCTAssertEqual(cancel.status, 0, cancel.output)
        try waitForJob(first)
        let unfinished = try RunFolders.byID(dir + "/cancelled", "sweep").values.filter { RunStatusFile.read($0)?.status != .done }
        XCTAssertFalse(unfinished.isEmpty, "the cancel came before the sweep was done")
        let second = try submit(dir, ["--results", "cancelled"])
        try waitForJob(second)
        try assertMatchesSerial("cancelled", "resubmitted job \(second)")

        // The warning before a time limit (USR1 to the batch shells, as --signal=B:USR1@120 sends
        // it): runexp checkpoints and exits, the tasks requeue themselves and finish the sweep.
        let warned = try submit(dir, ["--results", "requeued"])
        while (((try? RunFolders.byID(dir + "/requeued", "sweep")) ?? [:]).values
            .filter { FileManager.default.fileExists(atPath: $0 + "/checkpoints/last.resume.safetensors") }.isEmpty)
            && Date() < deadline.addingTimeInterval(120) { usleep(50_000) }
        let signal = try shell("scancel --batch --signal=USR1 \(warned)")
        XCTAssertEqual(signal.status, 0, signal.output)
        try waitForJob(warned)
        try assertMatchesSerial("requeued", "requeued job \(warned)")
        let outputs = try FileManager.default.contentsOfDirectory(atPath: dir + "/requeued/sweep/slurm")
            .filter { $0.hasSuffix(".out") }
            .map { try String(contentsOfFile: dir + "/requeued/sweep/slurm/" + $0, encoding: .utf8) }.joined()
        XCTAssertTrue(outputs.contains("interrupted: checkpoint written"), outputs)
    }
}

/// The sbatch script's text and the Slurm environment, without a cluster.
final class SlurmScriptTests: XCTestCase {
    /// `--shard slurm` takes I/N from the array task's environment; `--threads` defaults to
    /// SLURM_CPUS_PER_TASK.
    func testShardAndThreadsFromTheSlurmEnvironment() throws {
        _ = try RunexpBinary.path()
        let dir = NSTemporaryDirectory() + "runexp-slurm-env-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let yaml = ProcessSafetyTests.experiment(name: "env", model: "{name: unet, base_c: 4}", epochs: 1,
                                                 extra: "sweep: {seed: [1, 2, 3, 4]}")
        try yaml.write(toFile: dir + "/env.yaml", atomically: true, encoding: .utf8)
        let listed = try RunexpBinary.run(["env.yaml", "--shard", "slurm", "--dry-run"], in: dir,
                                          environment: ["SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "2"])
        XCTAssertEqual(listed.status, 0, listed.stderr)
        XCTAssertTrue(listed.stdout.contains("2 of 4 runs"), listed.stdout)
        XCTAssertTrue(listed.stdout.contains("seed=2") && listed.stdout.contains("seed=4"), listed.stdout)
        XCTAssertFalse(listed.stdout.contains("seed=1 "), listed.stdout)

        let outside = try RunexpBinary.run(["env.yaml", "--shard", "slurm"], in: dir)
        XCTAssertEqual(outside.status, 2)
        XCTAssertTrue(outside.stderr.hasPrefix("--shard slurm needs SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT"),
                      outside.stderr)

        let trained = try RunexpBinary.run(["env.yaml", "--only", "seed=1"], in: dir, environment: ["SLURM_CPUS_PER_TASK": "1"])
        XCTAssertEqual(trained.status, 0, trained.stderr)
        let log = try String(contentsOfFile: try XCTUnwrap(RunFolders.byID(dir + "/results", "env")["seed=1"]) + "/log.txt",
                             encoding: .utf8)
        XCTAssertTrue(log.contains("1 threads"), log)
    }

    func testScriptAsksForTheArrayTheLimitsAndTheSignal() {
        let script = SlurmScript(jobName: "runexp-drive", tasks: 12, maxParallel: 4, partition: "cpu", time: "12:00:00",
                                 cpusPerTask: 8, memory: "16G", extraArguments: ["--qos=low"], workingDirectory: "/home/me/proj",
                                 logDirectory: "/home/me/proj/results/drive/slurm",
                                 command: ["/opt/runexp", "/home/me/proj/exp.yaml", "--set", "optimizer={name: adam}"])
        let lines = script.text.components(separatedBy: "\n")
        for line in ["#SBATCH --job-name=runexp-drive", "#SBATCH --array=0-11%4", "#SBATCH --cpus-per-task=8",
                     "#SBATCH --partition=cpu", "#SBATCH --time=12:00:00", "#SBATCH --mem=16G",
                     "#SBATCH --output=/home/me/proj/results/drive/slurm/%A_%a.out", "#SBATCH --signal=B:USR1@120",
                     "#SBATCH --requeue", "#SBATCH --qos=low", "cd /home/me/proj || exit 1",
                     "/opt/runexp /home/me/proj/exp.yaml --set 'optimizer={name: adam}' --threads \"${SLURM_CPUS_PER_TASK:-1}\" --no-wait &",
                     "if [ \"${requeue:-}\" = 1 ]; then scontrol requeue \"$SLURM_JOB_ID\"; fi"] {
            XCTAssertTrue(lines.contains(line), "missing: \(line)\n\(script.text)")
        }
        XCTAssertEqual(lines.first, "#!/bin/bash")
        // Every #SBATCH line comes before the first command, where sbatch stops reading them.
        let firstCommand = lines.firstIndex { !$0.hasPrefix("#") && !$0.isEmpty } ?? lines.count
        XCTAssertTrue(lines[firstCommand...].allSatisfy { !$0.hasPrefix("#SBATCH") })
        XCTAssertEqual(SlurmScript.quoted("it's"), "'it'\\''s'")
    }
}
