/// The fully convolutional network of Long, Shelhamer & Darrell (CVPR 2015) on VGG16:
/// FCN-32s, FCN-16s and FCN-8s.
///
/// VGG16's fc6 and fc7 become convolutions (7×7 from pool5 to `fcChannels`, then 1×1), each
/// with ReLU and Dropout; `score_fr` (1×1) scores classes at stride 32. FCN-16s upsamples
/// those scores ×2 and adds `score_pool4` (1×1 on pool4); FCN-8s does the same again with
/// `score_pool3`; the sum is upsampled to the input size.
///
/// Modern variant, as most PyTorch reimplementations: no 100-pixel input padding (so no
/// crop offsets 5/9/31); fc6 pads by 3 to keep pool5's size, and each upsampling produces
/// exactly its target's size, which floor-mode pooling makes ×factor plus 0…factor−1 pixels.
/// A learned upsampling is PyTorch's `ConvTranspose2d(C, C, 2f, stride: f, padding: f/2,
/// bias: false)(x, output_size: target)`: computed here unpadded and cropped at offset f/2
/// (rows past the transposed convolution's reach are zero, as in PyTorch). A bilinear one is
/// `F.interpolate(x, size: target, mode: "bilinear", align_corners: false)` with no parameters.
///
/// Keys: `backbone.features.N.*` (torchvision's VGG16 keys under `backbone.`, so ImageNet
/// weights load by name), then wkentaro/pytorch-fcn's head names: `fc6`, `fc7`, `score_fr`,
/// `score_pool4`, `score_pool3`, `upscore` (32s), `upscore2`, `upscore16` (16s),
/// `upscore_pool4`, `upscore8` (8s).
///
/// `fcChannels` is 4096 in the paper (fc6 alone then holds 102.8M parameters, the network
/// 134M); 1024 gives a network of about 41M that trains on CPUs, 512 about 28M.
public final class ClassicFCN: Module, SegmentationModel {
    /// Which skip connections are fused: none (32s), pool4 (16s), pool4 and pool3 (8s).
    public enum Variant: String, CaseIterable, Sendable {
        case fcn32s = "32s", fcn16s = "16s", fcn8s = "8s"
    }

    /// How score maps are upsampled.
    public enum Upsampling: String, CaseIterable, Sendable {
        /// Transposed convolutions initialised to bilinear interpolation and learned, as in the paper.
        case learned
        /// Fixed bilinear interpolation (align_corners=False); no parameters.
        case bilinear
    }

    public let backbone: VGG16
    public let fc6: Conv2d
    let relu6 = ReLU(inplace: true)
    let drop6: Dropout
    public let fc7: Conv2d
    let relu7 = ReLU(inplace: true)
    let drop7: Dropout
    public let scoreFr: Conv2d
    public let scorePool4: Conv2d?
    public let scorePool3: Conv2d?
    public let upscore: ConvTranspose2d?
    public let upscore2: ConvTranspose2d?
    public let upscore16: ConvTranspose2d?
    public let upscorePool4: ConvTranspose2d?
    public let upscore8: ConvTranspose2d?

    public let variant: Variant
    public let upsampling: Upsampling
    public let numClasses: Int
    public let fcChannels: Int

    /// Skip fusions from the deepest: (upsampling ×2 of the running score, the skip's scoring layer).
    private let fusions: [(up: ScoreUpsampling, score: Conv2d)]
    private let finalUp: ScoreUpsampling
    /// Indices in `backbone.features` of the pools read: pool3, pool4 (when fused) and pool5.
    private let taps: [Int]

