/// An enum a config value must be one of; its raw values are what users write.
public protocol ConfigChoice: RawRepresentable, CaseIterable, Sendable, Equatable where RawValue == String {}

/// Reads the typed values of one mapping of a config (for the key tables, `ConfigKey`),
/// recording every problem (wrong type, out of range, unknown key) as a located error
/// instead of stopping, so one pass reports everything. A getter that fails records its
/// error and returns nil, and the key keeps its default, which keeps later checks meaningful.
final class SectionReader {
    /// Dotted path of this mapping ("" at the top level).
    let path: String
    /// The mapping's entries; empty when the section is absent.
    let entries: [YAMLEntry]
    /// The mapping's own location, or its parent's when it is absent.
    let location: SourceLocation
    let schema: ConfigSchema
    let diagnostics: Diagnostics
    let locations: LocationTable

    init(_ node: YAMLNode?, path: String, schema: ConfigSchema, fallback: SourceLocation,
         diagnostics: Diagnostics, locations: LocationTable) {
        self.path = path
        self.schema = schema
        self.diagnostics = diagnostics
        self.locations = locations
        self.location = node?.location ?? fallback
        if let node, !node.isNull, node.mapping == nil {
            diagnostics.error("\(path.isEmpty ? "the config" : path) must be a mapping of keys to values, got \(node.summary)", at: node.location)
        }
        entries = node?.mapping ?? []
        if let node, !path.isEmpty { locations.record(path, node.location) }
        for e in entries where schema.child(e.key) == nil {
            diagnostics.error(unknownKeyMessage(e.key, in: path, candidates: schema.keys), at: e.keyLocation)
        }
    }

    private var sections: [String: SectionReader] = [:]

    /// A reader for the nested section `key` (one per key, so its unknown keys are reported once).
    func section(_ key: String) -> SectionReader {
        if let cached = sections[key] { return cached }
        let reader = SectionReader(node(key), path: fullPath(key), schema: childSchema(key), fallback: location,
                                   diagnostics: diagnostics, locations: locations)
        sections[key] = reader
        return reader
    }

    func fullPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    private func childSchema(_ key: String) -> ConfigSchema {
        guard let child = schema.child(key) else { preconditionFailure("key '\(fullPath(key))' missing from ConfigSchema") }
        return child
    }

    /// The value node of `key`, recording its location; nil when absent.
    func node(_ key: String) -> YAMLNode? {
        _ = childSchema(key)
        guard let value = entries.first(where: { $0.key == key })?.value else { return nil }
        locations.record(fullPath(key), value.location)
        return value
    }

    /// True when `key` is written (even as null).
    func has(_ key: String) -> Bool { entries.contains { $0.key == key } }

    /// The value's location, or the section's when the key is absent.
    func location(_ key: String) -> SourceLocation { node(key)?.location ?? location }

    /// Records `"<path> <message>"` at the value of `key`.
    func error(_ key: String, _ message: String) {
        diagnostics.error("\(fullPath(key)) \(message)", at: location(key))
    }

    /// Records an error at `key` unless `ok`: "optimizer.lr must be > 0, got -1".
    func check(_ key: String, _ ok: Bool, _ requirement: String) {
        guard !ok else { return }
        let got = node(key).map { ", got \($0.flowText)" } ?? ""
        error(key, requirement + got)
    }

    /// Records "expected <what>, got <node>" and returns nil.
    func typeError<T>(_ key: String, _ node: YAMLNode, _ what: String) -> T? {
        var got = node.summary
        if let s = node.scalar, s.isQuoted, YAMLValue.resolve(s.text) != .string(s.text) {
            got += " (quoted, so a string)"
        } else if let s = node.scalar, what == "true or false", ["yes", "no", "on", "off"].contains(s.text.lowercased()) {
            got += " (YAML 1.2 reads it as a string)"
        }
        diagnostics.error("\(fullPath(key)): expected \(what), got \(got)", at: node.location)
        return nil
    }

    // MARK: Typed values of one node

    func int(_ key: String, _ node: YAMLNode) -> Int? {
        switch node.scalar?.value {
        case .int(let i): return i
        case .double(let d) where d.rounded() == d && abs(d) < 1e15: return Int(d)
        default: return typeError(key, node, "an integer")
        }
    }

    func double(_ key: String, _ node: YAMLNode) -> Double? {
        switch node.scalar?.value {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return typeError(key, node, "a number")
        }
    }

    func bool(_ key: String, _ node: YAMLNode) -> Bool? {
        if case .bool(let b) = node.scalar?.value { return b }
        return typeError(key, node, "true or false")
    }

    /// Any non-null scalar, as written (a plain `2024` is the string "2024").
    func string(_ key: String, _ node: YAMLNode) -> String? {
        guard let s = node.scalar, s.value != .null else { return typeError(key, node, "a string") }
        return s.text
    }

    func choice<E: ConfigChoice>(_ key: String, _ node: YAMLNode) -> E? {
        guard let text = string(key, node) else { return nil }
        if let value = E(rawValue: text) { return value }
        let names = E.allCases.map { "'\($0.rawValue)'" }
        let options = names.count == 1 ? names[0] : names.dropLast().joined(separator: ", ") + " or " + names.last!
        let hint = didYouMean(text, in: E.allCases.map(\.rawValue))
        diagnostics.error("\(fullPath(key)) must be \(options), got '\(text)'\(hint)", at: node.location)
        return nil
    }

    /// A list of `T` (a lone scalar counts as a one-item list when `single` is true).
    func list<T>(_ key: String, _ node: YAMLNode, single: Bool = false, _ item: (String, YAMLNode) -> T?) -> [T]? {
        let items: [YAMLNode]
        if let seq = node.sequence { items = seq } else if single, node.scalar != nil, !node.isNull { items = [node] } else {
            return typeError(key, node, "a list")
        }
        var out: [T] = []
        for (i, element) in items.enumerated() {
            guard let v = item("\(key).\(i)", element) else { return nil }
            out.append(v)
        }
        return out
    }

    /// nil when absent or null.
    func optional<T>(_ key: String, _ read: (String, YAMLNode) -> T?) -> T? {
        guard let n = node(key), !n.isNull else { return nil }
        return read(key, n)
    }

    func doubles(_ key: String, _ node: YAMLNode) -> [Double]? { list(key, node) { double($0, $1) } }
    func ints(_ key: String, _ node: YAMLNode) -> [Int]? { list(key, node) { int($0, $1) } }
}
