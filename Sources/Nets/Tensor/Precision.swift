import CDNNL

/// The number format of a tensor's elements, and the format a model computes in.
///
/// A model in `bf16` runs its convolutions on bf16 inputs and weights and keeps the
/// activations between them in bf16 (8 mantissa bits, relative error ~2⁻⁸): BatchNorm, ReLU,
/// pooling, upsampling and concatenation read and write bf16, their gradients too, so every
/// pass moves half the bytes. Master weights, BatchNorm statistics and the loss stay fp32,
/// and weight gradients are fp32 tensors holding a bf16-rounded convolution gradient, as in
/// PyTorch's CPU `autocast(bfloat16)`. Layers without a bf16 kernel
/// convert their input to fp32 (`Tensor.float32()`).
public enum Precision: String, Sendable, CaseIterable {
    case fp32, bf16

    /// Bytes per element.
    var size: Int { self == .fp32 ? 4 : 2 }

    var dnnlType: dnnl_data_type_t { self == .fp32 ? dnnl_f32 : dnnl_bf16 }
}

/// bf16 is the top half of an fp32: widening is a shift.
@inline(__always)
func widen(_ b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }

/// The nearest bf16 (ties to even), bit for bit what oneDNN's conversion (the CPU's
/// `vcvtneps2bf16`) gives: subnormals become a signed zero, NaN stays NaN.
@inline(__always)
func narrow(_ f: Float) -> UInt16 {
    let bits = f.bitPattern
    if f.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x40 }
    if bits & 0x7F80_0000 == 0 { return UInt16(truncatingIfNeeded: bits >> 16) & 0x8000 }
    let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
    return UInt16(truncatingIfNeeded: rounded >> 16)
}
