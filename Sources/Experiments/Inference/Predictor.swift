import Nets

/// One image's segmentation: its class ids and the image as the model read it (8-bit, before
/// normalisation), for drawing overlays.
public struct Prediction: Sendable {
    /// Class ids, one image (n = 1) of the input's size.
    public var classes: LabelMap
    /// The input converted to the colour model the network takes (see `Predictor.colorModel`).
    public let image: Image
    /// Two-class models: each pixel's softmax probability of class 1 (the foreground), row by row.
    public var foreground: [Float]?

    /// Blanks the pixels outside a field of view (where `inside` is false): background class 0
    /// and probability 0, as the DRIVE recipe's predict.py does with its ROI mask.
    public mutating func blank(outside inside: [Bool]) {
        precondition(inside.count == classes.values.count, "field of view of \(inside.count) pixels for \(classes.values.count)")
        for i in inside.indices where !inside[i] {
            classes.values[i] = 0
            foreground?[i] = 0
        }
    }
}

/// A trained network ready to segment images the way evaluation does: the run's config builds
/// the model (`ModelFactory`), its checkpoint is loaded strictly, and each image is normalised
/// with the config's mean/std, run in eval mode as `eval.mode` and `eval.tta` say (`Inference`:
/// whole, padded at the bottom/right to a multiple of 16, or in tiles), and its argmax cropped
/// back to the image's size.
///
/// Use from one thread: the model keeps per-call state.
public final class Predictor {
    public let config: ExperimentConfig
    /// The weights' file, for messages.
    public let checkpoint: String
    public let model: any SegmentationModel
    /// What every input is converted to: gray for `in_channels: 1`, RGB for 3 (gray+alpha and
    /// RGBA for 2 and 4), as Pillow's `convert` would.
    public let colorModel: Image.ColorModel
    let transform: EvalTransform
    let inference: Inference

    /// The model of `config` with the weights of `checkpoint`; throws a `ConfigError` for a
    /// model or channel count it cannot run, and the checkpoint's one-line error when the file
    /// is missing, unreadable, or its keys or shapes do not match the model.
    public init(config: ExperimentConfig, at: ConfigLocations, checkpoint: String) throws {
        let models: [Int: Image.ColorModel] = [1: .gray, 2: .grayAlpha, 3: .rgb, 4: .rgba]
        guard let colorModel = models[config.model.inChannels] else {
            throw at.error("in_channels is \(config.model.inChannels), but images have 1 (gray), 2, 3 (RGB) "
                           + "or 4 (RGBA) channels", at: "model.in_channels")
        }
        let model = try ModelFactory.makeModel(config, at: at)
        try model.load(from: checkpoint, strict: true)
        model.setTraining(false)
        // As the run's own validation computed during training (fp32 where bf16 is not available).
        model.setPrecision(KernelLibrary.available(config.precision).precision)
        self.config = config
        self.checkpoint = checkpoint
        self.model = model
        self.colorModel = colorModel
        transform = try EvalTransform.forModel(config, model)
        inference = Inference(config.eval.inference, padMultiple: transform.padMultiple)
    }

    /// Decodes the image at `path` and segments it; errors name the file.
    public func predict(file path: String) throws -> Prediction {
        try predict(ImageCodec.read(path), name: path)
    }

    /// Segments `image` (any colour model; converted to `colorModel`); `name` names it in errors.
    public func predict(_ image: Image, name: String = "image") throws -> Prediction {
        let (sample, input) = unlabelled(image, name: name)
        return try predict(batch(sample), image: input)
    }

    /// `image` converted to `colorModel`, as a sample without labels, and the converted image.
    func unlabelled(_ image: Image, name: String) -> (sample: Sample, input: Image) {
        let input = image.converted(to: colorModel)
        let sample = Sample(height: input.height, width: input.width, channels: input.channels, bytes: input.samples,
                            label: [Int32](repeating: transform.ignoreIndex, count: input.width * input.height),
                            name: name)
        return (sample, input)
    }

    /// The class probabilities of a sample's pixels (interleaved HWC at the sample's size; the
    /// softmax, or the blended tiles' and flips' mean), for averaging with other models'.
    func probabilities(_ sample: Sample) throws -> [Float] {
        let batch = try batch(sample)
        try checkInputSize(batch, model)
        return batch.unpadded(inference.scores(model, batch).probabilities, item: 0)
    }

    /// Segments a dataset's sample (its pixels as the dataset decoded them, before normalisation).
    public func predict(_ sample: Sample) throws -> Prediction {
        let image = try PredictionImages.denormalized(sample.image, size: sample.size, channels: sample.channels,
                                                      mean: [0], std: [1])
        return try predict(batch(sample), image: image)
    }

    /// The sample normalised and padded as evaluation does it. It takes the sample so that the
    /// pixels of a large image are normalised in place, not copied, and freed once batched.
    private func batch(_ sample: consuming Sample) throws -> Batch {
        try transform.normalization.normalize(&sample)
        return try Batch(collating: [sample], indices: [0], padMultiple: transform.padMultiple,
                         ignoreIndex: transform.ignoreIndex)
    }

    private func predict(_ batch: Batch, image: Image) throws -> Prediction {
        try checkInputSize(batch, model)
        let scores = inference.scores(model, batch)
        // Two classes: the class-1 probability of every pixel.
        let foreground = scores.values.c == 2 ? batch.unpadded(scores.probabilities, item: 0, channel: 1) : nil
        return Prediction(classes: batch.unpadded(Predictor.argmax(scores.values), item: 0), image: image,
                          foreground: foreground)
    }

    /// The class of highest score at every pixel of `logits` (or probabilities) (N×C×H×W, either layout); ties go
    /// to the lower class id, as `torch.argmax` does.
    public static func argmax(_ logits: Tensor) -> LabelMap {
        precondition(logits.shape.count == 4 && logits.c >= 1, "argmax: logits \(logits.shape)")
        let classes = logits.c, plane = logits.h * logits.w, pixels = logits.n * plane
        var out = [Int32](repeating: 0, count: pixels)
        let src = logits.data
        out.withUnsafeMutableBufferPointer { dst in
            let dst = dst.baseAddress!
            parallelChunks(pixels, minChunk: 16_384) { lo, hi in
                for p in lo..<hi {
                    // NHWC keeps a pixel's scores adjacent; plain NCHW puts them a plane apart.
                    let base: UnsafeMutablePointer<Float>, stride: Int
                    if logits.layout == .nhwc {
                        (base, stride) = (src + p * classes, 1)
                    } else {
                        (base, stride) = (src + (p / plane) * plane * classes + p % plane, plane)
                    }
                    var best = 0
                    var top = base[0]
                    for c in 1..<classes where base[c * stride] > top {
                        top = base[c * stride]
                        best = c
                    }
                    dst[p] = Int32(best)
                }
            }
        }
        return LabelMap(n: logits.n, h: logits.h, w: logits.w, values: out)
    }
}
