import CDNNL
import Foundation

/// Everything that decides which convolution primitive runs: batch, channels, spatial
/// size, kernel, stride, padding, dilation, groups, bias, and whether it is transposed.
struct ConvGeometry: Hashable, CustomStringConvertible {
    var n, inChannels, outChannels, height, width: Int
    var kernel, stride, padding, dilation: Int
    var outputPadding = 0
    /// Channel groups (`groups=` in PyTorch); as many as channels is a depthwise convolution.
    var groups = 1
    var bias: Bool
    var transposed: Bool
    /// bf16: the primitives read bf16 weights, input and output gradient and write a bf16
    /// output; weight gradients are rounded to bf16 once (as autocast's are) and stored fp32,
    /// bias gradients are fp32.
    var precision: Precision = .fp32
    /// The format the input is stored in, and its gradient written in: bf16 between layers of
    /// a bf16 model, fp32 for the image a bf16 model starts from (converted to bf16 to compute).
    var inputPrecision: Precision = .fp32

    var outHeight: Int { outSize(height) }
    var outWidth: Int { outSize(width) }

    private func outSize(_ i: Int) -> Int {
        if transposed { return (i - 1) * stride - 2 * padding + dilation * (kernel - 1) + outputPadding + 1 }
        return (i + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1
    }

    var inputShape: [Int] { [n, inChannels, height, width] }
    var outputShape: [Int] { [n, outChannels, outHeight, outWidth] }

    /// Logical weight dims as oneDNN wants them: {out, in, kh, kw} for both kinds, or
    /// {groups, out/groups, in/groups, kh, kw} for a grouped convolution.
    var weightDims: [Int] {
        groups == 1 ? [outChannels, inChannels, kernel, kernel]
            : [groups, outChannels / groups, inChannels / groups, kernel, kernel]
    }

    /// How PyTorch stores the weight: Conv2d is [out, in/groups, kh, kw] (oihw, or goihw, the
    /// same bytes); ConvTranspose2d is [in, out, kh, kw], which is oneDNN's iohw of the same
    /// logical dims.
    var userWeightTag: dnnl_format_tag_t { transposed ? dnnl_iohw : groups == 1 ? dnnl_oihw : dnnl_goihw }

    /// The weight's shape in PyTorch.
    var userWeightShape: [Int] {
        transposed ? [inChannels, outChannels, kernel, kernel] : [outChannels, inChannels / groups, kernel, kernel]
    }

    var description: String {
        "\(transposed ? "deconv" : "conv") n\(n) c\(inChannels)->\(outChannels) \(height)x\(width) k\(kernel) s\(stride) p\(padding) d\(dilation) op\(outputPadding) g\(groups) b\(bias) \(inputPrecision)->\(precision)"
    }
}

/// The three oneDNN primitives of one convolution geometry plus the weight formats they chose.
///
/// Activations are passed as NHWC and weights in PyTorch's layout; the primitives pick
/// their own (blocked) weight format, and we reorder the small weight tensors to and
/// from it each step, which costs far less than reordering activations.
///
/// In bf16 the output, the output gradient and the input gradient are bf16 (the input
/// gradient in the input's format), an fp32 input (the image) is converted to bf16 once (an
/// `Operand`, which backward keeps instead of the fp32 input), the weights by the reorder
/// that blocks them (once for the forward, once for backward data). Backward weights sums in
/// fp32 and writes bf16, as PyTorch's autocast does (its weight gradient is that of the bf16
/// copy of the weights): half the bytes to write and reorder back to PyTorch's layout, where
/// they become the fp32 gradient the optimiser reads; bias gradients stay fp32.
final class ConvolutionKernel: ConvolutionAlgorithm {
    let geometry: ConvGeometry
    let forward: DNNL.Primitive
    let backwardData: DNNL.Primitive
    let backwardWeights: DNNL.Primitive
    let userWeights: DNNL.MemoryDescriptor
    /// The NHWC input (and its gradient) and output (and its gradient) as the layers hold them.
    let src, dst, bias: DNNL.MemoryDescriptor
    /// The input as the primitives read it (bf16 NHWC in bf16, else `src`).
    let srcOperand: DNNL.MemoryDescriptor
    /// Backward weights a chunk of input channels at a time, where the whole kernel is slow.
    private let inputChunked: InputChunkedWeightGradient?
    /// Our own writers of the forward's and backward data's bf16 weights, where they have one.
    private let forwardWeights, backwardDataWeights: PairedWeights?

    private static let lock = NSLock()
    /// A UNet at one image size has about 25 geometries; ResNet-50 segmentation models about 60.
    nonisolated(unsafe) private static var cache = KernelCache<ConvGeometry, ConvolutionKernel>(capacity: 256)

