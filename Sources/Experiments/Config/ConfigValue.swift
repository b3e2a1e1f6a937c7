/// A type a config key can hold: how a YAML node is read as one and how the canonical
/// `config.yaml` writes it. Reading records its own problems (wrong type, a list of the
/// wrong shape) in the reader and returns nil, so the key keeps its default.
protocol ConfigValue: Sendable {
    /// The value of `node`, written at `key` of `r`'s section, or nil after recording why not.
    static func read(_ r: SectionReader, _ key: String, _ node: YAMLNode) -> Self?
    /// The value as `config.yaml` writes it (`YAMLParser` reads it back to the same value).
    var yamlText: String { get }
}

extension Int: ConfigValue {
    static func read(_ r: SectionReader, _ key: String, _ node: YAMLNode) -> Int? { r.int(key, node) }
    var yamlText: String { "\(self)" }
}

extension Double: ConfigValue {
    static func read(_ r: SectionReader, _ key: String, _ node: YAMLNode) -> Double? { r.double(key, node) }
    var yamlText: String { yamlNumber(self) }
}

extension Bool: ConfigValue {
    static func read(_ r: SectionReader, _ key: String, _ node: YAMLNode) -> Bool? { r.bool(key, node) }
    var yamlText: String { "\(self)" }
}

extension String: ConfigValue {
    static func read(_ r: SectionReader, _ key: String, _ node: YAMLNode) -> String? { r.string(key, node) }
    var yamlText: String { yamlString(self) }
}

/// A list, written in flow style (`[1, 2]`).
extension Array: ConfigValue where Element: ConfigValue {
    static func read(_ r: SectionReader, _ key: String, _ node: YAMLNode) -> [Element]? {
        r.list(key, node) { Element.read(r, $0, $1) }
    }
    var yamlText: String { yamlFlow(map(\.yamlText)) }
}

/// A setting that may be switched off: `null` is nil. (An absent key keeps its default,
/// which may be a value, as `data.crop`'s is.)
extension Optional: ConfigValue where Wrapped: ConfigValue {
    static func read(_ r: SectionReader, _ key: String, _ node: YAMLNode) -> Wrapped?? {
        if node.isNull { return .some(nil) }
        return Wrapped.read(r, key, node).map { .some($0) }
    }
    var yamlText: String { map(\.yamlText) ?? "null" }
}
