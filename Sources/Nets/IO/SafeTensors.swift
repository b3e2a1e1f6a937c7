import Foundation

/// The safetensors file format: an 8-byte little-endian header length, a JSON
/// header mapping each name to its dtype, shape and byte range, then the raw
/// little-endian tensor bytes. It is what PyTorch users load with
/// `safetensors.torch.load_file`.
///
/// This file holds the format itself (dtypes, header parsing and validation, header
/// encoding); `SafeTensorsReader.swift` and `SafeTensorsWriter.swift` move the bytes.
public enum SafeTensors {
    /// Any problem reading or writing a safetensors file: one line that starts with the path.
    public struct FileError: Error, CustomStringConvertible {
        public let description: String
        init(_ path: String, _ message: String) { description = "\(path): \(message)" }
    }

    /// An element type of the format. Declared in the order of the reference (Rust)
    /// implementation, whose writer lays tensors out by this order descending, so that
    /// every tensor's bytes start at a multiple of its element size.
    public enum DType: String, CaseIterable, Sendable {
        case bool = "BOOL", u8 = "U8", i8 = "I8", i16 = "I16", u16 = "U16", f16 = "F16", bf16 = "BF16"
        case i32 = "I32", u32 = "U32", f32 = "F32", f64 = "F64", i64 = "I64", u64 = "U64"

        /// Bytes per element.
        public var size: Int {
            switch self {
            case .bool, .u8, .i8: return 1
            case .i16, .u16, .f16, .bf16: return 2
            case .i32, .u32, .f32: return 4
            case .f64, .i64, .u64: return 8
            }
        }

        /// Position in the reference implementation's ordering.
        var rank: Int { DType.allCases.firstIndex(of: self)! }
    }

    /// One tensor's header entry.
    public struct TensorInfo: Equatable, Sendable {
        public let name: String
        /// The type the bytes are stored as (reading always yields Float32).
        public let dtype: DType
        public let shape: [Int]
        /// Byte range within the data section, which starts right after the header.
        public let dataOffsets: Range<Int>

        /// Number of elements.
        public var count: Int { shape.reduce(1, *) }
    }

    /// A parsed header whose entries have been checked against each other and the file size.
    public struct Header: Sendable {
        /// Tensors in the order of their bytes in the file.
        public let tensors: [TensorInfo]
        /// The `__metadata__` string map (empty when absent).
        public let metadata: [String: String]
        /// File offset of the data section: 8 + the header length.
        public let dataStart: Int
        private let index: [String: Int]

        init(tensors: [TensorInfo], metadata: [String: String], dataStart: Int) {
            self.tensors = tensors
            self.metadata = metadata
            self.dataStart = dataStart
            index = Dictionary(tensors.enumerated().map { ($0.element.name, $0.offset) }, uniquingKeysWith: { a, _ in a })
        }

        /// The entry named `name`, if present.
        public subscript(name: String) -> TensorInfo? { index[name].map { tensors[$0] } }

        /// Tensor names in file order.
        public var names: [String] { tensors.map(\.name) }
    }

    /// The reference implementation refuses larger headers; so do we, before allocating.
    static let maxHeaderLength = 100_000_000

