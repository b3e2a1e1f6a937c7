import Foundation

/// One value a run's sweep set, as its id and the dry-run table show it.
public struct SweptValue: Equatable, Sendable {
    /// The dotted path swept (`model.base_c`).
    public let path: String
    /// The name the run id uses: the last path component, or the whole path when two
    /// swept paths end the same way.
    public let key: String
    /// The value as written in the sweep (or drawn), e.g. `32`, `bilinear`, `0.001235`.
    public let text: String
    /// Where the value is written (the sweep list item or random distribution).
    public let location: SourceLocation
}

/// One run of an experiment: its fully resolved config, what its sweep set, and the
/// names its results go under. The trainer needs nothing else.
public struct RunSpec: Sendable {
    /// Position in the expanded sweep (0-based), the order runs are trained and sharded in.
    public let index: Int
    /// Readable id from the swept values (`base_c=32,upsample=bilinear,seed=0`; `run`
    /// when nothing is swept), safe as a file name and unique within the experiment.
    public let id: String
    /// 8 hex digits of SHA-256 of the canonical config (see `ExperimentConfig.hash`).
    public let hash: String
    public let swept: [SweptValue]
    public let config: ExperimentConfig
    /// Where each setting was written, for errors found after loading.
    public let locations: ConfigLocations

    /// A single run of `config` built in code (tests, tools) rather than loaded from YAML;
    /// errors found later are reported at `source`.
    public init(config: ExperimentConfig, id: String = "run", index: Int = 0, source: String = "<config built in code>") {
        self.init(index: index, id: id, hash: config.hash, swept: [], config: config,
                  locations: ConfigLocations(table: [:], root: .argument(source)))
    }

    init(index: Int, id: String, hash: String, swept: [SweptValue], config: ExperimentConfig, locations: ConfigLocations) {
        self.index = index
        self.id = id
        self.hash = hash
        self.swept = swept
        self.config = config
        self.locations = locations
    }

    /// The run's folder name under `results/<name>/`: id and hash, so a changed config
    /// never reuses an old folder.
    public var directoryName: String { "\(id)@\(hash)" }

    /// The text of the run's `config.yaml`: a comment naming the run, then the canonical
    /// config. `runexp config.yaml` re-runs exactly this run (same config, same hash).
    public var configYAML: String {
        "# Resolved config of run \(id) (hash \(hash)) of \(locations.root.file), written by runexp \(runexpVersion).\n" + config.yaml
    }
}

extension RunSpec {
    /// The run's `--set` overrides and swept values, as summary columns.
    var idPieces: [(key: String, value: String)] {
        let sweptKeys = Set(swept.map(\.key))
        let overridden = RunSpec.pieces(ofID: id).filter { !sweptKeys.contains($0.key) && $0.key != "run" }
        return overridden + swept.map { ($0.key, $0.text) }
    }

    /// `backbone=resnet18,seed=0` → [("backbone", "resnet18"), ("seed", "0")].
    static func pieces(ofID id: String) -> [(key: String, value: String)] {
        id.split(separator: ",").compactMap { piece in
            guard let eq = piece.firstIndex(of: "=") else { return nil }
            return (String(piece[..<eq]), String(piece[eq...].dropFirst()))
        }
    }
}

extension ExperimentConfig {
    /// 8 hex digits of SHA-256 of the canonical YAML without `threads`: the thread count
    /// is where a run executes, not what it computes, so changing `--threads` resumes a
    /// run instead of starting a new one.
    public var hash: String { String(SHA256.hex(render(includeThreads: false)).prefix(8)) }
}

/// Builds run ids from swept values.
enum RunID {
    /// Longest id kept whole; longer ones are cut (the hash still tells runs apart).
    static let maxLength = 180

    /// The id of each run from its `key=value` pieces, made unique (a clash, possible
    /// after sanitising or when swept values repeat, gets `,run=INDEX` appended).
    static func ids(for runs: [[String]]) -> [String] {
        var seen: Set<String> = []
        return runs.enumerated().map { i, pieces in
            var id = pieces.isEmpty ? "run" : sanitize(pieces.map(shortened).joined(separator: ","))
            if seen.contains(id) { id += ",run=\(i)" }
            seen.insert(id)
            return id
        }
    }

    /// Longest value kept whole in an id piece; longer ones (a swept `stages` list) keep their
    /// start and a short digest of the whole, so ids stay readable and still differ.
    static let maxValueLength = 24

    static func shortened(_ piece: String) -> String {
        guard let eq = piece.firstIndex(of: "=") else { return piece }
        let value = piece[eq...].dropFirst()
        guard value.count > maxValueLength else { return piece }
        return piece[..<eq] + "=" + value.prefix(maxValueLength - 7) + "~" + SHA256.hex(String(value)).prefix(6)
    }

    /// The path and value of a `--set path=value` override that names the run, or nil for
    /// settings that say where or how a run executes rather than what it trains (threads,
    /// paths, name).
    static func override(_ text: String) -> (path: String, value: String)? {
        guard let eq = text.firstIndex(of: "=") else { return nil }
        let path = String(text[..<eq]).trimmingCharacters(in: .whitespaces)
        let excluded = ["threads", "name", "data.root", "data.splits", "init.checkpoint", "model.pretrained"]
        guard !excluded.contains(path), !path.hasPrefix("sweep") else { return nil }
        return (path, text[eq...].dropFirst().trimmingCharacters(in: .whitespaces))
    }

    /// The short key of each swept path: its last component unless another path shares it.
    static func keys(for paths: [String]) -> [String] {
        let last = paths.map { String($0.split(separator: ".").last ?? Substring($0)) }
        return paths.indices.map { i in last.filter { $0 == last[i] }.count > 1 ? paths[i] : last[i] }
    }

    /// Keeps letters, digits and `. _ = , + -`; anything else (`/`, spaces, brackets)
    /// becomes `_`, so an id is one path component on every file system.
    static func sanitize(_ s: String) -> String {
        var out = String(s.map { $0.isASCII && ($0.isLetter || $0.isNumber || "._=,+-".contains($0)) ? $0 : "_" })
        if out.hasPrefix(".") || out.hasPrefix("-") { out = "_" + out.dropFirst() }
        return String(out.prefix(maxLength))
    }
}
