import Foundation

/// How a tensor's elements sit in memory.
///
/// Parameters use PyTorch's row-major order (`plain`), so their bytes are the
/// state-dict bytes. 4-D activations are stored channels-last (`nhwc`) while
/// their logical shape stays NCHW: oneDNN's fast convolution kernels read NHWC
/// directly, whereas plain NCHW drops it onto a gemm fallback that is 3–4×
/// slower on the backward pass.
public enum Layout: Sendable {
    case plain
    case nhwc
}

/// A dense tensor with a logical shape (NCHW for images), a memory layout and an element
/// format: fp32, or bf16 for the activations of a model computing in bf16.
///
/// Reference semantics: layers hand tensors to each other and to the oneDNN seam
/// without copying. Storage is 64-byte aligned, as oneDNN's vector kernels prefer.
public final class Tensor: @unchecked Sendable {
    public let shape: [Int]
    public let layout: Layout
    public let precision: Precision
    public let count: Int
    /// The elements' bytes, whatever their format.
    let storage: UnsafeMutableRawPointer

    /// The elements of an fp32 tensor.
    public var data: UnsafeMutablePointer<Float> {
        precondition(precision == .fp32, "\(self) read as fp32")
        return storage.assumingMemoryBound(to: Float.self)
    }

    /// The elements of a bf16 tensor, as raw bits.
    var bf16: UnsafeMutablePointer<UInt16> {
        precondition(precision == .bf16, "\(self) read as bf16")
        return storage.assumingMemoryBound(to: UInt16.self)
    }

    /// Bytes of storage.
    var byteCount: Int { max(count, 1) * precision.size }
    /// The recorded op that produced this tensor on the recording `Tape`, through which its
    /// gradient flows; nil for a tensor that needs no gradient.
    var node: TapeNode?

    /// A zero-filled tensor.
    public convenience init(shape: [Int], layout: Layout = .plain) {
        self.init(shape: shape, layout: layout, zeroed: true)
    }

    /// A tensor whose contents are undefined, for outputs a kernel overwrites entirely:
    /// zero-filling tens of megabytes that are about to be overwritten costs real time.
    public static func uninitialized(shape: [Int], layout: Layout = .plain, precision: Precision = .fp32) -> Tensor {
        Tensor(shape: shape, layout: layout, precision: precision, zeroed: false)
    }

    private init(shape: [Int], layout: Layout, precision: Precision = .fp32, zeroed: Bool) {
        precondition(layout == .plain || shape.count == 4, "nhwc layout needs a 4-D shape")
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        self.layout = layout
        self.precision = precision
        self.count = shape.reduce(1, *)
        let bytes = max(count, 1) * precision.size
        storage = TensorMemory.allocate(bytes)
        // All-zero bits are 0 in both formats.
        if zeroed { storage.initializeMemory(as: UInt8.self, repeating: 0, count: bytes) }
        MemoryStats.allocated(bytes)
    }

    /// A tensor holding `values` in the order of `layout`.
    public convenience init(shape: [Int], layout: Layout = .plain, values: [Float]) {
        self.init(shape: shape, layout: layout)
        precondition(values.count == count, "\(values.count) values for shape \(shape)")
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) }
    }

    /// A tensor filled with one value.
    public convenience init(shape: [Int], layout: Layout = .plain, repeating value: Float) {
        self.init(shape: shape, layout: layout)
        data.update(repeating: value, count: count)
    }

    /// A zero-filled 4-D activation of logical shape N×C×H×W, stored channels-last.
    public static func activation(_ n: Int, _ c: Int, _ h: Int, _ w: Int, precision: Precision = .fp32) -> Tensor {
        Tensor(shape: [n, c, h, w], layout: .nhwc, precision: precision, zeroed: true)
    }

    /// A plain zero tensor in `precision`.
    static func zeros(_ shape: [Int], precision: Precision) -> Tensor {
        Tensor(shape: shape, layout: .plain, precision: precision, zeroed: true)
    }

    deinit {
        MemoryStats.freed(byteCount)
        TensorMemory.free(storage, bytes: byteCount)
    }

    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: data, count: count) }

    /// The elements in memory order.
    public var array: [Float] { Array(buffer) }

    // Dimensions of a 4-D tensor, by their NCHW names.
    public var n: Int { shape[0] }
    public var c: Int { shape[1] }
    public var h: Int { shape[2] }
    public var w: Int { shape[3] }

    /// Memory offset of logical element (n, c, y, x) of a 4-D tensor.
    @inline(__always)
    public func offset(_ n: Int, _ c: Int, _ y: Int, _ x: Int) -> Int {
        switch layout {
        case .nhwc: return ((n * shape[2] + y) * shape[3] + x) * shape[1] + c
        case .plain: return ((n * shape[1] + c) * shape[2] + y) * shape[3] + x
        }
    }

    /// Element access by logical NCHW index (tests and small tools; not for hot loops).
    public subscript(n: Int, c: Int, y: Int, x: Int) -> Float {
        get { data[offset(n, c, y, x)] }
        set { data[offset(n, c, y, x)] = newValue }
    }

    /// A copy in the requested layout (a copy even when the layout already matches).
    public func converted(to target: Layout) -> Tensor {
        if target == layout {
            let out = Tensor.uninitialized(shape: shape, layout: layout, precision: precision)
            out.storage.copyMemory(from: storage, byteCount: byteCount)
            return out
        }
        let out = Tensor(shape: shape, layout: target)
        precondition(shape.count == 4)
        let (N, C, H, W) = (shape[0], shape[1], shape[2], shape[3])
        let src = data, dst = out.data
        let srcNHWC = layout == .nhwc
        for n in 0..<N {
            for c in 0..<C {
                for y in 0..<H {
                    for x in 0..<W {
                        let nchw = ((n * C + c) * H + y) * W + x
                        let nhwc = ((n * H + y) * W + x) * C + c
                        if srcNHWC { dst[nchw] = src[nhwc] } else { dst[nhwc] = src[nchw] }
                    }
                }
            }
        }
        return out
    }

    /// An independent copy.
    public func copy() -> Tensor { converted(to: layout) }

    /// A zero tensor of the same shape, layout and precision.
    public func zerosLike() -> Tensor { Tensor(shape: shape, layout: layout, precision: precision, zeroed: true) }

    public func fill(_ value: Float) { data.update(repeating: value, count: count) }

    /// Adds `other` (same shape and layout) into this tensor.
    public func add(_ other: Tensor) {
        precondition(other.shape == shape && other.layout == layout && other.precision == precision,
                     "add: \(other) into \(self)")
        if precision == .bf16 {
            let a = bf16, b = other.bf16
            parallelChunks(count) { lo, hi in
                for i in lo..<hi { a[i] = narrow(widen(a[i]) + widen(b[i])) }
            }
            return
        }
        let a = data, b = other.data
        parallelChunks(count) { lo, hi in
            for i in lo..<hi { a[i] += b[i] }
        }
    }

    /// Multiplies every element by `s`.
    public func scale(_ s: Float) {
        let a = data
        parallelChunks(count) { lo, hi in
            for i in lo..<hi { a[i] *= s }
        }
    }

    /// Sum of all elements, accumulated in Double.
    public func sum() -> Double {
        var s = 0.0
        for i in 0..<count { s += Double(data[i]) }
        return s
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String { "Tensor(\(shape), \(layout)\(precision == .bf16 ? ", bf16" : ""))" }
}
