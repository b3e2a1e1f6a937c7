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
/// Scale and shift travel packed as one 2×C tensor (`use_scaleshift`): oneDNN 2.6's
/// channels-last backward rejects them as separate arguments (invalid_arguments), and it
/// implements no data-only backward with global statistics, so the backward always
/// computes the (tiny) scale and shift gradients.
enum BatchNormKernel {
    struct Setup: Hashable, CustomStringConvertible {
        var shape: [Int]
        var eps: Float
        var globalStats: Bool
        var relu: Bool

        var flags: UInt32 {
            dnnl_use_scaleshift.rawValue | (globalStats ? dnnl_use_global_stats.rawValue : 0)
                | (relu ? dnnl_fuse_norm_relu.rawValue : 0)
        }

        var description: String { "bn \(shape) eps\(eps) global\(globalStats) relu\(relu)" }
    }

    private static func packed(_ scale: Tensor, _ shift: Tensor) -> Tensor {
        let c = scale.count
        let t = Tensor.uninitialized(shape: [2, c])
        t.data.update(from: scale.data, count: c)
        (t.data + c).update(from: shift.data, count: c)
        return t
    }

    private static func forwardPrimitive(_ s: Setup, training: Bool) -> DNNL.Primitive {
        DNNL.primitive("\(s) forward training\(training)") {
            var d = dnnl_batch_normalization_desc_t()
            var md = DNNL.activation(s.shape)
            DNNL.check(dnnl_batch_normalization_forward_desc_init(
                &d, training ? dnnl_forward_training : dnnl_forward_inference, &md, s.eps, s.flags), "\(s) forward")
            return DNNL.primitiveDesc(&d, "\(s) forward")
        }
    }

    /// y = (x − mean)/√(var + eps)·scale + shift (then ReLU). Returns y, the statistics used
    /// (the batch's unless `stats` was given), and the ReLU workspace of a training forward.
    static func forward(_ x: Tensor, scale: Tensor, shift: Tensor, _ s: Setup, stats: (mean: Tensor, variance: Tensor)?,
                        training: Bool) -> (y: Tensor, mean: Tensor, variance: Tensor, workspace: Tensor?) {
        precondition(s.globalStats == (stats != nil))
        let p = forwardPrimitive(s, training: training)
        let y = Tensor.uninitialized(shape: x.shape, layout: x.layout)
        let c = DNNL.desc([x.c], dnnl_a)
        let mean = stats?.mean ?? Tensor.uninitialized(shape: [x.c])
        let variance = stats?.variance ?? Tensor.uninitialized(shape: [x.c])
        let data = DNNL.activation(x.shape)
        let scaleShift = packed(scale, shift)
        var args: [(Int32, dnnl_memory_desc_t, UnsafeMutableRawPointer)] = [
            (DNNL_ARG_SRC, data, UnsafeMutableRawPointer(x.data)),
            (DNNL_ARG_DST, data, UnsafeMutableRawPointer(y.data)),
            (DNNL_ARG_SCALE_SHIFT, DNNL.desc([2, x.c], dnnl_ab), UnsafeMutableRawPointer(scaleShift.data)),
            (DNNL_ARG_MEAN, c, UnsafeMutableRawPointer(mean.data)),
            (DNNL_ARG_VARIANCE, c, UnsafeMutableRawPointer(variance.data)),
        ]
        var workspace: Tensor?
        if s.relu && training {
            let wsDesc = p.md(dnnl_query_workspace_md)
            let ws = Tensor.uninitialized(shape: [(DNNL.bytes(wsDesc) + 3) / 4])
            args.append((DNNL_ARG_WORKSPACE, wsDesc, UnsafeMutableRawPointer(ws.data)))
            workspace = ws
        }
        withExtendedLifetime(scaleShift) { p.execute(args) }
        return (y, mean, variance, workspace)
    }

    /// (dx, dscale, dshift) for the statistics (and ReLU workspace) the training forward used.
    static func backward(_ dy: Tensor, x: Tensor, scale: Tensor, shift: Tensor, mean: Tensor, variance: Tensor,
                         workspace: Tensor?, _ s: Setup) -> (dx: Tensor, dscale: Tensor, dshift: Tensor) {
        let fwd = forwardPrimitive(s, training: true)
        let p = DNNL.primitive("\(s) backward") {
            var d = dnnl_batch_normalization_desc_t()
            var md = DNNL.activation(s.shape)
            var diff = md
            DNNL.check(dnnl_batch_normalization_backward_desc_init(&d, dnnl_backward, &diff, &md, s.eps, s.flags),
                       "\(s) backward")
            return DNNL.primitiveDesc(&d, hint: fwd.pd, "\(s) backward")
        }
        let dx = Tensor.uninitialized(shape: x.shape, layout: x.layout)
        let c = DNNL.desc([x.c], dnnl_a)
        let data = DNNL.activation(s.shape)
        let scaleShift = packed(scale, shift)
        let both = Tensor.uninitialized(shape: [2, x.c])
        var args: [(Int32, dnnl_memory_desc_t, UnsafeMutableRawPointer)] = [
            (DNNL_ARG_SRC, data, UnsafeMutableRawPointer(x.data)),
            (DNNL_ARG_DIFF_DST, data, UnsafeMutableRawPointer(dy.data)),
            (DNNL_ARG_DIFF_SRC, data, UnsafeMutableRawPointer(dx.data)),
            (DNNL_ARG_SCALE_SHIFT, DNNL.desc([2, x.c], dnnl_ab), UnsafeMutableRawPointer(scaleShift.data)),
            (DNNL_ARG_MEAN, c, UnsafeMutableRawPointer(mean.data)),
            (DNNL_ARG_VARIANCE, c, UnsafeMutableRawPointer(variance.data)),
            (DNNL_ARG_DIFF_SCALE_SHIFT, DNNL.desc([2, x.c], dnnl_ab), UnsafeMutableRawPointer(both.data)),
        ]
        if s.relu {
            guard let workspace else { preconditionFailure("fused ReLU backward without its workspace") }
            args.append((DNNL_ARG_WORKSPACE, fwd.md(dnnl_query_workspace_md), UnsafeMutableRawPointer(workspace.data)))
        }
        withExtendedLifetime(scaleShift) { p.execute(args) }
        let dscale = Tensor.uninitialized(shape: [x.c]), dshift = Tensor.uninitialized(shape: [x.c])
        dscale.data.update(from: both.data, count: x.c)
        dshift.data.update(from: both.data + x.c, count: x.c)
        return (dx, dscale, dshift)
    }
}
