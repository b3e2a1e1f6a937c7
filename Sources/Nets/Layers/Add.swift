import CKernels

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
/// the output is zero and hands it to both inputs. The gradient comes in pieces (the output
/// feeds the next block's first convolution and its shortcut), summed in the masking pass.
public func addReLU(_ a: Tensor, _ b: Tensor) -> Tensor {
    let out = sum(a, b, relu: true)
    Tape.op(inputs: [a, b])?.recordSummingGradient(out, consumesGradient: true) { pieces in
        let masked = maskedSum(pieces, where: out)
        return [masked, masked]
    }
    return out
}

/// pieces[0] ← the sum of the pieces where `output` > 0, else 0: ReLU's backward of a
/// gradient not yet summed. They are added in order, each sum rounded to the format, as the
/// tape adds pieces, so the result is the same bits as summing first and masking after.
func maskedSum(_ pieces: [Tensor], where output: Tensor) -> Tensor {
    let dy = pieces[0]
    for middle in pieces.dropFirst().dropLast() { dy.add(middle) }
    let other = pieces.count > 1 ? pieces.last : nil
    precondition(dy.shape == output.shape && dy.layout == output.layout && dy.precision == output.precision
                 && pieces.allSatisfy { $0.shape == dy.shape && $0.layout == dy.layout && $0.precision == dy.precision },
                 "ReLU backward: gradient \(pieces) for output \(output)")
    if dy.precision == .bf16 {
        let g = dy.bf16, y = output.bf16, h = other?.bf16
        parallelChunks(dy.count) { lo, hi in
            if VectorKernels.enabled { return rx_masked_sum_bf16(g + lo, h.map { $0 + lo }, y + lo, hi - lo) }
            if let h {
                for i in lo..<hi { g[i] = widen(y[i]) > 0 ? narrow(widen(g[i]) + widen(h[i])) : 0 }
            } else {
                for i in lo..<hi where !(widen(y[i]) > 0) { g[i] = 0 }
            }
        }
    } else {
        let g = dy.data, y = output.data
        if let h = other?.data {
            parallelChunks(dy.count) { lo, hi in
                for i in lo..<hi { g[i] = y[i] > 0 ? g[i] + h[i] : 0 }
            }
        } else {
            parallelChunks(dy.count) { lo, hi in
                for i in lo..<hi where !(y[i] > 0) { g[i] = 0 }
            }
        }
    }
    return dy
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
