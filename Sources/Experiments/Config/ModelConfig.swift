/// The network architectures a config can name.
public enum ModelName: String, ConfigChoice {
    case unet, unetpp, fcn, deeplabv3, deeplabv3plus, lraspp
}

/// How a decoder upsamples: bilinear interpolation, or a learned transposed convolution
/// (UNet: 2×2 stride 2; classic FCN: the paper's bilinear-initialised deconvolutions).
public enum UpsampleMode: String, ConfigChoice {
    case bilinear, transposed
}

/// A UNet's encoder: the plain UNet with `base_c`, the VGG-UNet recipe's VGG16 or ResNet-50
/// trunk, or the DRIVE recipe's MobileNetV3-Large (`MobileV3Unet`).
public enum UNetEncoderName: String, ConfigChoice {
    case plain, vgg16, vgg16_bn, resnet50, mobilenet_v3_large
}

/// The backbone of an FCN or DeepLabV3 (torchvision's names).
public enum BackboneName: String, ConfigChoice {
    case resnet18, resnet34, resnet50, resnet101, vgg16, vgg16_bn, mobilenet_v3_large

    var isVGG: Bool { self == .vgg16 || self == .vgg16_bn }
    var isResNet: Bool { !isVGG && self != .mobilenet_v3_large }
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
    /// UNet and UNet++ width: channels of the first block (doubling down to base_c × 16).
    public var baseC = 32
    public var upsample = UpsampleMode.bilinear
    /// UNet encoder (`plain` uses `base_c`).
    public var encoder = UNetEncoderName.plain
    /// FCN / DeepLabV3 / DeepLabV3+ backbone (DeepLabV3 also on `mobilenet_v3_large`).
    public var backbone = BackboneName.resnet50
    /// ResNet output stride (8 or 16) for FCN / DeepLabV3 / DeepLabV3+.
    public var outputStride = 8
    /// Whether FCN / DeepLabV3 train with the auxiliary head on layer3 (its loss weight is `loss.aux`).
    public var aux = false
    /// Classic FCN (VGG16 backbone): fusion variant and width of the fc6/fc7 convolutions.
    public var variant = FCNVariant.fcn8s
    public var fcChannels = 4096
    /// DeepLabV3 / DeepLabV3+ ASPP atrous rates; nil: 12/24/36 at output stride 8, 6/12/18 at 16.
    public var asppRates: [Int]?
    /// UNet++: a 1×1 head on each of the four nested levels, trained on the mean of their losses.
    public var deepSupervision = false
    /// UNet++: the level (1…4) whose head predicts in evaluation, computing only the nodes it
    /// reads (the paper's pruned UNet++ L1…L4); below 4 needs `deep_supervision`.
    public var prune = 4
    /// A safetensors file with pretrained backbone weights (path resolved like `data.root`).
    public var pretrained: String?

    public init() {}

    /// True when the model is a classic FCN on a VGG16 backbone.
    var isClassicFCN: Bool { name == .fcn && backbone.isVGG }
}

extension ModelConfig: ConfigSection {
    /// Settings of other families are ignored (so a base file's UNet settings do not block an
    /// override to FCN) and left out of the resolved config. `upsample` comes after
    /// `variant`, where the classic FCN's config.yaml has it; a UNet's still has it right
    /// after `base_c`, since the FCN keys between do not apply to a UNet.
    static let keys: [ConfigKey<ModelConfig>] = [
        .value("name", \.name),
        .value("in_channels", \.inChannels, check: { [($0.inChannels >= 1, "must be >= 1")] }),
        .value("encoder", \.encoder, when: { $0.name == .unet }),
        .value("base_c", \.baseC, when: { $0.isPlainUNet || $0.name == .unetpp },
               check: { [($0.baseC >= 1, "must be >= 1")] }),
        .value("deep_supervision", \.deepSupervision, when: { $0.name == .unetpp }),
        .value("prune", \.prune, when: { $0.name == .unetpp }, check: { m in
            [((1...4).contains(m.prune), "must be 1, 2, 3 or 4"),
             (m.prune == 4 || m.deepSupervision, "below 4 needs deep_supervision: true (only the deepest level has a head without it)")]
        }),
        .value("backbone", \.backbone, when: { $0.hasBackbone }, check: { m in
            switch m.name {
            case .deeplabv3:
                return [(!m.backbone.isVGG, "must be a ResNet (resnet18, resnet34, resnet50 or resnet101) or "
                         + "mobilenet_v3_large for deeplabv3")]
            case .deeplabv3plus:
                return [(m.backbone.isResNet, "must be a ResNet for deeplabv3plus (resnet18, resnet34, resnet50 or resnet101)")]
            default:
                return [(m.backbone != .mobilenet_v3_large, "must be a ResNet or VGG16 for fcn "
                         + "(mobilenet_v3_large serves deeplabv3 and, as name: lraspp, LR-ASPP)")]
            }
        }),
        .value("variant", \.variant, when: { $0.isClassicFCN }),
        // The classic FCN's default is the paper's learned (bilinear-initialised) deconvolutions.
        .value("upsample", \.upsample, when: { $0.isPlainUNet || $0.isClassicFCN },
               default: { $0.isClassicFCN ? .transposed : $0.upsample }),
        .value("fc_channels", \.fcChannels, when: { $0.isClassicFCN }, check: { [($0.fcChannels >= 1, "must be >= 1")] }),
        .value("output_stride", \.outputStride, when: { $0.hasResNetHead && $0.backbone.isResNet },
               check: { [($0.outputStride == 8 || $0.outputStride == 16, "must be 8 or 16")] }),
        .value("aux", \.aux, when: { $0.hasResNetHead && $0.name != .deeplabv3plus }),
        .value("aspp_rates", \.asppRates, when: { $0.isDeepLab }, check: { m in
            [(m.asppRates.map { $0.count == 3 && $0.allSatisfy { $0 >= 1 } } ?? true, "needs three rates >= 1, as [12, 24, 36]")]
        }),
        .value("pretrained", \.pretrained),
    ]

    /// A UNet with its own encoder, sized by `base_c`.
    private var isPlainUNet: Bool { name == .unet && encoder == .plain }
    /// An FCN, DeepLabV3 or DeepLabV3+, which names its backbone.
    private var hasBackbone: Bool { name == .fcn || isDeepLab }
    /// A DeepLabV3 or DeepLabV3+, whose ASPP has atrous rates.
    var isDeepLab: Bool { name == .deeplabv3 || name == .deeplabv3plus }
    /// An FCN or DeepLab on a ResNet (an output stride) or MobileNetV3 (fixed at 16); all but
    /// DeepLabV3+ may have an auxiliary head.
    private var hasResNetHead: Bool { hasBackbone && !isClassicFCN }
}