    /// Kernels held by the cache now, for tests.
    static var cachedKernels: Int {
        lock.lock()
        defer { lock.unlock() }
        return cache.count
    }

    /// The shared kernel for `g`, created (JIT-compiled) on first use. A bf16 geometry that
    /// oneDNN has no bf16 kernel for gets the fp32 kernel: that convolution runs in fp32.
    static func get(_ g: ConvGeometry) -> ConvolutionKernel {
        lock.lock()
        defer { lock.unlock() }
        if let k = cache.value(g) { return k }
        var fp32 = g
        fp32.precision = .fp32
        fp32.inputPrecision = .fp32
        // Only bf16 may come back nil; an fp32 kernel that cannot be made is a shape bug and traps.
        let k = ConvolutionKernel(g) ?? cache.value(fp32) ?? ConvolutionKernel(fp32)!
        cache.insert(k, for: g)
        cache.insert(k, for: k.geometry)
        return k
    }

    private init?(_ g: ConvGeometry) {
        geometry = g
        precondition(g.precision == .bf16 || g.inputPrecision == .fp32, "\(g): an fp32 convolution reads fp32")
        let low = g.precision.dnnlType
        src = DNNL.activation(g.inputShape, g.inputPrecision.dnnlType)
        dst = DNNL.activation(g.outputShape, low)
        bias = DNNL.desc([g.outChannels], dnnl_a)
        userWeights = DNNL.desc(g.weightDims, g.userWeightTag)
        srcOperand = DNNL.activation(g.inputShape, low)
        inputChunked = InputChunkedWeightGradient(g)
        // Forward reads (bf16 src, bf16 w) and writes bf16 dst; backward data reads (bf16 w,
        // bf16 diff_dst) and writes diff_src in the input's format; backward weights reads
        // (bf16 src, bf16 diff_dst) and writes bf16 diff_weights: one descriptor set per pass.
        let w = DNNL.any(g.weightDims, low), wdiff = DNNL.any(g.weightDims, low)
        let (fullSrc, lowSrc, lowDst) = (src, srcOperand, dst)
        let strides = [Int64(g.stride), Int64(g.stride)]
        let dilates = [Int64(g.dilation - 1), Int64(g.dilation - 1)]  // oneDNN counts extra gaps: 0 = dense
        let padL = [Int64(g.padding), Int64(g.padding)]
        let padR = g.transposed ? [Int64(g.padding - g.outputPadding), Int64(g.padding - g.outputPadding)] : padL
        let biasDesc = g.bias ? bias.handle : nil  // oneDNN takes no bias descriptor to mean "no bias"
        let transposed: Int32 = g.transposed ? 1 : 0
        let name = g.description
        // fp32 kernels always exist (a failure is a shape bug and traps); a bf16 one may not.
        func create(_ what: String, _ make: (UnsafeMutablePointer<dnnl_primitive_desc_t?>) -> dnnl_status_t)
            -> dnnl_primitive_desc_t? {
            g.precision == .fp32 ? DNNL.primitiveDesc("\(name) \(what)", make) : DNNL.implementedPrimitiveDesc(make)
        }
        let avoidInBackwardWeights = rx_conv_backward_weights_avoid()

        guard let fpd = create("forward", {
            rx_conv_forward($0, DNNL.engine, transposed, lowSrc.handle, w.handle, biasDesc, lowDst.handle, strides,
                            dilates, padL, padR, nil)
        }) else { return nil }
        guard let bpd = create("backward data", {
            rx_conv_backward_data($0, DNNL.engine, transposed, fullSrc.handle, w.handle, lowDst.handle, strides,
                                  dilates, padL, padR, fpd, nil)
        }) else {
            dnnl_primitive_desc_destroy(fpd)
            return nil
        }
        guard let wpd = create("backward weights", {
            rx_conv_backward_weights($0, DNNL.engine, transposed, lowSrc.handle, wdiff.handle, biasDesc, lowDst.handle,
                                     strides, dilates, padL, padR, fpd, avoidInBackwardWeights)
        }) else {
            dnnl_primitive_desc_destroy(fpd)
            dnnl_primitive_desc_destroy(bpd)
            return nil
        }
        forward = DNNL.Primitive(pd: fpd)
        backwardData = DNNL.Primitive(pd: bpd, hint: forward)
        backwardWeights = DNNL.Primitive(pd: wpd, hint: forward)
        forwardWeights = PairedWeights(forward.md(dnnl_query_weights_md), g)
        backwardDataWeights = PairedWeights(backwardData.md(dnnl_query_weights_md), g)
    }