    /// Score layers start at zero, as in the paper; learned upsamplings start as bilinear
    /// interpolation; fc6/fc7 take PyTorch's default convolution init (the paper copies them
    /// from VGG16's classifier: see `loadVGGClassifier(from:)`). `widthDivisor` narrows the
    /// backbone (and nothing else) for tests.
    public init(inChannels: Int = 3, numClasses: Int, variant: Variant = .fcn8s, upsampling: Upsampling = .learned,
                fcChannels: Int = 4096, dropout: Float = 0.5, batchNorm: Bool = false, widthDivisor: Int = 1,
                rng: inout SeededRandom) {
        precondition(numClasses > 0 && fcChannels > 0)
        self.variant = variant
        self.upsampling = upsampling
        self.numClasses = numClasses
        self.fcChannels = fcChannels
        backbone = VGG16(inChannels: inChannels, batchNorm: batchNorm, widthDivisor: widthDivisor, rng: &rng)
        let widths = backbone.stageChannels, pools = backbone.poolIndices
        fc6 = Conv2d(widths[4], fcChannels, kernelSize: 7, padding: 3, rng: &rng)
        drop6 = Dropout(p: dropout, seed: rng.next())
        fc7 = Conv2d(fcChannels, fcChannels, kernelSize: 1, rng: &rng)
        drop7 = Dropout(p: dropout, seed: rng.next())
        func scoring(_ c: Int) -> Conv2d {
            let conv = Conv2d(c, numClasses, kernelSize: 1, rng: &rng)
            conv.weight.value.fill(0)
            conv.bias?.value.fill(0)
            return conv
        }
        func upsampler(_ factor: Int) -> ScoreUpsampling {
            ScoreUpsampling(classes: numClasses, factor: factor, learned: upsampling == .learned)
        }
        scoreFr = scoring(fcChannels)
        scorePool4 = variant == .fcn32s ? nil : scoring(widths[3])
        scorePool3 = variant == .fcn8s ? scoring(widths[2]) : nil
        switch variant {
        case .fcn32s:
            finalUp = upsampler(32)
            fusions = []
            taps = [pools[4]]
        case .fcn16s:
            finalUp = upsampler(16)
            fusions = [(upsampler(2), scorePool4!)]
            taps = [pools[3], pools[4]]
        case .fcn8s:
            finalUp = upsampler(8)
            fusions = [(upsampler(2), scorePool4!), (upsampler(2), scorePool3!)]
            taps = [pools[2], pools[3], pools[4]]
        }
        upscore = variant == .fcn32s ? finalUp.layer : nil
        upscore2 = fusions.first?.up.layer
        upscore16 = variant == .fcn16s ? finalUp.layer : nil
        upscorePool4 = variant == .fcn8s ? fusions[1].up.layer : nil
        upscore8 = variant == .fcn8s ? finalUp.layer : nil
    }

    /// The smallest image side: five 2×2 poolings must leave at least one pixel.
    public static let minimumInputSide = 32

    /// Logits N×classes×H×W for an image batch N×in_channels×H×W; any H, W of at least 32.
    public func forward(_ x: Tensor) -> SegmentationOutput {
        SegmentationOutput(out: forwardHead(backbone.forward(x, taps: taps), height: x.h, width: x.w))
    }

    /// Everything after the backbone, from its pool maps (pool3, pool4, pool5 as the variant
    /// reads them) to logits of size `height`×`width`.
    func forwardHead(_ pools: [Tensor], height: Int, width: Int) -> Tensor {
        precondition(pools.count == fusions.count + 1, "ClassicFCN: \(pools.count) pool maps for \(variant)")
        var h = pools[pools.count - 1]
        for layer in [fc6, relu6, drop6, fc7, relu7, drop7, scoreFr] as [any Layer] { h = layer(h) }
        for (k, skip) in pools.dropLast().reversed().enumerated() {
            h = add(fusions[k].up(h, height: skip.h, width: skip.w), fusions[k].score(skip))
        }
        return finalUp(h, height: height, width: width)
    }

    /// Parameter groups: the VGG16 trunk (`backbone`, also called `encoder`) and everything
    /// after it (`head`, also called `decoder`: fc6, fc7, scoring and upsampling layers).
    public var groups: [String: [String]] {
        let head = namedChildren().map(\.0).filter { $0 != "backbone" }
            .filter { name in namedParameters().contains { $0.0.hasPrefix(name + ".") } }
        return ["backbone": ["backbone"], "encoder": ["backbone"], "head": head, "decoder": head]
    }
}

/// One upsampling of a score map to an exact size: a learned transposed convolution
/// (kernel 2f, stride f, no bias, bilinear init) cropped at offset f/2, or fixed bilinear
/// interpolation. Not a module: the transposed convolution is the model's own child
/// (`upscore2`, ...), so its key stays at the model's top level.
final class ScoreUpsampling {
    let layer: ConvTranspose2d?
    let factor: Int

