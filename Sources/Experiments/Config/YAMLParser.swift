import CYAML
import Foundation

/// Turns YAML text into a `YAMLNode` tree through libyaml's event API, keeping each
/// node's 1-based line and column. Anchors and aliases are expanded (an alias takes the
/// anchored node's position, where its text was written), `<<` merge keys are applied,
/// and duplicate keys are errors. A config file holds one document.
public enum YAMLParser {
    /// Parses `text`, naming positions after `file`. An empty document gives a null scalar.
    public static func parse(_ text: String, file: String) throws(ConfigErrors) -> YAMLNode {
        let diagnostics = Diagnostics()
        let reader = EventReader(file: file, diagnostics: diagnostics)
        var bytes = Array(text.utf8)
        if bytes.isEmpty { bytes = [0x0A] }  // libyaml wants a non-empty buffer
        let root: YAMLNode? = bytes.withUnsafeBufferPointer { buffer in
            do throws(ConfigError) { return try reader.document(buffer) } catch {
                diagnostics.error(error.message, at: error.location)
                return nil
            }
        }
        guard let root, diagnostics.isEmpty else { throw ConfigErrors(diagnostics.errors) }
        return root
    }

    /// Reads and parses the file at `path`; positions are reported under `path` as given.
    public static func parse(contentsOf path: String) throws(ConfigErrors) -> YAMLNode {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot read file" : "file not found"
            throw ConfigErrors([ConfigError(reason, at: SourceLocation(file: path, line: 1, column: 1))])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigErrors([ConfigError("file is not UTF-8 text", at: SourceLocation(file: path, line: 1, column: 1))])
        }
        return try parse(text, file: path)
    }
}

/// Walks libyaml's events, one document, building nodes recursively.
private final class EventReader {
    let file: String
    let diagnostics: Diagnostics
    var parser = yaml_parser_t()
    var anchors: [String: YAMLNode] = [:]
    /// Alias expansion copies subtrees; this caps the total so a "billion laughs" file
    /// fails with a message instead of exhausting memory.
    var expandedNodes = 0
    static let maxExpandedNodes = 1_000_000
    /// Node building recurses once per level; a cap keeps a pathological file (`[[[[...`)
    /// from overflowing the stack.
    var depth = 0
    static let maxDepth = 200

    init(file: String, diagnostics: Diagnostics) {
        self.file = file
        self.diagnostics = diagnostics
    }

    func location(_ mark: yaml_mark_t) -> SourceLocation {
        SourceLocation(file: file, line: Int(mark.line) + 1, column: Int(mark.column) + 1)
    }

    func document(_ buffer: UnsafeBufferPointer<UInt8>) throws(ConfigError) -> YAMLNode {
        guard yaml_parser_initialize(&parser) == 1 else {
            throw ConfigError("libyaml could not allocate a parser", at: SourceLocation(file: file, line: 1, column: 1))
        }
        defer { yaml_parser_delete(&parser) }
        yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)

