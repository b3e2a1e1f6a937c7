import CZlib

/// gzip-compressed files (`im0001.ppm.gz`, as STARE distributes its images and labels),
/// inflated in memory through zlib so that the image inside is decoded like any other file.
enum Gzip {
    /// Whether `bytes` start with gzip's signature.
    static func isCompressed(_ bytes: [UInt8]) -> Bool { bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B }

    /// The inflated contents; a stream that ends early, is corrupt or inflates past `limit`
    /// bytes (a hostile file cannot exhaust memory) is a `DecodeFailure`.
    static func inflate(_ bytes: [UInt8], limit: Int) throws -> [UInt8] {
        var stream = z_stream()
        // 16 + MAX_WBITS: a gzip header and trailer around the deflate data, checked by zlib.
        guard inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DecodeFailure("cannot start zlib")
        }
        defer { inflateEnd(&stream) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        return try bytes.withUnsafeBufferPointer { input -> [UInt8] in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
            stream.avail_in = UInt32(input.count)
            while true {
                let status = chunk.withUnsafeMutableBufferPointer { buffer -> Int32 in
                    stream.next_out = buffer.baseAddress
                    stream.avail_out = UInt32(buffer.count)
                    return CZlib.inflate(&stream, Z_NO_FLUSH)
                }
                out += chunk[0..<(chunk.count - Int(stream.avail_out))]
                guard out.count <= limit else { throw DecodeFailure("gzip data inflates past \(limit) bytes") }
                switch status {
                case Z_STREAM_END: return out
                case Z_OK: continue
                case Z_BUF_ERROR where stream.avail_in == 0: throw DecodeFailure("truncated gzip file")
                default:
                    let reason = stream.msg.map { String(cString: $0) } ?? "error \(status)"
                    throw DecodeFailure("corrupt gzip file (\(reason))")
                }
            }
        }
    }
}
