import CDNNL
import Foundation

/// A widely dilated convolution computed one kernel tap at a time: for each tap, one matrix
/// product over the output positions where that tap reads the input rather than padding.
///
/// DeepLab's ASPP convolutions (3×3, dilation 12/24/36 at output stride 8) on a small feature
/// map read mostly padding (at 32×32 the rate-36 taps other than the centre never touch the
/// input), and oneDNN's direct kernels visit every tap, slowly: 2048→256 channels, 32×32,
/// batch 4, forward/backward data/backward weights in ms on this 2-core machine, oneDNN 3.2
/// bf16: rate 36 direct 123/11/69, tap by tap 5/9/7; rate 24 104/13/78 vs 9/14/11; rate 12
/// 85/14/40 vs 19/21/21 (fp32: rate 36 12/15/126 vs 12/14/14). Each live tap here is a
/// `[positions, in] · [in, out]` product, accumulated in fp32 and written in the layer's
/// format once: the same sums in another order. Weight gradients of dead taps are exact
/// zeros, as PyTorch's.
///
/// Below dilation 8 every tap reads the input over most of a map and the direct kernels win
/// (512→256 at 30×30, rate 6, bf16: 3/3/5 direct, 6/6/6 tap by tap). Stride 1, one group, no
/// bias, not transposed: the shapes ASPP uses; others run direct (`convolutionAlgorithm`).
final class TapConvolution: ConvolutionAlgorithm {
    /// One kernel tap and the output window where it reads the input.
    struct Tap {
        /// The tap's place in the weight, ky·k + kx.
        let index: Int
        /// Input position minus output position.
        let rowOffset, colOffset: Int
        /// The output rows and columns where the tap reads inside the input.
        let rows, cols: Range<Int>
        /// The tap reads the whole input at the output's own positions (the centre, when the
        /// output has the input's size): no gathering, no scattering.
        let inPlace: Bool
    }

    let geometry: ConvGeometry
    /// The live taps, the one that reads the whole input in place (the centre, when the output
    /// has the input's size) first: it writes its product straight into the sum.
    let taps: [Tap]
    let src, srcOperand: DNNL.MemoryDescriptor
    private let userWeights, tapWeights: DNNL.MemoryDescriptor

    static let minimumDilation = 8

    private static let lock = NSLock()
    nonisolated(unsafe) private static var cache = KernelCache<ConvGeometry, TapConvolution>(capacity: 64)

    /// Whether this CPU has a bf16 matrix product worth using (not oneDNN's reference one).
    private static let fastBF16: Bool = {
        let a = DNNL.desc([64, 64], dnnl_ab, dnnl_bf16), c = DNNL.desc([64, 64], dnnl_ab)
        guard let pd = DNNL.implementedPrimitiveDesc({ rx_matmul($0, DNNL.engine, a.handle, a.handle, c.handle) }) else {
            return false
        }
        defer { dnnl_primitive_desc_destroy(pd) }
        return !String(cString: rx_pd_name(pd)).hasPrefix("ref")
    }()

    /// The tap kernel for `g`, or nil where the direct kernels serve it.
    static func get(_ g: ConvGeometry) -> TapConvolution? {
        guard !g.transposed, g.groups == 1, g.stride == 1, !g.bias, g.kernel > 1, g.dilation >= minimumDilation,
              g.outHeight > 0, g.outWidth > 0, g.precision == .fp32 || fastBF16 else { return nil }
        lock.lock()
        defer { lock.unlock() }
        if let k = cache.value(g) { return k }
        let k = TapConvolution(g)
        cache.insert(k, for: g)
        return k
    }