        var event = try next()  // stream start
        yaml_event_delete(&event)
        event = try next()
        if event.type == YAML_STREAM_END_EVENT {
            yaml_event_delete(&event)
            return YAMLNode(.scalar(YAMLScalar(text: "", style: .plain)), at: SourceLocation(file: file, line: 1, column: 1))
        }
        yaml_event_delete(&event)  // document start
        let root = try node(try next())
        event = try next()  // document end
        yaml_event_delete(&event)
        event = try next()
        defer { yaml_event_delete(&event) }
        if event.type == YAML_DOCUMENT_START_EVENT {
            throw ConfigError("a config file holds one YAML document; found a second '---' document", at: location(event.start_mark))
        }
        return root
    }

    /// The next event, or libyaml's problem text at its position.
    func next() throws(ConfigError) -> yaml_event_t {
        var event = yaml_event_t()
        guard yaml_parser_parse(&parser, &event) == 1 else {
            let problem = parser.problem.map { String(cString: $0) } ?? "invalid YAML"
            var message = problem
            if parser.error == YAML_READER_ERROR {
                message += " (byte offset \(parser.problem_offset))"
            }
            if let context = parser.context.map({ String(cString: $0) }) {
                let at = location(parser.context_mark)
                message += " (\(context) at line \(at.line), column \(at.column))"
            }
            throw ConfigError(message, at: location(parser.problem_mark))
        }
        return event
    }

    /// Builds the node that starts with `event` (consumed and freed here).
    func node(_ start: yaml_event_t) throws(ConfigError) -> YAMLNode {
        var event = start
        defer { yaml_event_delete(&event) }
        let at = location(event.start_mark)
        depth += 1
        defer { depth -= 1 }
        if depth > Self.maxDepth { throw ConfigError("YAML nested more than \(Self.maxDepth) levels deep", at: at) }
        let built: YAMLNode
        let anchor: UnsafeMutablePointer<yaml_char_t>?
        switch event.type {
        case YAML_ALIAS_EVENT:
            let name = string(event.data.alias.anchor)
            guard let target = anchors[name] else {
                throw ConfigError("undefined alias '*\(name)'", at: at)
            }
            expandedNodes += target.size
            if expandedNodes > Self.maxExpandedNodes {
                throw ConfigError("aliases expand to more than \(Self.maxExpandedNodes) nodes", at: at)
            }
            return target
        case YAML_SCALAR_EVENT:
            let s = event.data.scalar
            let text = String(decoding: UnsafeBufferPointer(start: s.value, count: s.length), as: UTF8.self)
            built = YAMLNode(.scalar(scalar(text, style: s.style, tag: s.tag.map(string), at: at)), at: at)
            anchor = s.anchor
        case YAML_SEQUENCE_START_EVENT:
            checkCollectionTag(event.data.sequence_start.tag, expected: "seq", at: at)
            anchor = event.data.sequence_start.anchor
            var items: [YAMLNode] = []
            while true {
                let item = try next()
                if item.type == YAML_SEQUENCE_END_EVENT {
                    var end = item
                    yaml_event_delete(&end)
                    break
                }
                items.append(try node(item))
            }
            built = YAMLNode(.sequence(items), at: at)
        case YAML_MAPPING_START_EVENT:
            checkCollectionTag(event.data.mapping_start.tag, expected: "map", at: at)
            anchor = event.data.mapping_start.anchor
            built = YAMLNode(.mapping(try entries()), at: at)
        default:
            throw ConfigError("unexpected YAML event", at: at)
        }
        if let anchor { anchors[string(anchor)] = built }
        return built
    }

    /// The entries of a mapping up to its end event, with `<<` merges applied: keys
    /// written in the mapping win over merged ones, earlier merge sources over later.
    func entries() throws(ConfigError) -> [YAMLEntry] {
        var explicit: [YAMLEntry] = []
        var merged: [YAMLEntry] = []
        while true {
            var keyEvent = try next()
            if keyEvent.type == YAML_MAPPING_END_EVENT {
                yaml_event_delete(&keyEvent)
                break
            }
            let keyNode = try node(keyEvent)
            let value = try node(try next())
            guard let key = keyNode.scalar else {
                diagnostics.error("mapping keys must be plain names, not \(keyNode.summary)", at: keyNode.location)
                continue
            }
            if key.text == "<<" && key.style == .plain {
                let sources = value.sequence ?? [value]
                for source in sources {
                    guard let sourceEntries = source.mapping else {
                        diagnostics.error("a '<<' merge takes a mapping or a list of mappings, got \(source.summary)", at: source.location)
                        continue
                    }
                    for e in sourceEntries where !merged.contains(where: { $0.key == e.key }) { merged.append(e) }
                }
                continue
            }
            if let first = explicit.first(where: { $0.key == key.text }) {
                diagnostics.error("duplicate key '\(key.text)' (first given at line \(first.keyLocation.line), column \(first.keyLocation.column))", at: keyNode.location)
                continue
            }
            explicit.append(YAMLEntry(key: key.text, keyLocation: keyNode.location, value: value))
        }
        return merged.filter { m in !explicit.contains { $0.key == m.key } } + explicit
    }

    /// Resolves a scalar by its explicit tag (`!!str`, `!!int`, ...) or, untagged, by style.
    func scalar(_ text: String, style: yaml_scalar_style_t, tag: String?, at: SourceLocation) -> YAMLScalar {
        let kind: YAMLScalar.Style
        switch style {
        case YAML_SINGLE_QUOTED_SCALAR_STYLE: kind = .singleQuoted
        case YAML_DOUBLE_QUOTED_SCALAR_STYLE: kind = .doubleQuoted
        case YAML_LITERAL_SCALAR_STYLE: kind = .literal
        case YAML_FOLDED_SCALAR_STYLE: kind = .folded
        default: kind = .plain
        }
        guard let tag else { return YAMLScalar(text: text, style: kind) }
        let resolved = YAMLValue.resolve(text)
        let value: YAMLValue?
        switch tag {
        case "!", "tag:yaml.org,2002:str": value = .string(text)
        case "tag:yaml.org,2002:null": value = resolved == .null ? .null : nil
        case "tag:yaml.org,2002:bool": if case .bool = resolved { value = resolved } else { value = nil }
        case "tag:yaml.org,2002:int": if case .int = resolved { value = resolved } else { value = nil }
        case "tag:yaml.org,2002:float":
            switch resolved {
            case .int(let i): value = .double(Double(i))
            case .double: value = resolved
            default: value = nil
            }
        default:
            diagnostics.error("unsupported tag '\(tag)'", at: at)
            return YAMLScalar(text: text, style: kind, value: .string(text))
        }
        guard let value else {
            let short = tag.replacingOccurrences(of: "tag:yaml.org,2002:", with: "!!")
            diagnostics.error("'\(text)' is not a valid \(short)", at: at)
            return YAMLScalar(text: text, style: kind, value: .string(text))
        }
        return YAMLScalar(text: text, style: kind, value: value)
    }

    func checkCollectionTag(_ tag: UnsafeMutablePointer<yaml_char_t>?, expected: String, at: SourceLocation) {
        guard let tag = tag.map(string), tag != "tag:yaml.org,2002:\(expected)" else { return }
        diagnostics.error("unsupported tag '\(tag)'", at: at)
    }

    func string(_ pointer: UnsafeMutablePointer<yaml_char_t>) -> String {
        String(cString: UnsafeRawPointer(pointer).assumingMemoryBound(to: CChar.self))
    }
}
