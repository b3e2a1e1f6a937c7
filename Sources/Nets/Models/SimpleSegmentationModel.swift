/// A backbone torchvision's segmentation heads read: its deepest features (`out`, for the
/// classifier) and shallower ones (`aux`, for the auxiliary head): a ResNet's layer4 and layer3,
/// or MobileNetV3's last features and C2.
public protocol SegmentationBackbone: Module {
    func segmentationFeatures(_ x: Tensor) -> (aux: Tensor, out: Tensor)
    var segmentationChannels: (aux: Int, out: Int) { get }
}

extension ResNet: SegmentationBackbone {
    public func segmentationFeatures(_ x: Tensor) -> (aux: Tensor, out: Tensor) {
        let f = forwardFeatures(x)
        return (f.layer3, f.layer4)
    }

    public var segmentationChannels: (aux: Int, out: Int) { (featureChannels[3], featureChannels[4]) }
}

/// torchvision's `_SimpleSegmentationModel`, the shape FCN and DeepLabV3 share: a `backbone`,
/// a `classifier` head on its deepest features whose logits are upsampled bilinearly
/// (align_corners=False) to the input size, and an optional `aux_classifier` (FCNHead) on the
/// shallower ones for the auxiliary loss. Keys: `backbone.conv1.weight`, `classifier.4.bias`,
/// `aux_classifier.0.weight`.
///
/// The auxiliary logits are computed in training forwards only (torchvision also computes
/// them in eval, where nothing uses them).
public class SimpleSegmentationModel: Module, SegmentationModel {
    public let backbone: any SegmentationBackbone
    public let classifier: Sequential
    public let auxClassifier: Sequential?
    public let numClasses: Int

    init(backbone: any SegmentationBackbone, classifier: Sequential, auxClassifier: Sequential?, numClasses: Int) {
        self.backbone = backbone
        self.classifier = classifier
        self.auxClassifier = auxClassifier
        self.numClasses = numClasses
    }

    /// Logits N×classes×H×W for an image batch N×C×H×W (any H, W).
    public func forward(_ x: Tensor) -> SegmentationOutput {
        let features = backbone.segmentationFeatures(x)
        let out = bilinearResize(classifier(features.out), height: x.h, width: x.w, alignCorners: false)
        guard training, let auxClassifier else { return SegmentationOutput(out: out) }
        let aux = bilinearResize(auxClassifier(features.aux), height: x.h, width: x.w, alignCorners: false)
        return SegmentationOutput(out: out, aux: aux)
    }

    public var groups: [String: [String]] { backboneClassifierGroups.merging(["aux": ["aux_classifier"]]) { $1 } }
}

/// torchvision's `fcn_resnet50`/`fcn_resnet101` (Long et al., 2015, on a dilated ResNet), and
/// the same on resnet18/34 with the heads' widths following the backbone: FCNHead on layer4
/// (2048 → 512 → classes for Bottleneck ResNets, 512 → 128 → classes for BasicBlock ones),
/// auxiliary FCNHead on layer3 (1024 → 256, or 256 → 64). fcn_resnet50 with 21 classes and
/// the aux head has 35,322,218 parameters, as in torchvision.
public final class FCN: SimpleSegmentationModel {
    public init(backbone: ResNet, numClasses: Int, auxiliary: Bool = false, rng: inout SeededRandom) {
        precondition(backbone.fc == nil, "a segmentation backbone has no fc classifier")
        let channels = backbone.segmentationChannels
        super.init(backbone: backbone, classifier: fcnHead(channels.out, classes: numClasses, rng: &rng),
                   auxClassifier: auxiliary ? fcnHead(channels.aux, classes: numClasses, rng: &rng) : nil,
                   numClasses: numClasses)
    }

