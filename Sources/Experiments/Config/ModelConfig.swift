/// The network architectures a config can name.
public enum ModelName: String, ConfigChoice {
    case unet, fcn, deeplabv3
}

/// How a decoder upsamples: bilinear interpolation, or a learned transposed convolution
/// (UNet: 2×2 stride 2; classic FCN: the paper's bilinear-initialised deconvolutions).
public enum UpsampleMode: String, ConfigChoice {
    case bilinear, transposed
}

/// A UNet's encoder: the plain UNet with `base_c`, or the VGG-UNet recipe's VGG16 features.
public enum UNetEncoderName: String, ConfigChoice {
    case plain, vgg16, vgg16_bn, resnet50
}

/// The backbone of an FCN or DeepLabV3 (torchvision's names).
public enum BackboneName: String, ConfigChoice {
    case resnet18, resnet34, resnet50, resnet101, vgg16, vgg16_bn
}

/// The classic FCN's fusion depth (VGG16 backbones): 32s (no skip), 16s (+pool4), 8s (+pool3).
public enum FCNVariant: String, ConfigChoice {
    case fcn32s = "32s", fcn16s = "16s", fcn8s = "8s"
}

/// The `model:` section. Defaults are the DRIVE recipe's `UNet(in_channels=3, base_c=32,
/// bilinear=True)`; `num_classes` comes from `data.num_classes`.
public struct ModelConfig: Equatable, Sendable {
    public var name = ModelName.unet
    public var inChannels = 3
    /// UNet width: channels of the first block (doubling down to base_c × 16).
    public var baseC = 32
    public var upsample = UpsampleMode.bilinear
    /// UNet encoder (`plain` uses `base_c`).
    public var encoder = UNetEncoderName.plain
    /// FCN / DeepLabV3 backbone.
    public var backbone = BackboneName.resnet50
    /// ResNet output stride (8 or 16) for FCN / DeepLabV3.
    public var outputStride = 8
    /// Whether FCN / DeepLabV3 train with the auxiliary head on layer3 (its loss weight is `loss.aux`).
    public var aux = false
    /// Classic FCN (VGG16 backbone): fusion variant and width of the fc6/fc7 convolutions.
    public var variant = FCNVariant.fcn8s
    public var fcChannels = 4096
    /// DeepLabV3 ASPP atrous rates; nil: 12/24/36 at output stride 8, 6/12/18 at 16.
    public var asppRates: [Int]?
    /// A safetensors file with pretrained backbone weights (path resolved like `data.root`).
    public var pretrained: String?

    public init() {}

    /// True when the model is a classic FCN on a VGG16 backbone.
    var isClassicFCN: Bool { name == .fcn && (backbone == .vgg16 || backbone == .vgg16_bn) }
}

extension ModelConfig {
    /// Settings of other families are ignored (so a base file's UNet settings do not block an
    /// override to FCN) and left out of the resolved config.
    init(_ r: SectionReader) {
        self.init()
        name = r.choice("name", name)
        inChannels = r.int("in_channels", inChannels)
        r.check("in_channels", inChannels >= 1, "must be >= 1")
        switch name {
        case .unet:
            encoder = r.choice("encoder", encoder)
            if encoder == .plain {
                baseC = r.int("base_c", baseC)
                r.check("base_c", baseC >= 1, "must be >= 1")
                upsample = r.choice("upsample", upsample)
            }
        case .fcn, .deeplabv3:
            backbone = r.choice("backbone", backbone)
            if name == .deeplabv3 {
                r.check("backbone", backbone != .vgg16 && backbone != .vgg16_bn,
                        "must be a ResNet for deeplabv3 (resnet18, resnet34, resnet50 or resnet101)")
            }
            if isClassicFCN {
                variant = r.choice("variant", variant)
                upsample = r.choice("upsample", UpsampleMode.transposed)
                fcChannels = r.int("fc_channels", fcChannels)
                r.check("fc_channels", fcChannels >= 1, "must be >= 1")
            } else {
                outputStride = r.int("output_stride", outputStride)
                r.check("output_stride", outputStride == 8 || outputStride == 16, "must be 8 or 16")
                aux = r.bool("aux", aux)
            }
            if name == .deeplabv3 {
                asppRates = r.optional("aspp_rates") { r.ints($0, $1) }
                if let rates = asppRates {
                    r.check("aspp_rates", rates.count == 3 && rates.allSatisfy { $0 >= 1 },
                            "needs three rates >= 1, as [12, 24, 36]")
                }
            }
        }
        pretrained = r.optional("pretrained") { r.string($0, $1) }
    }

    func render(into w: inout YAMLWriter) {
        w.field("name", name.rawValue)
        w.field("in_channels", "\(inChannels)")
        switch name {
        case .unet:
            w.field("encoder", encoder.rawValue)
            if encoder == .plain {
                w.field("base_c", "\(baseC)")
                w.field("upsample", upsample.rawValue)
            }
        case .fcn, .deeplabv3:
            w.field("backbone", backbone.rawValue)
            if isClassicFCN {
                w.field("variant", variant.rawValue)
                w.field("upsample", upsample.rawValue)
                w.field("fc_channels", "\(fcChannels)")
            } else {
                w.field("output_stride", "\(outputStride)")
                w.field("aux", aux ? "true" : "false")
            }
            if name == .deeplabv3 {
                w.field("aspp_rates", asppRates.map { yamlFlow($0.map(String.init)) } ?? "null")
            }
        }
        w.field("pretrained", pretrained.map(yamlString) ?? "null")
    }
}
