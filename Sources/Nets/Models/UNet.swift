/// The UNet of the widely used PyTorch segmentation recipe (Ronneberger et al., 2015, as in
/// WZMIAOMIAO's deep-learning-for-image-processing), with identical structure, parameter
/// counts and state-dict keys (`in_conv.0.weight`, `down1.1.0.weight`, `up1.conv.0.weight`,
/// `out_conv.0.weight`, ...).
///
/// Encoder widths are base_c·{1, 2, 4, 8, 16/factor}, factor 2 with bilinear upsampling and 1
/// with transposed convolutions. Any input size works: the decoder pads each upsampled map
/// to its skip connection's size before concatenating.
public final class UNet: Module, SegmentationModel {
    public let inConv: Sequential
    public let down1: Sequential
    public let down2: Sequential
    public let down3: Sequential
    public let down4: Sequential
    public let up1: Up
    public let up2: Up
    public let up3: Up
    public let up4: Up
    public let outConv: Sequential

    public let inChannels: Int
    public let numClasses: Int
    public let baseChannels: Int
    public let bilinear: Bool

    public init(inChannels: Int = 3, numClasses: Int = 2, baseChannels: Int = 64, bilinear: Bool = true,
                rng: inout SeededRandom) {
        self.inChannels = inChannels
        self.numClasses = numClasses
        self.baseChannels = baseChannels
        self.bilinear = bilinear
        let c = baseChannels, factor = bilinear ? 2 : 1
        inConv = doubleConv(inChannels, c, rng: &rng)
        down1 = Sequential(MaxPool2d(kernelSize: 2), doubleConv(c, 2 * c, rng: &rng))
        down2 = Sequential(MaxPool2d(kernelSize: 2), doubleConv(2 * c, 4 * c, rng: &rng))
        down3 = Sequential(MaxPool2d(kernelSize: 2), doubleConv(4 * c, 8 * c, rng: &rng))
        down4 = Sequential(MaxPool2d(kernelSize: 2), doubleConv(8 * c, 16 * c / factor, rng: &rng))
        up1 = Up(16 * c, 8 * c / factor, bilinear: bilinear, rng: &rng)
        up2 = Up(8 * c, 4 * c / factor, bilinear: bilinear, rng: &rng)
        up3 = Up(4 * c, 2 * c / factor, bilinear: bilinear, rng: &rng)
        up4 = Up(2 * c, c, bilinear: bilinear, rng: &rng)
        outConv = Sequential(Conv2d(c, numClasses, kernelSize: 1, rng: &rng))
    }

    /// Logits N×classes×H×W for an image batch N×in_channels×H×W.
    public func forward(_ x: Tensor) -> SegmentationOutput {
        let x1 = inConv(x)
        let x2 = down1(x1)
        let x3 = down2(x2)
        let x4 = down3(x3)
        let x5 = down4(x4)
        var y = up1(x5, skip: x4)
        y = up2(y, skip: x3)
        y = up3(y, skip: x2)
        y = up4(y, skip: x1)
        return SegmentationOutput(out: outConv(y))
    }

    /// Parameter groups for freezing by name: the contracting path (also called `backbone`,
    /// the name torchvision-style configs use) and the expanding path.
    public static let groups: [String: [String]] = [
        "encoder": ["in_conv", "down1", "down2", "down3", "down4"],
        "backbone": ["in_conv", "down1", "down2", "down3", "down4"],
        "decoder": ["up1", "up2", "up3", "up4", "out_conv"],
        "head": ["out_conv"],
    ]
}

/// (conv 3×3 without bias → BatchNorm → ReLU) twice, the recipe's `DoubleConv(in, out, mid)`.
/// Each ReLU runs fused into its BatchNorm (one pass over the activation instead of two);
/// the ReLU modules stay so that indices, and so state-dict keys, match PyTorch's.
func doubleConv(_ inChannels: Int, _ outChannels: Int, mid: Int? = nil, rng: inout SeededRandom) -> Sequential {
    let mid = mid ?? outChannels
    return Sequential(
        Conv2d(inChannels, mid, kernelSize: 3, padding: 1, bias: false, rng: &rng),
        BatchNorm2d(mid, fusedReLU: true),
        ReLU(fusedIntoPrevious: true),
        Conv2d(mid, outChannels, kernelSize: 3, padding: 1, bias: false, rng: &rng),
        BatchNorm2d(outChannels, fusedReLU: true),
        ReLU(fusedIntoPrevious: true))
}

/// A decoder stage: upsample ×2 (bilinear with align_corners=True, or a stride-2 transposed
/// convolution), pad to the skip's size, concatenate [skip, upsampled], then DoubleConv.
public final class Up: Module {
    public let up: any Layer
    public let conv: Sequential

    init(_ inChannels: Int, _ outChannels: Int, bilinear: Bool, rng: inout SeededRandom) {
        if bilinear {
            up = Upsample(scaleFactor: 2, alignCorners: true)
            conv = doubleConv(inChannels, outChannels, mid: inChannels / 2, rng: &rng)
        } else {
            up = ConvTranspose2d(inChannels, inChannels / 2, kernelSize: 2, stride: 2, rng: &rng)
            conv = doubleConv(inChannels, outChannels, rng: &rng)
        }
    }

    public override func namedChildren() -> [(String, Module)] { [("up", up), ("conv", conv)] }

    public func callAsFunction(_ x: Tensor, skip: Tensor) -> Tensor {
        conv(joinSkips([skip], upsampling: x, by: up))
    }
}
