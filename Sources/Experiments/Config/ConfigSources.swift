import Foundation

/// Assembles the one YAML tree a config is read from: a file, the files it names with
/// `base:` (relative to it, merged underneath it), and `--set PATH=VALUE` overrides on
/// top. Every node keeps the location it came from, so errors point at the file and line
/// (or the `--set` argument) that wrote the value.
///
/// Merging: mappings merge key by key (recursively; new keys go after the base's), while
/// lists, scalars and null replace what was there, so `stages: null` drops a base file's
/// stages. `base:` may be one path or a list (merged in order, later ones on top).
enum ConfigSources {
    /// The merged tree of `path` and its bases, or nil after recording why not.
    /// `text` stands in for the file's contents when given (for configs built in memory).
    static func load(_ path: String, text given: String? = nil, options: ConfigOptions, diagnostics: Diagnostics,
                     chain: [String] = [], includedAt: SourceLocation? = nil) -> YAMLNode? {
        let absolute = normalizePath(joinPath(options.currentDirectory, path))
        let here = includedAt ?? .argument(path)
        if let start = chain.firstIndex(of: absolute) {
            let cycle = (chain[start...] + [absolute]).map { ($0 as NSString).lastPathComponent }
            diagnostics.error("base files include each other: \(cycle.joined(separator: " -> "))", at: here)
            return nil
        }
        let data = given.map { Data($0.utf8) } ?? FileManager.default.contents(atPath: absolute)
        guard let data else {
            var isFolder: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: absolute, isDirectory: &isFolder)
            let reason = !exists ? "not found" : isFolder.boolValue ? "is a folder, not a YAML file" : "cannot be read"
            diagnostics.error(includedAt == nil ? "config file \(reason)" : "base file '\(path)' \(reason)", at: here)
            return nil
        }
        guard let text = String(data: data, encoding: .utf8) else {
            diagnostics.error("'\(path)' is not UTF-8 text", at: here)
            return nil
        }
        var tree: YAMLNode
        do { tree = try YAMLParser.parse(text, file: path) } catch {
            diagnostics.append(error.errors)
            return nil
        }
        if tree.isNull { tree = YAMLNode(.mapping([]), at: tree.location) }
        guard var entries = tree.mapping else {
            diagnostics.error("a config file must be a mapping of keys to values, got \(tree.summary)", at: tree.location)
            return nil
        }
        guard let baseIndex = entries.firstIndex(where: { $0.key == "base" }) else { return tree }
        let baseNode = entries.remove(at: baseIndex).value
        let own = YAMLNode(.mapping(entries), at: tree.location)
        var merged: YAMLNode?
        for item in baseNode.sequence ?? [baseNode] {
            guard let name = item.scalar?.text, !item.isNull, item.scalar?.value != .null else {
                diagnostics.error("base must be a YAML file path or a list of them, got \(item.summary)", at: item.location)
                continue
            }
            let basePath = normalizePath(joinPath(parentFolder(path), name))
            guard let baseTree = load(basePath, options: options, diagnostics: diagnostics,
                                      chain: chain + [absolute], includedAt: item.location) else { continue }
            merged = merged.map { merge($0, baseTree) } ?? baseTree
        }
        return merged.map { merge($0, own) } ?? own
    }

    /// `over` on top of `base`: mappings merge recursively, anything else replaces.
    static func merge(_ base: YAMLNode, _ over: YAMLNode) -> YAMLNode {
        guard var entries = base.mapping, let overEntries = over.mapping else { return over }
        for e in overEntries {
            if let i = entries.firstIndex(where: { $0.key == e.key }) {
                entries[i] = YAMLEntry(key: e.key, keyLocation: e.keyLocation, value: merge(entries[i].value, e.value))
            } else {
                entries.append(e)
            }
        }
        return YAMLNode(.mapping(entries), at: over.location)
    }

    /// Applies `--set PATH=VALUE` overrides in order. VALUE is parsed as YAML (`64`,
    /// `[1, 2]`, `{name: adam}`, `null`; empty is null) and merged at PATH like a base
    /// file's value. Paths are checked against the schema; inside `sweep`, the rest of the
    /// path is one swept path (`sweep.model.base_c=[32,64]`).
    static func applyOverrides(_ tree: YAMLNode, _ overrides: [String], diagnostics: Diagnostics) -> YAMLNode {
        var tree = tree
        for text in overrides {
            let at = SourceLocation.argument("--set \(text)")
            guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
                diagnostics.error("--set takes PATH=VALUE, as in --set model.base_c=64", at: at)
                continue
            }
            let path = overridePath(String(text[..<eq]))
            if path.first == "base" {
                diagnostics.error("base cannot be set from the command line; it is merged before overrides", at: at)
                continue
            }
            if path.first != "sweep", case .failure(let e) = ConfigSchema.root.lookup(path) {
                diagnostics.error(e.message, at: at)
                continue
            }
            let value: YAMLNode
            do { value = try YAMLParser.parse(String(text[text.index(after: eq)...]), file: "value") } catch {
                let problem = error.errors.first.map { $0.message } ?? "invalid YAML"
                diagnostics.error("the value is not valid YAML: \(problem)", at: at)
                continue
            }
            do throws(ConfigError) { tree = try set(tree, path, value.relocated(to: at), at: at) } catch {
                diagnostics.append([error])
            }
        }
        return tree
    }

    /// A dotted path split into keys; under `sweep`, everything after `sweep.` (or after
    /// `sweep.zip.N.`, `sweep.random.params.`) is one key, since swept paths contain dots.
    static func overridePath(_ dotted: String) -> [String] {
        let parts = dotted.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.first == "sweep", parts.count > 2 else { return parts }
        let head: Int
        if parts[1] == "zip" { head = 3 } else if parts[1] == "random" { head = parts.count > 3 && parts[2] == "params" ? 3 : 2 } else { head = 1 }
        guard parts.count > head else { return parts }
        return Array(parts[..<head]) + [parts[head...].joined(separator: ".")]
    }

    /// `tree` with `value` merged in at `path[depth...]` (mappings created as needed; list
    /// entries addressed by index must exist).
    static func set(_ tree: YAMLNode, _ path: [String], depth: Int = 0, _ value: YAMLNode, at: SourceLocation) throws(ConfigError) -> YAMLNode {
        guard depth < path.count else { return merge(tree, value) }
        let key = path[depth], parent = path[..<depth].joined(separator: ".")
        if var items = tree.sequence {
            guard let i = Int(key), items.indices.contains(i) else {
                throw ConfigError("\(parent) has \(items.count) entries, so \(parent).\(key) does not exist", at: at)
            }
            items[i] = try set(items[i], path, depth: depth + 1, value, at: at)
            return YAMLNode(.sequence(items), at: tree.location)
        }
        if tree.isNull, case .success(.list) = ConfigSchema.root.lookup(Array(path[..<depth])) {
            throw ConfigError("\(parent) has 0 entries, so \(parent).\(key) does not exist", at: at)
        }
        if !tree.isNull && tree.mapping == nil {
            throw ConfigError("\(parent) is \(tree.summary) (\(tree.location)), not a mapping with key '\(key)'", at: at)
        }
        var entries = tree.mapping ?? []
        let location = tree.isNull ? at : tree.location
        if let i = entries.firstIndex(where: { $0.key == key }) {
            entries[i].value = try set(entries[i].value, path, depth: depth + 1, value, at: at)
        } else {
            let absent = YAMLNode.plain("", at: at)  // null: a section not written yet
            let fresh = depth + 1 == path.count ? value : try set(absent, path, depth: depth + 1, value, at: at)
            entries.append(YAMLEntry(key: key, keyLocation: at, value: fresh))
        }
        return YAMLNode(.mapping(entries), at: location)
    }
}
