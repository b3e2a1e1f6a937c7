/// Per-channel mean and standard deviation, applied as `(x - mean) / std` like torchvision's `Normalize`.
///
/// One value applies to every channel (torchvision broadcasts a length-1 list the same way);
/// otherwise there must be one value per image channel.
public struct Normalization: Sendable, Equatable {
    public let mean: [Float]
    public let std: [Float]

    /// Leaves values as they are (mean 0, std 1).
    public static let identity = Normalization(checked: [0], [1])

    /// The ImageNet statistics the PyTorch segmentation recipes use with pretrained backbones.
    public static let imagenet = Normalization(checked: [0.485, 0.456, 0.406], [0.229, 0.224, 0.225])

    /// Checks that the lists are non-empty, equally long (or one of them has one value) and that
    /// every std is positive and finite.
    public init(mean: [Float], std: [Float]) throws {
        guard !mean.isEmpty, !std.isEmpty else { throw DataPipelineError("normalization mean and std must not be empty") }
        guard mean.count == std.count || mean.count == 1 || std.count == 1 else {
            throw DataPipelineError("normalization has \(mean.count) means but \(std.count) stds; give one per channel")
        }
        guard mean.allSatisfy(\.isFinite) else { throw DataPipelineError("normalization mean \(mean) is not finite") }
        guard std.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw DataPipelineError("normalization std \(std) must be positive and finite")
        }
        self.init(checked: mean, std)
    }

    private init(checked mean: [Float], _ std: [Float]) {
        self.mean = mean
        self.std = std
    }

    var isIdentity: Bool { mean.allSatisfy { $0 == 0 } && std.allSatisfy { $0 == 1 } }

    /// Mean and std expanded to `channels` values; throws when the counts cannot match the image.
    func perChannel(_ channels: Int, for sample: String) throws -> (mean: [Float], std: [Float]) {
        let n = max(mean.count, std.count)
        guard n == 1 || n == channels else {
            throw DataPipelineError("\(sample) has \(channels) channel(s) but normalization gives \(n) values; "
                + "give \(channels) mean/std values or one for all")
        }
        let m = mean.count == 1 ? Array(repeating: mean[0], count: channels) : mean
        let s = std.count == 1 ? Array(repeating: std[0], count: channels) : std
        return (m, s)
    }

    /// The sample with its image normalised (label and name unchanged).
    public func apply(_ sample: Sample, index: Int = 0) throws -> Sample {
        var out = sample
        try normalize(&out, index: index)
        return out
    }

    /// Normalises the sample's image in place (no copy when the caller holds the only one).
    public func normalize(_ sample: inout Sample, index: Int = 0) throws {
        if isIdentity { return }
        let (m, s) = try perChannel(sample.channels, for: sample.displayName(index: index))
        let (c, pixels) = (sample.channels, sample.height * sample.width)
        sample.image.withUnsafeMutableBufferPointer { p in
            for i in 0..<pixels {
                let px = p.baseAddress! + i * c
                // Subtract then divide, in torchvision's order, so values match it bit for bit.
                for k in 0..<c { px[k] = (px[k] - m[k]) / s[k] }
            }
        }
    }
}
