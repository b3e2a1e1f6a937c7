/// DeepLabV3+ (Chen et al., 2018, "Encoder-Decoder with Atrous Separable Convolution") as in
/// VainF/DeepLabV3Plus-Pytorch (`deeplabv3plus_resnet50` and friends), with its structure,
/// parameter counts and state-dict keys: a ResNet `backbone` at output stride 16 or 8 (no
/// `fc`; torchvision's ImageNet weights load by name), and a `classifier` that projects layer1's
/// features to 48 channels (`classifier.project`), upsamples the ASPP of layer4
/// (`classifier.aspp`) to that 1/4 size, concatenates both and scores them with a 3×3 conv,
/// BatchNorm, ReLU and a 1×1 conv (`classifier.classifier`); the logits are upsampled ×4
/// bilinearly (align_corners=False) to the input size. deeplabv3plus_resnet50 with 21 classes
/// has 39,761,845 parameters.
public final class DeepLabV3Plus: Module, SegmentationModel {
    public let backbone: ResNet
    public let classifier: DeepLabV3PlusHead
    public let numClasses: Int

    /// - Parameters:
    ///   - atrousRates: nil for 12, 24, 36 at output stride 8 and 6, 12, 18 at 16, as VainF's.
    ///   - asppChannels, decoderChannels: the widths of the ASPP and of the 3×3 decoder conv
    ///     (256 both in the reference).
    public init(_ depth: ResNet.Depth, numClasses: Int, outputStride: ResNet.OutputStride = .os16,
                atrousRates: [Int]? = nil, asppChannels: Int = 256, decoderChannels: Int = 256, inChannels: Int = 3,
                widths: [Int] = [64, 128, 256, 512], rng: inout SeededRandom) {
        backbone = ResNet(depth, outputStride: outputStride, inChannels: inChannels, widths: widths, rng: &rng)
        let channels = backbone.featureChannels
        classifier = DeepLabV3PlusHead(channels[4], lowLevelChannels: channels[1], classes: numClasses,
                                       atrousRates: atrousRates ?? DeepLabV3.defaultRates(outputStride),
                                       asppChannels: asppChannels, decoderChannels: decoderChannels, rng: &rng)
        self.numClasses = numClasses
    }

    public func forward(_ x: Tensor) -> SegmentationOutput {
        let features = backbone.forwardFeatures(x)
        let logits = classifier(lowLevel: features.layer1, out: features.layer4)
        return SegmentationOutput(out: bilinearResize(logits, height: x.h, width: x.w, alignCorners: false))
    }

    public var groups: [String: [String]] { backboneClassifierGroups }
}

/// VainF's `DeepLabHeadV3Plus(in_channels, low_level_channels, num_classes, aspp_dilate)`. Its
/// convolutions start from kaiming_normal_ (std √(2/fan-in); biases keep PyTorch's default),
/// its BatchNorms from weight 1, bias 0, as the reference's `_init_weight` does.
public final class DeepLabV3PlusHead: Module {
    public let project: Sequential
    public let aspp: ASPP
    public let classifier: Sequential

    public init(_ inChannels: Int, lowLevelChannels: Int, classes: Int, atrousRates: [Int], asppChannels: Int = 256,
                decoderChannels: Int = 256, rng: inout SeededRandom) {
        project = Sequential(convBNReLU(lowLevelChannels, 48, kernelSize: 1, rng: &rng))
        aspp = ASPP(inChannels, atrousRates: atrousRates, channels: asppChannels, dropout: 0.1, rng: &rng)
        classifier = Sequential(convBNReLU(48 + asppChannels, decoderChannels, kernelSize: 3, rng: &rng)
                                + [Conv2d(decoderChannels, classes, kernelSize: 1, rng: &rng)])
        super.init()
        for (_, module) in namedModules() {
            guard let conv = module as? Conv2d else { continue }
            conv.weight.value.fillNormal(std: (2 / Float(conv.inChannels * conv.kernelSize * conv.kernelSize)).squareRoot(), &rng)
        }
    }

    /// Logits at the low-level features' size (1/4 of the input).
    public func callAsFunction(lowLevel: Tensor, out: Tensor) -> Tensor {
        let low = project(lowLevel)
        let context = bilinearResize(aspp(out), height: low.h, width: low.w, alignCorners: false)
        return classifier(concatChannels([low, context]))
    }
}
