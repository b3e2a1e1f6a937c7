/// The DRIVE recipe's own light UNet, WZMIAOMIAO's `MobileV3Unet`: torchvision's MobileNetV3-Large
/// features up to index 15 as the encoder (`backbone.0.0.weight` …), skips from entries 1, 3, 6,
/// 12 and 15 (16, 24, 40, 112, 160 channels at 1/2 … 1/32), four of the recipe's UNet `Up` stages
/// (bilinear ×2, pad, concatenate, DoubleConv), a 1×1 `conv`, and bilinear upsampling
/// (align_corners=False) from 1/2 to the input size. 3,454,146 parameters for 2 classes.
public final class MobileV3UNet: Module, SegmentationModel {
    public let backbone: Sequential
    public let up1: Up
    public let up2: Up
    public let up3: Up
    public let up4: Up
    public let conv: Sequential

    /// The `backbone` entries whose outputs are the skips.
    static let taps = [1, 3, 6, 12, 15]

    public init(inChannels: Int = 3, numClasses: Int, widthMultiplier: Double = 1, rng: inout SeededRandom) {
        let net = MobileNetV3(inChannels: inChannels, widthMultiplier: widthMultiplier, rng: &rng)
        backbone = Sequential(Array(net.features.layers.prefix(MobileV3UNet.taps.last! + 1)))
        let c = MobileV3UNet.taps.map { net.featureChannels[$0] }
        up1 = Up(c[4] + c[3], c[3], bilinear: true, rng: &rng)
        up2 = Up(c[3] + c[2], c[2], bilinear: true, rng: &rng)
        up3 = Up(c[2] + c[1], c[1], bilinear: true, rng: &rng)
        up4 = Up(c[1] + c[0], c[0], bilinear: true, rng: &rng)
        conv = Sequential(Conv2d(c[0], numClasses, kernelSize: 1, rng: &rng))
    }

    /// Five stride-2 stages.
    public var minimumInputSide: Int { 32 }

    public func forward(_ x: Tensor) -> SegmentationOutput {
        let f = backbone.forward(x, taps: MobileV3UNet.taps)
        var y = up1(f[4], skip: f[3])
        y = up2(y, skip: f[2])
        y = up3(y, skip: f[1])
        y = up4(y, skip: f[0])
        return SegmentationOutput(out: bilinearResize(conv(y), height: x.h, width: x.w, alignCorners: false))
    }

    public var groups: [String: [String]] {
        ["encoder": ["backbone"], "backbone": ["backbone"], "decoder": ["up1", "up2", "up3", "up4", "conv"],
         "head": ["conv"]]
    }
}
