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
