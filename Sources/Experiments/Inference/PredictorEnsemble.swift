import Nets

/// Several trained networks segmenting as one, as nnU-Net ensembles its cross-validation folds:
/// each member runs as its own run's config says (model, normalisation, `eval.mode`, `eval.tta`),
/// their class probabilities are averaged pixel by pixel, and the prediction is the argmax of
/// the mean. A single member predicts exactly as its `Predictor` does.
///
/// Use from one thread, as a `Predictor`.
public final class PredictorEnsemble {
    public let members: [Predictor]

    /// Throws an `EnsembleError` when the members' class counts or input channels differ: their
    /// probabilities could not be averaged, or they could not read the same images.
    public init(_ members: [Predictor]) throws {
        precondition(!members.isEmpty, "an ensemble of no predictors")
        let first = members[0]
        for member in members.dropFirst() {
            for (what, mine, theirs) in [("classes", member.config.data.numClasses, first.config.data.numClasses),
                                         ("input channels", member.config.model.inChannels, first.config.model.inChannels)]
                where mine != theirs {
                throw EnsembleError("\(member.checkpoint) has \(mine) \(what) but \(first.checkpoint) has \(theirs); "
                                    + "an ensemble averages the class probabilities of models of the same data")
            }
        }
        self.members = members
    }

    /// The first member's config: the data the ensemble is scored on and its classes.
    public var config: ExperimentConfig { members[0].config }

    /// Decodes the image at `path` and segments it; errors name the file.
    public func predict(file path: String) throws -> Prediction {
        try predict(ImageCodec.read(path), name: path)
    }

    /// Segments `image` (any colour model); `name` names it in errors.
    public func predict(_ image: Image, name: String = "image") throws -> Prediction {
        guard members.count > 1 else { return try members[0].predict(image, name: name) }
        // The members take the same channels, so the same converted image.
        let (sample, input) = members[0].unlabelled(image, name: name)
        return try prediction(meanProbabilities(sample), height: sample.height, width: sample.width, image: input)
    }

    /// Segments a dataset's sample (its pixels as the dataset decoded them, before normalisation).
    public func predict(_ sample: Sample) throws -> Prediction {
        guard members.count > 1 else { return try members[0].predict(sample) }
        let image = try PredictionImages.denormalized(sample.image, size: sample.size, channels: sample.channels,
                                                      mean: [0], std: [1])
        return try prediction(meanProbabilities(sample), height: sample.height, width: sample.width, image: image)
    }

    /// The members' mean class probabilities of `sample`'s pixels, interleaved HWC.
    public func meanProbabilities(_ sample: Sample) throws -> [Float] {
        var sum = try members[0].probabilities(sample)
        for member in members.dropFirst() {
            let p = try member.probabilities(sample)
            precondition(p.count == sum.count, "ensemble: \(p.count) probabilities for \(sum.count)")
            for i in sum.indices { sum[i] += p[i] }
        }
        let scale = 1 / Float(members.count)
        for i in sum.indices { sum[i] *= scale }
        return sum
    }

    /// Mean probabilities as a one-image tensor (N×C×H×W, channels-last), as the metrics take scores.
    public func probabilityTensor(_ mean: [Float], height: Int, width: Int) -> Tensor {
        Tensor(shape: [1, config.data.numClasses, height, width], layout: .nhwc, values: mean)
    }

    private func prediction(_ mean: [Float], height: Int, width: Int, image: Image) -> Prediction {
        let classes = config.data.numClasses
        let foreground = classes == 2 ? (0..<height * width).map { mean[$0 * 2 + 1] } : nil
        return Prediction(classes: Predictor.argmax(probabilityTensor(mean, height: height, width: width)), image: image,
                          foreground: foreground)
    }
}

/// Checkpoints that cannot be ensembled, with what differs.
public struct EnsembleError: Error, CustomStringConvertible, Equatable {
    public let description: String

    init(_ description: String) { self.description = description }
}