    init(classes: Int, factor: Int, learned: Bool) {
        self.factor = factor
        if learned {
            var unused = SeededRandom(seed: 0)
            let conv = ConvTranspose2d(classes, classes, kernelSize: 2 * factor, stride: factor, bias: false, rng: &unused)
            fillBilinearUpsamplingKernel(conv.weight.value)
            layer = conv
        } else {
            layer = nil
        }
    }

    func callAsFunction(_ x: Tensor, height: Int, width: Int) -> Tensor {
        guard let layer else { return bilinearResize(x, height: height, width: width, alignCorners: false) }
        let full = layer(x)
        // The bilinear kernel centred at input pixel i lands on output (i + 0.5)·f − 0.5 after
        // dropping f/2 leading rows and columns: PyTorch's padding f/2. Negative amounts crop;
        // a target larger than the transposed convolution's reach is padded with zeros.
        let offset = factor / 2
        return zeroPad2d(full, left: -offset, right: width - (full.w - offset),
                         top: -offset, bottom: height - (full.h - offset))
    }
}

/// Fills a C→C transposed convolution's weight [C, C, k, k] with the paper's `upsample_filt`:
/// channel c maps to channel c through the separable triangle (1 − |i − centre|/factor),
/// other channel pairs are zero.
func fillBilinearUpsamplingKernel(_ w: Tensor) {
    precondition(w.shape.count == 4 && w.shape[0] == w.shape[1] && w.shape[2] == w.shape[3])
    let classes = w.shape[0], size = w.shape[2]
    let factor = (size + 1) / 2
    let centre = size % 2 == 1 ? Float(factor - 1) : Float(factor) - 0.5
    w.fill(0)
    for c in 0..<classes {
        for i in 0..<size {
            for j in 0..<size {
                w.data[((c * classes + c) * size + i) * size + j] =
                    (1 - abs(Float(i) - centre) / Float(factor)) * (1 - abs(Float(j) - centre) / Float(factor))
            }
        }
    }
}

extension ClassicFCN {
    /// Initialises fc6 and fc7 from a torchvision VGG16 state dict saved as safetensors, as the
    /// paper does. torchvision flattens pool5 (after a 7×7 adaptive pool) in (C, H, W) order, so
    /// `classifier.0.weight` [4096, 25088] is fc6's [4096, 512, 7, 7] weight and
    /// `classifier.3.weight` [4096, 4096] is fc7's 1×1 weight, byte for byte. Needs
    /// `fcChannels` 4096 at full width; otherwise throws `StateDict.LoadError` (mismatched
    /// shapes), leaving the model unchanged. The backbone loads separately, by name, with
    /// `load(from:strict:false, keys: ClassicFCN.torchvisionVGGKeys)`.
    @discardableResult
    public func loadVGGClassifier(from path: String) throws -> StateDict.LoadReport {
        let reader = try SafeTensors.Reader(path)
        var report = StateDict.LoadReport(path: path)
        var plan: [(SafeTensors.TensorInfo, Parameter)] = []
        let pairs = [("classifier.0.weight", "fc6.weight", fc6.weight), ("classifier.0.bias", "fc6.bias", fc6.bias!),
                     ("classifier.3.weight", "fc7.weight", fc7.weight), ("classifier.3.bias", "fc7.bias", fc7.bias!)]
        for (fileKey, key, p) in pairs {
            guard let info = reader.header[fileKey] else { report.missing.append(key); continue }
            let shape = p.value.shape
            let expected = shape.count == 1 ? shape : [shape[0], p.value.count / shape[0]]
            guard info.shape == expected else {
                report.mismatched.append(.init(key: key, fileKey: fileKey, expected: expected, found: info.shape))
                continue
            }
            plan.append((info, p))
            report.loaded.append(key)
        }
        if !report.isComplete { throw StateDict.LoadError(report: report) }
        for (info, p) in plan { try reader.read(info, into: p.value.data) }
        return report
    }

    /// Maps a torchvision `vgg16()`/`vgg16_bn()` state dict's `features.*` keys onto the backbone
    /// (`backbone.features.*`); the classifier keys fall outside it and are skipped.
    public static let torchvisionVGGKeys = StateDict.KeyMap(filePrefix: "features.", modelPrefix: "backbone.features.")
}
