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
    public let up_concat4: UNetUp
    public let up_concat3: UNetUp
    public let up_concat2: UNetUp
    public let up_concat1: UNetUp
    public let up_conv: Sequential
    public let `final`: Conv2d
    private var fit: ZeroPad2d?
    private var inputShape: [Int] = []

    public init(inChannels: Int = 3, numClasses: Int, widths: [Int] = [64, 128, 256, 512], rng: inout SeededRandom) {
        resnet = ResNet(.resnet50, outputStride: .os32, inChannels: inChannels, widths: widths, rng: &rng)
        let f = resnet.featureChannels  // stem, layer1 … layer4
        let outs = [64, 128, 256, 512].map { $0 * widths[0] / 64 }
        up_concat4 = UNetUp(f[4] + f[3], outs[3], rng: &rng)
        up_concat3 = UNetUp(outs[3] + f[2], outs[2], rng: &rng)
        up_concat2 = UNetUp(outs[2] + f[1], outs[1], rng: &rng)
        up_concat1 = UNetUp(outs[1] + f[0], outs[0], rng: &rng)
        up_conv = Sequential(
            Upsample(scaleFactor: 2, alignCorners: true),
            Conv2d(outs[0], outs[0], kernelSize: 3, padding: 1, rng: &rng),
            ReLU(inplace: true),
            Conv2d(outs[0], outs[0], kernelSize: 3, padding: 1, rng: &rng),
            ReLU(inplace: true))
        `final` = Conv2d(outs[0], numClasses, kernelSize: 1, rng: &rng)
    }

    /// The smallest image side: five stride-2 stages must leave at least one pixel.
    public static let minimumInputSide = 32

    public func forward(_ x: Tensor) -> Tensor {
        inputShape = x.shape
        let f = resnet.forwardFeatures(x)
        var y = up_concat4.forward(skip: f.layer3, f.layer4)
        y = up_concat3.forward(skip: f.layer2, y)
        y = up_concat2.forward(skip: f.layer1, y)
        y = up_concat1.forward(skip: f.stem, y)
        y = up_conv.forward(y)
        // The stem halves odd sides with rounding up, so ×2 can overshoot by one: crop (or pad) to the input.
        fit = ZeroPad2d.matching(height: y.h, width: y.w, to: x)
        if let fit { y = fit.forward(y) }
        return `final`.forward(y)
    }

    /// The skip gradients go back into the trunk, which walks back only as far as it learns
    /// (nothing at all when frozen; the image gradient is then zero).
    public func backward(_ dy: Tensor) -> Tensor {
        var d = `final`.backward(dy)
        if let fit { d = fit.backward(d) }
        d = up_conv.backward(d)
        let (d1, stem) = up_concat1.backward(d)
        let (d2, l1) = up_concat2.backward(d1)
        let (d3, l2) = up_concat3.backward(d2)
        let (d4, l3) = up_concat4.backward(d3)
        return resnet.backward(stem: stem, layer1: l1, layer2: l2, layer3: l3, layer4: d4)
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
