/// Where each value of a resolved config was written, by dotted path (`model.base_c`,
/// `stages.1.lr`), so the trainer can report a problem it finds later (a freeze prefix
/// that matches no parameter, a model not available yet) at the line that asked for it.
public struct ConfigLocations: Sendable {
    var table: [String: SourceLocation]
    /// The top of the config file, for values left at their defaults.
    public let root: SourceLocation

    init(table: [String: SourceLocation], root: SourceLocation) {
        self.table = table
        self.root = root
    }

    /// The location of `path`, or of its nearest written ancestor when the value is a default.
    public subscript(path: String) -> SourceLocation {
        var key = Substring(path)
        while true {
            if let found = table[String(key)] { return found }
            guard let dot = key.lastIndex(of: ".") else { return root }
            key = key[..<dot]
        }
    }

    /// A config error at the value of `path`.
    public func error(_ message: String, at path: String) -> ConfigError {
        ConfigError(message, at: self[path])
    }
}

/// Records locations while a config is read.
final class LocationTable {
    var table: [String: SourceLocation] = [:]
    let root: SourceLocation

    init(root: SourceLocation) { self.root = root }

    func record(_ path: String, _ location: SourceLocation) { table[path] = location }

    var locations: ConfigLocations { ConfigLocations(table: table, root: root) }
}
