import Foundation
import XCTest
@testable import Experiments
@testable import Nets

/// The built `runexp` binary, run as a user runs it: `RUNEXP_BINARY` when set (`make test`
/// points it at the release build, the binary users run), else the one beside the test bundle.
/// Tests that need it are skipped when neither exists.
enum RunexpBinary {
    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func path() throws -> String {
        if let path = ProcessInfo.processInfo.environment["RUNEXP_BINARY"], !path.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw XCTSkip("RUNEXP_BINARY=\(path) is not an executable")
            }
            return path
        }
        let path = Bundle.module.bundleURL.deletingLastPathComponent().appendingPathComponent("runexp").path
        guard FileManager.default.isExecutableFile(atPath: path) else { throw XCTSkip("no runexp binary at \(path)") }
        return path
    }

    /// A started `runexp` with `threads` threads; its output goes where `stdout` and `stderr` say
    /// (a Pipe or FileHandle), else nowhere.
    static func start(_ arguments: [String], in directory: String, threads: Int = 2, environment extra: [String: String] = [:],
                      stdout: Any? = nil, stderr: Any? = nil) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try path())
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var environment = ProcessInfo.processInfo.environment
        environment["OMP_NUM_THREADS"] = "\(threads)"
        environment.merge(extra) { $1 }
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = stdout ?? FileHandle.nullDevice
        process.standardError = stderr ?? FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Runs `runexp` to its end and returns its status and output.
    static func run(_ arguments: [String], in directory: String, threads: Int = 2,
                    environment: [String: String] = [:]) throws -> Outcome {
        let out = Pipe(), err = Pipe()
        let process = try start(arguments, in: directory, threads: threads, environment: environment, stdout: out, stderr: err)
        // Read both pipes while the child runs, so neither can fill and block it.
        nonisolated(unsafe) var stderr = Data()
        let done = DispatchSemaphore(value: 0)
        Thread {
            stderr = err.fileHandleForReading.readDataToEndOfFile()
            done.signal()
        }.start()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        done.wait()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                       stderr: String(decoding: stderr, as: UTF8.self))
    }
}

/// Run folders of a results folder, and the comparison of two runs that must be the same.
enum RunFolders {
    /// Every run folder of `experiment` in the results folder `results`, by run id.
    static func byID(_ results: String, _ experiment: String) throws -> [String: String] {
        let dir = results + "/" + experiment
        var out: [String: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: dir) where name.contains("@") {
            out[String(name.split(separator: "@")[0])] = dir + "/" + name
        }
        return out
    }

    /// Asserts that two run folders hold the same metrics (but for timings) and the same weights.
    static func assertSame(_ a: String, _ b: String, _ label: String, file: StaticString = #filePath, line: UInt = #line) throws {
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
}
