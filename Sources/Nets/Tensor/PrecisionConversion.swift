import CDNNL

extension Tensor {
    /// This tensor in `target` format (itself when it already is that), not recorded.
    func converted(to target: Precision) -> Tensor {
        if precision == target { return self }
        let out = Tensor.uninitialized(shape: shape, layout: layout, precision: target)
        // Element-wise, so the layout does not matter: both sides are described as flat vectors.
        DNNL.reorder(from: DNNL.desc([count], dnnl_a, precision.dnnlType), storage,
                     to: DNNL.desc([count], dnnl_a, target.dnnlType), out.storage)
        return out
    }

    /// This tensor in fp32, for a layer that has no bf16 kernel; the conversion is recorded
    /// (the tape hands its input the gradient back in bf16).
    public func float32() -> Tensor {
        guard precision != .fp32 else { return self }
        let out = converted(to: .fp32)
        Tape.op(inputs: [self])?.record(out) { dy in [dy] }
        return out
    }
}
