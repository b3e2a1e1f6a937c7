import Foundation
import Nets

/// A run's `log.txt`: timestamped lines appended as the run goes (what the terminal showed,
/// plus details such as resumes and initialisation reports).
final class RunLog {
    private let handle: FileHandle

    init(path: String) throws {
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw ResultsError(path, "cannot create the log file")
            }
        }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw ResultsError(path, "cannot open the log file") }
        handle.seekToEndOfFile()
        self.handle = handle
    }

    deinit { try? handle.close() }

    func write(_ line: String) {
        let stamp = ISO8601DateFormatter().string(from: Date())
        handle.write(Data("\(stamp) \(line)\n".utf8))
    }
}

/// `run.json`: whether a run is done, failed or still running, written atomically so the
/// sweep knows which runs to skip and which to resume.
struct RunStatusFile: Codable {
    var status: RunStatus
    var note: String
    var id: String
    var hash: String
    var wallSeconds: Double

    enum CodingKeys: String, CodingKey {
        case status, note, id, hash
        case wallSeconds = "wall_seconds"
    }

    static func path(_ directory: String) -> String { directory + "/run.json" }

    var isDivergence: Bool { status == .failed && note.hasPrefix("diverged") }

    func write(to directory: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(String(decoding: try encoder.encode(self), as: UTF8.self) + "\n", to: RunStatusFile.path(directory))
    }

    static func read(_ directory: String) -> RunStatusFile? {
        guard let data = FileManager.default.contents(atPath: path(directory)) else { return nil }
        return try? JSONDecoder().decode(RunStatusFile.self, from: data)
    }
}

extension RunStatus: Codable {}
