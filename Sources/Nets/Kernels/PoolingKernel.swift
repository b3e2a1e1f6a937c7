import CDNNL

/// oneDNN max pooling over NHWC activations (PyTorch's floor mode), with the workspace
/// (argmax positions) its backward needs.
enum PoolingKernel {
    struct Geometry: Hashable, CustomStringConvertible {
        var shape: [Int]
        var kernel, stride, padding: Int
        var precision: Precision = .fp32
        // Floor division, as PyTorch: an input smaller than the window has no output (an
        // error upstream), where Swift's truncating `/` would invent one.
        var outHeight: Int { floorDivide(shape[2] + 2 * padding - kernel, stride) + 1 }
        var outWidth: Int { floorDivide(shape[3] + 2 * padding - kernel, stride) + 1 }

        private func floorDivide(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }
        var outputShape: [Int] { [shape[0], shape[1], outHeight, outWidth] }
        var description: String { "maxpool \(shape) k\(kernel) s\(stride) p\(padding) \(precision)" }
        var input: DNNL.MemoryDescriptor { DNNL.activation(shape, precision.dnnlType) }
        var output: DNNL.MemoryDescriptor { DNNL.activation(outputShape, precision.dnnlType) }

        /// oneDNN wants padding that makes the output size exact; floor mode drops the
        /// last partial window, which is a smaller (possibly negative → 0) right padding.
        private func rightPadding(_ input: Int, _ output: Int) -> Int64 {
            Int64(max(0, (output - 1) * stride + kernel - input - padding))
        }

        // The per-axis (height, width) arrays oneDNN takes.
        var strides: [Int64] { [Int64(stride), Int64(stride)] }
        var kernelSize: [Int64] { [Int64(kernel), Int64(kernel)] }
        var dilation: [Int64] { [0, 0] }  // oneDNN counts extra gaps: 0 = dense
        var leftPadding: [Int64] { [Int64(padding), Int64(padding)] }
        var rightPadding: [Int64] { [rightPadding(shape[2], outHeight), rightPadding(shape[3], outWidth)] }
    }

    private static func forwardPrimitive(_ g: Geometry) -> DNNL.Primitive {
        DNNL.primitive("\(g) fwd") {
            let src = g.input, dst = g.output
            return DNNL.primitiveDesc("\(g) forward") {
                rx_maxpool_forward($0, DNNL.engine, src.handle, dst.handle, g.strides, g.kernelSize, g.dilation,
                                   g.leftPadding, g.rightPadding)
            }
        }
    }

    /// The pooled output and the workspace that backward needs.
    static func forward(_ x: Tensor, _ g: Geometry) -> (y: Tensor, workspace: Tensor) {
        precondition(x.shape == g.shape && x.precision == g.precision, "\(g): input \(x)")
        let p = forwardPrimitive(g)
        let y = Tensor.uninitialized(shape: g.outputShape, layout: .nhwc, precision: g.precision)
        let wsDesc = p.md(dnnl_query_workspace_md)
        let ws = DNNL.storage(for: wsDesc)
        p.execute([
            (DNNL_ARG_SRC, g.input, x.storage),
            (DNNL_ARG_DST, g.output, y.storage),
            (DNNL_ARG_WORKSPACE, wsDesc, ws.storage),
        ])
        return (y, ws)
    }

    /// Routes each output gradient to the input position that won the max.
    static func backward(_ dy: Tensor, workspace: Tensor, _ g: Geometry) -> Tensor {
        let fwd = forwardPrimitive(g)
        let p = DNNL.primitive("\(g) bwd", hint: fwd) {
            let src = g.input, dst = g.output
            return DNNL.primitiveDesc("\(g) backward") {
                rx_maxpool_backward($0, DNNL.engine, src.handle, dst.handle, g.strides, g.kernelSize, g.dilation,
                                    g.leftPadding, g.rightPadding, fwd.pd)
            }
        }
        precondition(dy.precision == g.precision, "\(g): gradient \(dy)")
        let dx = Tensor.uninitialized(shape: g.shape, layout: .nhwc, precision: g.precision)
        p.execute([
            (DNNL_ARG_DIFF_DST, g.output, dy.storage),
            (DNNL_ARG_DIFF_SRC, g.input, dx.storage),
            (DNNL_ARG_WORKSPACE, fwd.md(dnnl_query_workspace_md), workspace.storage),
        ])
        return dx
    }
}
