import Foundation
import Nets

/// `run.json`: whether a run is done, failed, interrupted or still running, and a manifest of
/// each session that trained it; written atomically so the sweep knows which runs to skip and
/// which to resume, and `runexp status` what each is doing.
struct RunStatusFile: Codable {
    var status: RunStatus
    var note: String
    var id: String
    var hash: String
    var wallSeconds: Double
    /// Every session that trained the run, oldest first (a resumed run has several).
    var sessions: [RunManifest] = []

    init(status: RunStatus, note: String, id: String, hash: String, wallSeconds: Double) {
        self.status = status
        self.note = note
        self.id = id
        self.hash = hash
        self.wallSeconds = wallSeconds
    }

    enum CodingKeys: String, CodingKey {
        case status, note, id, hash, sessions
        case wallSeconds = "wall_seconds"
    }

    /// Folders written before sessions were recorded have none.
    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        status = try c.decode(RunStatus.self, forKey: .status)
        note = try c.decode(String.self, forKey: .note)
        id = try c.decode(String.self, forKey: .id)
        hash = try c.decode(String.self, forKey: .hash)
        wallSeconds = try c.decode(Double.self, forKey: .wallSeconds)
        sessions = try c.decodeIfPresent([RunManifest].self, forKey: .sessions) ?? []
    }

    static func path(_ directory: String) -> String { directory + "/run.json" }

    var isDivergence: Bool { status == .failed && note.hasPrefix("diverged") }

    func write(to directory: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(String(decoding: try encoder.encode(self), as: UTF8.self) + "\n", to: RunStatusFile.path(directory))
    }

    static func read(_ directory: String) -> RunStatusFile? {
        guard let data = FileManager.default.contents(atPath: path(directory)) else { return nil }
        return try? JSONDecoder().decode(RunStatusFile.self, from: data)
    }

    /// Rewrites the run's status, keeping its recorded sessions (and its wall time when `wallSeconds` is nil).
    static func update(_ directory: String, id: String, hash: String, status: RunStatus, note: String,
                       wallSeconds: Double? = nil, newSession: RunManifest? = nil) throws {
        var file = read(directory) ?? RunStatusFile(status: status, note: note, id: id, hash: hash, wallSeconds: 0)
        file.status = status
        file.note = note
        file.id = id
        file.hash = hash
        if let wallSeconds { file.wallSeconds = wallSeconds }
        if let newSession { file.sessions.append(newSession) }
        try file.write(to: directory)
    }
}

extension RunStatus: Codable {}
