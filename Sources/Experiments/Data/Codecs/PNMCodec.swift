/// Binary Netpbm images: P5 (gray) and P6 (RGB), 8- or 16-bit, the format STARE distributes
/// (`im0001.ppm`, `im0001.ah.ppm`). The header is `P6 <width> <height> <maxval>` separated by
/// whitespace, with `#` comments, then one whitespace byte and the samples (16-bit ones
/// big-endian). Samples are rescaled to the full 8- or 16-bit range when maxval is smaller,
/// as Pillow does. Netpbm's own library is not used: it exits the process on a bad file.
enum PNMCodec {
    static func decode(_ bytes: [UInt8]) throws -> Image {
        var reader = HeaderReader(bytes: bytes)
        let magic = [bytes[0], bytes[1]]
        let model: Image.ColorModel
        switch magic {
        case Array("P5".utf8): model = .gray
        case Array("P6".utf8): model = .rgb
        default:
            throw DecodeFailure("PNM kind \(String(decoding: magic, as: UTF8.self)) is not supported "
                                + "(binary P5 gray and P6 RGB are); convert it to PNG")
        }
        reader.offset = 2
        let width = try reader.number("width"), height = try reader.number("height")
        let maxval = try reader.number("maxval")
        guard width > 0, height > 0 else { throw DecodeFailure("PNM size \(width)x\(height)") }
        guard width * height <= ImageCodec.maxPixels else {
            throw DecodeFailure("PNM image \(width)x\(height) is larger than \(ImageCodec.maxPixels) pixels")
        }
        guard (1...65535).contains(maxval) else { throw DecodeFailure("PNM maxval \(maxval) is not in 1...65535") }
        let start = reader.offset + 1  // the single whitespace byte after maxval
        let count = width * height * model.channels, wide = maxval > 255
        let needed = count * (wide ? 2 : 1)
        guard bytes.count - start >= needed else {
            throw DecodeFailure("truncated PNM: \(max(0, bytes.count - start)) of \(needed) sample bytes")
        }
        if wide {
            let samples = (0..<count).map { i -> UInt16 in
                let v = Int(bytes[start + 2 * i]) << 8 | Int(bytes[start + 2 * i + 1])
                return UInt16(min(v, maxval) * 65535 / maxval)
            }
            return Image(width: width, height: height, colorModel: model, samples16: samples)
        }
        let scale = (0...255).map { UInt8(min($0, maxval) * 255 / maxval) }
        return Image(width: width, height: height, colorModel: model,
                     samples: bytes[start..<(start + count)].map { scale[Int($0)] })
    }

    /// Reads the header's decimal numbers, passing over whitespace and comments.
    private struct HeaderReader {
        let bytes: [UInt8]
        var offset = 0

        mutating func number(_ what: String) throws -> Int {
            while offset < bytes.count {
                if bytes[offset] == UInt8(ascii: "#") {
                    while offset < bytes.count && bytes[offset] != UInt8(ascii: "\n") { offset += 1 }
                } else if Self.isSpace(bytes[offset]) {
                    offset += 1
                } else {
                    break
                }
            }
            var value = 0, digits = 0
            while offset < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[offset]) {
                value = value * 10 + Int(bytes[offset] - UInt8(ascii: "0"))
                digits += 1
                offset += 1
                guard value < 1 << 30 else { throw DecodeFailure("PNM header \(what) is too large") }
            }
            guard digits > 0, offset < bytes.count, Self.isSpace(bytes[offset]) else {
                throw DecodeFailure("corrupt PNM header: no \(what)")
            }
            return value
        }

        static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == 0x0B || b == 0x0C }
    }
}