    /// Decodes and validates the header JSON of a file of `fileSize` bytes whose header is
    /// `json.count` bytes long. Enforces what the reference implementation enforces: known
    /// dtypes, byte ranges that match the shapes, and a data section covered exactly once,
    /// without overlaps, holes or trailing bytes.
    static func parseHeader(_ json: Data, fileSize: Int, path: String) throws -> Header {
        func fail(_ message: String) -> FileError { FileError(path, message) }
        guard let object = try? JSONSerialization.jsonObject(with: json) else {
            throw fail("header is not valid JSON (\(json.count) bytes after the length prefix)")
        }
        guard let entries = object as? [String: Any] else { throw fail("header is not a JSON object") }

        var metadata: [String: String] = [:]
        if let raw = entries["__metadata__"], !(raw is NSNull) {
            guard let map = raw as? [String: Any] else { throw fail("__metadata__ is not a JSON object") }
            for (key, value) in map {
                guard let s = value as? String else {
                    throw fail("__metadata__ value of \(key.debugDescription) is not a string")
                }
                metadata[key] = s
            }
        }

        let dataStart = 8 + json.count
        let dataSize = fileSize - dataStart
        var infos: [TensorInfo] = []
        for (name, raw) in entries where name != "__metadata__" {
            let quoted = name.debugDescription
            guard let entry = raw as? [String: Any], let dtypeName = entry["dtype"] as? String,
                  let shapeList = entry["shape"] as? [Any], let offsetList = entry["data_offsets"] as? [Any]
            else { throw fail("entry \(quoted) is malformed (needs dtype, shape and data_offsets)") }
            guard let dtype = DType(rawValue: dtypeName) else {
                throw fail("\(quoted) has unsupported dtype \(dtypeName.debugDescription)")
            }
            let shape = shapeList.map(nonNegativeInt)
            guard shape.allSatisfy({ $0 != nil }) else { throw fail("\(quoted) has an invalid shape \(shapeList)") }
            let dims = shape.map { $0! }
            let offsets = offsetList.map(nonNegativeInt)
            guard offsets.count == 2, let begin = offsets[0], let end = offsets[1], begin <= end else {
                throw fail("\(quoted) has invalid data_offsets \(offsetList)")
            }
            // The element count and byte size come from the file: compute them without overflow.
            var bytes = dtype.size
            for d in dims {
                let (p, overflow) = bytes.multipliedReportingOverflow(by: d)
                guard !overflow else { throw fail("\(quoted) has a shape \(dims) too large to address") }
                bytes = p
            }
            guard end - begin == bytes else {
                throw fail("\(quoted) data_offsets [\(begin), \(end)] hold \(end - begin) bytes but shape \(dims) of \(dtype.rawValue) needs \(bytes)")
            }
            guard end <= dataSize else {
                throw fail("\(quoted) data_offsets [\(begin), \(end)] run past the end of the file (data section of \(dataSize) bytes)")
            }
            infos.append(TensorInfo(name: name, dtype: dtype, shape: dims, dataOffsets: begin..<end))
        }

        infos.sort { ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound) < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound) }
        var cursor = 0
        var previous: TensorInfo?
        for info in infos {
            let r = info.dataOffsets
            if r.lowerBound < cursor, let previous {
                throw fail("\(info.name.debugDescription) data_offsets [\(r.lowerBound), \(r.upperBound)] overlap \(previous.name.debugDescription) [\(previous.dataOffsets.lowerBound), \(previous.dataOffsets.upperBound)]")
            }
            if r.lowerBound > cursor {
                throw fail("data section has a hole of \(r.lowerBound - cursor) bytes before \(info.name.debugDescription)")
            }
            cursor = r.upperBound
            previous = info
        }
        guard cursor == dataSize else {
            throw fail("data section has \(dataSize - cursor) bytes after the last tensor")
        }
        return Header(tensors: infos, metadata: metadata, dataStart: dataStart)
    }

    /// A JSON number that is a non-negative integer.
    private static func nonNegativeInt(_ value: Any) -> Int? {
        guard let n = value as? Int, n >= 0 else { return nil }
        return n
    }

    /// The header bytes for tensors already placed in the data section, padded with spaces
    /// to a multiple of 8 as the reference writer does, so the data section is 8-aligned.
    /// Compact JSON with `__metadata__` first and tensors in data order, like the reference.
    static func encodeHeader(_ tensors: [TensorInfo], metadata: [String: String]) -> [UInt8] {
        var json = "{"
        var first = true
        func separator() { if !first { json += "," }; first = false }
        if !metadata.isEmpty {
            separator()
            json += "\"__metadata__\":{"
            // The reference writes a hash map in arbitrary order; sorted keys make our files reproducible.
            json += metadata.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
                .map { "\(JSONText.quoted($0.key)):\(JSONText.quoted($0.value))" }.joined(separator: ",")
            json += "}"
        }
        for t in tensors {
            separator()
            json += "\(JSONText.quoted(t.name)):{\"dtype\":\"\(t.dtype.rawValue)\",\"shape\":["
            json += t.shape.map(String.init).joined(separator: ",")
            json += "],\"data_offsets\":[\(t.dataOffsets.lowerBound),\(t.dataOffsets.upperBound)]}"
        }
        json += "}"
        var bytes = Array(json.utf8)
        bytes += Array(repeating: UInt8(ascii: " "), count: (8 - bytes.count % 8) % 8)
        return bytes
    }

}

