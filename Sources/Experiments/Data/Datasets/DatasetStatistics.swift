import Nets

/// Per-channel statistics of a dataset's images, for `data.mean` / `data.std`.
public enum DatasetStatistics {
    /// How per-image statistics are combined.
    public enum Method: String, Sendable {
        /// The average of each image's mean and each image's standard deviation, as the PyTorch
        /// DRIVE recipe's `compute_mean_std.py` does (its (0.709, 0.381, 0.224) / (0.127, 0.079,
        /// 0.043) are this, over FOV pixels). The std leaves out how much images differ.
        case perImage
        /// Mean and standard deviation of all counted pixels together, as one population.
        case pooled
    }

    /// Mean and (population) standard deviation of each channel over the samples' pixels whose
    /// label is not `ignoreIndex` (DRIVE: the field of view), or over every pixel when
    /// `ignoreIndex` is nil. Images with no counted pixel are left out. Images are decoded on
    /// all threads; the result does not depend on the thread count.
    public static func meanStd(_ dataset: any Dataset, ignoreIndex: Int32? = 255, method: Method = .perImage)
        throws -> (mean: [Double], std: [Double]) {
        let n = dataset.count
        var results = [Result<Moments?, Error>](repeating: .success(nil), count: n)
        results.withUnsafeMutableBufferPointer { buffer in
            let out = buffer.baseAddress!
            parallelFor(n) { i in
                out[i] = Result { Moments(try dataset.sample(i), ignoreIndex: ignoreIndex) }
            }
        }
        let images = try results.compactMap { try $0.get() }
        guard let first = images.first else {
            throw DataPipelineError("no image has a pixel outside ignore_index to compute statistics from")
        }
        let c = first.mean.count
        guard images.allSatisfy({ $0.mean.count == c }) else {
            throw DataPipelineError("the images do not all have \(c) channel(s)")
        }
        switch method {
        case .perImage:
            let k = Double(images.count)
            return ((0..<c).map { ch in images.reduce(0) { $0 + $1.mean[ch] } / k },
                    (0..<c).map { ch in images.reduce(0) { $0 + ($1.m2[ch] / Double($1.count)).squareRoot() } / k })
        case .pooled:
            // Chan et al.'s pairwise update: exact merging of (count, mean, M2) without a
            // sum of squares that would cancel.
            var total = images[0]
            for m in images.dropFirst() { total = total.merged(with: m) }
            return (total.mean, total.m2.map { ($0 / Double(total.count)).squareRoot() })
        }
    }

    /// Count, per-channel mean and sum of squared deviations of one image's counted pixels.
    struct Moments {
        var count: Int
        var mean: [Double]
        var m2: [Double]

        init(count: Int, mean: [Double], m2: [Double]) {
            self.count = count
            self.mean = mean
            self.m2 = m2
        }

        /// Two passes over the pixels (mean, then squared deviations); nil when none counts.
        init?(_ sample: Sample, ignoreIndex: Int32?) {
            let c = sample.channels, pixels = sample.height * sample.width
            var sum = [Double](repeating: 0, count: c), dev = [Double](repeating: 0, count: c)
            var counted = 0
            sample.image.withUnsafeBufferPointer { image in
                sample.label.withUnsafeBufferPointer { label in
                    for p in 0..<pixels where label[p] != ignoreIndex {
                        counted += 1
                        for k in 0..<c { sum[k] += Double(image[p * c + k]) }
                    }
                    guard counted > 0 else { return }
                    let mean = sum.map { $0 / Double(counted) }
                    for p in 0..<pixels where label[p] != ignoreIndex {
                        for k in 0..<c {
                            let d = Double(image[p * c + k]) - mean[k]
                            dev[k] += d * d
                        }
                    }
                }
            }
            guard counted > 0 else { return nil }
            self.init(count: counted, mean: sum.map { $0 / Double(counted) }, m2: dev)
        }

        func merged(with other: Moments) -> Moments {
            let n = Double(count + other.count)
            let mean = zip(self.mean, other.mean).map { a, b in a + (b - a) * Double(other.count) / n }
            let m2 = (0..<self.mean.count).map { k in
                let delta = other.mean[k] - self.mean[k]
                return self.m2[k] + other.m2[k] + delta * delta * Double(count) * Double(other.count) / n
            }
            return Moments(count: count + other.count, mean: mean, m2: m2)
        }
    }
}

extension DatasetStatistics {
    /// The training dataset of a config, as a run trains on it (before augmentation; a
    /// cross-validation fold drawn as training would draw it); throws the config error a run
    /// would for a dataset that cannot be read.
    public static func trainingDataset(_ config: ExperimentConfig, at: ConfigLocations) throws -> any Dataset {
        try RunSetup.datasets(config, at: at, splits: nil).0
    }
}
