/// A YAML node with the position it was written at, so every config error can point at
/// the text that caused it. Mappings keep their keys in file order (sweeps depend on it).
public struct YAMLNode: Sendable, Equatable {
    public indirect enum Content: Sendable, Equatable {
        case scalar(YAMLScalar)
        case sequence([YAMLNode])
        case mapping([YAMLEntry])
    }

    public var content: Content
    public var location: SourceLocation

    public init(_ content: Content, at location: SourceLocation) {
        self.content = content
        self.location = location
    }

    /// A plain scalar resolved like one read from a file.
    public static func plain(_ text: String, at location: SourceLocation) -> YAMLNode {
        YAMLNode(.scalar(YAMLScalar(text: text, style: .plain)), at: location)
    }

    public var scalar: YAMLScalar? {
        if case .scalar(let s) = content { return s } else { return nil }
    }

    public var sequence: [YAMLNode]? {
        if case .sequence(let items) = content { return items } else { return nil }
    }

    public var mapping: [YAMLEntry]? {
        if case .mapping(let entries) = content { return entries } else { return nil }
    }

    /// The entry for `key` in a mapping.
    public func entry(_ key: String) -> YAMLEntry? { mapping?.first { $0.key == key } }

    /// The value for `key` in a mapping.
    public subscript(key: String) -> YAMLNode? { entry(key)?.value }

    /// True for `null`, `~` or an empty plain scalar.
    public var isNull: Bool { scalar?.value == .null }

    /// A short description of what the node holds, for "expected X, got Y" messages:
    /// the scalar's text in quotes, or "a list" / "a mapping".
    public var summary: String {
        switch content {
        case .scalar(let s): return s.value == .null ? "null" : "'\(s.text)'"
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        }
    }

    /// Number of nodes in this subtree (bounds alias expansion).
    var size: Int {
        switch content {
        case .scalar: return 1
        case .sequence(let items): return items.reduce(1) { $0 + $1.size }
        case .mapping(let entries): return entries.reduce(1) { $0 + $1.value.size }
        }
    }

    /// This subtree with every location replaced, for values given on the command line.
    func relocated(to location: SourceLocation) -> YAMLNode {
        switch content {
        case .scalar:
            return YAMLNode(content, at: location)
        case .sequence(let items):
            return YAMLNode(.sequence(items.map { $0.relocated(to: location) }), at: location)
        case .mapping(let entries):
            return YAMLNode(.mapping(entries.map {
                YAMLEntry(key: $0.key, keyLocation: location, value: $0.value.relocated(to: location))
            }), at: location)
        }
    }
}

/// One `key: value` pair of a mapping. Keys are always scalars (their text).
public struct YAMLEntry: Sendable, Equatable {
    public var key: String
    public var keyLocation: SourceLocation
    public var value: YAMLNode

    public init(key: String, keyLocation: SourceLocation, value: YAMLNode) {
        self.key = key
        self.keyLocation = keyLocation
        self.value = value
    }
}

/// A scalar's text as written, how it was quoted, and what it resolves to.
public struct YAMLScalar: Sendable, Equatable {
    public enum Style: Sendable, Equatable {
        case plain, singleQuoted, doubleQuoted, literal, folded
    }

    public var text: String
    public var style: Style
    public var value: YAMLValue

    /// Resolves plain scalars by the YAML core schema; any quoted or block scalar is a string.
    public init(text: String, style: Style) {
        self.text = text
        self.style = style
        self.value = style == .plain ? YAMLValue.resolve(text) : .string(text)
    }

    init(text: String, style: Style, value: YAMLValue) {
        self.text = text
        self.style = style
        self.value = value
    }

    public var isQuoted: Bool { style != .plain }
}

/// The typed value of a scalar.
///
/// Resolution follows the YAML 1.2 core schema with two conveniences users expect:
/// `1e-4` is a float (YAML 1.1 and PyYAML want `1.0e-4`), and `_` may group digits of an
/// integer (`10_000`). The 1.1 booleans `yes`/`no`/`on`/`off` stay strings, so a class
/// named `no` is never silently read as false; where a bool is expected the error says so.
public enum YAMLValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)

    public static func resolve(_ text: String) -> YAMLValue {
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .double(.infinity)
        case "-.inf", "-.Inf", "-.INF": return .double(-.infinity)
        case ".nan", ".NaN", ".NAN": return .double(.nan)
        default: break
        }
        if let i = integer(text) { return .int(i) }
        if isFloatSyntax(text), let d = Double(text) { return .double(d) }
        return .string(text)
    }

    /// Decimal (optionally signed, `_` between digits), `0x` hex or `0o` octal.
    /// A decimal too large for Int falls through to a float.
    static func integer(_ text: String) -> Int? {
        var body = Substring(text)
        var negative = false
        if let first = body.first, first == "-" || first == "+" {
            negative = first == "-"
            body = body.dropFirst()
        }
        var radix = 10
        if body.hasPrefix("0x") { radix = 16; body = body.dropFirst(2) }
        else if body.hasPrefix("0o") { radix = 8; body = body.dropFirst(2) }
        if radix == 10 {
            guard let f = body.first, f.isASCII, f.isNumber, let l = body.last, l.isASCII, l.isNumber else { return nil }
            body = Substring(body.filter { $0 != "_" })
        }
        guard !body.isEmpty, body.allSatisfy({ $0.isASCII && $0.isHexDigit }),
              let magnitude = Int(body, radix: radix) else { return nil }
        return negative ? -magnitude : magnitude
    }

    /// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, checked by hand: Swift's
    /// `Double(_:)` alone would also accept `nan`, `inf` and hex floats.
    static func isFloatSyntax(_ text: String) -> Bool {
        var chars = Substring(text)
        func digits() -> Int {
            let n = chars.prefix { $0.isASCII && $0.isNumber }.count
            chars = chars.dropFirst(n)
            return n
        }
        if chars.first == "-" || chars.first == "+" { chars = chars.dropFirst() }
        var mantissa = digits()
        if chars.first == "." {
            chars = chars.dropFirst()
            mantissa += digits()
        }
        guard mantissa > 0 else { return false }
        if chars.first == "e" || chars.first == "E" {
            chars = chars.dropFirst()
            if chars.first == "-" || chars.first == "+" { chars = chars.dropFirst() }
            guard digits() > 0 else { return false }
        }
        return chars.isEmpty
    }
}
