import CDNNL
import Foundation

/// The one place that talks to oneDNN: its engine and stream, memory descriptors
/// for our two layouts, a cache of created primitives, and execution.
///
/// Layers never see oneDNN types; they call the kernel functions in this folder
/// (`Convolution.swift`, `BatchNormKernel.swift`, ...), which build their primitives here.
enum DNNL {
    nonisolated(unsafe) static let engine: dnnl_engine_t = {
        var e: dnnl_engine_t?
        check(dnnl_engine_create(&e, dnnl_cpu, 0), "engine")
        return e!
    }()

    nonisolated(unsafe) static let stream: dnnl_stream_t = {
        var s: dnnl_stream_t?
        check(dnnl_stream_create(&s, engine, dnnl_stream_default_flags.rawValue), "stream")
        return s!
    }()

    /// A failed oneDNN call here means the code asked for an impossible primitive
    /// (a shape bug), never a user error: user input is validated long before.
    static func check(_ status: dnnl_status_t, _ what: @autoclosure () -> String) {
        if status != dnnl_success {
            preconditionFailure("oneDNN \(what()) failed with status \(status.rawValue)")
        }
    }

    // MARK: Memory descriptors

    static func desc(_ dims: [Int], _ tag: dnnl_format_tag_t, _ type: dnnl_data_type_t = dnnl_f32) -> dnnl_memory_desc_t {
        var md = dnnl_memory_desc_t()
        var d = dims.map { Int64($0) }
        check(dnnl_memory_desc_init_by_tag(&md, Int32(d.count), &d, type, tag), "memory desc \(dims)")
        return md
    }

    /// The descriptor of a tensor as it is stored (NHWC activations, plain parameters).
    static func desc(of t: Tensor) -> dnnl_memory_desc_t {
        desc(t.shape, t.layout == .nhwc ? dnnl_nhwc : plainTag(t.shape.count))
    }

    /// The descriptor of an NHWC activation of logical shape `shape`.
    static func activation(_ shape: [Int], _ type: dnnl_data_type_t = dnnl_f32) -> dnnl_memory_desc_t {
        desc(shape, dnnl_nhwc, type)
    }

    /// Lets the primitive choose its preferred format (used for weights, which we reorder).
    static func any(_ dims: [Int], _ type: dnnl_data_type_t = dnnl_f32) -> dnnl_memory_desc_t {
        desc(dims, dnnl_format_tag_any, type)
    }

    /// A buffer large enough for `md`, as a flat fp32 tensor (bf16 data is stored in it raw).
    static func storage(for md: dnnl_memory_desc_t) -> Tensor {
        Tensor.uninitialized(shape: [(bytes(md) + 3) / 4])
    }

    static func plainTag(_ rank: Int) -> dnnl_format_tag_t {
        switch rank {
        case 1: return dnnl_a
        case 2: return dnnl_ab
        case 3: return dnnl_abc
        case 4: return dnnl_abcd
        default: preconditionFailure("rank \(rank) not supported")
        }
    }

    static func equal(_ a: dnnl_memory_desc_t, _ b: dnnl_memory_desc_t) -> Bool {
        var a = a, b = b
        return dnnl_memory_desc_equal(&a, &b) != 0
    }

    static func bytes(_ md: dnnl_memory_desc_t) -> Int {
        var md = md
        return Int(dnnl_memory_desc_get_size(&md))
    }

    // MARK: Primitives

    /// A created primitive with its descriptor, kept for the life of the process.
    final class Primitive {
        let pd: dnnl_primitive_desc_t
        let primitive: dnnl_primitive_t

        init(pd: dnnl_primitive_desc_t) {
            self.pd = pd
            var p: dnnl_primitive_t?
            check(dnnl_primitive_create(&p, pd), "primitive create")
            primitive = p!
        }

        /// The memory descriptor the primitive uses for `what` (src, weights, workspace, ...).
        func md(_ what: dnnl_query_t, _ index: Int32 = 0) -> dnnl_memory_desc_t {
            dnnl_primitive_desc_query_md(pd, what, index).pointee
        }

        /// oneDNN's name for the implementation it picked (e.g. `jit:avx512_core`), for benchmarks.
        var implementation: String {
            var s: UnsafePointer<CChar>?
            dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &s)
            return s.map { String(cString: $0) } ?? "?"
        }

