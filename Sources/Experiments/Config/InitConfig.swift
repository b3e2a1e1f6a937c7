/// The `init:` section: start from a safetensors checkpoint instead of random weights
/// (path resolved like `data.root`). `strict: false` loads the keys that match and
/// reports the rest, for fine-tuning a model whose head differs.
public struct InitConfig: Equatable, Sendable {
    public var checkpoint: String?
    public var strict = true

    public init() {}
}

extension InitConfig {
    init(_ r: SectionReader) {
        self.init()
        checkpoint = r.optional("checkpoint") { r.string($0, $1) }
        if checkpoint != nil { strict = r.bool("strict", strict) }
    }

    func render(into w: inout YAMLWriter) {
        w.field("checkpoint", checkpoint.map(yamlString) ?? "null")
        if checkpoint != nil { w.field("strict", "\(strict)") }
    }
}
