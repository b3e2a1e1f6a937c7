// The heads of torchvision's segmentation models, with its module indices (so state-dict keys):
// `FCNHead`, `DeepLabHead` and DeepLabV3's atrous spatial pyramid pooling.

/// conv (no bias, "same" padding) → BatchNorm → ReLU, the ReLU fused into the BatchNorm and kept
/// as a pass-through module so indices match PyTorch's.
func convBNReLU(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, dilation: Int = 1,
                rng: inout SeededRandom) -> [any Layer] {
    [Conv2d(inChannels, outChannels, kernelSize: kernelSize, padding: dilation * (kernelSize / 2), dilation: dilation,
            bias: false, rng: &rng),
     BatchNorm2d(outChannels, fusedReLU: true),
     ReLU(fusedIntoPrevious: true)]
}

/// torchvision's `FCNHead(in_channels, channels)`: 3×3 conv to in/4 channels, BatchNorm, ReLU,
/// Dropout(0.1), 1×1 conv (with bias) to the classes. FCN's classifier and both models' aux head.
public func fcnHead(_ inChannels: Int, classes: Int, rng: inout SeededRandom) -> Sequential {
    let inter = inChannels / 4
    return Sequential(convBNReLU(inChannels, inter, kernelSize: 3, rng: &rng) + [
        Dropout(p: 0.1, seed: rng.next()),
        Conv2d(inter, classes, kernelSize: 1, rng: &rng),
    ])
}

/// torchvision's `DeepLabHead`, with the ASPP width as a parameter (256 there): ASPP, 3×3 conv
/// (no bias), BatchNorm, ReLU, 1×1 conv to the classes.
public func deepLabHead(_ inChannels: Int, classes: Int, atrousRates: [Int], channels: Int = 256,
                        rng: inout SeededRandom) -> Sequential {
    Sequential([ASPP(inChannels, atrousRates: atrousRates, channels: channels, rng: &rng)]
               + convBNReLU(channels, channels, kernelSize: 3, rng: &rng)
               + [Conv2d(channels, classes, kernelSize: 1, rng: &rng)])
}

/// DeepLabV3's image-level branch, torchvision's `ASPPPooling`: global average pooling, 1×1 conv,
/// BatchNorm, ReLU, then bilinear upsampling (align_corners=False) back to the input's size,
/// which from a 1×1 map is a broadcast.
public final class ASPPPooling: Module, Layer {
    public let body: Sequential

    public init(_ inChannels: Int, _ outChannels: Int, rng: inout SeededRandom) {
        body = Sequential([GlobalAvgPool2d()] + convBNReLU(inChannels, outChannels, kernelSize: 1, rng: &rng))
    }

    /// PyTorch's `ASPPPooling` is itself the Sequential: its layers are named 0…3 directly.
    public override func namedChildren() -> [(String, Module)] { body.namedChildren() }

    public func forward(_ x: Tensor) -> Tensor {
        bilinearResize(body(x), height: x.h, width: x.w, alignCorners: false)
    }
}

/// Atrous spatial pyramid pooling (Chen et al., 2017, "Rethinking Atrous Convolution"),
/// torchvision's `ASPP`: five parallel branches on the same input — a 1×1 conv, one dilated
/// 3×3 conv per rate, the image-pooling branch — each with BatchNorm and ReLU, concatenated
/// and projected by a 1×1 conv, BatchNorm, ReLU and Dropout (p = 0.5 in torchvision, 0.1 in
/// VainF's DeepLabV3+).
public final class ASPP: Module, Layer {
    /// `convs.0` (1×1), `convs.1…` (dilated 3×3), then `ASPPPooling`.
    public let convs: [any Layer]
    public let project: Sequential
    public let atrousRates: [Int]

    public init(_ inChannels: Int, atrousRates: [Int], channels: Int = 256, dropout: Float = 0.5,
                rng: inout SeededRandom) {
        precondition(!atrousRates.isEmpty && atrousRates.allSatisfy { $0 > 0 }, "ASPP: rates \(atrousRates)")
        self.atrousRates = atrousRates
        var branches: [any Layer] = [Sequential(convBNReLU(inChannels, channels, kernelSize: 1, rng: &rng))]
        for rate in atrousRates {
            branches.append(Sequential(convBNReLU(inChannels, channels, kernelSize: 3, dilation: rate, rng: &rng)))
        }
        branches.append(ASPPPooling(inChannels, channels, rng: &rng))
        convs = branches
        project = Sequential(convBNReLU(branches.count * channels, channels, kernelSize: 1, rng: &rng)
                             + [Dropout(p: dropout, seed: rng.next())])
    }

    public override func namedChildren() -> [(String, Module)] {
        convs.enumerated().map { ("convs.\($0.offset)", $0.element) } + [("project", project)]
    }

    /// Every branch reads the same input; the tape sums their gradients.
    public func forward(_ x: Tensor) -> Tensor {
        project(concatChannels(convs.map { $0(x) }))
    }
}