    private init(_ g: ConvGeometry) {
        geometry = g
        src = DNNL.activation(g.inputShape, g.inputPrecision.dnnlType)
        srcOperand = DNNL.activation(g.inputShape, g.precision.dnnlType)
        userWeights = DNNL.desc(g.weightDims, g.userWeightTag)
        // [ky][kx][in][out]: one contiguous [in, out] matrix per tap.
        tapWeights = DNNL.desc(g.weightDims, dnnl_cdba, g.precision.dnnlType)
        func window(_ offset: Int, input: Int, output: Int) -> Range<Int> {
            max(0, -offset)..<max(max(0, -offset), min(output, input - offset))
        }
        var taps: [Tap] = []
        for ky in 0..<g.kernel {
            for kx in 0..<g.kernel {
                let dy = ky * g.dilation - g.padding, dx = kx * g.dilation - g.padding
                let tap = Tap(index: ky * g.kernel + kx, rowOffset: dy, colOffset: dx,
                              rows: window(dy, input: g.height, output: g.outHeight),
                              cols: window(dx, input: g.width, output: g.outWidth),
                              inPlace: dy == 0 && dx == 0 && g.outHeight == g.height && g.outWidth == g.width)
                if !tap.rows.isEmpty && !tap.cols.isEmpty { taps.append(tap) }
            }
        }
        self.taps = taps.filter(\.inPlace) + taps.filter { !$0.inPlace }
    }

    /// The weights as one [in, out] matrix per tap, in the compute format; backward data reads
    /// the same matrices transposed.
    func prepareForward(_ weight: Tensor) -> PreparedWeights {
        let storage = DNNL.storage(for: tapWeights)
        DNNL.reorder(from: userWeights, weight.storage, to: tapWeights, storage.storage)
        return PreparedWeights(md: tapWeights, storage: storage)
    }

    func prepareBackwardData(_ weight: Tensor) -> PreparedWeights { prepareForward(weight) }

    func runForward(_ x: Operand, _ weights: PreparedWeights, _ b: Tensor?) -> Tensor {
        precondition(b == nil, "\(geometry): a tap convolution has no bias")
        let g = geometry
        let sum = accumulate(into: g.outputShape) { tap, destination in
            let input = window(x.storage.storage, height: g.height, width: g.width, channels: g.inChannels,
                               rows: tap.rows.shifted(tap.rowOffset), cols: tap.cols.shifted(tap.colOffset))
            return (product(input, inner: g.inChannels, weights: weights, tap: tap, transposed: false,
                            outer: g.outChannels, into: destination), tap.rows, tap.cols)
        }
        return sum.converted(to: g.precision)
    }

    func runBackwardData(_ dy: Tensor, _ weights: PreparedWeights) -> Tensor {
        precondition(dy.precision == geometry.precision, "\(geometry): output gradient \(dy)")
        let g = geometry
        let sum = accumulate(into: g.inputShape) { tap, destination in
            let gradient = window(dy.storage, height: g.outHeight, width: g.outWidth, channels: g.outChannels,
                                  rows: tap.rows, cols: tap.cols)
            return (product(gradient, inner: g.outChannels, weights: weights, tap: tap, transposed: true,
                            outer: g.inChannels, into: destination),
                    tap.rows.shifted(tap.rowOffset), tap.cols.shifted(tap.colOffset))
        }
        return sum.converted(to: g.inputPrecision)
    }

    func runBackwardWeights(_ x: Operand, _ dy: Tensor) -> (Tensor, Tensor?) {
        precondition(dy.precision == geometry.precision, "\(geometry): output gradient \(dy)")
        let g = geometry
        let low = g.precision.dnnlType
        // Dead taps keep their zeros. In bf16 each tap's product is summed in fp32 and written
        // bf16, as the direct kernel's weight gradient is.
        let perTap = Tensor.zeros([g.kernel * g.kernel, g.inChannels, g.outChannels], precision: g.precision)
        for tap in taps {
            let input = window(x.storage.storage, height: g.height, width: g.width, channels: g.inChannels,
                               rows: tap.rows.shifted(tap.rowOffset), cols: tap.cols.shifted(tap.colOffset))
            let gradient = window(dy.storage, height: g.outHeight, width: g.outWidth, channels: g.outChannels,
                                  rows: tap.rows, cols: tap.cols)
            // [in, positions] (the input window read transposed) · [positions, out].
            DNNL.matmul(DNNL.desc([g.inChannels, input.positions], dnnl_ba, low), input.pointer,
                        DNNL.desc([gradient.positions, g.outChannels], dnnl_ab, low), gradient.pointer,
                        DNNL.desc([g.inChannels, g.outChannels], dnnl_ab, low),
                        perTap.storage + tap.index * g.inChannels * g.outChannels * g.precision.size)
            withExtendedLifetime((input, gradient)) {}
        }
        let dw = Tensor.uninitialized(shape: g.userWeightShape)
        DNNL.reorder(from: DNNL.desc(g.weightDims, dnnl_cdba, low), perTap.storage, to: userWeights, dw.storage)
        return (dw, nil)
    }

