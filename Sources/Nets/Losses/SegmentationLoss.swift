/// A weighted sum of loss terms (e.g. cross-entropy + Dice, as in the DRIVE UNet recipe),
/// sharing one softmax and one gradient buffer.
public struct SegmentationLoss {
    public var terms: [(weight: Float, term: any LossTerm)]

    public init(_ terms: [(weight: Float, term: any LossTerm)]) {
        self.terms = terms
    }

    /// The loss of one batch: the weighted total, each term's own (unweighted) value for
    /// logging, and the gradient of the total with respect to the logits.
    public struct Value {
        public var total: Float
        public let terms: [(name: String, value: Float)]
        public let gradient: Tensor
    }

    public func callAsFunction(_ logits: Tensor, _ target: LabelMap) throws -> Value {
        let softmax = ClassSoftmax(logits)
        let gradient = logits.zerosLike()
        var total = 0.0
        var values: [(name: String, value: Float)] = []
        for (weight, term) in terms {
            let value = try term.accumulate(softmax, target, weight: weight, into: gradient)
            total += Double(weight) * Double(value)
            values.append((term.name, value))
        }
        return Value(total: Float(total), terms: values, gradient: gradient)
    }
}
