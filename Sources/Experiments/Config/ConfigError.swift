/// Where a config value came from: a YAML file position (1-based line and column, as
/// editors show them) or a command-line override such as `--set model.base_c=64`, which
/// has no line (`line == 0`).
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// A location for a command-line argument, reported as the argument itself.
    public static func argument(_ text: String) -> SourceLocation {
        SourceLocation(file: text, line: 0, column: 0)
    }

    /// True for a position in a YAML file, false for a command-line argument.
    public var isInFile: Bool { line > 0 }

    /// `file.yaml:12:5`, or the argument text for a command-line override.
    public var description: String { isInFile ? "\(file):\(line):\(column)" : file }
}

/// One problem in a config, at the node that caused it: `description` is the
/// `file.yaml:12:5: message` line printed to the user.
public struct ConfigError: Error, Hashable, Sendable, CustomStringConvertible {
    public var location: SourceLocation
    public var message: String

    public init(_ message: String, at location: SourceLocation) {
        self.location = location
        self.message = message
    }

    public var file: String { location.file }
    public var line: Int { location.line }
    public var column: Int { location.column }
    public var description: String { "\(location): \(message)" }
}

/// Every problem found in a config (and in every run of its sweep), sorted by position
/// so the user fixes them top to bottom. This is the one error type the config API
/// throws; the command line prints `description` and exits with status 2.
public struct ConfigErrors: Error, Sendable, CustomStringConvertible {
    public let errors: [ConfigError]

    /// Sorts file positions by line and column, files in the order they first appear;
    /// command-line overrides come after them in the order given. Equal positions keep
    /// their order of discovery.
    public init(_ errors: [ConfigError]) {
        var fileRank: [String: Int] = [:]
        for e in errors where fileRank[e.file] == nil { fileRank[e.file] = fileRank.count }
        let order = errors.enumerated().sorted { a, b in
            let x = a.element.location, y = b.element.location
            if x.isInFile != y.isInFile { return x.isInFile }
            let kx = (fileRank[x.file]!, x.line, x.column), ky = (fileRank[y.file]!, y.line, y.column)
            if x.isInFile, kx != ky { return kx < ky }
            return a.offset < b.offset
        }
        self.errors = order.map(\.element)
    }

    /// One `file.yaml:LINE:COL: message` line per error.
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

/// Collects the errors of one pass over a config instead of stopping at the first, so a
/// user sees every problem of a file at once.
final class Diagnostics {
    private(set) var errors: [ConfigError] = []

    func error(_ message: String, at location: SourceLocation) {
        errors.append(ConfigError(message, at: location))
    }

    func append(_ other: [ConfigError]) { errors.append(contentsOf: other) }

    var isEmpty: Bool { errors.isEmpty }
}
