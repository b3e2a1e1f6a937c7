import Foundation
import XCTest
@testable import Experiments
@testable import Nets

/// The runner as processes see it, through the `runexp` binary: a run killed with SIGKILL at
/// any point and launched again ends bit for bit where an uninterrupted one does (UNet, FCN and
/// DeepLabV3 with aux head, whose heads draw dropout masks), and several workers on one results
/// folder train each run of a sweep exactly once, even when one of them is killed.
final class ProcessSafetyTests: XCTestCase {
    /// Eight 64-pixel synthetic images, batches of 2: four steps an epoch.
    static func experiment(name: String, model: String, epochs: Int, extra: String = "") -> String {
        """
        name: \(name)
        seed: 5
        data:
          dataset: synthetic
          num_classes: 2
          crop: 48
          scale: [0.8, 1.2]
          mean: [0.5, 0.3, 0.2]
          std: [0.2, 0.1, 0.1]
          synthetic: {size: 64, count: 8, val_count: 2}
        model: \(model)
        loss: {ce: 1.0, dice: 1.0, aux: 0.5}
        optimizer: {name: sgd, lr: 0.01, momentum: 0.9, weight_decay: 1.0e-4}
        schedule: {epochs: \(epochs), batch_size: 2}
        \(extra)
        """
    }

    /// Launches `runexp FILE` again and again, each time killing it with SIGKILL a different
    /// fraction of an epoch (`epochSeconds`) after it finished one more epoch than it started
    /// with, so kills land in checkpoint writes, steps and evaluations, and every launch gets
    /// further. Stops killing when a launch finishes by itself; returns the number of kills.
    func trainWithKills(_ file: String, in dir: String, metrics: () -> String?, epochSeconds: Double) throws -> Int {
        func epochsDone() -> Int {
            guard let path = metrics(), let text = try? String(contentsOfFile: path, encoding: .utf8) else { return 0 }
            return text.split(separator: "\n").count
        }
        var kills = 0
        let fractions = [0.0, 0.5, 0.9, 0.2, 0.7, 0.05, 0.4, 0.8]
        while true {
            let before = epochsDone()
            let process = try RunexpBinary.start([file], in: dir, threads: 1)
            while process.isRunning && epochsDone() <= before { usleep(2_000) }
            let deadline = Date().addingTimeInterval(epochSeconds * fractions[kills % fractions.count])
            while process.isRunning && Date() < deadline { usleep(2_000) }
            guard process.isRunning else { break }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            kills += 1
        }
        return kills
    }

    func testSIGKILLedRunsResumeBitForBit() throws {
        _ = try RunexpBinary.path()
        let dir = try temporaryFolder()
        let models = [
            ("unet", "{name: unet, base_c: 8, upsample: bilinear}", 8),
            ("fcn", "{name: fcn, backbone: resnet18, output_stride: 16, aux: true}", 5),
            ("deeplab", "{name: deeplabv3, backbone: resnet18, output_stride: 16, aux: true}", 5),
        ]
        for (name, model, epochs) in models {
            try Self.experiment(name: name, model: model, epochs: epochs)
                .write(toFile: "\(dir)/\(name).yaml", atomically: true, encoding: .utf8)
            let start = Date()
            let whole = try RunexpBinary.run([name + ".yaml", "--results", "whole"], in: dir, threads: 1)
            let seconds = Date().timeIntervalSince(start)
            XCTAssertEqual(whole.status, 0, whole.stderr)
            let kills = try trainWithKills(name + ".yaml", in: dir, metrics: {
                (try? RunFolders.byID(dir + "/results", name))?.values.first.map { $0 + "/metrics.jsonl" }
            }, epochSeconds: seconds / Double(epochs))
            XCTAssertGreaterThanOrEqual(kills, 3, "\(name): killed at several points")
            let a = try XCTUnwrap(RunFolders.byID(dir + "/whole", name).values.first)
            let b = try XCTUnwrap(RunFolders.byID(dir + "/results", name).values.first)
            XCTAssertEqual(RunStatusFile.read(b)?.status, .done, "\(name) after \(kills) kills")
            try RunFolders.assertSame(a, b, "\(name) after \(kills) kills")
        }
    }

