/// `a + b` of two tensors of the same shape and layout (ResNet's `out += identity`, FCN's
/// score fusion), as a new tensor, so neither input changes. Its backward hands the output
/// gradient to both inputs, the same tensor twice: the tape copies before either is updated.
public func add(_ a: Tensor, _ b: Tensor) -> Tensor {
    if a.precision != b.precision { return add(a.float32(), b.float32()) }
    precondition(a.shape == b.shape && a.layout == b.layout && a.precision == b.precision, "add: \(a) + \(b)")
    let out = Tensor.uninitialized(shape: a.shape, layout: a.layout, precision: a.precision)
    if a.precision == .bf16 {
        let p = a.bf16, q = b.bf16, o = out.bf16
        parallelChunks(a.count) { lo, hi in
            for i in lo..<hi { o[i] = narrow(widen(p[i]) + widen(q[i])) }
        }
    } else {
        let p = a.data, q = b.data, o = out.data
        parallelChunks(a.count) { lo, hi in
            for i in lo..<hi { o[i] = p[i] + q[i] }
        }
    }
    Tape.op(inputs: [a, b])?.record(out) { dy in [dy, dy] }
    return out
}
