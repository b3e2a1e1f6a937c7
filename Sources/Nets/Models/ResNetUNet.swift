/// The ResNet-50 UNet of the VGG-UNet recipe (bubbliiiing/unet-pytorch, `Unet(backbone="resnet50")`):
/// torchvision's ResNet-50 trunk (`resnet.conv1.weight`, `resnet.layer1.0.conv1.weight`, …;
/// no `fc`) with skips from the stem (64 channels, 1/2), layer1 (256, 1/4), layer2 (512, 1/8)
/// and layer3 (1024, 1/16) into layer4 (2048, 1/32); four `UNetUp` stages (3072→512, 1024→256,
/// 512→128, 192→64), then `up_conv` (×2 bilinear, two 3×3 conv + ReLU at 64 channels) back to
/// full size, and a 1×1 `final`.
///
/// Any input side of at least 32 works: the decoder pads each upsampled map to its skip, and
/// the last upsampling is cropped or padded to the input size.
public final class ResNetUNet: Module, SegmentationModel {
    public let resnet: ResNet
    public let upConcat4: UNetUp
    public let upConcat3: UNetUp
    public let upConcat2: UNetUp
    public let upConcat1: UNetUp
    public let upConv: Sequential
    public let finalConv: Conv2d

    public override class var stateKeys: [String: String] { ["finalConv": "final"] }

    public init(inChannels: Int = 3, numClasses: Int, widths: [Int] = [64, 128, 256, 512], rng: inout SeededRandom) {
        resnet = ResNet(.resnet50, outputStride: .os32, inChannels: inChannels, widths: widths, rng: &rng)
        let f = resnet.featureChannels  // stem, layer1 … layer4
        let outs = [64, 128, 256, 512].map { $0 * widths[0] / 64 }
        upConcat4 = UNetUp(f[4] + f[3], outs[3], rng: &rng)
        upConcat3 = UNetUp(outs[3] + f[2], outs[2], rng: &rng)
        upConcat2 = UNetUp(outs[2] + f[1], outs[1], rng: &rng)
        upConcat1 = UNetUp(outs[1] + f[0], outs[0], rng: &rng)
        upConv = Sequential(
            Upsample(scaleFactor: 2, alignCorners: true),
            Conv2d(outs[0], outs[0], kernelSize: 3, padding: 1, rng: &rng),
            ReLU(inplace: true),
            Conv2d(outs[0], outs[0], kernelSize: 3, padding: 1, rng: &rng),
            ReLU(inplace: true))
        finalConv = Conv2d(outs[0], numClasses, kernelSize: 1, rng: &rng)
    }

    /// The smallest image side: five stride-2 stages must leave at least one pixel.
    public static let minimumInputSide = 32

    public func forward(_ x: Tensor) -> SegmentationOutput {
        let f = resnet.forwardFeatures(x)
        var y = upConcat4(skip: f.layer3, f.layer4)
        y = upConcat3(skip: f.layer2, y)
        y = upConcat2(skip: f.layer1, y)
        y = upConcat1(skip: f.stem, y)
        y = upConv(y)
        // The stem halves odd sides with rounding up, so ×2 can overshoot by one: crop (or pad) to the input.
        if let fit = ZeroPad2d.matching(height: y.h, width: y.w, to: x) { y = fit(y) }
        return SegmentationOutput(out: finalConv(y))
    }

    public var groups: [String: [String]] { ResNetUNet.groups }

    public static let groups: [String: [String]] = [
        "encoder": ["resnet"],
        "backbone": ["resnet"],
        "decoder": ["up_concat4", "up_concat3", "up_concat2", "up_concat1", "up_conv", "final"],
        "head": ["final"],
    ]

    /// A torchvision `resnet50()` state dict loads into the trunk as it is (its `fc` is skipped).
    public static let torchvisionKeys = StateDict.KeyMap(modelPrefix: "resnet.")
}
