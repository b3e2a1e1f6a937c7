/// Writes the canonical YAML of a resolved config: block mappings indented by two
/// spaces, lists in flow style, numbers in Swift's shortest round-trip form, strings
/// plain unless they would read back as something else. `YAMLParser` reads every text
/// it writes back to the same values (tested by the config round trip).
struct YAMLWriter {
    private(set) var text = ""
    private var indent = ""

    /// `key: value`, with `value` already in YAML form (see the `yaml*` helpers).
    mutating func field(_ key: String, _ value: String) {
        text += "\(indent)\(key): \(value)\n"
    }

    /// A nested block mapping under `key`.
    mutating func section(_ key: String, _ body: (inout YAMLWriter) -> Void) {
        text += "\(indent)\(key):\n"
        var inner = YAMLWriter()
        inner.indent = indent + "  "
        body(&inner)
        text += inner.text
    }

    /// A block sequence of mappings under `key` (`[]` when empty).
    mutating func list<T>(_ key: String, _ items: [T], _ body: (inout YAMLWriter, T) -> Void) {
        if items.isEmpty { return field(key, "[]") }
        text += "\(indent)\(key):\n"
        for item in items {
            var inner = YAMLWriter()
            body(&inner, item)
            for (i, line) in inner.text.split(separator: "\n").enumerated() {
                text += "\(indent)\(i == 0 ? "  - " : "    ")\(line)\n"
            }
        }
    }
}

/// A string as a plain scalar when that reads back as the same string, else double-quoted.
func yamlString(_ s: String) -> String {
    let safeFirst = s.first.map { $0.isASCII && ($0.isLetter || $0.isNumber || "_/.".contains($0)) } ?? false
    let safeRest = s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_./+-=,".contains($0)) }
    if safeFirst && safeRest && YAMLValue.resolve(s) == .string(s) { return s }
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7F {
                out += "\\x" + String(scalar.value, radix: 16).leftPadded(to: 2)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}

/// A float that reads back as the same Double (and as a float, never an int).
func yamlNumber(_ d: Double) -> String {
    if d.isNaN { return ".nan" }
    if d.isInfinite { return d < 0 ? "-.inf" : ".inf" }
    return d.description  // shortest round-trip digits; always has '.' or 'e'
}

/// `[a, b, c]` from items already in YAML form.
func yamlFlow(_ items: [String]) -> String { "[" + items.joined(separator: ", ") + "]" }

extension YAMLNode {
    /// The node in one line of flow YAML (`[1, 2]`, `{name: sgd, lr: 0.01}`, or a scalar's
    /// text as written), for run ids and messages.
    public var flowText: String {
        switch content {
        case .scalar(let s): return s.isQuoted ? yamlString(s.text) : s.text
        case .sequence(let items): return yamlFlow(items.map(\.flowText))
        case .mapping(let entries):
            return "{" + entries.map { "\(yamlString($0.key)): \($0.value.flowText)" }.joined(separator: ", ") + "}"
        }
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
