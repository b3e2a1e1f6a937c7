/// torchvision's MobileNetV3-Large (Howard et al., 2019, "Searching for MobileNetV3") with its
/// module names, parameter counts and state-dict keys (`features.0.0.weight`,
/// `features.4.block.2.fc1.weight`, `classifier.3.bias`), so torchvision's ImageNet weights load
/// by name: a 3×3 stride-2 stem, fifteen inverted-residual blocks (1×1 expansion, depthwise
/// k×k, optional squeeze-and-excitation, 1×1 projection; ReLU or Hardswish), a 1×1 conv to
/// 960 channels and, as a classifier, pooling and two Linear layers.
///
/// As a segmentation backbone (`dilated`, as torchvision's segmentation models build it) the
/// last stage trades its stride for dilation 2, so `features` ends at 1/16 of the input.
/// `widthMultiplier` scales every width (rounded to multiples of 8), as torchvision's
/// `_width_mult` does, for small fixtures.
public final class MobileNetV3: Module, Layer {
    public let features: Sequential
    public let avgpool: GlobalAvgPool2d?
    /// The ImageNet classifier; nil in a segmentation backbone.
    public let classifier: Sequential?

    /// Output channels of each `features` entry.
    public let featureChannels: [Int]
    /// torchvision's stage indices: the stem, each strided block (C1 … C4) and the last conv,
    /// `[0, 2, 4, 7, 13, 16]`; segmentation heads read `stageIndices[2]` (C2, 1/8) and the last.
    public let stageIndices: [Int]

    /// (input, kernel, expanded, output, squeeze-and-excitation, Hardswish, stride) of each block.
    static let large: [(Int, Int, Int, Int, Bool, Bool, Int)] = [
        (16, 3, 16, 16, false, false, 1), (16, 3, 64, 24, false, false, 2), (24, 3, 72, 24, false, false, 1),
        (24, 5, 72, 40, true, false, 2), (40, 5, 120, 40, true, false, 1), (40, 5, 120, 40, true, false, 1),
        (40, 3, 240, 80, false, true, 2), (80, 3, 200, 80, false, true, 1), (80, 3, 184, 80, false, true, 1),
        (80, 3, 184, 80, false, true, 1), (80, 3, 480, 112, true, true, 1), (112, 3, 672, 112, true, true, 1),
        (112, 5, 672, 160, true, true, 2), (160, 5, 960, 160, true, true, 1), (160, 5, 960, 160, true, true, 1),
    ]

    public init(numClasses: Int? = nil, dilated: Bool = false, inChannels: Int = 3, widthMultiplier: Double = 1,
                rng: inout SeededRandom) {
        let width = { (c: Int) in makeDivisible(Double(c) * widthMultiplier) }
        var layers: [any Layer] = [convNormActivation(inChannels, width(16), kernelSize: 3, stride: 2, .hardswish, rng: &rng)]
        var channels = [width(16)], stages = [0]
        for (i, b) in MobileNetV3.large.enumerated() {
            // The last stage (C4 on) is dilated in a segmentation backbone.
            let dilation = dilated && i >= 12 ? 2 : 1
            layers.append(InvertedResidual(width(b.0), kernelSize: b.1, expanded: width(b.2), output: width(b.3),
                                           squeezeExcitation: b.4, hardswish: b.5, stride: b.6, dilation: dilation,
                                           rng: &rng))
            channels.append(width(b.3))
            if b.6 > 1 { stages.append(layers.count - 1) }
        }
        let last = 6 * width(160)
        layers.append(convNormActivation(width(160), last, kernelSize: 1, .hardswish, rng: &rng))
        channels.append(last)
        stages.append(layers.count - 1)
        features = Sequential(layers)
        featureChannels = channels
        stageIndices = stages
        if let numClasses {
            let hidden = width(1280)
            avgpool = GlobalAvgPool2d()
            classifier = Sequential(Linear(last, hidden, rng: &rng), Hardswish(), Dropout(p: 0.2, seed: rng.next()),
                                    Linear(hidden, numClasses, rng: &rng))
        } else {
            avgpool = nil
            classifier = nil
        }
        super.init()
        // torchvision's initialisation: kaiming_normal_(mode="fan_out") for convolutions with zero
        // biases, N(0, 0.01) for Linear weights with zero biases (BatchNorm starts at 1 and 0).
        for (_, module) in namedModules() {
            if let conv = module as? Conv2d {
                conv.weight.value.fillNormal(std: (2 / Float(conv.outChannels * conv.kernelSize * conv.kernelSize)).squareRoot(), &rng)
                conv.bias?.value.fill(0)
            } else if let linear = module as? Linear {
                linear.weight.value.fillNormal(std: 0.01, &rng)
                linear.bias?.value.fill(0)
            }
        }
    }

    /// Class logits [N, numClasses] with the classifier, else the last features (960 channels).
    public func forward(_ x: Tensor) -> Tensor {
        let h = features(x)
        guard let avgpool, let classifier else { return h }
        return classifier(avgpool(h))
    }
}

/// MobileNetV3-Large's `features` as torchvision's segmentation models hold them
/// (`IntermediateLayerGetter(backbone.features, ...)`: keys `backbone.0.0.weight` …), dilated in
/// the last stage: C2 (1/8, 40 channels, what LR-ASPP's low branch and DeepLabV3's aux head
/// read) and the last features (1/16, 960 channels).
public final class MobileNetV3Backbone: Module, SegmentationBackbone {
    public let features: Sequential
    /// The `features` entries read: C2 and the last.
    private let taps: [Int]
    public let segmentationChannels: (aux: Int, out: Int)

