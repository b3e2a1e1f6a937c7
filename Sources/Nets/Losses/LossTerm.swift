/// One term of a segmentation loss (cross-entropy, Dice, focal) over logits of shape
/// N×C×H×W stored channels-last, against an N×H×W label map.
///
/// Terms share one softmax per batch and add their weighted gradient into one buffer,
/// so a weighted sum of three terms costs one softmax and no extra gradient tensors.
public protocol LossTerm {
    /// The name the term is logged under ("cross_entropy", "dice", "focal").
    var name: String { get }
    /// Labels equal to this take no part in the term.
    var ignoreIndex: Int32 { get }
    /// Returns the term's value for the batch and adds `weight` × its gradient with
    /// respect to the logits into `gradient` (same shape and layout as the logits).
    func accumulate(_ softmax: ClassSoftmax, _ target: LabelMap, weight: Float, into gradient: Tensor) throws -> Float
}

extension LossTerm {
    /// The term's value and its gradient with respect to `logits`.
    public func callAsFunction(_ logits: Tensor, _ target: LabelMap) throws -> (loss: Float, gradient: Tensor) {
        let gradient = logits.zerosLike()
        let loss = try accumulate(ClassSoftmax(logits), target, weight: 1, into: gradient)
        return (loss, gradient)
    }
}

/// A target or a loss setting that does not fit the logits (a label outside the classes,
/// class weights of the wrong length, a label map of another size).
public struct LossError: Error, CustomStringConvertible {
    public let description: String
    init(_ message: String) { description = message }
}
