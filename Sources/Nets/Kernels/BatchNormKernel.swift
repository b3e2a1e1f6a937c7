import CDNNL

/// oneDNN batch normalization over NHWC activations, with per-channel scale and shift.
///
/// `globalStats` means "normalise with the given mean and variance" (eval mode, or a
/// frozen BatchNorm in training); otherwise the batch's own statistics are computed and
/// returned (the variance is the biased one, as oneDNN and PyTorch's normalisation use).
///
/// Scale and shift travel packed as one 2×C tensor (`use_scaleshift`): oneDNN 2.6's
/// channels-last backward rejects them as separate arguments (invalid_arguments).
enum BatchNormKernel {
    private static func flags(_ globalStats: Bool) -> UInt32 {
        dnnl_use_scaleshift.rawValue | (globalStats ? dnnl_use_global_stats.rawValue : 0)
    }

    private static func packed(_ scale: Tensor, _ shift: Tensor) -> Tensor {
        let c = scale.count
        let t = Tensor(shape: [2, c])
        t.data.update(from: scale.data, count: c)
        (t.data + c).update(from: shift.data, count: c)
        return t
    }

    private static func forwardPrimitive(_ shape: [Int], eps: Float, globalStats: Bool, training: Bool) -> DNNL.Primitive {
        DNNL.primitive("bn fwd \(shape) eps\(eps) g\(globalStats) t\(training)") {
            var d = dnnl_batch_normalization_desc_t()
            var md = DNNL.activation(shape)
            DNNL.check(dnnl_batch_normalization_forward_desc_init(
                &d, training ? dnnl_forward_training : dnnl_forward_inference, &md, eps, flags(globalStats)), "bn forward")
            return DNNL.primitiveDesc(&d, "bn forward \(shape)")
        }
    }

    /// y = (x − mean)/√(var + eps)·scale + shift. Returns y and, unless `stats` was given,
    /// the batch mean and biased variance.
    static func forward(_ x: Tensor, scale: Tensor, shift: Tensor, eps: Float, stats: (mean: Tensor, variance: Tensor)?,
                        training: Bool) -> (y: Tensor, mean: Tensor, variance: Tensor) {
        let p = forwardPrimitive(x.shape, eps: eps, globalStats: stats != nil, training: training)
        let y = Tensor.uninitialized(shape: x.shape, layout: x.layout)
        let c = DNNL.desc([x.c], dnnl_a)
        let mean = stats?.mean ?? Tensor(shape: [x.c])
        let variance = stats?.variance ?? Tensor(shape: [x.c])
        let data = DNNL.activation(x.shape)
        let scaleShift = packed(scale, shift)
        defer { withExtendedLifetime(scaleShift) {} }
        p.execute([
            (DNNL_ARG_SRC, data, UnsafeMutableRawPointer(x.data)),
            (DNNL_ARG_DST, data, UnsafeMutableRawPointer(y.data)),
            (DNNL_ARG_SCALE_SHIFT, DNNL.desc([2, x.c], dnnl_ab), UnsafeMutableRawPointer(scaleShift.data)),
            (DNNL_ARG_MEAN, c, UnsafeMutableRawPointer(mean.data)),
            (DNNL_ARG_VARIANCE, c, UnsafeMutableRawPointer(variance.data)),
        ])
        return (y, mean, variance)
    }

    /// dx, and (when `parameterGradients`) dscale and dshift, for the statistics the forward used.
    static func backward(_ dy: Tensor, x: Tensor, scale: Tensor, shift: Tensor, mean: Tensor, variance: Tensor, eps: Float,
                         globalStats: Bool, parameterGradients: Bool) -> (dx: Tensor, dscale: Tensor?, dshift: Tensor?) {
        let shape = x.shape
        let key = "bn bwd \(shape) eps\(eps) g\(globalStats) p\(parameterGradients)"
        let p = DNNL.primitive(key) {
            let hint = forwardPrimitive(shape, eps: eps, globalStats: globalStats, training: true)
            var d = dnnl_batch_normalization_desc_t()
            var md = DNNL.activation(shape)
            var diff = md
            DNNL.check(dnnl_batch_normalization_backward_desc_init(
                &d, parameterGradients ? dnnl_backward : dnnl_backward_data, &diff, &md, eps, flags(globalStats)), key)
            return DNNL.primitiveDesc(&d, hint: hint.pd, key)
        }
        let dx = Tensor.uninitialized(shape: x.shape, layout: x.layout)
        let c = DNNL.desc([x.c], dnnl_a)
        let data = DNNL.activation(shape)
        let scaleShift = packed(scale, shift)
        defer { withExtendedLifetime(scaleShift) {} }
        var args: [(Int32, dnnl_memory_desc_t, UnsafeMutableRawPointer)] = [
            (DNNL_ARG_SRC, data, UnsafeMutableRawPointer(x.data)),
            (DNNL_ARG_DIFF_DST, data, UnsafeMutableRawPointer(dy.data)),
            (DNNL_ARG_DIFF_SRC, data, UnsafeMutableRawPointer(dx.data)),
            (DNNL_ARG_SCALE_SHIFT, DNNL.desc([2, x.c], dnnl_ab), UnsafeMutableRawPointer(scaleShift.data)),
            (DNNL_ARG_MEAN, c, UnsafeMutableRawPointer(mean.data)),
            (DNNL_ARG_VARIANCE, c, UnsafeMutableRawPointer(variance.data)),
        ]
        var dscale: Tensor?, dshift: Tensor?
        if parameterGradients {
            let both = Tensor(shape: [2, x.c])
            args.append((DNNL_ARG_DIFF_SCALE_SHIFT, DNNL.desc([2, x.c], dnnl_ab), UnsafeMutableRawPointer(both.data)))
            p.execute(args)
            let s = Tensor(shape: [x.c]), t = Tensor(shape: [x.c])
            s.data.update(from: both.data, count: x.c)
            t.data.update(from: both.data + x.c, count: x.c)
            dscale = s
            dshift = t
        } else {
            p.execute(args)
        }
        return (dx, dscale, dshift)
    }
}
