/// torchvision's ResNet (He et al., 2016; v1.5) with identical module names, parameter counts and
/// state-dict keys (`conv1.weight`, `layer1.0.conv1.weight`, `layer2.0.downsample.1.running_mean`,
/// `fc.bias`), so torchvision's ImageNet weights load by name.
///
/// As a segmentation backbone it has no `fc` (what torchvision's `IntermediateLayerGetter` keeps)
/// and may trade the stride of its last stages for dilation (`replace_stride_with_dilation`), so
/// layer4's output is 1/8 or 1/16 of the input instead of 1/32. `forwardFeatures` gives the stem's
/// and every stage's output for decoders that read several (FCN/DeepLab aux heads, ResNet-UNet).
///
/// `widths` are the planes of layer1…layer4 (torchvision: 64, 128, 256, 512; the stem has
/// widths[0] channels); narrower ones keep the PyTorch fixtures small.
public final class ResNet: Module, Layer {
    /// The standard depths: BasicBlocks for 18 and 34, Bottlenecks for 50, 101 and 152.
    public enum Depth: String, CaseIterable, Sendable {
        case resnet18, resnet34, resnet50, resnet101, resnet152

        /// Blocks in layer1…layer4.
        public var blocks: [Int] {
            switch self {
            case .resnet18: [2, 2, 2, 2]
            case .resnet34, .resnet50: [3, 4, 6, 3]
            case .resnet101: [3, 4, 23, 3]
            case .resnet152: [3, 8, 36, 3]
            }
        }

        public var bottleneck: Bool { self != .resnet18 && self != .resnet34 }

        /// Output channels of a block per plane: 1 (BasicBlock) or 4 (Bottleneck).
        public var expansion: Int { bottleneck ? Bottleneck.expansion : BasicBlock.expansion }
    }

    /// How much smaller layer4's output is than the input.
    public enum OutputStride: Int, CaseIterable, Sendable {
        /// Dilation in layer3 and layer4 (FCN and DeepLabV3 in torchvision).
        case os8 = 8
        /// Dilation in layer4 only (DeepLabV3's faster setting).
        case os16 = 16
        /// Plain strides: the classification network.
        case os32 = 32

        /// torchvision's `replace_stride_with_dilation` for layer2, layer3, layer4.
        public var replaceStrideWithDilation: [Bool] {
            switch self {
            case .os8: [false, true, true]
            case .os16: [false, false, true]
            case .os32: [false, false, false]
            }
        }
    }

    public let conv1: Conv2d
    public let bn1: BatchNorm2d
    public let relu: ReLU
    public let maxpool: MaxPool2d
    public let layer1: Sequential
    public let layer2: Sequential
    public let layer3: Sequential
    public let layer4: Sequential
    public let avgpool: GlobalAvgPool2d?
    /// The ImageNet classifier; nil in a segmentation backbone.
    public let fc: Linear?

    public let depth: Depth
    public let outputStride: OutputStride
    public let widths: [Int]
    /// Channels of the stem's output and of layer1…layer4's (64, 256, 512, 1024, 2048 for resnet50).
    public let featureChannels: [Int]

    /// - Parameters:
    ///   - numClasses: the size of the `fc` classifier (torchvision: 1000), or nil for a backbone.
    public init(_ depth: Depth, outputStride: OutputStride = .os32, numClasses: Int? = nil, inChannels: Int = 3,
                widths: [Int] = [64, 128, 256, 512], rng: inout SeededRandom) {
        precondition(widths.count == 4 && widths.allSatisfy { $0 > 0 }, "ResNet: widths \(widths) must be 4 positive numbers")
        self.depth = depth
        self.outputStride = outputStride
        self.widths = widths
        conv1 = Conv2d(inChannels, widths[0], kernelSize: 7, stride: 2, padding: 3, bias: false, rng: &rng)
        bn1 = BatchNorm2d(widths[0], fusedReLU: true)
        relu = ReLU(fusedIntoPrevious: true)
        maxpool = MaxPool2d(kernelSize: 3, stride: 2, padding: 1)
        var channels = widths[0], dilation = 1
        var stages: [Sequential] = []
        for (i, dilate) in ([false] + outputStride.replaceStrideWithDilation).enumerated() {
            let made = makeResNetStage(bottleneck: depth.bottleneck, inplanes: channels, planes: widths[i],
                                       blocks: depth.blocks[i], stride: i == 0 ? 1 : 2, dilate: dilate,
                                       dilation: dilation, rng: &rng)
            stages.append(made.stage)
            channels = made.channels
            dilation = made.dilation
        }
        (layer1, layer2, layer3, layer4) = (stages[0], stages[1], stages[2], stages[3])
        featureChannels = [widths[0]] + widths.map { $0 * depth.expansion }
        if let numClasses {
            avgpool = GlobalAvgPool2d()
            fc = Linear(channels, numClasses, rng: &rng)
        } else {
            avgpool = nil
            fc = nil
        }
        super.init()
        // torchvision's initialisation: kaiming_normal_(mode="fan_out", nonlinearity="relu") for
        // every convolution (BatchNorm starts at weight 1, bias 0; fc keeps nn.Linear's default).
        for (_, module) in namedModules() {
            guard let conv = module as? Conv2d else { continue }
            let fanOut = conv.outChannels * conv.kernelSize * conv.kernelSize
            conv.weight.value.fillNormal(std: (2 / Float(fanOut)).squareRoot(), &rng)
        }
    }

    /// The stem's output (conv1–bn1–relu, 1/2 size, before max pooling) and each stage's:
    /// 1/4, 1/8, then 1/16 and 1/32 unless dilated.
    public struct Features {
        public let stem: Tensor
        public let layer1: Tensor
        public let layer2: Tensor
        public let layer3: Tensor
        public let layer4: Tensor
    }

    /// Runs the backbone and returns every stage's output.
    public func forwardFeatures(_ x: Tensor) -> Features {
        let stem = relu(bn1(conv1(x)))
        let l1 = layer1(maxpool(stem))
        let l2 = layer2(l1)
        let l3 = layer3(l2)
        return Features(stem: stem, layer1: l1, layer2: l2, layer3: l3, layer4: layer4(l3))
    }

    /// Class logits [N, numClasses] when the network has `fc`, else layer4's output.
    public func forward(_ x: Tensor) -> Tensor {
        let features = forwardFeatures(x)
        guard let fc, let avgpool else { return features.layer4 }
        return fc(avgpool(features.layer4))
    }
}
