/// torchvision's VGG16 convolutional trunk (Simonyan & Zisserman, 2015, configuration D):
/// `vgg16().features`, or `vgg16_bn().features` with `batchNorm`. Thirteen 3×3 convolutions
/// (padding 1), each followed by ReLU (BatchNorm then ReLU with `batchNorm`), and five 2×2
/// max-pools in floor mode.
///
/// Keys are torchvision's (`features.0.weight` … `features.28.bias`, or up to
/// `features.41.*` with BatchNorm), so ImageNet weights saved from torchvision load by name.
/// The ImageNet classifier (`avgpool`, `classifier`) is left out: segmentation models use
/// the trunk only, and the classic FCN re-creates fc6/fc7 as convolutions of its own.
///
/// Segmentation models read intermediate maps with `forward(_:taps:)`.
public final class VGG16: Module, Layer {
    public let features: Sequential

    public let inChannels: Int
    public let batchNorm: Bool
    /// Output channels of the five stages: 64, 128, 256, 512, 512 divided by the width divisor.
    public let stageChannels: [Int]
    /// Indices in `features` of the five max-pools: 4, 9, 16, 23, 30 (with BatchNorm 6, 13, 23, 33, 43).
    public let poolIndices: [Int]


    /// Configuration D: convolutions per stage.
    static let convolutionsPerStage = [2, 2, 3, 3, 3]

    /// `widthDivisor` divides every width (1 is torchvision's model; larger values give narrow
    /// copies of the same structure for tests). Weights are initialised as torchvision's VGG
    /// does: Kaiming-normal with fan-out for the convolutions, zero biases, unit BatchNorm.
    public init(inChannels: Int = 3, batchNorm: Bool = false, widthDivisor: Int = 1, rng: inout SeededRandom) {
        precondition(widthDivisor > 0 && 64 % widthDivisor == 0, "VGG16: width divisor \(widthDivisor) must divide 64")
        self.inChannels = inChannels
        self.batchNorm = batchNorm
        stageChannels = [64, 128, 256, 512, 512].map { $0 / widthDivisor }
        var layers: [any Layer] = []
        var pools: [Int] = []
        var c = inChannels
        for (stage, width) in stageChannels.enumerated() {
            for _ in 0..<VGG16.convolutionsPerStage[stage] {
                let conv = Conv2d(c, width, kernelSize: 3, padding: 1, rng: &rng)
                // torchvision: kaiming_normal_(mode="fan_out", nonlinearity="relu"), bias 0. Without
                // BatchNorm, PyTorch's default conv init shrinks the signal at each of the 13 layers.
                conv.weight.value.fillNormal(std: (2 / Float(width * 9)).squareRoot(), &rng)
                conv.bias?.value.fill(0)
                layers.append(conv)
                if batchNorm {
                    // ReLU runs fused into the BatchNorm; the ReLU module keeps torchvision's indices.
                    layers.append(BatchNorm2d(width, fusedReLU: true))
                    layers.append(ReLU(fusedIntoPrevious: true))
                } else {
                    // In place is safe: the convolution before keeps its input, not its output.
                    layers.append(ReLU(inplace: true))
                }
                c = width
            }
            pools.append(layers.count)
            layers.append(MaxPool2d(kernelSize: 2))
        }
        features = Sequential(layers)
        poolIndices = pools
    }

    /// The last layer of each stage before its pooling (the ReLU whose output the VGG-UNet
    /// recipe takes as `feat1` … `feat5`).
    public var stageOutputIndices: [Int] { poolIndices.map { $0 - 1 } }

    /// The trunk's output after the fifth pooling: N×512×H/32×W/32 (floor at each pooling).
    public func forward(_ x: Tensor) -> Tensor {
        forward(x, taps: [features.layers.count - 1])[0]
    }

    /// The outputs of `features` at indices `taps` (see `Sequential.forward(_:taps:)`).
    public func forward(_ x: Tensor, taps: [Int]) -> [Tensor] { features.forward(x, taps: taps) }
}
