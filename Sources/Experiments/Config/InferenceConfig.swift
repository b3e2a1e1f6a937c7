/// How the network sees an image at evaluation: all at once, or in tiles.
public enum InferenceMode: String, ConfigChoice {
    /// The whole image, padded at the bottom/right to the model's multiple (the recipe's).
    case whole
    /// Overlapping crop×crop tiles, blended (MMSegmentation's `mode='slide'`, nnU-Net's sliding window).
    case slide
}

/// How overlapping tiles are averaged.
public enum TileBlending: String, ConfigChoice {
    /// Weights falling off from the tile's centre (σ = side/8), as nnU-Net: tile borders, which
    /// see the least context, count least.
    case gaussian
    /// Every covering tile counts the same, as MMSegmentation's slide inference.
    case uniform
}

/// A flipped copy of the input whose probabilities test-time augmentation averages in.
public enum TestTimeFlip: String, ConfigChoice {
    /// Left–right.
    case hflip
    /// Top–bottom.
    case vflip
    /// Both (a half turn).
    case hvflip
}

/// `eval.mode`, `crop`, `stride`, `blend`, `tile_batch` and `tta`: how validation, `runexp eval`,
/// the previews and `runexp predict` turn an image into class scores (see `Inference`).
public struct InferenceConfig: Equatable, Sendable {
    public var mode = InferenceMode.whole
    /// The tile size (slide mode, where it is required).
    public var crop: CropSize?
    /// How far apart tiles start (slide mode; default half the crop, nnU-Net's step of 0.5).
    public var stride: CropSize?
    public var blend = TileBlending.gaussian
    /// Tiles run through the network at once: larger is faster up to a point, and peak memory
    /// grows with it, not with the image.
    public var tileBatch = 8
    /// The flipped copies averaged in; none by default.
    public var tta: [TestTimeFlip] = []

    public init() {}
}

extension InferenceConfig: CustomStringConvertible {
    /// How the scores were computed, for result headers: `whole image`, or
    /// `slide 64x64 stride 42x42 gaussian, tta hflip+vflip`.
    public var description: String {
        var text = "whole image"
        if mode == .slide, let crop, let stride {
            text = "slide \(crop.height)x\(crop.width) stride \(stride.height)x\(stride.width) \(blend.rawValue)"
        }
        return tta.isEmpty ? text : text + ", tta " + tta.map(\.rawValue).joined(separator: "+")
    }
}

extension EvalConfig {
    /// The keys of `InferenceConfig`, in the `eval:` section. Each is written to `config.yaml`
    /// only when it is not the default, so the configs (and run hashes) of runs without them
    /// stay as they were.
    static let inferenceKeys: [ConfigKey<EvalConfig>] = [
        .value("mode", \.inference.mode, reading: { r, key, node, _ in r.choice(key, node) },
               writing: { $0 == .whole ? nil : $0.rawValue }),
        .value("crop", \.inference.crop, when: slides, check: { e in
            [(e.inference.crop != nil, "must be given with eval.mode: slide (the tile size, e.g. 64 or [h, w])")]
        }),
        .value("stride", \.inference.stride, when: slides,
               default: { e in e.inference.crop.map { CropSize(height: max(1, $0.height / 2), width: max(1, $0.width / 2)) } },
               check: { e in
                   guard let stride = e.inference.stride, let crop = e.inference.crop else { return [] }
                   return [(stride.height <= crop.height && stride.width <= crop.width,
                            "must be at most eval.crop (\(crop.height)x\(crop.width)), or tiles leave gaps")]
               }),
        .value("blend", \.inference.blend, when: slides),
        .value("tile_batch", \.inference.tileBatch, when: slides, check: { [($0.inference.tileBatch >= 1, "must be >= 1")] }),
        .value("tta", \.inference.tta, reading: { r, key, node, _ in
            guard let flips: [TestTimeFlip] = r.list(key, node, { r.choice($0, $1) }) else { return nil }
            guard Set(flips).count == flips.count else {
                r.error(key, "lists a flip twice")
                return nil
            }
            return flips
        }, writing: { $0.isEmpty ? nil : yamlFlow($0.map(\.rawValue)) }),
    ]

    private static let slides: @Sendable (EvalConfig) -> Bool = { $0.inference.mode == .slide }
}
