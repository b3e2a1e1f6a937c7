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
            // Optimised builds drop a precondition's message; this one says which call broke.
            let message = "oneDNN \(what()) failed with status \(status.rawValue)"
            FileHandle.standardError.write(Data((message + "\n").utf8))
            preconditionFailure(message)
        }
    }

    // MARK: Memory descriptors

    /// A oneDNN memory descriptor (dims, data type, format), owned: 3.x makes them heap
    /// objects, so each is destroyed with the last reference.
    final class MemoryDescriptor: CustomStringConvertible {
        let handle: rx_md

        init(_ handle: rx_md) { self.handle = handle }

        /// A copy of a descriptor another object owns (a primitive descriptor's query result).
        convenience init(copying borrowed: rx_md) {
            guard let copy = rx_md_clone(borrowed) else { preconditionFailure("oneDNN memory descriptor clone failed") }
            self.init(copy)
        }

        deinit { rx_md_destroy(handle) }

        /// Bytes a buffer of this descriptor needs.
        var bytes: Int { Int(rx_md_size(handle)) }

        /// Same dims, data type and format.
        func sameFormat(as other: MemoryDescriptor) -> Bool { rx_md_equal(handle, other.handle) != 0 }

        /// A stable text form for cache keys: two descriptors with the same format give the same text.
        var description: String { String(rx_md_hash(handle), radix: 16) }
    }

    static func desc(_ dims: [Int], _ tag: dnnl_format_tag_t, _ type: dnnl_data_type_t = dnnl_f32) -> MemoryDescriptor {
        let d = dims.map { Int64($0) }
        guard let md = rx_md_create(Int32(d.count), d, type, tag) else {
            preconditionFailure("oneDNN memory descriptor \(dims) failed")
        }
        return MemoryDescriptor(md)
    }

    /// A descriptor with explicit strides, in elements (a slice of a larger tensor).
    static func desc(_ dims: [Int], strides: [Int], _ type: dnnl_data_type_t = dnnl_f32) -> MemoryDescriptor {
        precondition(dims.count == strides.count)
        guard let md = rx_md_create_strided(Int32(dims.count), dims.map { Int64($0) }, type, strides.map { Int64($0) }) else {
            preconditionFailure("oneDNN memory descriptor \(dims) strides \(strides) failed")
        }
        return MemoryDescriptor(md)
    }

    /// The descriptor of an NHWC activation of logical shape `shape`.
    static func activation(_ shape: [Int], _ type: dnnl_data_type_t = dnnl_f32) -> MemoryDescriptor {
        desc(shape, dnnl_nhwc, type)
    }

    /// Lets the primitive choose its preferred format (used for weights, which we reorder).
    static func any(_ dims: [Int], _ type: dnnl_data_type_t = dnnl_f32) -> MemoryDescriptor {
        desc(dims, dnnl_format_tag_any, type)
    }

    /// A buffer large enough for `md`, as a flat fp32 tensor (bf16 data is stored in it raw).
    static func storage(for md: MemoryDescriptor) -> Tensor {
        Tensor.uninitialized(shape: [(md.bytes + 3) / 4])
    }

    // MARK: Primitives

    /// A primitive descriptor and, from its first execution, its JIT-compiled primitive; both
    /// are destroyed with the object. A backward primitive keeps its forward one alive, because
    /// oneDNN's backward descriptor points at the forward descriptor it was created with.
    final class Primitive {
        let pd: dnnl_primitive_desc_t
        private let hint: Primitive?
        private let compileLock = NSLock()
        nonisolated(unsafe) private var compiled: dnnl_primitive_t?
        /// What a run needs as scratch (the shim makes every primitive take it from the caller).
        private let scratchpad: MemoryDescriptor?

        init(pd: dnnl_primitive_desc_t, hint: Primitive? = nil) {
            self.pd = pd
            self.hint = hint
            scratchpad = rx_pd_scratchpad_bytes(pd) > 0
                ? MemoryDescriptor(copying: rx_pd_query_md(pd, dnnl_query_scratchpad_md, 0)) : nil
        }

        deinit {
            if let compiled { dnnl_primitive_destroy(compiled) }
            dnnl_primitive_desc_destroy(pd)
        }

        /// Compiled on first use: an evaluation never pays for backward kernels it does not run.
        private var primitive: dnnl_primitive_t {
            compileLock.lock()
            defer { compileLock.unlock() }
            if let compiled { return compiled }
            var p: dnnl_primitive_t?
            check(dnnl_primitive_create(&p, pd), "primitive create \(implementation)")
            compiled = p
            return p!
        }

        /// The memory descriptor the primitive uses for `what` (src, weights, workspace, ...).
        func md(_ what: dnnl_query_t, _ index: Int32 = 0) -> MemoryDescriptor {
            MemoryDescriptor(copying: rx_pd_query_md(pd, what, index))
        }

        /// oneDNN's name for the implementation it picked (e.g. `jit:avx512_core`), for benchmarks.
        var implementation: String { String(cString: rx_pd_name(pd)) }

        /// Runs the primitive on raw buffers and waits for it. Its scratchpad is a tensor block
        /// for the run: freed activations serve it, where oneDNN's own would stay allocated at
        /// the largest size any primitive needed (a ResNet-50's backward-weights reductions).
        func execute(_ args: [(Int32, MemoryDescriptor, UnsafeMutableRawPointer)]) {
            let primitive = self.primitive
            let scratch = scratchpad.map { DNNL.storage(for: $0) }
            var args = args
            if let scratchpad, let scratch { args.append((DNNL_ARG_SCRATCHPAD, scratchpad, scratch.storage)) }
            var memories: [dnnl_exec_arg_t] = []
            memories.reserveCapacity(args.count)
            for (arg, md, pointer) in args {
                var m: dnnl_memory_t?
                check(rx_memory_create(&m, md.handle, engine, pointer), "memory create")
                memories.append(dnnl_exec_arg_t(arg: arg, memory: m))
            }
            check(dnnl_primitive_execute(primitive, stream, Int32(memories.count), memories), "execute \(implementation) with args \(args.map { $0.0 })")
            check(dnnl_stream_wait(stream), "stream wait")
            for m in memories { dnnl_memory_destroy(m.memory) }
            withExtendedLifetime((args, scratch)) {}
        }
    }

    private static let lock = NSRecursiveLock()  // a primitive's maker may ask for its forward hint
    /// Batch norm, pooling, ReLU and reorder primitives: a UNet at one image size uses about 80.
    nonisolated(unsafe) private static var cache = KernelCache<String, Primitive>(capacity: 1024)

    /// Primitives held by the cache now, for tests.
    static var cachedPrimitives: Int {
        lock.lock()
        defer { lock.unlock() }
        return cache.count
    }

    /// The primitive for `key`, created by `make` (which returns a primitive descriptor) on first use;
    /// `hint` is the forward primitive whose descriptor `make` passes to a backward one.
    ///
    /// JIT-compiling a primitive costs milliseconds, so identical shapes across layers
    /// and steps share one.
    static func primitive(_ key: String, hint: Primitive? = nil, _ make: () -> dnnl_primitive_desc_t) -> Primitive {
        lock.lock()
        defer { lock.unlock() }
        if let p = cache.value(key) { return p }
        let p = Primitive(pd: make(), hint: hint)
        cache.insert(p, for: key)
        return p
    }

    /// The primitive descriptor a `create` call of the shim (`rx_conv_forward`, ...) makes;
    /// a failure is a shape bug here and traps.
    static func primitiveDesc(_ what: @autoclosure () -> String,
                              _ create: (UnsafeMutablePointer<dnnl_primitive_desc_t?>) -> dnnl_status_t)
        -> dnnl_primitive_desc_t {
        guard let pd = implementedPrimitiveDesc(create) else { preconditionFailure("oneDNN \(what()) has no implementation") }
        return pd
    }

    /// Like `primitiveDesc`, but nil where oneDNN has no implementation (a bf16 kernel this CPU
    /// or version lacks, or every one was avoided) instead of a trap.
    static func implementedPrimitiveDesc(_ create: (UnsafeMutablePointer<dnnl_primitive_desc_t?>) -> dnnl_status_t)
        -> dnnl_primitive_desc_t? {
        var pd: dnnl_primitive_desc_t?
        guard create(&pd) == dnnl_success else { return nil }
        return pd
    }

    /// c = a · b, 2-D matrices in the formats their descriptors give (`dnnl_ba`: transposed).
    static func matmul(_ a: MemoryDescriptor, _ aData: UnsafeMutableRawPointer, _ b: MemoryDescriptor,
                       _ bData: UnsafeMutableRawPointer, _ c: MemoryDescriptor, _ cData: UnsafeMutableRawPointer) {
        let key = "matmul \(a) \(b) \(c)"
        let p = primitive(key) { primitiveDesc(key) { rx_matmul($0, engine, a.handle, b.handle, c.handle) } }
        p.execute([(DNNL_ARG_SRC, a, aData), (DNNL_ARG_WEIGHTS, b, bData), (DNNL_ARG_DST, c, cData)])
    }

    /// Copies `src` (described by `from`) into `dst` (described by `to`), converting the format.
    static func reorder(from: MemoryDescriptor, _ src: UnsafeMutableRawPointer,
                        to: MemoryDescriptor, _ dst: UnsafeMutableRawPointer) {
        let key = "reorder \(from) -> \(to)"
        let p = primitive(key) { primitiveDesc(key) { rx_reorder($0, engine, from.handle, to.handle) } }
        p.execute([(DNNL_ARG_FROM, from, src), (DNNL_ARG_TO, to, dst)])
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
let DNNL_ARG_SCRATCHPAD: Int32 = 80
let DNNL_ARG_DIFF_SRC: Int32 = 129
let DNNL_ARG_DIFF_DST: Int32 = 145
let DNNL_ARG_DIFF_WEIGHTS: Int32 = 161
let DNNL_ARG_DIFF_BIAS: Int32 = 169
let DNNL_ARG_DIFF_SCALE_SHIFT: Int32 = 161
