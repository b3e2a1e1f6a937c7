/// One entry of `stages:`, a training phase run after the previous one, as in the
/// VGG-UNet freeze-then-unfreeze recipe. `freeze` names parameter groups the model
/// defines (`encoder`, `decoder`, `backbone`, `head`) or parameter-name prefixes; the
/// trainer resolves them. `batch_size` and `lr` default to `schedule.batch_size` and
/// `optimizer.lr` and are stored resolved.
public struct StageConfig: Equatable, Sendable {
    public var epochs: Int
    public var freeze: [String]
    public var batchSize: Int
    public var lr: Double

    public init(epochs: Int, freeze: [String] = [], batchSize: Int, lr: Double) {
        self.epochs = epochs
        self.freeze = freeze
        self.batchSize = batchSize
        self.lr = lr
    }
}

extension StageConfig: ConfigSection {
    static let keys: [ConfigKey<StageConfig>] = [
        .value("epochs", \.epochs, check: { [($0.epochs >= 1, "must be >= 1")] }),
        // One name needs no list; null freezes nothing.
        .value("freeze", \.freeze, check: { [($0.freeze.allSatisfy { !$0.isEmpty }, "names must not be empty")] },
               reading: { r, key, node, _ in node.isNull ? nil : r.list(key, node, single: true) { r.string($0, $1) } }),
        .value("batch_size", \.batchSize, check: { [($0.batchSize >= 1, "must be >= 1")] }),
        .value("lr", \.lr, check: { [($0.lr > 0 && $0.lr.isFinite, "must be > 0")] }),
    ]

    /// Reads `stages:` (absent or null: no stages).
    static func readList(_ node: YAMLNode?, root: SectionReader, batchSize: Int, lr: Double) -> [StageConfig] {
        guard let node, !node.isNull else { return [] }
        guard let items = node.sequence else {
            root.diagnostics.error("stages must be a list of {epochs, freeze, batch_size, lr} entries, got \(node.summary)", at: node.location)
            return []
        }
        return items.enumerated().map { i, item in
            let r = SectionReader(item, path: "stages.\(i)", schema: schema, fallback: item.location,
                                  diagnostics: root.diagnostics, locations: root.locations)
            if !r.has("epochs") { r.diagnostics.error("stages.\(i) needs epochs", at: item.location) }
            var stage = StageConfig(epochs: 1, batchSize: batchSize, lr: lr)
            stage.readKeys(r)
            return stage
        }
    }
}
