/// The `init:` section: start from a safetensors checkpoint instead of random weights
/// (path resolved like `data.root`). `strict: false` loads the keys that match and
/// reports the rest, for fine-tuning a model whose head differs.
public struct InitConfig: Equatable, Sendable {
    public var checkpoint: String?
    public var strict = true

    public init() {}
}

extension InitConfig: ConfigSection {
    static let keys: [ConfigKey<InitConfig>] = [
        .value("checkpoint", \.checkpoint),
        .value("strict", \.strict, when: { $0.checkpoint != nil }),
    ]
}
