/// ResNet's basic residual block (He et al., 2016), torchvision's `BasicBlock` with the same
/// module names: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), two 3×3 convolutions,
/// the first carrying the stride; resnet18 and resnet34 are built from it.
///
/// Unlike torchvision, which refuses dilation here, both 3×3 convolutions take the block's
/// dilation (padding = dilation, so the size is kept), as Dilated Residual Networks (Yu et al.,
/// 2017) and segmentation_models_pytorch do: that is what lets resnet18/34 serve as output
/// stride 8 or 16 backbones for FCN and DeepLabV3 (tools/reference/resnet.py builds the same).
public final class BasicBlock: Module, Layer {
    public static let expansion = 1
    public let conv1: Conv2d
    public let bn1: BatchNorm2d
    public let conv2: Conv2d
    public let bn2: BatchNorm2d
    public let downsample: Sequential?

    public init(_ inplanes: Int, _ planes: Int, stride: Int = 1, dilation: Int = 1, downsample: Sequential? = nil,
                rng: inout SeededRandom) {
        conv1 = Conv2d(inplanes, planes, kernelSize: 3, stride: stride, padding: dilation, dilation: dilation,
                       bias: false, rng: &rng)
        // The ReLUs after bn1 (and bn2 in Bottleneck) run fused into the BatchNorm, the closing
        // one with the last BatchNorm and the residual sum (`addingReLU`).
        bn1 = BatchNorm2d(planes, fusedReLU: true)
        conv2 = Conv2d(planes, planes, kernelSize: 3, padding: dilation, dilation: dilation, bias: false, rng: &rng)
        bn2 = BatchNorm2d(planes)
        self.downsample = downsample
    }

    public func forward(_ x: Tensor) -> Tensor {
        bn2.addingReLU(conv2(bn1(conv1(x))), shortcut: downsample?(x) ?? x)
    }
}

/// ResNet's bottleneck block, torchvision's `Bottleneck` (ResNet v1.5: the stride sits on the
/// 3×3 convolution, not the first 1×1) with the same module names:
/// relu(bn3(conv3(relu(bn2(conv2(relu(bn1(conv1(x)))))))) + shortcut(x)), a 1×1 reduction to
/// `planes`, a 3×3 (strided or dilated), and a 1×1 expansion to 4·planes; resnet50/101/152.
public final class Bottleneck: Module, Layer {
    public static let expansion = 4
    public let conv1: Conv2d
    public let bn1: BatchNorm2d
    public let conv2: Conv2d
    public let bn2: BatchNorm2d
    public let conv3: Conv2d
    public let bn3: BatchNorm2d
    public let downsample: Sequential?

    public init(_ inplanes: Int, _ planes: Int, stride: Int = 1, dilation: Int = 1, downsample: Sequential? = nil,
                rng: inout SeededRandom) {
        conv1 = Conv2d(inplanes, planes, kernelSize: 1, bias: false, rng: &rng)
        bn1 = BatchNorm2d(planes, fusedReLU: true)
        conv2 = Conv2d(planes, planes, kernelSize: 3, stride: stride, padding: dilation, dilation: dilation,
                       bias: false, rng: &rng)
        bn2 = BatchNorm2d(planes, fusedReLU: true)
        conv3 = Conv2d(planes, planes * Bottleneck.expansion, kernelSize: 1, bias: false, rng: &rng)
        bn3 = BatchNorm2d(planes * Bottleneck.expansion)
        self.downsample = downsample
    }

    public func forward(_ x: Tensor) -> Tensor {
        bn3.addingReLU(conv3(bn2(conv2(bn1(conv1(x))))), shortcut: downsample?(x) ?? x)
    }
}

/// torchvision's `ResNet._make_layer`: `blocks` blocks of `planes`, the first one strided (or,
/// with `dilate`, dilated instead) and given a 1×1 conv + BatchNorm shortcut when the shape changes.
///
/// Returns the stage and the channel count and dilation the next stage starts from. As in
/// torchvision, the first block of a dilated stage keeps the previous dilation and the others use
/// the new one (dilation × stride).
func makeResNetStage(bottleneck: Bool, inplanes: Int, planes: Int, blocks: Int, stride: Int, dilate: Bool,
                     dilation: Int, rng: inout SeededRandom) -> (stage: Sequential, channels: Int, dilation: Int) {
    let expansion = bottleneck ? Bottleneck.expansion : BasicBlock.expansion
    let newDilation = dilate ? dilation * stride : dilation
    let stride = dilate ? 1 : stride
    let outChannels = planes * expansion
    var downsample: Sequential?
    if stride != 1 || inplanes != outChannels {
        downsample = Sequential(Conv2d(inplanes, outChannels, kernelSize: 1, stride: stride, bias: false, rng: &rng),
                                BatchNorm2d(outChannels))
    }
    func block(_ inplanes: Int, stride: Int, dilation: Int, downsample: Sequential?) -> any Layer {
        bottleneck
            ? Bottleneck(inplanes, planes, stride: stride, dilation: dilation, downsample: downsample, rng: &rng)
            : BasicBlock(inplanes, planes, stride: stride, dilation: dilation, downsample: downsample, rng: &rng)
    }
    var layers = [block(inplanes, stride: stride, dilation: dilation, downsample: downsample)]
    for _ in 1..<max(blocks, 1) {
        layers.append(block(outChannels, stride: 1, dilation: newDilation, downsample: nil))
    }
    return (Sequential(layers), outChannels, newDilation)
}
