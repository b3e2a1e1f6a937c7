/// torchvision's `lraspp_mobilenet_v3_large` (Howard et al., 2019): Lite R-ASPP on a dilated
/// MobileNetV3-Large, with its structure, parameter counts and state-dict keys (`backbone.0.0.weight`
/// … `backbone.16.1.running_var`, `classifier.cbr.0.weight`, `classifier.scale.1.weight`,
/// `classifier.low_classifier.bias`, `classifier.high_classifier.bias`): 3,221,538 parameters
/// with 21 classes. The backbone's entries keep torchvision's `features` indices, so ImageNet
/// weights load with `features.` read as `backbone.`.
public final class LRASPP: Module, SegmentationModel {
    public let backbone: MobileNetV3Backbone
    public let classifier: LRASPPHead

    public init(numClasses: Int, interChannels: Int = 128, inChannels: Int = 3, widthMultiplier: Double = 1,
                rng: inout SeededRandom) {
        backbone = MobileNetV3Backbone(inChannels: inChannels, widthMultiplier: widthMultiplier, rng: &rng)
        let channels = backbone.segmentationChannels
        classifier = LRASPPHead(low: channels.aux, high: channels.out, classes: numClasses, inter: interChannels, rng: &rng)
    }

    public func forward(_ x: Tensor) -> SegmentationOutput {
        let features = backbone.segmentationFeatures(x)
        let logits = classifier(low: features.aux, high: features.out)
        return SegmentationOutput(out: bilinearResize(logits, height: x.h, width: x.w, alignCorners: false))
    }

    public var groups: [String: [String]] { backboneClassifierGroups }
}

/// torchvision's `LRASPPHead(low, high, classes, inter)`: the high-level features through a 1×1
/// conv, BatchNorm and ReLU (`cbr`), gated per channel by a sigmoid of their image mean
/// (`scale`), upsampled to the low-level size and scored; the low-level features are scored by
/// a 1×1 conv of their own; the two scores add.
public final class LRASPPHead: Module {
    public let cbr: Sequential
    public let scale: Sequential
    public let lowClassifier: Conv2d
    public let highClassifier: Conv2d

    init(low: Int, high: Int, classes: Int, inter: Int, rng: inout SeededRandom) {
        cbr = Sequential(Conv2d(high, inter, kernelSize: 1, bias: false, rng: &rng), BatchNorm2d(inter, fusedReLU: true),
                         ReLU(fusedIntoPrevious: true))
        scale = Sequential(GlobalAvgPool2d(), Conv2d(high, inter, kernelSize: 1, bias: false, rng: &rng), Sigmoid())
        lowClassifier = Conv2d(low, classes, kernelSize: 1, rng: &rng)
        highClassifier = Conv2d(inter, classes, kernelSize: 1, rng: &rng)
    }

    /// Logits at the low-level features' size (1/8 of the input).
    public func callAsFunction(low: Tensor, high: Tensor) -> Tensor {
        let gated = scaleChannels(cbr(high), by: scale(high))
        return add(lowClassifier(low), highClassifier(bilinearResize(gated, height: low.h, width: low.w, alignCorners: false)))
    }
}
