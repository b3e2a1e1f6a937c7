import Nets

/// The training augmentation of the PyTorch segmentation recipe: random resize, flips, random crop
/// with padding, then normalisation.
///
/// Order as in the recipe (`RandomResize → RandomHorizontalFlip → RandomCrop → Normalize`): the
/// image is resized by a factor drawn uniformly from `scaleRange` (both sides, rounded to whole
/// pixels), mirrored, padded at the bottom/right when smaller than `crop` (image 0 before
/// normalisation, label `ignoreIndex`), and cut at a uniformly drawn corner. The resize scales the
/// image itself rather than fixing its short side as the recipe's `RandomResize(min, max)` does, as
/// MMSegmentation's `ratio_range` does; datasets of very different image sizes keep their ratios.
public struct TrainTransform: Sendable, Equatable {
    /// Resize factors; `1...1` turns resizing off.
    public let scaleRange: ClosedRange<Float>
    /// Output window size; nil keeps the whole (resized) image.
    public let crop: ImageSize?
    /// Probabilities of mirroring left–right and top–bottom.
    public let hflip: Float
    public let vflip: Float
    public let normalization: Normalization
    public let ignoreIndex: Int32

    /// Checks every setting and throws a one-line message for one out of range.
    public init(scaleRange: ClosedRange<Float> = 1...1, crop: ImageSize? = nil, hflip: Float = 0.5, vflip: Float = 0,
                mean: [Float] = [0], std: [Float] = [1], ignoreIndex: Int32 = 255) throws {
        guard scaleRange.lowerBound.isFinite, scaleRange.upperBound.isFinite,
              scaleRange.lowerBound > 0, scaleRange.upperBound <= 16 else {
            throw DataPipelineError("scale range \(scaleRange) must lie in (0, 16]")
        }
        if let crop, crop.height < 1 || crop.width < 1 {
            throw DataPipelineError("crop size \(crop) must be at least 1x1")
        }
        for (name, p) in [("horizontal", hflip), ("vertical", vflip)] where !(p >= 0 && p <= 1) {
            throw DataPipelineError("\(name) flip probability \(p) must lie in [0, 1]")
        }
        self.scaleRange = scaleRange
        self.crop = crop
        self.hflip = hflip
        self.vflip = vflip
        self.normalization = try Normalization(mean: mean, std: std)
        self.ignoreIndex = ignoreIndex
    }

    /// The augmented sample `index` of epoch `epoch`; the same arguments give the same bits anywhere.
    public func apply(_ sample: Sample, seed: UInt64, epoch: Int, index: Int) throws -> Sample {
        var rng = DataSeeds.augmentation(seed: seed, epoch: epoch, index: index)
        return try apply(sample, rng: &rng, index: index)
    }

    /// The augmented sample with draws from `rng`; `index` only names the sample in errors.
    public func apply(_ sample: Sample, rng: inout SeededRandom, index: Int = 0) throws -> Sample {
        let (mean, std) = try normalization.perChannel(sample.channels, for: sample.displayName(index: index))
        return draw(for: sample.size, &rng).apply(sample, mean: mean, std: std, ignoreIndex: ignoreIndex)
    }

    /// The random geometry for an image of `size`. Every draw is made whatever the settings, so
    /// turning one augmentation off does not change the others' draws.
    func draw(for size: ImageSize, _ rng: inout SeededRandom) -> Warp {
        let scale = scaleRange.lowerBound + (scaleRange.upperBound - scaleRange.lowerBound) * rng.nextFloat()
        let mirrorX = rng.nextFloat() < hflip
        let mirrorY = rng.nextFloat() < vflip
        let resized = ImageSize(height: max(1, Int((Float(size.height) * scale).rounded())),
                                width: max(1, Int((Float(size.width) * scale).rounded())))
        let output = crop ?? resized
        // RandomCrop after pad_if_smaller: corners uniform over the padded image.
        let top = rng.below(max(resized.height - output.height, 0) + 1)
        let left = rng.below(max(resized.width - output.width, 0) + 1)
        return Warp(resized: resized, top: top, left: left, output: output, hflip: mirrorX, vflip: mirrorY)
    }
}

/// The evaluation path: no random transforms, full size, normalisation; batches are padded at the
/// bottom/right to a multiple of `padMultiple` (1 = no padding) with image 0 (after normalisation,
/// as the recipe's `collate_fn` pads) and label `ignoreIndex`, and `Batch.sizes` keeps the original
/// sizes so results can be cropped back.
public struct EvalTransform: Sendable, Equatable {
    public let normalization: Normalization
    public let padMultiple: Int
    public let ignoreIndex: Int32

    /// Checks the settings; `padMultiple` 16 suits a UNet's four 2× poolings.
    public init(mean: [Float] = [0], std: [Float] = [1], padMultiple: Int = 16, ignoreIndex: Int32 = 255) throws {
        guard padMultiple >= 1 else { throw DataPipelineError("pad multiple \(padMultiple) must be at least 1") }
        self.normalization = try Normalization(mean: mean, std: std)
        self.padMultiple = padMultiple
        self.ignoreIndex = ignoreIndex
    }

    /// Evaluation and prediction of `config`'s `model` at full size: normalised as in training,
    /// padded to a multiple of 16 (the UNet's four poolings) or of the model's minimum side when
    /// larger, so small images still fit the network.
    static func forModel(_ config: ExperimentConfig, _ model: any SegmentationModel) throws -> EvalTransform {
        try EvalTransform(mean: config.data.mean.map(Float.init), std: config.data.std.map(Float.init),
                          padMultiple: max(16, model.minimumInputSide), ignoreIndex: Int32(config.data.ignoreIndex))
    }

    /// The normalised sample (padding happens when it is batched).
    public func apply(_ sample: Sample, index: Int = 0) throws -> Sample {
        try normalization.apply(sample, index: index)
    }

    /// `size` rounded up to the pad multiple.
    public func paddedSize(_ size: ImageSize) -> ImageSize {
        ImageSize(height: roundUp(size.height, padMultiple), width: roundUp(size.width, padMultiple))
    }
}

/// What a loader does to each sample: the random training augmentation or the evaluation path.
public enum SampleTransform: Sendable, Equatable {
    case train(TrainTransform)
    case eval(EvalTransform)

    /// Sample `index` of epoch `epoch` transformed (evaluation ignores seed and epoch).
    public func apply(_ sample: Sample, seed: UInt64, epoch: Int, index: Int) throws -> Sample {
        switch self {
        case .train(let t): return try t.apply(sample, seed: seed, epoch: epoch, index: index)
        case .eval(let t): return try t.apply(sample, index: index)
        }
    }

    /// Batch heights and widths are rounded up to this.
    public var padMultiple: Int {
        switch self {
        case .train: return 1
        case .eval(let t): return t.padMultiple
        }
    }

    public var ignoreIndex: Int32 {
        switch self {
        case .train(let t): return t.ignoreIndex
        case .eval(let t): return t.ignoreIndex
        }
    }
}

@inline(__always)
func roundUp(_ value: Int, _ multiple: Int) -> Int { (value + multiple - 1) / multiple * multiple }
