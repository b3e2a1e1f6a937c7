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

extension StageConfig {
    /// Reads `stages:` (absent or null: no stages).
    static func readList(_ node: YAMLNode?, root: SectionReader, batchSize: Int, lr: Double) -> [StageConfig] {
        guard let node, !node.isNull else { return [] }
        guard let items = node.sequence else {
            root.diagnostics.error("stages must be a list of {epochs, freeze, batch_size, lr} entries, got \(node.summary)", at: node.location)
            return []
        }
        guard case .list(let schema) = ConfigSchema.root.child("stages") else { preconditionFailure("stages schema") }
        return items.enumerated().map { i, item in
            let r = SectionReader(item, path: "stages.\(i)", schema: schema, fallback: item.location,
                                  diagnostics: root.diagnostics, locations: root.locations)
            if !r.has("epochs") { r.diagnostics.error("stages.\(i) needs epochs", at: item.location) }
            let stage = StageConfig(
                epochs: r.int("epochs", 1),
                freeze: r.optional("freeze") { key, n in r.list(key, n, single: true) { r.string($0, $1) } } ?? [],
                batchSize: r.int("batch_size", batchSize),
                lr: r.double("lr", lr))
            r.check("epochs", stage.epochs >= 1, "must be >= 1")
            r.check("freeze", stage.freeze.allSatisfy { !$0.isEmpty }, "names must not be empty")
            r.check("batch_size", stage.batchSize >= 1, "must be >= 1")
            r.check("lr", stage.lr > 0 && stage.lr.isFinite, "must be > 0")
            return stage
        }
    }

    func render(into w: inout YAMLWriter) {
        w.field("epochs", "\(epochs)")
        w.field("freeze", yamlFlow(freeze.map(yamlString)))
        w.field("batch_size", "\(batchSize)")
        w.field("lr", yamlNumber(lr))
    }
}
