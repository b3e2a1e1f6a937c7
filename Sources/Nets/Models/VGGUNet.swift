/// The VGG-UNet of the popular PyTorch recipe (bubbliiiing/unet-pytorch, `Unet(backbone="vgg")`),
/// with its structure, parameter counts and state-dict keys (`vgg.features.0.weight`,
/// `up_concat4.conv1.weight`, …, `final.weight`).
///
/// The encoder is torchvision's VGG16 trunk; its maps just before each pooling are the skip
/// connections: feat1 (64 channels, full size), feat2 (128, 1/2), feat3 (256, 1/4), feat4
/// (512, 1/8) and feat5 (512, 1/16; the fifth pooling never runs). Four `UNetUp` stages
/// climb back (1024→512, 768→256, 384→128, 192→64 channels) and a 1×1 `final` scores classes.
///
/// The recipe needs sides divisible by 16; here any size of at least 16 works: an upsampled
/// map one row or column short of its skip (floor-mode pooling of an odd side) is padded with
/// zeros at the bottom or right, which keeps the two grids aligned.
public final class VGGUNet: Module, SegmentationModel {
    public let vgg: VGG16
    public let upConcat4: UNetUp
    public let upConcat3: UNetUp
    public let upConcat2: UNetUp
    public let upConcat1: UNetUp
    public let finalConv: Conv2d

    public let numClasses: Int

    public override class var stateKeys: [String: String] { ["finalConv": "final"] }

    /// `batchNorm` swaps in `vgg16_bn`'s trunk (the recipe uses plain VGG16); `widthDivisor`
    /// narrows every layer alike, for tests. The trunk is initialised as torchvision's VGG, the
    /// decoder with PyTorch's default convolution init.
    public init(inChannels: Int = 3, numClasses: Int, batchNorm: Bool = false, widthDivisor: Int = 1,
                rng: inout SeededRandom) {
        self.numClasses = numClasses
        vgg = VGG16(inChannels: inChannels, batchNorm: batchNorm, widthDivisor: widthDivisor, rng: &rng)
        let feats = vgg.stageChannels
        let outs = [64, 128, 256, 512].map { $0 / widthDivisor }
        upConcat4 = UNetUp(feats[3] + feats[4], outs[3], rng: &rng)
        upConcat3 = UNetUp(feats[2] + outs[3], outs[2], rng: &rng)
        upConcat2 = UNetUp(feats[1] + outs[2], outs[1], rng: &rng)
        upConcat1 = UNetUp(feats[0] + outs[1], outs[0], rng: &rng)
        finalConv = Conv2d(outs[0], numClasses, kernelSize: 1, rng: &rng)
    }

    /// The smallest image side: four 2×2 poolings must leave at least one pixel.
    public static let minimumInputSide = 16

    /// Logits N×classes×H×W for an image batch N×in_channels×H×W, sides of at least 16.
    public func forward(_ x: Tensor) -> SegmentationOutput {
        let f = vgg.forward(x, taps: vgg.stageOutputIndices)
        var y = upConcat4(skip: f[3], f[4])
        y = upConcat3(skip: f[2], y)
        y = upConcat2(skip: f[1], y)
        y = upConcat1(skip: f[0], y)
        return SegmentationOutput(out: finalConv(y))
    }

    /// Parameter groups: the trunk (`encoder`, also `backbone`; the recipe's `freeze_backbone`
    /// freezes `vgg`), the decoder stages with the classifier, and the classifier alone (`head`).
    public var groups: [String: [String]] { VGGUNet.groups }

    public static let groups: [String: [String]] = [
        "encoder": ["vgg"],
        "backbone": ["vgg"],
        "decoder": ["up_concat4", "up_concat3", "up_concat2", "up_concat1", "final"],
        "head": ["final"],
    ]

    /// Maps a torchvision `vgg16()` (or `vgg16_bn()` with `batchNorm`) state dict's `features.*`
    /// keys onto the encoder (`vgg.features.*`), as the recipe loads ImageNet weights.
    public static let torchvisionVGGKeys = StateDict.KeyMap(filePrefix: "features.", modelPrefix: "vgg.features.")
}

/// The recipe's decoder stage `unetUp(in_size, out_size)`: upsample the deeper map ×2
/// (`UpsamplingBilinear2d`, i.e. align_corners=True), concatenate [skip, upsampled], then
/// (3×3 conv with bias, ReLU) twice; no BatchNorm. Keys `conv1.*`, `conv2.*`.
public final class UNetUp: Module {
    public let conv1: Conv2d
    public let conv2: Conv2d
    let up = Upsample(scaleFactor: 2, alignCorners: true)
    let relu = ReLU(inplace: true)

    public init(_ inChannels: Int, _ outChannels: Int, rng: inout SeededRandom) {
        conv1 = Conv2d(inChannels, outChannels, kernelSize: 3, padding: 1, rng: &rng)
        conv2 = Conv2d(outChannels, outChannels, kernelSize: 3, padding: 1, rng: &rng)
    }

    /// `skip` is the encoder map at this stage's size (`inputs1` in the recipe), `x` the deeper
    /// map at half that size, floored (`inputs2`).
    public func callAsFunction(skip: Tensor, _ x: Tensor) -> Tensor {
        let y = relu(conv1(joinSkips([skip], upsampling: x, by: up)))
        return relu(conv2(y))
    }
}