extension SafeTensors.DType {
    /// Converts `count` little-endian elements at `src` to Float32 (integers exactly up to 2^24).
    func decode(_ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>) {
        @inline(__always) func u16(_ i: Int) -> UInt16 { UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
        @inline(__always) func u32(_ i: Int) -> UInt32 { UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)) }
        @inline(__always) func u64(_ i: Int) -> UInt64 { UInt64(littleEndian: src.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)) }
        switch self {
        case .f32: for i in 0..<count { dst[i] = Float(bitPattern: u32(i)) }
        case .f64: for i in 0..<count { dst[i] = Float(Double(bitPattern: u64(i))) }
        case .f16: for i in 0..<count { dst[i] = Float(Float16(bitPattern: u16(i))) }
        case .bf16: for i in 0..<count { dst[i] = Float(bitPattern: UInt32(u16(i)) << 16) }
        case .i64: for i in 0..<count { dst[i] = Float(Int64(bitPattern: u64(i))) }
        case .u64: for i in 0..<count { dst[i] = Float(u64(i)) }
        case .i32: for i in 0..<count { dst[i] = Float(Int32(bitPattern: u32(i))) }
        case .u32: for i in 0..<count { dst[i] = Float(u32(i)) }
        case .i16: for i in 0..<count { dst[i] = Float(Int16(bitPattern: u16(i))) }
        case .u16: for i in 0..<count { dst[i] = Float(u16(i)) }
        case .i8: for i in 0..<count { dst[i] = Float(src.load(fromByteOffset: i, as: Int8.self)) }
        case .u8, .bool: for i in 0..<count { dst[i] = Float(src.load(fromByteOffset: i, as: UInt8.self)) }
        }
    }

    /// Converts Float32 values to this dtype's little-endian bytes, the way PyTorch's `.to(dtype)`
    /// does: round-to-nearest-even for F16/BF16, truncation toward zero for integers, nonzero
    /// for BOOL. Returns the index of the first value an integer type cannot hold, else nil.
    func encode(_ src: UnsafePointer<Float>, count: Int, into dst: UnsafeMutableRawPointer) -> Int? {
        @inline(__always) func put<T: FixedWidthInteger>(_ i: Int, _ v: T) {
            dst.storeBytes(of: v.littleEndian, toByteOffset: i * MemoryLayout<T>.size, as: T.self)
        }
        func integers<T: FixedWidthInteger>(_: T.Type) -> Int? {
            for i in 0..<count {
                guard let v = T(exactly: src[i].rounded(.towardZero)) else { return i }
                put(i, v)
            }
            return nil
        }
        switch self {
        case .f32: for i in 0..<count { put(i, src[i].bitPattern) }
        case .f64: for i in 0..<count { put(i, Double(src[i]).bitPattern) }
        case .f16: for i in 0..<count { put(i, Float16(src[i]).bitPattern) }
        case .bf16:
            for i in 0..<count {
                let b = src[i].bitPattern
                // c10::BFloat16: canonical quiet NaN, otherwise round to nearest even.
                put(i, src[i].isNaN ? UInt16(0x7FC0) : UInt16(truncatingIfNeeded: (b &+ 0x7FFF &+ ((b >> 16) & 1)) >> 16))
            }
        case .bool: for i in 0..<count { put(i, UInt8(src[i] != 0 ? 1 : 0)) }
        case .i64: return integers(Int64.self)
        case .u64: return integers(UInt64.self)
        case .i32: return integers(Int32.self)
        case .u32: return integers(UInt32.self)
        case .i16: return integers(Int16.self)
        case .u16: return integers(UInt16.self)
        case .i8: return integers(Int8.self)
        case .u8: return integers(UInt8.self)
        }
        return nil
    }
}
