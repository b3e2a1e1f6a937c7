import CPNG
import Foundation

/// PNG through libpng's "simplified" API (`png_image_*`), the one libpng entry point that
/// reports errors as return values: the classic API longjmps out of its error callback,
/// which Swift cannot catch. Everything PNG stores comes back exactly:
/// - gray, gray+alpha, RGB, RGBA at 8 bits; gray at 1/2/4 bits scaled to 0...255;
/// - palette images at 1/2/4/8 bits as `.indexed`: libpng's colour-mapped read copies the
///   file's PLTE (with tRNS alpha) as the colour map and the file's indices as the pixels,
///   unchanged (the tests check this on a shuffled 256-colour palette);
/// - 16-bit gray and RGB exactly, in `samples16`. 16-bit images *with alpha* are the one
///   inexact case: the simplified API returns them premultiplied, so colours are recovered
///   exactly where alpha is 65535, to within 32768 / alpha elsewhere, and read 0 where
///   alpha is 0;
/// - interlaced (Adam7) files;
/// - a tRNS chunk on a gray or RGB file becomes an alpha channel (`.grayAlpha`, `.rgba`).
/// Gamma and colour-space chunks (gAMA, sRGB, iCCP, cHRM) are removed before libpng sees
/// the file: otherwise it would convert samples between gamma curves, while Pillow, OpenCV
/// and torchvision hand over the stored values, and a class-id mask must keep its ids.
enum PNGCodec {
    /// Chunks that would make libpng's simplified API transform sample values.
    /// PNG_FORMAT_RGBA_COLORMAP (a composite macro Swift does not import): one-byte indices
    /// into a colour map of RGBA entries.
    private static let rgbaColormap = PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA | PNG_FORMAT_FLAG_COLORMAP

    private static let colorSpaceChunks: Set<String> = ["gAMA", "sRGB", "iCCP", "cHRM"]

    /// The facts of the file that libpng's simplified API does not expose, found by walking
    /// the chunk list, and the file with the colour-space chunks left out.
    private struct Scan {
        var bytes: [UInt8]
        var bitDepth = 0
        var colorType = 0
        /// Set when the file ends before IEND, e.g. "file ends inside chunk IDAT".
        var truncation: String?
    }

    static func decode(_ bytes: [UInt8]) throws -> Image {
        let scan = try self.scan(bytes)
        var png = png_image()
        png.version = UInt32(PNG_IMAGE_VERSION)
        defer { png_image_free(&png) }

        return try scan.bytes.withUnsafeBytes { file -> Image in
            func failure(_ what: String) -> DecodeFailure {
                let detail = message(of: &png)
                if let truncation = scan.truncation { return DecodeFailure("truncated PNG: \(truncation) (libpng: \(detail))") }
                return DecodeFailure("\(what): \(detail)")
            }
            guard png_image_begin_read_from_memory(&png, file.baseAddress, file.count) != 0 else {
                throw failure("corrupt PNG header")
            }
            let width = Int(png.width), height = Int(png.height)
            guard width * height <= ImageCodec.maxPixels else {
                throw DecodeFailure("PNG of \(width)x\(height) pixels is larger than the \(ImageCodec.maxPixels)-pixel limit")
            }

            if png.format & PNG_FORMAT_FLAG_COLORMAP != 0 {
                // Ask for an RGBA colour map so tRNS alpha comes along; indices are 1 byte.
                png.format = rgbaColormap
                var indices = [UInt8](repeating: 0, count: width * height)
                var colormap = [UInt8](repeating: 0, count: 256 * 4)
                let ok = indices.withUnsafeMutableBytes { out in
                    colormap.withUnsafeMutableBytes { map in
                        png_image_finish_read(&png, nil, out.baseAddress, 0, map.baseAddress)
                    }
                }
                guard ok != 0 else { throw failure("corrupt PNG") }
                let entries = min(Int(png.colormap_entries), 256)
                guard entries > 0 else { throw DecodeFailure("corrupt PNG: palette image without a palette") }
                let palette = (0..<entries).map { i in
                    Image.Color(colormap[4 * i], colormap[4 * i + 1], colormap[4 * i + 2], alpha: colormap[4 * i + 3])
                }
                return Image(width: width, height: height, colorModel: .indexed, samples: indices,
                             palette: palette, bitDepth: scan.bitDepth)
            }

            let model: Image.ColorModel
            switch (png.format & PNG_FORMAT_FLAG_COLOR != 0, png.format & PNG_FORMAT_FLAG_ALPHA != 0) {
            case (false, false): model = .gray
            case (false, true): model = .grayAlpha
            case (true, false): model = .rgb
            case (true, true): model = .rgba
            }
            let count = width * height * model.channels
            if scan.bitDepth == 16 {
                // Linear (16-bit) output: the file's samples with no gamma step, because the
                // simplified API takes a 16-bit file without gAMA/sRGB to be linear already.
                png.format &= PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA
                png.format |= PNG_FORMAT_FLAG_LINEAR
                var samples = [UInt16](repeating: 0, count: count)
                let ok = samples.withUnsafeMutableBytes { png_image_finish_read(&png, nil, $0.baseAddress, 0, nil) }
                guard ok != 0 else { throw failure("corrupt PNG") }
                if model.hasAlpha { unpremultiply(&samples, channels: model.channels) }
                return Image(width: width, height: height, colorModel: model, samples16: samples)
            }
            png.format &= PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA
            var samples = [UInt8](repeating: 0, count: count)
            let ok = samples.withUnsafeMutableBytes { png_image_finish_read(&png, nil, $0.baseAddress, 0, nil) }
            guard ok != 0 else { throw failure("corrupt PNG") }
            return Image(width: width, height: height, colorModel: model, samples: samples, bitDepth: scan.bitDepth)
        }
    }