    /// A window of an NHWC activation in the compute format, as a [positions, channels] matrix.
    private struct Window {
        let pointer: UnsafeMutableRawPointer
        let positions: Int
        /// The gathered copy, when the window is not the whole activation.
        let copy: Tensor?
    }

    /// The rows × cols window of `activation` (NHWC, in the compute format): the activation
    /// itself when the window is all of it, else a contiguous copy.
    private func window(_ activation: UnsafeMutableRawPointer, height: Int, width: Int, channels: Int,
                        rows: Range<Int>, cols: Range<Int>) -> Window {
        let n = geometry.n, positions = n * rows.count * cols.count
        if rows.count == height && cols.count == width { return Window(pointer: activation, positions: positions, copy: nil) }
        let size = geometry.precision.size, run = cols.count * channels * size
        let copy = Tensor.uninitialized(shape: [positions, channels], precision: geometry.precision)
        let to = copy.storage
        parallelChunks(n * rows.count, minChunk: rowsPerChunk(run / 4)) { lo, hi in
            for item in lo..<hi {
                let image = item / rows.count, row = rows.lowerBound + item % rows.count
                (to + item * run).copyMemory(from: activation + ((image * height + row) * width + cols.lowerBound) * channels * size,
                                             byteCount: run)
            }
        }
        return Window(pointer: to, positions: positions, copy: copy)
    }

    /// The fp32 product of a window and the tap's [inner, outer] weight matrix (or its
    /// transpose), written into `destination` when given.
    private func product(_ a: Window, inner: Int, weights: PreparedWeights, tap: Tap, transposed: Bool, outer: Int,
                         into destination: Tensor?) -> Tensor {
        let low = geometry.precision.dnnlType
        let out = destination ?? Tensor.uninitialized(shape: [a.positions, outer])
        let matrix = weights.storage.storage + tap.index * inner * outer * geometry.precision.size
        DNNL.matmul(DNNL.desc([a.positions, inner], dnnl_ab, low), a.pointer,
                    DNNL.desc([inner, outer], transposed ? dnnl_ba : dnnl_ab, low), matrix,
                    DNNL.desc([a.positions, outer], dnnl_ab), out.storage)
        withExtendedLifetime(a) {}
        return out
    }

    /// The fp32 NHWC sum over the live taps of `term(tap, destination)`: a [positions, channels]
    /// product and the window (rows, columns) of the sum it belongs to. The in-place tap, first,
    /// writes the sum itself (its `destination`); without one the sum starts at zero.
    private func accumulate(into shape: [Int], _ term: (Tap, Tensor?) -> (Tensor, Range<Int>, Range<Int>)) -> Tensor {
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        var sum: Tensor?
        for tap in taps {
            if sum == nil && tap.inPlace {
                let s = Tensor.uninitialized(shape: shape, layout: .nhwc)
                _ = term(tap, s)
                sum = s
                continue
            }
            let s = sum ?? Tensor.activation(n, c, h, w)
            sum = s
            let (z, rows, cols) = term(tap, nil)
            let out = s.data, add = z.data, run = cols.count * c
            parallelChunks(n * rows.count, minChunk: rowsPerChunk(run)) { lo, hi in
                for item in lo..<hi {
                    let image = item / rows.count, row = rows.lowerBound + item % rows.count
                    let o = out + ((image * h + row) * w + cols.lowerBound) * c, a = add + item * run
                    for j in 0..<run { o[j] += a[j] }
                }
            }
        }
        return sum ?? Tensor.activation(n, c, h, w)
    }
}

private extension Range where Bound == Int {
    func shifted(_ by: Int) -> Range<Int> { (lowerBound + by)..<(upperBound + by) }
}
