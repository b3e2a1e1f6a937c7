/// The residual connection `a + b` of two tensors of the same shape and layout (ResNet's `out += identity`).
///
/// Returns a new tensor, so neither input (each may be cached by the layer that produced it) changes.
public func residualAdd(_ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(a.shape == b.shape && a.layout == b.layout, "residualAdd: \(a) + \(b)")
    let out = Tensor(shape: a.shape, layout: a.layout)
    let p = a.data, q = b.data, o = out.data
    parallelChunks(a.count) { lo, hi in
        for i in lo..<hi { o[i] = p[i] + q[i] }
    }
    return out
}

/// The backward of `residualAdd`: both inputs receive the output gradient unchanged.
///
/// The two results are the *same* tensor (no copy): a caller must not modify either in place
/// while the other is still to be used; copy one first if a branch's backward works in place.
public func residualAddBackward(_ dy: Tensor) -> (a: Tensor, b: Tensor) {
    (dy, dy)
}