    /// The exit statuses of README's table that bad input does not already show (BadInputTests
    /// shows 2): 143 after SIGTERM with a checkpoint to resume from, 0 once done, 1 for a run
    /// that diverged.
    func testExitStatusesOfInterruptedDoneAndDivergedRuns() throws {
        _ = try RunexpBinary.path()
        let dir = try temporaryFolder()
        try Self.experiment(name: "status", model: "{name: unet, base_c: 8, upsample: bilinear}", epochs: 30)
            .write(toFile: dir + "/status.yaml", atomically: true, encoding: .utf8)
        let process = try RunexpBinary.start(["status.yaml"], in: dir, threads: 1)
        let deadline = Date().addingTimeInterval(60)
        func epochs() -> Int {
            let folder = (try? RunFolders.byID(dir + "/results", "status"))?.values.first
            return folder.flatMap { try? String(contentsOfFile: $0 + "/metrics.jsonl", encoding: .utf8) }?
                .split(separator: "\n").count ?? 0
        }
        while process.isRunning && epochs() < 1 && Date() < deadline { usleep(5_000) }
        // `runexp status` while it trains names the process; it does not disturb the run.
        let during = try RunexpBinary.run(["status", "status.yaml"], in: dir)
        XCTAssertEqual(during.status, 0, during.stderr)
        XCTAssertTrue(during.stdout.hasPrefix("status (results/status): 1 run: 0 done, 1 running, 0 failed"), during.stdout)
        XCTAssertTrue(during.stdout.contains("| run | running | ") && during.stdout.contains("pid \(process.processIdentifier) on "),
                      during.stdout)
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .exit)
        XCTAssertEqual(process.terminationStatus, 143, "128 + SIGTERM")
        let folder = try XCTUnwrap(RunFolders.byID(dir + "/results", "status").values.first)
        XCTAssertEqual(RunStatusFile.read(folder)?.status, .interrupted)
        XCTAssertLessThan(epochs(), 30)
        let after = try RunexpBinary.run(["status", "results/status"], in: dir)
        XCTAssertTrue(after.stdout.contains("| run | interrupted |"), after.stdout)

        let resumed = try RunexpBinary.run(["status.yaml"], in: dir, threads: 1)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(try String(contentsOfFile: folder + "/log.txt", encoding: .utf8).contains("resuming at epoch"))
        XCTAssertEqual(epochs(), 30)

        let diverged = try RunexpBinary.run(["status.yaml", "--set", "optimizer.lr=1.0e+30"], in: dir, threads: 1)
        XCTAssertEqual(diverged.status, 1, diverged.stdout + diverged.stderr)
        XCTAssertTrue(diverged.stdout.contains("failed: diverged (loss"), diverged.stdout)

