import Nets

/// Per-channel mean and standard deviation of a dataset's images (values in [0, 1], as samples
/// hold them): the `data.mean` / `data.std` a config normalises with (`runexp data stats`).
public struct ChannelStatistics: Sendable, Equatable {
    public let mean: [Double]
    /// Population standard deviation (divided by the pixel count, like `numpy.std`; with
    /// thousands of pixels per image it matches the unbiased one to many digits).
    public let std: [Double]
    /// Pixels counted (per channel).
    public let pixels: Int
    public let images: Int

    /// Statistics over every pixel of every sample of `dataset` or, with `labelledOnly`, only
    /// over pixels whose label is not `ignoreIndex` (DRIVE's field of view, without the black
    /// surround). Samples are decoded on all threads. Throws for a sample that cannot be read,
    /// samples with different channel counts, or no pixel counted.
    public init(_ dataset: any Dataset, labelledOnly: Bool = false, ignoreIndex: Int32 = 255) throws {
        var parts = [Result<Moments, Error>?](repeating: nil, count: dataset.count)
        parts.withUnsafeMutableBufferPointer { parts in
            let parts = parts.baseAddress!
            parallelFor(dataset.count) { i in
                parts[i] = Result {
                    let s = try dataset.sample(i)
                    return Moments(s, ignore: labelledOnly ? ignoreIndex : nil, name: s.name ?? "sample \(i)")
                }
            }
        }
        // Merged in dataset order, so the digits do not depend on the thread count.
        var total: Moments?
        for part in parts {
            guard let moments = try part?.get() else { continue }
            guard let t = total else {
                total = moments
                continue
            }
            guard t.mean.count == moments.mean.count else {
                throw DataPipelineError("\(moments.name) has \(moments.mean.count) channel(s) but \(t.name) has "
                                        + "\(t.mean.count); all images must have the same channels")
            }
            total = t.merged(with: moments)
        }
        guard let total, total.count > 0 else {
            throw DataPipelineError(labelledOnly ? "no labelled pixel in the dataset (every label is the ignore index \(ignoreIndex))"
                                                 : "the dataset has no pixels")
        }
        mean = total.mean
        std = total.squares.map { ($0 / Double(total.count)).squareRoot() }
        pixels = total.count
        images = dataset.count
    }

    /// The training dataset of a config, as a run trains on it (before augmentation); throws the
    /// config error a run would for a dataset that cannot be read.
    public static func trainingDataset(_ config: ExperimentConfig, at: ConfigLocations) throws -> any Dataset {
        try RunSetup.datasets(config, at: at).0
    }
}

extension ChannelStatistics {
    /// Count, per-channel mean and sum of squared deviations of a set of pixels: exact to combine
    /// (Chan et al.'s pairwise update), and free of the cancellation of `E[x²] − E[x]²` when the
    /// spread is small next to the mean (DRIVE's blue channel: mean 0.22, std 0.04).
    struct Moments {
        var count: Int
        var mean: [Double]
        var squares: [Double]
        /// The first sample's name, for a channel-mismatch message.
        var name: String

        /// One sample's pixels (those not labelled `ignore`, when given), in two passes.
        init(_ s: Sample, ignore: Int32?, name: String) {
            let c = s.channels, pixels = s.height * s.width
            var sum = [Double](repeating: 0, count: c), squares = [Double](repeating: 0, count: c)
            var count = 0
            // With `ignore` nil, `label[p] != ignore` holds for every pixel.
            s.image.withUnsafeBufferPointer { image in
                s.label.withUnsafeBufferPointer { label in
                    for p in 0..<pixels where label[p] != ignore {
                        count += 1
                        for k in 0..<c { sum[k] += Double(image[p * c + k]) }
                    }
                    let mean = sum.map { count > 0 ? $0 / Double(count) : 0 }
                    for p in 0..<pixels where label[p] != ignore {
                        for k in 0..<c {
                            let d = Double(image[p * c + k]) - mean[k]
                            squares[k] += d * d
                        }
                    }
                    sum = mean
                }
            }
            self.count = count
            self.mean = sum
            self.squares = squares
            self.name = name
        }

        /// The moments of both sets together.
        func merged(with other: Moments) -> Moments {
            guard other.count > 0 else { return self }
            guard count > 0 else { return Moments(count: other.count, mean: other.mean, squares: other.squares, name: name) }
            let n = Double(count + other.count), w = Double(other.count) / n
            var out = self
            out.count = count + other.count
            for k in mean.indices {
                let delta = other.mean[k] - mean[k]
                out.mean[k] = mean[k] + delta * w
                out.squares[k] = squares[k] + other.squares[k] + delta * delta * Double(count) * w
            }
            return out
        }

        private init(count: Int, mean: [Double], squares: [Double], name: String) {
            self.count = count
            self.mean = mean
            self.squares = squares
            self.name = name
        }
    }
}
