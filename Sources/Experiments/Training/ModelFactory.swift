import Nets

/// Builds the network a config names, the one place that maps `model:` to a model type, so
/// that training (`RunSetup`) and prediction (`Predictor`) cannot build different networks.
public enum ModelFactory {
    /// The model of `config`, initialised from `config.seed` (the same weights a run starts
    /// from, before any checkpoint is loaded). Throws, at the config line, for a combination
    /// this version cannot build.
    ///
    /// A `skeleton` has the same structure, parameter keys, groups and minimum input side at
    /// the narrowest widths the structure allows (a few kilobytes): what validating a run
    /// needs, without allocating and initialising the real network.
    public static func makeModel(_ config: ExperimentConfig, at: ConfigLocations,
                                 skeleton: Bool = false) throws -> any SegmentationModel {
        var rng = SeededRandom(seed: UInt64(truncatingIfNeeded: config.seed))
        let m = config.model
        let classes = config.data.numClasses
        // Narrow widths with the structure's choices intact: the heads divide the backbone's
        // channels by 4, and widths that grow stage to stage keep every shortcut convolution.
        let resnetWidths = skeleton ? [4, 8, 12, 16] : [64, 128, 256, 512]
        let vggDivisor = skeleton ? 64 : 1
        switch m.name {
        case .unet:
            switch m.encoder {
            case .plain:
                return UNet(inChannels: m.inChannels, numClasses: classes, baseChannels: skeleton ? 1 : m.baseC,
                            bilinear: m.upsample == .bilinear, rng: &rng)
            case .vgg16, .vgg16_bn:
                return VGGUNet(inChannels: m.inChannels, numClasses: classes, batchNorm: m.encoder == .vgg16_bn,
                               widthDivisor: vggDivisor, rng: &rng)
            case .resnet50:
                return ResNetUNet(inChannels: m.inChannels, numClasses: classes, widths: resnetWidths, rng: &rng)
            case .mobilenet_v3_large:
                return MobileV3UNet(inChannels: m.inChannels, numClasses: classes, widthMultiplier: skeleton ? 0.5 : 1,
                                    rng: &rng)
            }
        case .unetpp:
            let base = skeleton ? 1 : m.baseC
            return NestedUNet(inChannels: m.inChannels, numClasses: classes, widths: [1, 2, 4, 8, 16].map { $0 * base },
                              deepSupervision: m.deepSupervision, prune: m.prune, rng: &rng)
        case .fcn:
            if m.isClassicFCN {
                let variant: ClassicFCN.Variant = m.variant == .fcn8s ? .fcn8s : m.variant == .fcn16s ? .fcn16s : .fcn32s
                return ClassicFCN(inChannels: m.inChannels, numClasses: classes, variant: variant,
                                  upsampling: m.upsample == .bilinear ? .bilinear : .learned,
                                  fcChannels: skeleton ? 1 : m.fcChannels, batchNorm: m.backbone == .vgg16_bn,
                                  widthDivisor: vggDivisor, rng: &rng)
            }
            return FCN(try depth(m.backbone, at: at), numClasses: classes, auxiliary: m.aux,
                       outputStride: m.outputStride == 16 ? .os16 : .os8, inChannels: m.inChannels,
                       widths: resnetWidths, rng: &rng)
        case .lraspp:
            // Half width keeps every block's structure (its expansion convolutions); a tenth would drop some.
            return LRASPP(numClasses: classes, inChannels: m.inChannels, widthMultiplier: skeleton ? 0.5 : 1, rng: &rng)
        case .deeplabv3plus:
            return DeepLabV3Plus(try depth(m.backbone, at: at), numClasses: classes,
                                 outputStride: m.outputStride == 16 ? .os16 : .os8, atrousRates: m.asppRates,
                                 asppChannels: skeleton ? 1 : 256, decoderChannels: skeleton ? 1 : 256,
                                 inChannels: m.inChannels, widths: resnetWidths, rng: &rng)
        case .deeplabv3 where m.backbone == .mobilenet_v3_large:
            return DeepLabV3(mobileNetV3: classes, auxiliary: m.aux, atrousRates: m.asppRates,
                             asppChannels: skeleton ? 1 : 256, inChannels: m.inChannels,
                             widthMultiplier: skeleton ? 0.5 : 1, rng: &rng)
        case .deeplabv3:
            return DeepLabV3(try depth(m.backbone, at: at), numClasses: classes, auxiliary: m.aux,
                             outputStride: m.outputStride == 16 ? .os16 : .os8, atrousRates: m.asppRates,
                             asppChannels: skeleton ? 1 : 256, inChannels: m.inChannels, widths: resnetWidths,
                             rng: &rng)
        }
    }

    private static func depth(_ backbone: BackboneName, at: ConfigLocations) throws -> ResNet.Depth {
        guard let d = ResNet.Depth(rawValue: backbone.rawValue) else {
            throw at.error("backbone '\(backbone.rawValue)' is not a ResNet", at: "model.backbone")
        }
        return d
    }

    /// Loads `model.pretrained` (a torchvision classification state dict saved as safetensors)
    /// into the backbone by name; returns the report of what was loaded, skipped and mismatched.
    static func loadPretrained(_ model: any SegmentationModel, _ config: ExperimentConfig, at: ConfigLocations) throws
        -> StateDict.LoadReport? {
        guard let path = config.model.pretrained else { return nil }
        let keys: StateDict.KeyMap
        switch model {
        case is ClassicFCN: keys = ClassicFCN.torchvisionVGGKeys
        case is VGGUNet: keys = VGGUNet.torchvisionVGGKeys
        case is ResNetUNet: keys = ResNetUNet.torchvisionKeys
        case is LRASPP, is MobileV3UNet: keys = MobileNetV3Backbone.torchvisionKeys
        case let deeplab as DeepLabV3 where deeplab.backbone is MobileNetV3Backbone: keys = MobileNetV3Backbone.torchvisionKeys
        case is FCN, is DeepLabV3, is DeepLabV3Plus: keys = StateDict.KeyMap(modelPrefix: "backbone.")
        default:
            throw at.error("model.pretrained needs a model with a torchvision backbone (fcn, deeplabv3, deeplabv3plus, lraspp, "
                           + "or unet with encoder vgg16, resnet50 or mobilenet_v3_large); \(config.model.name.rawValue) has none",
                           at: "model.pretrained")
        }
        let report = try model.load(from: path, strict: false, keys: keys)
        guard !report.loaded.isEmpty else {
            throw at.error("model.pretrained: no tensor of \(path) matches the backbone (\(report))", at: "model.pretrained")
        }
        return report
    }
}