        // The ledger lists it failed with its reason; --retry-failed trains it again from its
        // last checkpoint (a new session in run.json), where it diverges again: exit 1, still listed.
        let lr = ["--set", "optimizer.lr=1.0e+30"]
        let failed = try RunexpBinary.run(["status", "status.yaml"] + lr, in: dir)
        XCTAssertTrue(failed.stdout.contains("0 done, 0 running, 1 failed") && failed.stdout.contains("| diverged (loss"),
                      failed.stdout)
        let folders = try RunFolders.byID(dir + "/results", "status")
        let divergedFolder = try XCTUnwrap(folders.first { $0.key != "run" }?.value, "\(folders)")
        let sessions = RunStatusFile.read(divergedFolder)?.sessions.count ?? 0
        let retried = try RunexpBinary.run(["status", "status.yaml", "--retry-failed"] + lr, in: dir, threads: 1)
        XCTAssertEqual(retried.status, 1, retried.stdout + retried.stderr)
        XCTAssertEqual(RunStatusFile.read(divergedFolder)?.sessions.count, sessions + 1)
        XCTAssertTrue(retried.stdout.contains("1 failed"), retried.stdout)
        let nothing = try RunexpBinary.run(["status", "status.yaml", "--retry-failed"], in: dir, threads: 1)
        XCTAssertEqual(nothing.status, 0, nothing.stderr)
        XCTAssertTrue(nothing.stdout.hasPrefix("no failed run to retry"), nothing.stdout)
    }

    static let sweepYAML = experiment(name: "shared", model: "{name: unet, base_c: 8, upsample: bilinear}", epochs: 6,
                                      extra: "sweep: {seed: [1, 2, 3], optimizer.lr: [0.01, 0.02]}")

    /// Starts a worker on `shared.yaml` in `dir`, its output in `worker<k>.log`.
    func worker(_ k: Int, in dir: String) throws -> Process {
        let log = "\(dir)/worker\(k).log"
        FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: log))
        return try RunexpBinary.start(["shared.yaml"], in: dir, threads: 1, stdout: handle, stderr: handle)
    }

    func logs(_ dir: String, _ count: Int) -> String {
        (0..<count).map { (try? String(contentsOfFile: "\(dir)/worker\($0).log", encoding: .utf8)) ?? "" }
            .joined(separator: "\n---\n")
    }

    /// The sweep trained in `dir/results` is the serial one of `dir/serial`: every run done once
    /// (one "done" in its log), one metrics line per epoch, the same weights and metrics.
    func assertEachRunTrainedOnce(_ dir: String, _ label: String) throws {
        let expected = try RunFolders.byID(dir + "/serial", "shared")
        let trained = try RunFolders.byID(dir + "/results", "shared")
        XCTAssertEqual(Set(trained.keys), Set(expected.keys), label)
        for (id, folder) in trained {
            XCTAssertEqual(RunStatusFile.read(folder)?.status, .done, id)
            let lines = try String(contentsOfFile: folder + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
            XCTAssertEqual(lines.count, 6, "\(id): one metrics line per epoch")
            let log = try String(contentsOfFile: folder + "/log.txt", encoding: .utf8)
            XCTAssertEqual(log.components(separatedBy: "\n").filter { $0.contains("done in") }.count, 1, "\(id): \(log)")
            try RunFolders.assertSame(try XCTUnwrap(expected[id]), folder, id)
        }
        let summary = try String(contentsOfFile: dir + "/results/shared/summary.csv", encoding: .utf8)
        XCTAssertEqual(summary.components(separatedBy: .newlines).filter { $0.contains(",done,") }.count, 6, summary)
    }

    /// Three workers started together on one 6-run sweep train each run exactly once.
    func testWorkersStartedTogetherTrainEachRunOnce() throws {
        _ = try RunexpBinary.path()
        let dir = try temporaryFolder()
        try Self.sweepYAML.write(toFile: dir + "/shared.yaml", atomically: true, encoding: .utf8)
        let serial = try RunexpBinary.run(["shared.yaml", "--results", "serial"], in: dir, threads: 1)
        XCTAssertEqual(serial.status, 0, serial.stderr)
        let workers = try (0..<3).map { try worker($0, in: dir) }
        for w in workers { w.waitUntilExit() }
        XCTAssertEqual(workers.map(\.terminationStatus), [0, 0, 0], logs(dir, 3))
        try assertEachRunTrainedOnce(dir, logs(dir, 3))
        XCTAssertTrue(logs(dir, 3).contains("being trained by another process"), "the workers met: \(logs(dir, 3))")
    }

    /// A worker killed with SIGKILL in the middle of a run leaves it to the others: one of them,
    /// waiting on the run's lock, takes it over from its last checkpoint.
    func testKilledWorkersRunIsTakenOver() throws {
        _ = try RunexpBinary.path()
        let dir = try temporaryFolder()
        try Self.sweepYAML.write(toFile: dir + "/shared.yaml", atomically: true, encoding: .utf8)
        let serial = try RunexpBinary.run(["shared.yaml", "--results", "serial"], in: dir, threads: 1)
        XCTAssertEqual(serial.status, 0, serial.stderr)

        // The victim starts alone, so the first run is its; the others join once it is under way.
        let victim = try worker(0, in: dir)
        func epochsOfFirstRun() -> Int {
            let folder = (try? RunFolders.byID(dir + "/results", "shared"))?["seed=1,lr=0.01"]
            return folder.flatMap { try? String(contentsOfFile: $0 + "/metrics.jsonl", encoding: .utf8) }?
                .split(separator: "\n").count ?? 0
        }
        func hasCheckpoint() -> Bool {
            let folder = (try? RunFolders.byID(dir + "/results", "shared"))?["seed=1,lr=0.01"]
            return folder.map { FileManager.default.fileExists(atPath: $0 + "/checkpoints/last.resume.safetensors") } ?? false
        }
        let deadline = Date().addingTimeInterval(60)
        while victim.isRunning && !hasCheckpoint() && Date() < deadline { usleep(1_000) }
        let others = try (1..<3).map { try worker($0, in: dir) }
        usleep(20_000)
        let doneAtKill = epochsOfFirstRun()
        XCTAssertTrue(victim.isRunning)
        kill(victim.processIdentifier, SIGKILL)
        victim.waitUntilExit()
        XCTAssertLessThan(doneAtKill, 6, "killed in the middle of its run")
        for w in others { w.waitUntilExit() }
        XCTAssertEqual(others.map(\.terminationStatus), [0, 0], logs(dir, 3))
        try assertEachRunTrainedOnce(dir, logs(dir, 3))
        let taken = try XCTUnwrap(RunFolders.byID(dir + "/results", "shared")["seed=1,lr=0.01"])
        XCTAssertTrue(try String(contentsOfFile: taken + "/log.txt", encoding: .utf8).contains("resuming at epoch"),
                      logs(dir, 3))
    }
}