        /// Runs the primitive on raw buffers and waits for it.
        func execute(_ args: [(Int32, dnnl_memory_desc_t, UnsafeMutableRawPointer)]) {
            var memories: [dnnl_exec_arg_t] = []
            memories.reserveCapacity(args.count)
            for (arg, md, pointer) in args {
                var md = md
                var m: dnnl_memory_t?
                check(dnnl_memory_create(&m, &md, engine, pointer), "memory create")
                memories.append(dnnl_exec_arg_t(arg: arg, memory: m))
            }
            check(dnnl_primitive_execute(primitive, stream, Int32(memories.count), memories), "execute \(implementation) with args \(args.map { $0.0 })")
            check(dnnl_stream_wait(stream), "stream wait")
            for m in memories { dnnl_memory_destroy(m.memory) }
        }
    }

    private static let lock = NSRecursiveLock()  // a primitive's maker may ask for its forward hint
    nonisolated(unsafe) private static var cache: [String: Primitive] = [:]

    /// The primitive for `key`, created by `make` (which returns a primitive descriptor) on first use.
    ///
    /// JIT-compiling a primitive costs milliseconds, so identical shapes across layers
    /// and steps share one.
    static func primitive(_ key: String, _ make: () -> dnnl_primitive_desc_t) -> Primitive {
        lock.lock()
        defer { lock.unlock() }
        if let p = cache[key] { return p }
        let p = Primitive(pd: make())
        cache[key] = p
        return p
    }

    /// Creates a primitive descriptor from an operation descriptor.
    static func primitiveDesc<D>(_ desc: inout D, hint: dnnl_primitive_desc_t? = nil, _ what: String) -> dnnl_primitive_desc_t {
        var pd: dnnl_primitive_desc_t?
        withUnsafePointer(to: &desc) { d in
            check(dnnl_primitive_desc_create(&pd, UnsafeRawPointer(d), nil, engine, hint), what)
        }
        return pd!
    }

    /// Like `primitiveDesc`, but nil where oneDNN has no implementation for the descriptor (a
    /// bf16 kernel this CPU or version lacks) instead of a trap; with `avoiding`, the first
    /// implementation whose name (`jit:avx512_core_amx_bf16`) does not contain it.
    static func implementedPrimitiveDesc<D>(_ desc: inout D, hint: dnnl_primitive_desc_t? = nil,
                                            avoiding: String? = nil) -> dnnl_primitive_desc_t? {
        var iterator: dnnl_primitive_desc_iterator_t?
        let status = withUnsafePointer(to: &desc) { d in
            dnnl_primitive_desc_iterator_create(&iterator, UnsafeRawPointer(d), nil, engine, hint)
        }
        guard status == dnnl_success, let iterator else { return nil }
        defer { dnnl_primitive_desc_iterator_destroy(iterator) }
        repeat {
            guard let pd = dnnl_primitive_desc_iterator_fetch(iterator) else { return nil }
            var s: UnsafePointer<CChar>?
            dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &s)
            let name = s.map { String(cString: $0) } ?? ""
            if avoiding.map({ !name.contains($0) }) ?? true { return pd }
            dnnl_primitive_desc_destroy(pd)
        } while dnnl_primitive_desc_iterator_next(iterator) == dnnl_success
        return nil
    }

    /// Copies `src` (described by `from`) into `dst` (described by `to`), converting the format.
    static func reorder(from: dnnl_memory_desc_t, _ src: UnsafeMutableRawPointer,
                        to: dnnl_memory_desc_t, _ dst: UnsafeMutableRawPointer) {
        let key = "reorder \(describe(from)) -> \(describe(to))"
        let p = primitive(key) {
            var pd: dnnl_primitive_desc_t?
            var a = from, b = to
            check(dnnl_reorder_primitive_desc_create(&pd, &a, engine, &b, engine, nil), key)
            return pd!
        }
        p.execute([(DNNL_ARG_FROM, from, src), (DNNL_ARG_TO, to, dst)])
    }

    /// A stable text form of a memory descriptor, for cache keys.
    static func describe(_ md: dnnl_memory_desc_t) -> String {
        var md = md
        return withUnsafeBytes(of: &md) { raw in
            // Hash the raw descriptor: two descriptors with identical bytes are identical formats.
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            for b in raw { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
            return String(h, radix: 16)
        }
    }
}

// oneDNN's argument ids are C macros built from other macros, which Swift does not import.
let DNNL_ARG_SRC: Int32 = 1
let DNNL_ARG_DST: Int32 = 17
let DNNL_ARG_FROM: Int32 = 1
let DNNL_ARG_TO: Int32 = 17
let DNNL_ARG_WEIGHTS: Int32 = 33
let DNNL_ARG_BIAS: Int32 = 41
let DNNL_ARG_MEAN: Int32 = 49
let DNNL_ARG_VARIANCE: Int32 = 50
let DNNL_ARG_SCALE_SHIFT: Int32 = 33
let DNNL_ARG_WORKSPACE: Int32 = 64
let DNNL_ARG_DIFF_SRC: Int32 = 129
let DNNL_ARG_DIFF_DST: Int32 = 145
let DNNL_ARG_DIFF_WEIGHTS: Int32 = 161
let DNNL_ARG_DIFF_BIAS: Int32 = 169
let DNNL_ARG_DIFF_SCALE_SHIFT: Int32 = 161
