/// The settings that differ between runs: every dotted path of the runs' resolved configs whose
/// value is not the same in all of them, and each run's value (empty where a run lacks it).
struct ConfigDifferences {
    var paths: [String] = []
    /// `values[run][path]`.
    var values: [[String]]

    init(_ configs: [ExperimentConfig?]) {
        let flat = configs.map { config -> [(path: String, value: String)] in
            guard let config, let node = try? YAMLParser.parse(config.render(includeThreads: false), file: "config.yaml") else {
                return []
            }
            return Self.flatten(node, prefix: "")
        }
        var all: [String] = []
        for run in flat { for (path, _) in run where !all.contains(path) { all.append(path) } }
        let lookups = flat.map { Dictionary($0.map { ($0.path, $0.value) }, uniquingKeysWith: { a, _ in a }) }
        // A run whose config did not read has no say in what differs.
        let known = zip(configs, lookups).filter { $0.0 != nil }.map(\.1)
        let differing = all.filter { path in Set(known.map { $0[path] ?? "" }).count > 1 }
        paths = differing
        values = lookups.map { lookup in differing.map { lookup[$0] ?? "" } }
    }

    /// Mappings become dotted paths; lists and scalars are leaves, written as YAML flow text.
    static func flatten(_ node: YAMLNode, prefix: String) -> [(path: String, value: String)] {
        guard let entries = node.mapping else { return [(prefix, node.flowText)] }
        return entries.flatMap { flatten($0.value, prefix: prefix.isEmpty ? $0.key : prefix + "." + $0.key) }
    }
}