    func prepareForward(_ weight: Tensor) -> PreparedWeights { prepare(weight, for: forward, forwardWeights) }

    func prepareBackwardData(_ weight: Tensor) -> PreparedWeights {
        prepare(weight, for: backwardData, backwardDataWeights)
    }

    /// The weights in the format `primitive` wants: `weight` itself when the formats agree,
    /// else a copy in that format, written by `writer` where there is one.
    private func prepare(_ weight: Tensor, for primitive: DNNL.Primitive, _ writer: PairedWeights?) -> PreparedWeights {
        let want = primitive.md(dnnl_query_weights_md)
        if want.sameFormat(as: userWeights) { return PreparedWeights(md: want, storage: weight) }
        let storage = DNNL.storage(for: want)
        if let writer {
            writer.write(weight, into: storage)
        } else {
            DNNL.reorder(from: userWeights, weight.storage, to: want, storage.storage)
        }
        return PreparedWeights(md: want, storage: storage)
    }

    func runForward(_ x: Operand, _ weights: PreparedWeights, _ b: Tensor?) -> Tensor {
        let y = Tensor.uninitialized(shape: geometry.outputShape, layout: .nhwc, precision: geometry.precision)
        var args: [(Int32, DNNL.MemoryDescriptor, UnsafeMutableRawPointer)] = [
            (DNNL_ARG_SRC, x.md, x.storage.storage),
            (DNNL_ARG_WEIGHTS, weights.md, weights.storage.storage),
            (DNNL_ARG_DST, dst, y.storage),
        ]
        if let b { args.append((DNNL_ARG_BIAS, bias, b.storage)) }
        forward.execute(args)
        return y
    }

    func runBackwardData(_ dy: Tensor, _ weights: PreparedWeights) -> Tensor {
        precondition(dy.precision == geometry.precision, "\(geometry): output gradient \(dy)")
        let dx = Tensor.uninitialized(shape: geometry.inputShape, layout: .nhwc, precision: geometry.inputPrecision)
        backwardData.execute([
            (DNNL_ARG_DIFF_DST, dst, dy.storage),
            (DNNL_ARG_WEIGHTS, weights.md, weights.storage.storage),
            (DNNL_ARG_DIFF_SRC, src, dx.storage),
        ])
        return dx
    }

    func runBackwardWeights(_ x: Operand, _ dy: Tensor) -> (Tensor, Tensor?) {
        precondition(dy.precision == geometry.precision, "\(geometry): output gradient \(dy)")
        if let inputChunked, let dw = inputChunked(x.storage, dy) { return (dw, nil) }
        return wholeBackwardWeights(x, dy)
    }

    /// (dw, db) from one run of the backward-weights primitive.
    func wholeBackwardWeights(_ x: Operand, _ dy: Tensor) -> (Tensor, Tensor?) {
        let g = geometry
        let want = backwardWeights.md(dnnl_query_diff_weights_md)
        let dw = Tensor.uninitialized(shape: g.userWeightShape)
        let direct = want.sameFormat(as: userWeights)
        let scratch = direct ? dw : DNNL.storage(for: want)
        let db = g.bias ? Tensor.uninitialized(shape: [g.outChannels]) : nil
        var args: [(Int32, DNNL.MemoryDescriptor, UnsafeMutableRawPointer)] = [
            (DNNL_ARG_SRC, x.md, x.storage.storage),
            (DNNL_ARG_DIFF_DST, dst, dy.storage),
            (DNNL_ARG_DIFF_WEIGHTS, want, scratch.storage),
        ]
        if let db { args.append((DNNL_ARG_DIFF_BIAS, bias, db.storage)) }
        backwardWeights.execute(args)
        if !direct { DNNL.reorder(from: want, scratch.storage, to: userWeights, dw.storage) }
        return (dw, db)
    }
}

/// Weights in the format a convolution primitive reads.
struct PreparedWeights {
    let md: DNNL.MemoryDescriptor
    let storage: Tensor
}

/// An input in the format a convolution primitive reads: the NHWC tensor itself, or its
/// bf16 NHWC copy.
struct Operand {
    let md: DNNL.MemoryDescriptor
    let storage: Tensor

    init(_ t: Tensor, from stored: DNNL.MemoryDescriptor, to wanted: DNNL.MemoryDescriptor) {
        if stored.sameFormat(as: wanted) {
            (md, storage) = (stored, t)
        } else {
            (md, storage) = (wanted, DNNL.storage(for: wanted))
            DNNL.reorder(from: stored, t.storage, to: wanted, storage.storage)
        }
    }
}
