import CDNNL

/// oneDNN batch normalization over NHWC activations, with per-channel scale and shift,
/// optionally followed by a fused ReLU.
///
/// `globalStats` means "normalise with the given mean and variance" (eval mode, or a
/// frozen BatchNorm in training); otherwise the batch's own statistics are computed and
/// returned (the variance is the biased one, as oneDNN and PyTorch's normalisation use).
///
/// With `relu`, the forward writes max(bn(x), 0) and, in training, a workspace marking the
/// positive outputs that the backward uses to mask the gradient: one pass over the
/// activation each way instead of two.
///
/// Scale and shift travel packed as one 2×C tensor in oneDNN 2.x (its channels-last backward
/// rejects them as separate arguments), as two C tensors in 3.x (which removed packing); see
/// `rx_batchnorm_flags`. 2.x implements no data-only backward with global statistics, so the
/// backward always computes the (tiny) scale and shift gradients.
enum BatchNormKernel {
    struct Setup: Hashable, CustomStringConvertible {
        var shape: [Int]
        var eps: Float
        var globalStats: Bool
        var relu: Bool
        /// The activation's format (bf16 or fp32); statistics, scale and shift are fp32 either way.
        var precision: Precision

        var activation: DNNL.MemoryDescriptor { DNNL.activation(shape, precision.dnnlType) }

        var flags: UInt32 { rx_batchnorm_flags(globalStats ? 1 : 0, relu ? 1 : 0) }

        var description: String { "bn \(shape) eps\(eps) global\(globalStats) relu\(relu) \(precision)" }
    }

    private static let packedScaleShift = RX_BATCHNORM_PACKED_SCALE_SHIFT != 0

    /// The scale and shift arguments: one packed 2×C tensor (2.x) or the two tensors (3.x,
    /// whose backward takes the scale only and rejects a shift); the returned tensors must
    /// outlive the execution.
    private static func scaleShiftArguments(_ scale: Tensor, _ shift: Tensor, backward: Bool)
        -> (args: [(Int32, DNNL.MemoryDescriptor, UnsafeMutableRawPointer)], keep: [Tensor]) {
        let c = scale.count
        guard packedScaleShift else {
            let md = DNNL.desc([c], dnnl_a)
            let scaleArg = (DNNL_ARG_SCALE, md, UnsafeMutableRawPointer(scale.data))
            return backward ? ([scaleArg], [scale])
                : ([scaleArg, (DNNL_ARG_SHIFT, md, UnsafeMutableRawPointer(shift.data))], [scale, shift])
        }
        let t = Tensor.uninitialized(shape: [2, c])
        t.data.update(from: scale.data, count: c)
        (t.data + c).update(from: shift.data, count: c)
        return ([(DNNL_ARG_SCALE_SHIFT, DNNL.desc([2, c], dnnl_ab), UnsafeMutableRawPointer(t.data))], [t])
    }

    private static func forwardPrimitive(_ s: Setup, training: Bool) -> DNNL.Primitive {
        DNNL.primitive("\(s) forward training\(training)") {
            let md = s.activation
            return DNNL.primitiveDesc("\(s) forward") {
                rx_batchnorm_forward($0, DNNL.engine, training ? 1 : 0, md.handle, s.eps, s.flags)
            }
        }
    }

