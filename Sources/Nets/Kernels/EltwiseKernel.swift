import CDNNL

/// oneDNN element-wise ReLU. Shapes are flattened: the operation ignores layout.
enum EltwiseKernel {
    private static func flat(_ t: Tensor) -> DNNL.MemoryDescriptor { DNNL.desc([t.count], dnnl_a, t.precision.dnnlType) }

    /// max(x, 0) into `out` (which may be `x` itself: oneDNN runs element-wise ops in place).
    static func relu(_ x: Tensor, into out: Tensor) {
        let md = flat(x)
        precondition(out.precision == x.precision && out.count == x.count)
        let p = DNNL.primitive("relu fwd \(x.count) \(x.precision)") {
            DNNL.primitiveDesc("relu forward") { rx_relu_forward($0, DNNL.engine, md.handle, 0) }
        }
        p.execute([(DNNL_ARG_SRC, md, x.storage), (DNNL_ARG_DST, md, out.storage)])
    }

    /// dx = dy where the ReLU's output y > 0, else 0 (written into `dy`'s own storage when `inPlace`).
    static func reluBackward(_ dy: Tensor, output y: Tensor, inPlace: Bool) -> Tensor {
        precondition(dy.precision == y.precision, "ReLU backward: gradient \(dy) for output \(y)")
        let md = flat(y)
        let hint = DNNL.primitive("relu fwd dst \(y.count) \(y.precision)") {
            DNNL.primitiveDesc("relu forward (dst)") { rx_relu_forward($0, DNNL.engine, md.handle, 1) }
        }
        let p = DNNL.primitive("relu bwd \(y.count) \(y.precision)", hint: hint) {
            DNNL.primitiveDesc("relu backward") { rx_relu_backward($0, DNNL.engine, md.handle, hint.pd) }
        }
        let dx = inPlace ? dy : Tensor.uninitialized(shape: dy.shape, layout: dy.layout, precision: dy.precision)
        p.execute([
            (DNNL_ARG_DST, md, y.storage),
            (DNNL_ARG_DIFF_DST, md, dy.storage),
            (DNNL_ARG_DIFF_SRC, md, dx.storage),
        ])
        return dx
    }
}
