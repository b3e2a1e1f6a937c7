import CDNNL

/// oneDNN element-wise ReLU. Shapes are flattened: the operation ignores layout.
enum EltwiseKernel {
    private static func flat(_ t: Tensor) -> DNNL.MemoryDescriptor { DNNL.desc([t.count], dnnl_a) }

    /// max(x, 0) into `out` (which may be `x` itself: oneDNN runs element-wise ops in place).
    static func relu(_ x: Tensor, into out: Tensor) {
        let md = flat(x)
        let p = DNNL.primitive("relu fwd \(x.count)") {
            DNNL.primitiveDesc("relu forward") { rx_relu_forward($0, DNNL.engine, md.handle, 0) }
        }
        p.execute([(DNNL_ARG_SRC, md, UnsafeMutableRawPointer(x.data)), (DNNL_ARG_DST, md, UnsafeMutableRawPointer(out.data))])
    }

    /// dx = dy where the ReLU's output y > 0, else 0 (written into `dy`'s own storage when `inPlace`).
    static func reluBackward(_ dy: Tensor, output y: Tensor, inPlace: Bool) -> Tensor {
        let md = flat(y)
        let hint = DNNL.primitive("relu fwd dst \(y.count)") {
            DNNL.primitiveDesc("relu forward (dst)") { rx_relu_forward($0, DNNL.engine, md.handle, 1) }
        }
        let p = DNNL.primitive("relu bwd \(y.count)", hint: hint) {
            DNNL.primitiveDesc("relu backward") { rx_relu_backward($0, DNNL.engine, md.handle, hint.pd) }
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
