import CDNNL

/// oneDNN element-wise ReLU. Shapes are flattened: the operation ignores layout.
enum EltwiseKernel {
    private static func flat(_ t: Tensor) -> dnnl_memory_desc_t { DNNL.desc([t.count], dnnl_a) }

    /// max(x, 0) into `out` (which may be `x` itself: oneDNN runs element-wise ops in place).
    static func relu(_ x: Tensor, into out: Tensor) {
        let md = flat(x)
        let p = DNNL.primitive("relu fwd \(x.count)") {
            var d = dnnl_eltwise_desc_t()
            var m = md
            DNNL.check(dnnl_eltwise_forward_desc_init(&d, dnnl_forward_training, dnnl_eltwise_relu, &m, 0, 0), "relu")
            return DNNL.primitiveDesc(&d, "relu forward")
        }
        p.execute([(DNNL_ARG_SRC, md, UnsafeMutableRawPointer(x.data)), (DNNL_ARG_DST, md, UnsafeMutableRawPointer(out.data))])
    }

    /// dx = dy where the ReLU's output y > 0, else 0 (written into `dy`'s own storage when `inPlace`).
    static func reluBackward(_ dy: Tensor, output y: Tensor, inPlace: Bool) -> Tensor {
        let md = flat(y)
        let p = DNNL.primitive("relu bwd \(y.count)") {
            let hint = DNNL.primitive("relu fwd dst \(y.count)") {
                var d = dnnl_eltwise_desc_t()
                var m = md
                DNNL.check(dnnl_eltwise_forward_desc_init(&d, dnnl_forward_training, dnnl_eltwise_relu_use_dst_for_bwd,
                                                          &m, 0, 0), "relu")
                return DNNL.primitiveDesc(&d, "relu forward (dst)")
            }
            var d = dnnl_eltwise_desc_t()
            var m = md, dm = md
            DNNL.check(dnnl_eltwise_backward_desc_init(&d, dnnl_eltwise_relu_use_dst_for_bwd, &dm, &m, 0, 0), "relu bwd")
            return DNNL.primitiveDesc(&d, hint: hint.pd, "relu backward")
        }
        let dx = inPlace ? dy : Tensor.uninitialized(shape: dy.shape, layout: dy.layout)
        p.execute([
            (DNNL_ARG_DST, md, UnsafeMutableRawPointer(y.data)),
            (DNNL_ARG_DIFF_DST, md, UnsafeMutableRawPointer(dy.data)),
            (DNNL_ARG_DIFF_SRC, md, UnsafeMutableRawPointer(dx.data)),
        ])
        return dx
    }
}
