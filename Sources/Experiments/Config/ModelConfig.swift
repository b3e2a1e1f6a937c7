/// The network architectures a config can name. The parser accepts all of them; the
/// trainer reports (at `model.name`) the ones whose models are not built yet.
public enum ModelName: String, ConfigChoice {
    case unet, fcn, deeplabv3
}

/// How a UNet decoder upsamples: bilinear (×2, `align_corners=True`) then convolution,
/// or a learned 2×2 transposed convolution.
public enum UpsampleMode: String, ConfigChoice {
    case bilinear, transposed
}

/// The `model:` section. Defaults are the DRIVE recipe's `UNet(in_channels=3, base_c=32,
/// bilinear=True)`; `num_classes` comes from `data.num_classes`.
public struct ModelConfig: Equatable, Sendable {
    public var name = ModelName.unet
    public var inChannels = 3
    /// UNet width: channels of the first block (doubling down to base_c × 16).
    public var baseC = 32
    public var upsample = UpsampleMode.bilinear
    /// Encoder/backbone name for models that have one (e.g. `resnet50`); nil: the model's default.
    public var backbone: String?
    /// A safetensors file with pretrained backbone weights (path resolved like `data.root`).
    public var pretrained: String?

    public init() {}
}

extension ModelConfig {
    /// `base_c` and `upsample` only mean something for UNet; for other models they are
    /// ignored (so a base file's UNet settings do not block an override to FCN) and left
    /// out of the resolved config.
    init(_ r: SectionReader) {
        self.init()
        name = r.choice("name", name)
        inChannels = r.int("in_channels", inChannels)
        r.check("in_channels", inChannels >= 1, "must be >= 1")
        if name == .unet {
            baseC = r.int("base_c", baseC)
            r.check("base_c", baseC >= 1, "must be >= 1")
            upsample = r.choice("upsample", upsample)
        }
        backbone = r.optional("backbone") { r.string($0, $1) }
        if let b = backbone { r.check("backbone", !b.isEmpty, "must not be empty") }
        pretrained = r.optional("pretrained") { r.string($0, $1) }
    }

    func render(into w: inout YAMLWriter) {
        w.field("name", name.rawValue)
        w.field("in_channels", "\(inChannels)")
        if name == .unet {
            w.field("base_c", "\(baseC)")
            w.field("upsample", upsample.rawValue)
        }
        w.field("backbone", backbone.map(yamlString) ?? "null")
        w.field("pretrained", pretrained.map(yamlString) ?? "null")
    }
}