    /// A fresh backbone of the given depth (output stride 8, as torchvision's) and its heads.
    public convenience init(_ depth: ResNet.Depth, numClasses: Int, auxiliary: Bool = false,
                            outputStride: ResNet.OutputStride = .os8, inChannels: Int = 3,
                            widths: [Int] = [64, 128, 256, 512], rng: inout SeededRandom) {
        let backbone = ResNet(depth, outputStride: outputStride, inChannels: inChannels, widths: widths, rng: &rng)
        self.init(backbone: backbone, numClasses: numClasses, auxiliary: auxiliary, rng: &rng)
    }
}

/// torchvision's `deeplabv3_resnet50`/`deeplabv3_resnet101` (Chen et al., 2017), the same on
/// resnet18/34, and `deeplabv3_mobilenet_v3_large`: DeepLabHead (ASPP → 3×3 conv → BN → ReLU →
/// 1×1) on layer4 (MobileNetV3's last features), auxiliary FCNHead on layer3 (its C2).
/// deeplabv3_resnet50 with 21 classes and the aux head has 42,004,074 parameters,
/// deeplabv3_mobilenet_v3_large 11,029,328.
public final class DeepLabV3: SimpleSegmentationModel {
    /// The ASPP's dilation rates.
    public let atrousRates: [Int]

    /// - Parameters:
    ///   - atrousRates: nil for the paper's defaults at a ResNet's output stride (`defaultRates`),
    ///     and torchvision's 12, 24, 36 on MobileNetV3.
    ///   - asppChannels: the width of every ASPP branch and of the head (256 in torchvision).
    public init(backbone: any SegmentationBackbone, numClasses: Int, auxiliary: Bool = false, atrousRates: [Int]? = nil,
                asppChannels: Int = 256, rng: inout SeededRandom) {
        let channels = backbone.segmentationChannels
        let rates = atrousRates ?? DeepLabV3.defaultRates((backbone as? ResNet)?.outputStride ?? .os8)
        self.atrousRates = rates
        super.init(backbone: backbone,
                   classifier: deepLabHead(channels.out, classes: numClasses, atrousRates: rates,
                                           channels: asppChannels, rng: &rng),
                   auxClassifier: auxiliary ? fcnHead(channels.aux, classes: numClasses, rng: &rng) : nil,
                   numClasses: numClasses)
    }

    /// A fresh backbone of the given depth (output stride 8 as in torchvision, or 16) and its heads.
    public convenience init(_ depth: ResNet.Depth, numClasses: Int, auxiliary: Bool = false,
                            outputStride: ResNet.OutputStride = .os8, atrousRates: [Int]? = nil,
                            asppChannels: Int = 256, inChannels: Int = 3, widths: [Int] = [64, 128, 256, 512],
                            rng: inout SeededRandom) {
        let backbone = ResNet(depth, outputStride: outputStride, inChannels: inChannels, widths: widths, rng: &rng)
        self.init(backbone: backbone, numClasses: numClasses, auxiliary: auxiliary, atrousRates: atrousRates,
                  asppChannels: asppChannels, rng: &rng)
    }

    /// torchvision's `deeplabv3_mobilenet_v3_large`: a dilated MobileNetV3-Large (1/16) and its heads.
    public convenience init(mobileNetV3 numClasses: Int, auxiliary: Bool = false, atrousRates: [Int]? = nil,
                            asppChannels: Int = 256, inChannels: Int = 3, widthMultiplier: Double = 1,
                            rng: inout SeededRandom) {
        let backbone = MobileNetV3Backbone(inChannels: inChannels, widthMultiplier: widthMultiplier, rng: &rng)
        self.init(backbone: backbone, numClasses: numClasses, auxiliary: auxiliary, atrousRates: atrousRates,
                  asppChannels: asppChannels, rng: &rng)
    }

    /// 12, 24, 36 at output stride 8 (torchvision, and the paper's setting for OS 8), 6, 12, 18 at
    /// 16 (the paper's), 3, 6, 9 at 32: the rates scale with the feature map so that each branch
    /// sees the same part of the image (rate × stride = 96, 192, 288 input pixels).
    public static func defaultRates(_ outputStride: ResNet.OutputStride) -> [Int] {
        [96, 192, 288].map { $0 / outputStride.rawValue }
    }
}
