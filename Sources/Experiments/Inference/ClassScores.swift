import Nets

/// Per-pixel class scores of a batch (N×C×H×W, stored NHWC): the network's logits, or class
/// probabilities where several outputs were averaged (blended tiles, flipped copies). The
/// prediction is their argmax either way.
public struct ClassScores {
    public let values: Tensor
    public let areProbabilities: Bool

    public init(logits: Tensor) {
        values = logits
        areProbabilities = false
    }

    public init(probabilities: Tensor) {
        values = probabilities
        areProbabilities = true
    }

    /// The softmax probabilities (the logits' softmax, as the losses take it).
    public var probabilities: Tensor { areProbabilities ? values : ClassSoftmax(values).probabilities }
}