    /// Walks the chunks: reads IHDR, drops colour-space chunks, notes where a short file ends.
    /// Anything it cannot make sense of is passed on untouched for libpng to judge.
    private static func scan(_ bytes: [UInt8]) throws -> Scan {
        var scan = Scan(bytes: Array(bytes.prefix(8)))
        scan.bytes.reserveCapacity(bytes.count)
        func be32(_ at: Int) -> Int {
            Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3])
        }
        var at = 8
        var first = true
        while true {
            guard at + 8 <= bytes.count else {
                scan.truncation = at == bytes.count ? "file ends before the IEND chunk" : "file ends inside a chunk header"
                break
            }
            let length = be32(at)
            let type = String(decoding: bytes[(at + 4)..<(at + 8)], as: UTF8.self)
            let end = at + 12 + length
            if first {
                guard type == "IHDR", length == 13, end <= bytes.count else {
                    if end > bytes.count { throw DecodeFailure("truncated PNG: file ends inside the IHDR chunk") }
                    throw DecodeFailure("corrupt PNG: the first chunk is \(type.debugDescription), not IHDR")
                }
                scan.bitDepth = Int(bytes[at + 16])
                scan.colorType = Int(bytes[at + 17])
                first = false
            }
            guard length <= 0x7FFF_FFFF, end <= bytes.count else {
                scan.truncation = "file ends inside chunk \(type) (\(bytes.count - at) of its \(length + 12) bytes present)"
                break
            }
            if !colorSpaceChunks.contains(type) { scan.bytes += bytes[at..<end] }
            at = end
            if type == "IEND" { break }
        }
        if scan.truncation != nil { scan.bytes += bytes[min(at, bytes.count)...] }
        return scan
    }

    /// Undoes the premultiplication the simplified API applies to 16-bit data with alpha.
    private static func unpremultiply(_ samples: inout [UInt16], channels: Int) {
        samples.withUnsafeMutableBufferPointer { s in
            var p = 0
            while p < s.count {
                let a = UInt32(s[p + channels - 1])
                if a != 65535 {
                    for c in 0..<(channels - 1) {
                        s[p + c] = a == 0 ? 0 : UInt16(min(65535, (UInt32(s[p + c]) * 65535 + a / 2) / a))
                    }
                }
                p += channels
            }
        }
    }

    /// Writes `image` as PNG (see `ImageCodec.writePNG`): 8-bit, or 16-bit for a gray or RGB
    /// image with `samples16` (stored as they are, marked linear). libpng's simplified writer
    /// adds an sRGB chunk to 8-bit data, which readers of class-id PNGs (Pillow, OpenCV, this
    /// file) ignore.
    static func encode(_ image: Image) throws -> [UInt8] {
        var png = png_image()
        png.version = UInt32(PNG_IMAGE_VERSION)
        png.width = UInt32(image.width)
        png.height = UInt32(image.height)
        defer { png_image_free(&png) }
        var colormap: [UInt8] = []
        switch image.colorModel {
        case .gray: png.format = 0
        case .grayAlpha: png.format = PNG_FORMAT_FLAG_ALPHA
        case .rgb: png.format = PNG_FORMAT_FLAG_COLOR
        case .rgba: png.format = PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA
        case .indexed:
            if let top = image.samples.max(), Int(top) >= image.palette.count {
                throw DecodeFailure("cannot write PNG: palette index \(top) is past the end of the \(image.palette.count)-colour palette")
            }
            png.format = rgbaColormap
            png.colormap_entries = UInt32(image.palette.count)
            colormap = image.palette.flatMap { [$0.red, $0.green, $0.blue, $0.alpha] }
        }
        let wide = image.samples16 != nil && (image.colorModel == .gray || image.colorModel == .rgb)
        if wide { png.format |= PNG_FORMAT_FLAG_LINEAR }
        guard image.width > 0, image.height > 0 else {
            throw DecodeFailure("cannot write PNG: the image is \(image.width)x\(image.height) pixels")
        }
        // The simplified API encodes to memory in two calls: the first measures, the second writes.
        var size = 0
        var bytes: [UInt8] = []
        let data: [UInt8] = wide ? image.samples16!.withUnsafeBytes { Array($0) } : image.samples
        let ok = data.withUnsafeBytes { pixels in
            colormap.withUnsafeBytes { map -> Int32 in
                guard png_image_write_to_memory(&png, nil, &size, 0, pixels.baseAddress, 0, map.baseAddress) != 0
                else { return 0 }
                bytes = [UInt8](repeating: 0, count: size)
                return bytes.withUnsafeMutableBytes {
                    png_image_write_to_memory(&png, $0.baseAddress, &size, 0, pixels.baseAddress, 0, map.baseAddress)
                }
            }
        }
        guard ok != 0 else { throw DecodeFailure("cannot write PNG: \(message(of: &png))") }
        return Array(bytes.prefix(size))
    }

    /// The simplified API's error or warning text.
    private static func message(of png: inout png_image) -> String {
        withUnsafeBytes(of: &png.message) { raw in
            let text = raw.bindMemory(to: CChar.self)
            let end = text.firstIndex(of: 0) ?? text.count
            return String(decoding: raw.prefix(end), as: UTF8.self)
        }
    }
}
