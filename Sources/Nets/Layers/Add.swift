/// `a + b` of two tensors of the same shape and layout (ResNet's `out += identity`, FCN's
/// score fusion), as a new tensor, so neither input changes. Its backward hands the output
/// gradient to both inputs, the same tensor twice: the tape copies before either is updated.
public func add(_ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(a.shape == b.shape && a.layout == b.layout, "add: \(a) + \(b)")
    let out = Tensor.uninitialized(shape: a.shape, layout: a.layout)
    let p = a.data, q = b.data, o = out.data
    parallelChunks(a.count) { lo, hi in
        for i in lo..<hi { o[i] = p[i] + q[i] }
    }
    Tape.op(inputs: [a, b])?.record(out) { dy in [dy, dy] }
    return out
}
