/// `a + b` of two tensors of the same shape and layout (ResNet's `out += identity`, FCN's
/// score fusion), as a new tensor, so neither input changes. Its backward hands the output
/// gradient to both inputs, the same tensor twice: the tape copies before either is updated.
public func add(_ a: Tensor, _ b: Tensor) -> Tensor {
    let out = sum(a, b, relu: false)
    Tape.op(inputs: [a, b])?.record(out) { dy in [dy, dy] }
    return out
}

/// relu(a + b) in one pass over the tensors, a residual block's output: the sum is never
/// written unrectified and read again by a ReLU of its own. Backward masks the gradient where
/// the output is zero (in place) and hands it to both inputs.
public func addReLU(_ a: Tensor, _ b: Tensor) -> Tensor {
    let out = sum(a, b, relu: true)
    Tape.op(inputs: [a, b])?.record(out, consumesGradient: true) { dy in
        let masked = EltwiseKernel.reluBackward(dy, output: out, inPlace: true)
        return [masked, masked]
    }
    return out
}

private func sum(_ a: Tensor, _ b: Tensor, relu: Bool) -> Tensor {
    if a.precision != b.precision { return sum(a.float32(), b.float32(), relu: relu) }
    precondition(a.shape == b.shape && a.layout == b.layout && a.precision == b.precision, "add: \(a) + \(b)")
    let out = Tensor.uninitialized(shape: a.shape, layout: a.layout, precision: a.precision)
    let floor: Float = relu ? 0 : -.infinity
    if a.precision == .bf16 {
        let p = a.bf16, q = b.bf16, o = out.bf16
        parallelChunks(a.count) { lo, hi in
            for i in lo..<hi { o[i] = narrow(max(widen(p[i]) + widen(q[i]), floor)) }
        }
    } else {
        let p = a.data, q = b.data, o = out.data
        parallelChunks(a.count) { lo, hi in
            for i in lo..<hi { o[i] = max(p[i] + q[i], floor) }
        }
    }
    return out
}
