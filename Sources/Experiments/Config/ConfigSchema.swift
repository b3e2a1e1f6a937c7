/// The keys a config may hold, in the order the canonical `config.yaml` writes them.
/// It is the one list both the section readers (unknown-key errors) and the `--set` and
/// sweep paths (path errors) check against; readers trap if they read a key missing here.
indirect enum ConfigSchema: Sendable {
    /// A value: scalar, list or free-form mapping (such as `data.label_map`).
    case value
    /// A mapping with a fixed set of keys.
    case section([(String, ConfigSchema)])
    /// A list of entries of one shape, addressed by index in paths (`stages.0.lr`).
    case list(ConfigSchema)

    static let root: ConfigSchema = .section([
        ("name", .value), ("base", .value), ("seed", .value), ("threads", .value),
        ("data", .section([
            ("dataset", .value), ("root", .value), ("num_classes", .value), ("ignore_index", .value),
            ("crop", .value), ("mean", .value), ("std", .value), ("scale", .value),
            ("hflip", .value), ("vflip", .value), ("val_fraction", .value), ("label_map", .value), ("palette", .value),
            ("synthetic", .section([
                ("size", .value), ("count", .value), ("val_count", .value),
                ("vessel_density", .value), ("noise", .value), ("lesions", .value),
            ])),
        ])),
        ("model", .section([
            ("name", .value), ("in_channels", .value), ("encoder", .value), ("base_c", .value), ("upsample", .value),
            ("backbone", .value), ("variant", .value), ("fc_channels", .value), ("output_stride", .value),
            ("aux", .value), ("aspp_rates", .value), ("pretrained", .value),
        ])),
        ("loss", .section([
            ("ce", .value), ("dice", .value), ("focal", .value), ("focal_gamma", .value),
            ("focal_alpha", .value), ("class_weights", .value), ("aux", .value),
        ])),
        ("optimizer", .section([
            ("name", .value), ("lr", .value), ("momentum", .value), ("nesterov", .value),
            ("weight_decay", .value), ("betas", .value), ("eps", .value),
        ])),
        ("schedule", .section([
            ("epochs", .value), ("batch_size", .value),
            ("warmup", .section([("epochs", .value), ("factor", .value), ("shape", .value)])),
            ("decay", .value), ("power", .value), ("min_lr", .value), ("milestones", .value), ("gamma", .value),
        ])),
        ("stages", .list(.section([("epochs", .value), ("freeze", .value), ("batch_size", .value), ("lr", .value)]))),
        ("init", .section([("checkpoint", .value), ("strict", .value)])),
        ("eval", .section([("every", .value), ("metric", .value), ("save_best", .value)])),
        ("sweep", .value),
    ])

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
