import Foundation
import XCTest
@testable import Experiments
@testable import Nets

/// The runner as processes see it, through the `runexp` binary: a run killed with SIGKILL at
/// any point and launched again ends bit for bit where an uninterrupted one does (UNet, FCN and
/// DeepLabV3 with aux head, whose heads draw dropout masks), and several workers on one results
/// folder train each run of a sweep exactly once, even when one of them is killed.
final class ProcessSafetyTests: XCTestCase {
    func temporaryFolder() throws -> String {
        let path = NSTemporaryDirectory() + "runexp-processes-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

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

    /// Every run folder of `experiment` in the results folder `results`, by run id.
    func runFolders(_ results: String, _ experiment: String) throws -> [String: String] {
        let dir = results + "/" + experiment
        var out: [String: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: dir) where name.contains("@") {
            out[String(name.split(separator: "@")[0])] = dir + "/" + name
        }
        return out
    }

    /// Asserts that two run folders hold the same metrics (but for timings) and the same weights.
    func assertSameRun(_ a: String, _ b: String, _ label: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let ra = try MetricsLog.read(a + "/metrics.jsonl"), rb = try MetricsLog.read(b + "/metrics.jsonl")
        XCTAssertEqual(ra.map(\.epoch), rb.map(\.epoch), "\(label): epochs", file: file, line: line)
        XCTAssertEqual(ra.map(\.trainLoss), rb.map(\.trainLoss), "\(label): train loss", file: file, line: line)
        XCTAssertEqual(ra.map(\.scores), rb.map(\.scores), "\(label): scores", file: file, line: line)
        let wa = try SafeTensors.read(a + "/checkpoints/last.safetensors")
        let wb = try SafeTensors.read(b + "/checkpoints/last.safetensors")
        XCTAssertEqual(Set(wa.keys), Set(wb.keys), label, file: file, line: line)
        let different = wa.keys.sorted().filter { wa[$0]?.array != wb[$0]?.array }
        XCTAssertEqual(different, [], "\(label): tensors that differ", file: file, line: line)
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
                (try? self.runFolders(dir + "/results", name))?.values.first.map { $0 + "/metrics.jsonl" }
            }, epochSeconds: seconds / Double(epochs))
            XCTAssertGreaterThanOrEqual(kills, 3, "\(name): killed at several points")
            let a = try XCTUnwrap(runFolders(dir + "/whole", name).values.first)
            let b = try XCTUnwrap(runFolders(dir + "/results", name).values.first)
            XCTAssertEqual(RunStatusFile.read(b)?.status, .done, "\(name) after \(kills) kills")
            try assertSameRun(a, b, "\(name) after \(kills) kills")
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
            let folder = (try? runFolders(dir + "/results", "status"))?.values.first
            return folder.flatMap { try? String(contentsOfFile: $0 + "/metrics.jsonl", encoding: .utf8) }?
                .split(separator: "\n").count ?? 0
        }
        while process.isRunning && epochs() < 1 && Date() < deadline { usleep(5_000) }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .exit)
        XCTAssertEqual(process.terminationStatus, 143, "128 + SIGTERM")
        let folder = try XCTUnwrap(runFolders(dir + "/results", "status").values.first)
        XCTAssertEqual(RunStatusFile.read(folder)?.status, .running)
        XCTAssertLessThan(epochs(), 30)

        let resumed = try RunexpBinary.run(["status.yaml"], in: dir, threads: 1)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(try String(contentsOfFile: folder + "/log.txt", encoding: .utf8).contains("resuming at epoch"))
        XCTAssertEqual(epochs(), 30)

        let diverged = try RunexpBinary.run(["status.yaml", "--set", "optimizer.lr=1.0e+30"], in: dir, threads: 1)
        XCTAssertEqual(diverged.status, 1, diverged.stdout + diverged.stderr)
        XCTAssertTrue(diverged.stdout.contains("failed: diverged (loss"), diverged.stdout)
    }

    /// Three workers started together on one 6-run sweep; one is killed mid-run. Every run is
    /// done once, its metrics.jsonl has one line per epoch, and its weights are those of a
    /// serial sweep.
    func testConcurrentWorkersTrainEachRunOnce() throws {
        _ = try RunexpBinary.path()
        let dir = try temporaryFolder()
        let yaml = Self.experiment(name: "shared", model: "{name: unet, base_c: 8, upsample: bilinear}", epochs: 3,
                                   extra: "sweep: {seed: [1, 2, 3], optimizer.lr: [0.01, 0.02]}")
        try yaml.write(toFile: dir + "/shared.yaml", atomically: true, encoding: .utf8)
        let serial = try RunexpBinary.run(["shared.yaml", "--results", "serial"], in: dir, threads: 1)
        XCTAssertEqual(serial.status, 0, serial.stderr)

        var logs: [Pipe] = []
        var workers: [Process] = []
        for _ in 0..<3 {
            let out = Pipe()
            logs.append(out)
            workers.append(try RunexpBinary.start(["shared.yaml"], in: dir, threads: 1, stdout: out, stderr: out))
        }
        // Kill one worker once it is inside a run (its first run's folder has a checkpoint).
        let victim = workers[0]
        let deadline = Date().addingTimeInterval(60)
        while victim.isRunning && Date() < deadline {
            let folders = (try? runFolders(dir + "/results", "shared")) ?? [:]
            if folders.values.contains(where: { FileManager.default.fileExists(atPath: $0 + "/checkpoints/last.resume.safetensors") }) {
                break
            }
            usleep(20_000)
        }
        let killed = victim.isRunning
        if killed { kill(victim.processIdentifier, SIGKILL) }
        var outputs: [String] = []
        for (worker, log) in zip(workers, logs) {
            outputs.append(String(decoding: log.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
            worker.waitUntilExit()
        }
        XCTAssertTrue(killed, "the first worker was still training when killed")
        XCTAssertEqual(workers[1].terminationStatus, 0, outputs[1])
        XCTAssertEqual(workers[2].terminationStatus, 0, outputs[2])

        let expected = try runFolders(dir + "/serial", "shared")
        let trained = try runFolders(dir + "/results", "shared")
        XCTAssertEqual(trained.count, 6)
        XCTAssertEqual(Set(trained.keys), Set(expected.keys))
        for (id, folder) in trained {
            XCTAssertEqual(RunStatusFile.read(folder)?.status, .done, id)
            let lines = try String(contentsOfFile: folder + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
            XCTAssertEqual(lines.count, 3, "\(id): one metrics line per epoch")
            try assertSameRun(try XCTUnwrap(expected[id]), folder, id)
        }
        // The survivors between them trained every run (and the victim's run was taken up).
        let finished = outputs.dropFirst().joined().components(separatedBy: "\n").filter { $0.contains("epoch 3/3") }
        XCTAssertEqual(finished.count, 6, outputs.joined(separator: "\n---\n"))
        let summary = try String(contentsOfFile: dir + "/results/shared/summary.csv", encoding: .utf8)
        XCTAssertEqual(summary.components(separatedBy: .newlines).filter { $0.contains(",done,") }.count, 6, summary)
    }
}
