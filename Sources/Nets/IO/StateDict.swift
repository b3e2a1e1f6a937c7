import Foundation

/// Saving and loading a module's parameters and buffers by their state-dict keys, in
/// safetensors files that PyTorch's `model.load_state_dict(load_file(path))` accepts.
public enum StateDict {
    /// Which file keys feed which model keys. A file key is considered only when it starts
    /// with `filePrefix`; that prefix is replaced by `modelPrefix` to give the model key, and
    /// only model keys starting with `modelPrefix` count as missing when absent.
    ///
    /// - `.identity`: keys match as they are.
    /// - `.stripping("module.")`: a checkpoint saved from `nn.DataParallel`.
    /// - `KeyMap(modelPrefix: "backbone.")`: torchvision ResNet weights into `model.backbone`.
    /// - `KeyMap(filePrefix: "backbone.", modelPrefix: "backbone.")`: only the backbone of a full checkpoint.
    public struct KeyMap: Sendable, Equatable {
        public var filePrefix: String
        public var modelPrefix: String

        public init(filePrefix: String = "", modelPrefix: String = "") {
            self.filePrefix = filePrefix
            self.modelPrefix = modelPrefix
        }

        /// Keys match as they are.
        public static let identity = KeyMap()

        /// Takes the file keys under `prefix` with that prefix removed (e.g. DataParallel's `module.`).
        public static func stripping(_ prefix: String) -> KeyMap { KeyMap(filePrefix: prefix) }

        /// The model key that file key `key` loads into, or nil when the map skips it.
        public func modelKey(for key: String) -> String? {
            guard key.hasPrefix(filePrefix) else { return nil }
            return modelPrefix + key.dropFirst(filePrefix.count)
        }
    }

    /// A model key whose shape differs from the file's tensor.
    public struct ShapeMismatch: Sendable, Equatable, CustomStringConvertible {
        public let key: String
        /// The name in the file (differs from `key` when a `KeyMap` renames).
        public let fileKey: String
        public let expected: [Int]
        public let found: [Int]

        public var description: String {
            let name = key == fileKey ? key : "\(key) (file \(fileKey))"
            return "\(name) expected \(expected), file has \(found)"
        }
    }

    /// What a load did: which model keys were filled, and what did not match.
    public struct LoadReport: Sendable, CustomStringConvertible {
        /// The file loaded from.
        public let path: String
        /// Model keys filled from the file, in file order.
        public internal(set) var loaded: [String] = []
        /// Model keys (under the map's model prefix) with no tensor in the file, in model order.
        public internal(set) var missing: [String] = []
        /// File keys (under the map's file prefix) that name nothing in the model, in file order.
        public internal(set) var unexpected: [String] = []
        /// Keys present on both sides with different shapes; left untouched.
        public internal(set) var mismatched: [ShapeMismatch] = []
        /// File keys outside the map's file prefix, ignored on purpose.
        public internal(set) var skipped = 0

        /// True when every considered key on both sides matched.
        public var isComplete: Bool { missing.isEmpty && unexpected.isEmpty && mismatched.isEmpty }

        /// Several lines for people: counts, then each kind of problem with up to 10 keys.
        public var description: String {
            var lines = ["\(path): loaded \(loaded.count) of \(loaded.count + missing.count + mismatched.count) model tensors"]
            for (label, items) in problems { lines.append("  \(label) (\(items.count)): \(StateDict.list(items, limit: 10))") }
            if skipped > 0 { lines.append("  skipped \(skipped) file tensors outside the key prefix") }
            return lines.joined(separator: "\n")
        }

        /// The non-empty problem lists, labelled, in a fixed order.
        var problems: [(String, [String])] {
            [("missing keys", missing), ("unexpected keys", unexpected), ("shape mismatch", mismatched.map(\.description))]
                .filter { !$0.1.isEmpty }
        }
    }

    /// A strict load found keys that do not match; the model was left unchanged.
    public struct LoadError: Error, CustomStringConvertible {
        public let report: LoadReport
        /// One line: the path, then each kind of problem with up to 20 keys.
        public var description: String {
            "\(report.path): " + report.problems.map { "\($0.0): \(StateDict.list($0.1, limit: 20))" }.joined(separator: "; ")
        }
    }

    /// `items` joined by commas, cut after `limit` with a count of the rest.
    static func list(_ items: [String], limit: Int) -> String {
        let shown = items.prefix(limit).joined(separator: ", ")
        return items.count > limit ? shown + ", … (\(items.count - limit) more)" : shown
    }
}

extension Module {
    /// Every parameter and buffer with its state-dict key, in `namedParameters()` order. The
    /// tensors are the parameters' own storage (not copies), in plain PyTorch layout.
    public func stateDict() -> [(String, Tensor)] {
        namedParameters().map { ($0.0, $0.1.value) }
    }

    /// Writes the state dict to a safetensors file, atomically. Weights and buffers are F32;
    /// counters are I64, as PyTorch stores `num_batches_tracked`.
    public func save(to path: String, metadata: [String: String] = [:]) throws {
        let params = namedParameters()
        let counters = params.filter { $0.1.kind == .counter }.map { ($0.0, SafeTensors.DType.i64) }
        try SafeTensors.write(params.map { ($0.0, $0.1.value) },
                              dtypes: Dictionary(counters, uniquingKeysWith: { a, _ in a }),
                              metadata: metadata, to: path)
    }

    /// Loads parameters and buffers by key from a safetensors file, converting any stored dtype
    /// to Float32 and writing into the existing tensors in place.
    ///
    /// Strict (the default): any missing, unexpected or mis-shaped key throws `StateDict.LoadError`
    /// before anything is written, so the model is unchanged. Not strict: loads every key
    /// that matches and reports the rest. `keys` selects and renames (see `StateDict.KeyMap`).
    @discardableResult
    public func load(from path: String, strict: Bool = true, keys: StateDict.KeyMap = .identity) throws -> StateDict.LoadReport {
        let reader = try SafeTensors.Reader(path)
        let params = namedParameters().filter { $0.0.hasPrefix(keys.modelPrefix) }
        let byKey = Dictionary(params, uniquingKeysWith: { a, _ in a })
        var report = StateDict.LoadReport(path: path)
        var plan: [(SafeTensors.TensorInfo, Parameter)] = []
        var seen = Set<String>()
        for info in reader.header.tensors {
            guard let key = keys.modelKey(for: info.name) else { report.skipped += 1; continue }
            guard let p = byKey[key] else { report.unexpected.append(info.name); continue }
            seen.insert(key)
            guard p.value.shape == info.shape else {
                report.mismatched.append(.init(key: key, fileKey: info.name, expected: p.value.shape, found: info.shape))
                continue
            }
            plan.append((info, p))
            report.loaded.append(key)
        }
        report.missing = params.map(\.0).filter { !seen.contains($0) }
        if strict && !report.isComplete { throw StateDict.LoadError(report: report) }

        for (info, p) in plan {
            if p.value.layout == .plain {
                try reader.read(info, into: p.value.data)
            } else {
                let plain = Tensor(shape: info.shape)
                try reader.read(info, into: plain.data)
                p.value.data.update(from: plain.converted(to: p.value.layout).data, count: plain.count)
            }
        }
        return report
    }
}
