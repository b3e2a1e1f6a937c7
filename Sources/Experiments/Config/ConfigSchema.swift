/// The shape of the keys a config may hold, in the order the canonical `config.yaml` writes
/// them. It is derived from the sections' key tables (`ConfigKey`) and is what the section
/// readers (unknown-key errors) and the `--set` and sweep paths (path errors) check
/// against; readers trap if they read a key missing here.
indirect enum ConfigSchema: Sendable {
    /// A value: scalar, list or free-form mapping (such as `data.label_map`).
    case value
    /// A mapping with a fixed set of keys.
    case section([(String, ConfigSchema)])
    /// A list of entries of one shape, addressed by index in paths (`stages.0.lr`).
    case list(ConfigSchema)

    static let root: ConfigSchema = ExperimentConfig.schema

    /// The keys of a section, in order (empty for values and lists).
    var keys: [String] {
        if case .section(let fields) = self { return fields.map(\.0) }
        return []
    }

    /// The schema of `key` in a section.
    func child(_ key: String) -> ConfigSchema? {
        if case .section(let fields) = self { return fields.first { $0.0 == key }?.1 }
        return nil
    }

    /// Follows a dotted path (`model.base_c`, `stages.1.lr`) and returns its schema, or the
    /// message saying where the path goes wrong (with the closest key suggested).
    func lookup(_ path: [String]) -> Result<ConfigSchema, PathError> {
        var node = self
        for (i, segment) in path.enumerated() {
            let parent = path[..<i].joined(separator: ".")
            switch node {
            case .section:
                guard let next = node.child(segment) else {
                    return .failure(PathError(unknownKeyMessage(segment, in: parent, candidates: node.keys)))
                }
                node = next
            case .list(let element):
                guard Int(segment).map({ $0 >= 0 }) == true else {
                    return .failure(PathError("\(parent) is a list; address an entry by its index, as in \(parent).0, not '\(segment)'"))
                }
                node = element
            case .value:
                return .failure(PathError("\(parent) is a value, not a section with key '\(segment)'"))
            }
        }
        return .success(node)
    }

    struct PathError: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }
}

/// "unknown key 'bas_c' in model; did you mean 'base_c'?" (no "in ..." at the top level).
func unknownKeyMessage(_ key: String, in section: String, candidates: [String]) -> String {
    let place = section.isEmpty ? "" : " in \(section)"
    return "unknown key '\(key)'\(place)\(didYouMean(key, in: candidates))"
}
