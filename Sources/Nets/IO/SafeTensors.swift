import Foundation

/// The safetensors file format: an 8-byte little-endian header length, a JSON
/// header mapping each name to its dtype, shape and byte range, then the raw
/// little-endian tensor bytes. It is what PyTorch users load with
/// `safetensors.torch.load_file`.
public enum SafeTensors {
    public struct FormatError: Error, CustomStringConvertible {
        public let description: String
        init(_ path: String, _ message: String) { description = "\(path): \(message)" }
    }

    /// Reads every tensor of a file as Float32 in plain (PyTorch) layout; integer and
    /// half-precision tensors are converted.
    public static func read(_ path: String) throws -> [String: Tensor] {
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw FormatError(path, "cannot read file")
        }
        return try decode(bytes, path: path)
    }

    static func decode(_ bytes: Data, path: String) throws -> [String: Tensor] {
        guard bytes.count >= 8 else { throw FormatError(path, "truncated safetensors file (no header length)") }
        let headerLength = bytes.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw FormatError(path, "truncated safetensors file (header of \(headerLength) bytes, file of \(bytes.count))")
        }
        let headerData = bytes.subdata(in: 8..<(8 + Int(headerLength)))
        guard let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any] else {
            throw FormatError(path, "safetensors header is not a JSON object")
        }
        let base = 8 + Int(headerLength)
        var out: [String: Tensor] = [:]
        for (name, entry) in header where name != "__metadata__" {
            guard let info = entry as? [String: Any], let dtype = info["dtype"] as? String,
                  let shape = info["shape"] as? [Int], let range = info["data_offsets"] as? [Int], range.count == 2
            else { throw FormatError(path, "malformed header entry for '\(name)'") }
            let count = shape.reduce(1, *)
            guard let width = elementSize[dtype] else { throw FormatError(path, "'\(name)' has unsupported dtype \(dtype)") }
            guard range[0] >= 0, range[1] - range[0] == count * width, base + range[1] <= bytes.count else {
                throw FormatError(path, "'\(name)' byte range \(range) does not fit its shape \(shape) or the file")
            }
            let t = Tensor(shape: shape)
            bytes.withUnsafeBytes { raw in
                let p = raw.baseAddress!.advanced(by: base + range[0])
                for i in 0..<count { t.data[i] = element(p, i, dtype) }
            }
            out[name] = t
        }
        return out
    }

    static let elementSize: [String: Int] = ["F32": 4, "F64": 8, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "U8": 1, "I8": 1, "BOOL": 1]

    @inline(__always)
    static func element(_ p: UnsafeRawPointer, _ i: Int, _ dtype: String) -> Float {
        switch dtype {
        case "F32": return Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
        case "F64": return Float(Double(bitPattern: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
        case "F16": return Float(Float16(bitPattern: UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))))
        case "BF16": return Float(bitPattern: UInt32(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16)
        case "I64": return Float(Int64(littleEndian: p.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)))
        case "I32": return Float(Int32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
        case "U8", "BOOL": return Float(p.load(fromByteOffset: i, as: UInt8.self))
        case "I8": return Float(p.load(fromByteOffset: i, as: Int8.self))
        default: return .nan
        }
    }
}
