import Foundation
import XCTest
@testable import Experiments

/// A temporary folder for config files, removed when the test ends.
final class ConfigFolder {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "runexp-config-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `text` to `name` (folders created) and returns the name.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let full = path + "/" + name
        try FileManager.default.createDirectory(atPath: parentFolder(full), withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: true, encoding: .utf8)
        return name
    }

    func makeFolder(_ name: String) throws {
        try FileManager.default.createDirectory(atPath: path + "/" + name, withIntermediateDirectories: true)
    }

    /// Options with this folder as the current directory.
    func options(checkPaths: Bool = false) -> ConfigOptions {
        ConfigOptions(checkPaths: checkPaths, currentDirectory: path)
    }
}

/// Loads YAML text as `exp.yaml` without path checks.
func loadConfig(_ text: String, file: String = "exp.yaml", overrides: [String] = [],
                options: ConfigOptions = ConfigOptions(checkPaths: false)) throws -> Experiment {
    try Experiment.parse(text, file: file, overrides: overrides, options: options)
}

/// The error lines loading `text` gives (empty when it loads).
func configErrors(_ text: String, file: String = "exp.yaml", overrides: [String] = [],
                  options: ConfigOptions = ConfigOptions(checkPaths: false)) -> [String] {
    do {
        _ = try Experiment.parse(text, file: file, overrides: overrides, options: options)
        return []
    } catch {
        return error.errors.map(\.description)
    }
}

/// The package root (for the example files under experiments/).
let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

extension XCTestCase {
    /// A new empty folder for this test, removed when the test ends.
    func temporaryFolder() throws -> String {
        let path = NSTemporaryDirectory() + "runexp-\(type(of: self))-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }
}
