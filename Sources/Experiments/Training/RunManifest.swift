import Foundation
import Nets

/// What one session of a run was trained with and where: the facts that reproducing its numbers
/// bit for bit depends on beyond the config (the kernels' library and instruction set, the thread
/// count, the data files), recorded in `run.json` each time the run starts or resumes.
public struct RunManifest: Codable, Equatable, Sendable {
    /// When the session started (ISO 8601, UTC).
    public var started: String
    public var host: String
    public var pid: Int32
    /// `runexp --version`'s number.
    public var runexp: String
    /// The git commit of the source checkout the running binary was built in, `+dirty` when
    /// tracked files differ from it; nil for a binary outside a checkout (or without git).
    /// Read when the run starts, as MMSegmentation's `collect_env` does.
    public var commit: String?
    /// `oneDNN 2.7.3 (git …)`.
    public var onednn: String
    /// The instruction set oneDNN dispatches to (`avx512_core_bf16`).
    public var cpuISA: String
    /// The CPU's model name, from /proc/cpuinfo.
    public var cpu: String
    public var threads: Int
    /// The files the run's training and validation data were read from; nil for generated data.
    public var data: DataDigest?

    enum CodingKeys: String, CodingKey {
        case started, host, pid, runexp, commit, onednn, cpu, threads, data
        case cpuISA = "cpu_isa"
    }

    /// This process's manifest for a run reading `data`.
    static func current(data: DataDigest?) -> RunManifest {
        RunManifest(started: ISO8601DateFormatter().string(from: Date()), host: Host.name, pid: getpid(),
                    runexp: runexpVersion, commit: Host.sourceCommit, onednn: KernelLibrary.version,
                    cpuISA: KernelLibrary.cpuISA, cpu: Host.cpuModel, threads: Threads.count, data: data)
    }
}

/// Facts about this machine and binary that do not change while it runs.
enum Host {
    static let name: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        return gethostname(&buffer, buffer.count) == 0 ? String(cString: buffer) : "unknown host"
    }()

    static let cpuModel: String = {
        let text = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let line = text.split(separator: "\n").first { $0.hasPrefix("model name") }
        return line.flatMap { $0.split(separator: ":", maxSplits: 1).last }
            .map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown CPU"
    }()

    /// See `RunManifest.commit`.
    static let sourceCommit: String? = {
        guard let root = checkoutRoot(of: executablePath()) else { return nil }
        guard let head = git(["rev-parse", "HEAD"], in: root), !head.isEmpty else { return nil }
        let changes = git(["status", "--porcelain", "--untracked-files=no"], in: root) ?? ""
        return head + (changes.isEmpty ? "" : "+dirty")
    }()

    private static func executablePath() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// The nearest folder above `path` holding `.git`.
    private static func checkoutRoot(of path: String) -> String? {
        var url = URL(fileURLWithPath: path).deletingLastPathComponent()
        while url.path != "/" {
            if FileManager.default.fileExists(atPath: url.path + "/.git") { return url.path }
            url.deleteLastPathComponent()
        }
        return nil
    }

    /// `git ARGS` run in `folder`: its trimmed output, or nil when git is missing or fails.
    private static func git(_ arguments: [String], in folder: String) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", folder] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