    /// y = (x − mean)/√(var + eps)·scale + shift (then ReLU). Returns y, the statistics used
    /// (the batch's unless `stats` was given), and the ReLU workspace of a training forward.
    static func forward(_ x: Tensor, scale: Tensor, shift: Tensor, _ s: Setup, stats: (mean: Tensor, variance: Tensor)?,
                        training: Bool) -> (y: Tensor, mean: Tensor, variance: Tensor, workspace: Tensor?) {
        precondition(s.globalStats == (stats != nil) && s.shape == x.shape && s.precision == x.precision)
        let p = forwardPrimitive(s, training: training)
        let y = Tensor.uninitialized(shape: x.shape, layout: x.layout, precision: x.precision)
        let c = DNNL.desc([x.c], dnnl_a)
        let mean = stats?.mean ?? Tensor.uninitialized(shape: [x.c])
        let variance = stats?.variance ?? Tensor.uninitialized(shape: [x.c])
        let data = s.activation
        let scaleShift = scaleShiftArguments(scale, shift, backward: false)
        var args: [(Int32, DNNL.MemoryDescriptor, UnsafeMutableRawPointer)] = [
            (DNNL_ARG_SRC, data, x.storage),
            (DNNL_ARG_DST, data, y.storage),
            (DNNL_ARG_MEAN, c, UnsafeMutableRawPointer(mean.data)),
            (DNNL_ARG_VARIANCE, c, UnsafeMutableRawPointer(variance.data)),
        ] + scaleShift.args
        var workspace: Tensor?
        if s.relu && training {
            let wsDesc = p.md(dnnl_query_workspace_md)
            let ws = DNNL.storage(for: wsDesc)
            args.append((DNNL_ARG_WORKSPACE, wsDesc, ws.storage))
            workspace = ws
        }
        withExtendedLifetime(scaleShift.keep) { p.execute(args) }
        return (y, mean, variance, workspace)
    }

    /// (dx, dscale, dshift) for the statistics (and ReLU workspace) the training forward used.
    static func backward(_ dy: Tensor, x: Tensor, scale: Tensor, shift: Tensor, mean: Tensor, variance: Tensor,
                         workspace: Tensor?, _ s: Setup) -> (dx: Tensor, dscale: Tensor, dshift: Tensor) {
        let fwd = forwardPrimitive(s, training: true)
        let p = DNNL.primitive("\(s) backward", hint: fwd) {
            let md = s.activation
            return DNNL.primitiveDesc("\(s) backward") {
                rx_batchnorm_backward($0, DNNL.engine, md.handle, s.eps, s.flags, fwd.pd)
            }
        }
        precondition(dy.precision == x.precision, "BatchNorm backward: gradient \(dy) for input \(x)")
        let dx = Tensor.uninitialized(shape: x.shape, layout: x.layout, precision: x.precision)
        let c = DNNL.desc([x.c], dnnl_a)
        let data = s.activation
        let scaleShift = scaleShiftArguments(scale, shift, backward: true)
        let dscale = Tensor.uninitialized(shape: [x.c]), dshift = Tensor.uninitialized(shape: [x.c])
        let both = packedScaleShift ? Tensor.uninitialized(shape: [2, x.c]) : nil
        var args: [(Int32, DNNL.MemoryDescriptor, UnsafeMutableRawPointer)] = [
            (DNNL_ARG_SRC, data, x.storage),
            (DNNL_ARG_DIFF_DST, data, dy.storage),
            (DNNL_ARG_DIFF_SRC, data, dx.storage),
            (DNNL_ARG_MEAN, c, UnsafeMutableRawPointer(mean.data)),
            (DNNL_ARG_VARIANCE, c, UnsafeMutableRawPointer(variance.data)),
        ] + scaleShift.args
        if let both {
            args.append((DNNL_ARG_DIFF_SCALE_SHIFT, DNNL.desc([2, x.c], dnnl_ab), UnsafeMutableRawPointer(both.data)))
        } else {
            args.append((DNNL_ARG_DIFF_SCALE, c, UnsafeMutableRawPointer(dscale.data)))
            args.append((DNNL_ARG_DIFF_SHIFT, c, UnsafeMutableRawPointer(dshift.data)))
        }
        if s.relu {
            guard let workspace else { preconditionFailure("fused ReLU backward without its workspace") }
            args.append((DNNL_ARG_WORKSPACE, fwd.md(dnnl_query_workspace_md), workspace.storage))
        }
        withExtendedLifetime(scaleShift.keep) { p.execute(args) }
        if let both {
            dscale.data.update(from: both.data, count: x.c)
            dshift.data.update(from: both.data + x.c, count: x.c)
        }
        return (dx, dscale, dshift)
    }
}
