import CKernels
import CDNNL

/// A bf16 weight layout of oneDNN's AMX convolutions that our own AVX-512 code writes from
/// PyTorch's fp32 layout: 16 pairs of neighbouring channels of one dimension by a block of
/// the other (`BlockedWeights.h`). The bits are oneDNN's reorder's; the time is about half for
/// backward data's layout, whose transposition oneDNN's generic reorder does slowly (FCN-
/// ResNet50 bf16: weight reorders 42.6 → ~28 ms of a 0.58 s step). Anything else (another
/// layout, channels that do not fill the blocks, a CPU without AVX-512 bf16) is left to
/// oneDNN's reorder.
struct PairedWeights {
    private let pairingOutputs: Bool
    private let block, outputs, inputs, taps: Int

    /// The writer of `want`, the format a primitive of `g` chose for its weights, if it is one of these.
    init?(_ want: DNNL.MemoryDescriptor, _ g: ConvGeometry) {
        guard VectorKernels.enabled, g.precision == .bf16, g.groups == 1, !g.transposed else { return nil }
        for pairingOutputs in [false, true] {
            for block in [16, 32, 64] {
                let (paired, blocked) = pairingOutputs ? (g.outChannels, g.inChannels) : (g.inChannels, g.outChannels)
                let tag = rx_paired_weights_tag(pairingOutputs ? 1 : 0, Int32(block))
                guard paired % 32 == 0, blocked % block == 0, tag != dnnl_format_tag_undef,
                      want.sameFormat(as: DNNL.desc(g.weightDims, tag, dnnl_bf16)) else { continue }
                (self.pairingOutputs, self.block) = (pairingOutputs, block)
                (outputs, inputs, taps) = (g.outChannels, g.inChannels, g.kernel * g.kernel)
                return
            }
        }
        return nil
    }

    /// Writes `weight` (fp32, PyTorch's layout) into `out` in this layout.
    func write(_ weight: Tensor, into out: Tensor) {
        precondition(weight.count == outputs * inputs * taps && out.byteCount >= weight.count * 2)
        let src = weight.data, dst = out.storage.assumingMemoryBound(to: UInt16.self)
        let parts = Threads.count
        parallelFor(parts) { part in
            rx_weights_paired(src, dst, outputs, inputs, taps, block, pairingOutputs ? 1 : 0, part, parts)
        }
    }
}
