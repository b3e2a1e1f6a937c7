/// The contracting path of a `unet` model: the plain UNet's own, or a classification
/// backbone as in the VGG-UNet / ResNet-UNet recipe (bubbliiiing/unet-pytorch).
public enum UNetEncoder: Equatable, Sendable {
    /// The plain UNet (BatchNorm double convolutions) of base width `baseChannels`, with
    /// bilinear or transposed-convolution upsampling.
    case plain(baseChannels: Int, bilinear: Bool)
    /// torchvision's VGG16 trunk (`vgg16_bn`'s with `batchNorm`): `VGGUNet`.
    case vgg16(batchNorm: Bool)
    /// torchvision's ResNet-50, the recipe's `Unet(backbone="resnet50")`: skips from conv1
    /// (64), layer1 (256), layer2 (512), layer3 (1024), layer4 (2048), decoder `UNetUp`
    /// stages with in_filters [192, 512, 1024, 3072] and out_filters [64, 128, 256, 512],
    /// then `up_conv` (×2 bilinear upsampling, two 3×3 conv + ReLU at 64 channels) and `final`:
    /// `ResNetUNet`.
    case resnet50
    /// torchvision's MobileNetV3-Large features, the recipe's `MobileV3Unet`: `MobileV3UNet`.
    case mobileNetV3Large

    /// Builds the `unet` model with this encoder.
    public func makeModel(inChannels: Int = 3, numClasses: Int, rng: inout SeededRandom) -> any SegmentationModel {
        switch self {
        case let .plain(baseChannels, bilinear):
            return UNet(inChannels: inChannels, numClasses: numClasses, baseChannels: baseChannels, bilinear: bilinear,
                        rng: &rng)
        case let .vgg16(batchNorm):
            return VGGUNet(inChannels: inChannels, numClasses: numClasses, batchNorm: batchNorm, rng: &rng)
        case .resnet50:
            return ResNetUNet(inChannels: inChannels, numClasses: numClasses, rng: &rng)
        case .mobileNetV3Large:
            return MobileV3UNet(inChannels: inChannels, numClasses: numClasses, rng: &rng)
        }
    }

    /// How a torchvision classification state dict loads into this encoder by name, or nil
    /// when the encoder has no torchvision counterpart.
    public var torchvisionKeys: StateDict.KeyMap? {
        switch self {
        case .plain: return nil
        case .vgg16: return VGGUNet.torchvisionVGGKeys
        case .resnet50: return ResNetUNet.torchvisionKeys
        case .mobileNetV3Large: return MobileNetV3Backbone.torchvisionKeys
        }
    }
}