    public init(inChannels: Int = 3, widthMultiplier: Double = 1, rng: inout SeededRandom) {
        let net = MobileNetV3(dilated: true, inChannels: inChannels, widthMultiplier: widthMultiplier, rng: &rng)
        let stages = net.stageIndices
        taps = [stages[stages.count - 4], stages[stages.count - 1]]
        features = net.features
        segmentationChannels = (net.featureChannels[taps[0]], net.featureChannels[taps[1]])
    }

    /// The features' entries are the backbone's own children, as in torchvision.
    public override func namedChildren() -> [(String, Module)] { features.namedChildren() }

    public func segmentationFeatures(_ x: Tensor) -> (aux: Tensor, out: Tensor) {
        let f = features.forward(x, taps: taps)
        return (f[0], f[1])
    }

    /// torchvision's mobilenet_v3_large state dict (`features.*`) loads into a model's
    /// `backbone` by name.
    public static let torchvisionKeys = StateDict.KeyMap(filePrefix: "features.", modelPrefix: "backbone.")
}

/// MobileNetV3's block, torchvision's `InvertedResidual` (keys `block.0.0.weight`, …): a 1×1
/// expansion (left out when it would not widen), a depthwise k×k conv (strided, or dilated),
/// optional squeeze-and-excitation, and a linear 1×1 projection; the input is added back when
/// the shape is kept.
public final class InvertedResidual: Module, Layer {
    public let block: Sequential
    public let usesResidual: Bool

    init(_ input: Int, kernelSize: Int, expanded: Int, output: Int, squeezeExcitation: Bool, hardswish: Bool,
         stride: Int, dilation: Int, rng: inout SeededRandom) {
        let activation: NormActivation = hardswish ? .hardswish : .relu
        var layers: [any Layer] = []
        if expanded != input {
            layers.append(convNormActivation(input, expanded, kernelSize: 1, activation, rng: &rng))
        }
        layers.append(convNormActivation(expanded, expanded, kernelSize: kernelSize, stride: dilation > 1 ? 1 : stride,
                                         dilation: dilation, groups: expanded, activation, rng: &rng))
        if squeezeExcitation {
            layers.append(SqueezeExcitation(expanded, squeezed: makeDivisible(Double(expanded / 4)), rng: &rng))
        }
        layers.append(convNormActivation(expanded, output, kernelSize: 1, .none, rng: &rng))
        block = Sequential(layers)
        usesResidual = stride == 1 && input == output
    }

    public func forward(_ x: Tensor) -> Tensor {
        usesResidual ? add(block(x), x) : block(x)
    }
}

/// torchvision's `SqueezeExcitation(input, squeeze)` with Hardsigmoid, as MobileNetV3 uses it:
/// each channel is scaled by hardsigmoid(fc2(relu(fc1(mean over the image)))), fc1 and fc2
/// being 1×1 convolutions with bias.
public final class SqueezeExcitation: Module, Layer {
    let avgpool = GlobalAvgPool2d()
    public let fc1: Conv2d
    let activation = ReLU()
    public let fc2: Conv2d
    let scaleActivation = Hardsigmoid()

    public init(_ channels: Int, squeezed: Int, rng: inout SeededRandom) {
        fc1 = Conv2d(channels, squeezed, kernelSize: 1, rng: &rng)
        fc2 = Conv2d(squeezed, channels, kernelSize: 1, rng: &rng)
    }

    public func forward(_ x: Tensor) -> Tensor {
        scaleChannels(x, by: scaleActivation(fc2(activation(fc1(avgpool(x))))))
    }
}

/// The activation after a `convNormActivation`.
enum NormActivation { case relu, hardswish, none }

/// torchvision's `Conv2dNormActivation`: conv (no bias, "same" padding) → BatchNorm (eps 0.001,
/// momentum 0.01, MobileNetV3's) → activation; a ReLU runs fused into the BatchNorm, kept as a
/// pass-through module so that indices match.
func convNormActivation(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, dilation: Int = 1,
                        groups: Int = 1, _ activation: NormActivation, rng: inout SeededRandom) -> Sequential {
    let conv = Conv2d(inChannels, outChannels, kernelSize: kernelSize, stride: stride,
                      padding: (kernelSize - 1) / 2 * dilation, dilation: dilation, groups: groups, bias: false, rng: &rng)
    let norm = BatchNorm2d(outChannels, eps: 0.001, momentum: 0.01, fusedReLU: activation == .relu)
    switch activation {
    case .relu: return Sequential(conv, norm, ReLU(fusedIntoPrevious: true))
    case .hardswish: return Sequential(conv, norm, Hardswish())
    case .none: return Sequential(conv, norm)
    }
}

/// torchvision's `_make_divisible(v, 8)`: the nearest multiple of 8 (at least 8) that is not
/// more than 10% below `v`.
func makeDivisible(_ v: Double, _ divisor: Int = 8) -> Int {
    var rounded = max(divisor, Int(v + Double(divisor) / 2) / divisor * divisor)
    if Double(rounded) < 0.9 * v { rounded += divisor }
    return rounded
}
