import Foundation
import XCTest
@testable import Experiments
@testable import Nets

/// Where a run stands (`RunState`, `runexp status`), the manifest each session writes into
/// run.json, and the digest of the data files it read. The command line, with a live process,
/// a SIGTERM and --retry-failed: ProcessSafetyTests.testExitStatusesOfInterruptedDoneAndDivergedRuns.
final class RunLedgerTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "runexp-ledger-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func status(_ status: RunStatus, note: String = "", in folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try RunStatusFile(status: status, note: note, id: "r", hash: "h", wallSeconds: 12).write(to: folder)
    }

    func testStatesFromTheStatusFileAndTheLock() throws {
        XCTAssertEqual(RunState(of: dir + "/never").status, .pending)
        let run = dir + "/run"
        try FileManager.default.createDirectory(atPath: run + "/checkpoints", withIntermediateDirectories: true)
        XCTAssertEqual(RunState(of: run).status, .pending, "a folder with nothing trained yet")
        try Data().write(to: URL(fileURLWithPath: run + "/checkpoints/last.resume.safetensors"))
        XCTAssertEqual(RunState(of: run).status, .interrupted, "a checkpoint and no status: killed before writing one")

        try status(.running, in: run)
        XCTAssertEqual(RunState(of: run).status, .interrupted, "running, but no process holds the lock")
        XCTAssertEqual(RunState(of: run).wallSeconds, 12)
        let lock = try XCTUnwrap(FileLock.tryLock(run + "/run.lock"))
        let held = RunState(of: run)
        XCTAssertEqual(held.status, .running)
        XCTAssertTrue(held.detail.hasPrefix("pid \(getpid()) on \(Host.name)") && held.detail.contains(" since 20"), held.detail)
        XCTAssertTrue(FileLock.isHeld(run + "/run.lock"))
        lock.release()
        XCTAssertFalse(FileLock.isHeld(run + "/run.lock"), "the look itself leaves the lock free")
        XCTAssertNotNil(try FileLock.tryLock(run + "/run.lock"))

        try status(.interrupted, note: "stopped: disk full", in: run)
        XCTAssertEqual(RunState(of: run), RunState(status: .interrupted, detail: "stopped: disk full", wallSeconds: 12))
        try status(.failed, note: "diverged (loss nan at epoch 3, iteration 17)", in: run)
        XCTAssertEqual(RunState(of: run).detail, "diverged (loss nan at epoch 3, iteration 17)")
        try status(.done, in: run)
        XCTAssertEqual(RunState(of: run).status, .done)
    }

    /// run.json of a folder written before sessions were recorded still reads.
    func testOldStatusFilesRead() throws {
        try #"{"status": "done", "note": "", "id": "run", "hash": "91148df8", "wall_seconds": 5}"#
            .write(toFile: dir + "/run.json", atomically: true, encoding: .utf8)
        XCTAssertEqual(RunStatusFile.read(dir)?.sessions.count, 0)
        XCTAssertEqual(RunStatusFile.read(dir)?.status, .done)
    }

    /// A run records one manifest per session: version, kernels, ISA, threads; a resumed run a
    /// second one, its status and wall time kept.
    func testEachSessionWritesItsManifest() throws {
        let yaml = """
            name: manifest
            data: {dataset: synthetic, num_classes: 2, crop: null, scale: null, synthetic: {size: 64, count: 4, val_count: 2}}
            model: {name: unet, base_c: 4}
            schedule: {epochs: 2, batch_size: 2}
            """
        let experiment = try Experiment.parse(yaml, file: "manifest.yaml", options: ConfigOptions(checkPaths: false))
        let reporter = ProgressReporter(live: false, write: { _ in })
        reporter.afterStep = { iteration in if iteration == 2 { Interrupt.request() } }
        defer { Interrupt.reset() }
        let runner = SweepRunner(experiment: experiment, options: SweepOptions(resultsRoot: dir), reporter: reporter)
        XCTAssertTrue(try runner.run().interrupted)
        Interrupt.reset()
        let folder = runner.directory(of: experiment.runs[0])
        let first = try XCTUnwrap(RunStatusFile.read(folder))
        XCTAssertEqual(first.status, .interrupted)
        XCTAssertEqual(first.sessions.count, 1)
        let m = first.sessions[0]
        XCTAssertEqual(m.threads, Threads.count)
        XCTAssertEqual(m.runexp, runexpVersion)
        XCTAssertEqual(m.pid, getpid())
        XCTAssertTrue(m.onednn.range(of: "^oneDNN [23]\\.[0-9]+\\.[0-9]+", options: .regularExpression) != nil, m.onednn)
        XCTAssertFalse(m.cpuISA.isEmpty || m.cpuISA.hasPrefix("isa "), m.cpuISA)
        XCTAssertNil(m.data, "generated data has no files")
        // The tests run from a checkout: the commit is its HEAD.
        if let head = try? String(contentsOfFile: packageRoot + "/.git/HEAD", encoding: .utf8), !head.isEmpty {
            let commit = try XCTUnwrap(m.commit)
            XCTAssertTrue(commit.range(of: "^[0-9a-f]{40}(\\+dirty)?$", options: .regularExpression) != nil, commit)
        }

        _ = try SweepRunner(experiment: experiment, options: SweepOptions(resultsRoot: dir)).run()
        let second = try XCTUnwrap(RunStatusFile.read(folder))
        XCTAssertEqual(second.status, .done)
        XCTAssertEqual(second.sessions.count, 2)
        XCTAssertEqual(second.sessions[0], m)
        XCTAssertGreaterThan(second.wallSeconds, first.wallSeconds)
        let json = try String(contentsOfFile: folder + "/run.json", encoding: .utf8)
        for key in ["\"cpu_isa\"", "\"onednn\"", "\"threads\"", "\"commit\"", "\"started\""] {
            XCTAssertTrue(json.contains(key), json)
        }
    }

    struct Files: FileDataset {
        var lists: [[String]]
        var count: Int { lists.count }
        func sample(_ index: Int) throws -> Sample { throw DataPipelineError("not read here") }
        func files(of index: Int) -> [String] { lists[index] }
    }

    /// The digest covers every distinct file's bytes, under its path relative to the data root:
    /// it changes with one byte or one name, not with where the data lies.
    func testDataDigest() throws {
        func tree(_ root: String, bytes: [String: String]) throws -> [[String]] {
            for (name, text) in bytes {
                try FileManager.default.createDirectory(atPath: root + "/" + (name as NSString).deletingLastPathComponent,
                                                        withIntermediateDirectories: true)
                try text.write(toFile: root + "/" + name, atomically: true, encoding: .utf8)
            }
            return [[root + "/images/a.png", root + "/masks/a.png"], [root + "/images/b.png", root + "/masks/b.png"]]
        }
        let contents = ["images/a.png": "AAAA", "masks/a.png": "aa", "images/b.png": "BBBBBB", "masks/b.png": "b"]
        let lists = try tree(dir + "/one", bytes: contents)
        let digest = try XCTUnwrap(DataDigest.of([Files(lists: lists), Files(lists: [lists[0]])], root: dir + "/one"))
        XCTAssertEqual(digest.files, 4, "a file of both splits counts once")
        XCTAssertEqual(digest.bytes, 13)
        // The lines it hashes, written out: SHA-256 of each file, two spaces, the relative path, sorted by path.
        let expected = ["images/a.png", "images/b.png", "masks/a.png", "masks/b.png"]
            .map { SHA256.hex(contents[$0]!) + "  " + $0 + "\n" }.joined()
        XCTAssertEqual(digest.sha256, SHA256.hex(expected))

        let moved = try tree(dir + "/elsewhere/two", bytes: contents)
        XCTAssertEqual(try DataDigest.of([Files(lists: moved)], root: dir + "/elsewhere/two/"), digest)
        let changed = try tree(dir + "/three", bytes: contents.merging(["masks/b.png": "c"]) { $1 })
        XCTAssertNotEqual(try DataDigest.of([Files(lists: changed)], root: dir + "/three")?.sha256, digest.sha256)
        XCTAssertNil(try DataDigest.of([SyntheticDatasetStub()], root: dir))
        try FileManager.default.removeItem(atPath: dir + "/three/masks/b.png")
        XCTAssertThrowsError(try DataDigest.of([Files(lists: changed)], root: dir + "/three")) { error in
            XCTAssertEqual("\(error)", "\(dir)/three/masks/b.png: cannot read the file")
        }
    }

    struct SyntheticDatasetStub: Dataset {
        var count: Int { 3 }
        func sample(_ index: Int) throws -> Sample { throw DataPipelineError("not read here") }
    }
}
