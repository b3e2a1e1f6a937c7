import Foundation
import Nets

/// A problem reading or writing an image file: one line, `path: what is wrong`
/// (for example `images/07.png: truncated PNG: file ends inside chunk IDAT`).
public struct ImageError: Error, CustomStringConvertible, Equatable {
    public let description: String

    public init(_ path: String, _ message: String) {
        // Library messages occasionally carry newlines; the error stays one line.
        let flat = message.split(whereSeparator: \.isNewline).joined(separator: " ")
        description = "\(path): \(flat)"
    }
}

/// A decoder's complaint, before `ImageCodec` puts the file's path in front of it.
struct DecodeFailure: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// Reads PNG, JPEG, TIFF, GIF and binary PNM files, gzip-compressed or not, and writes PNG,
/// through the C libraries made for them (libpng, libjpeg-turbo's TurboJPEG API, libtiff,
/// giflib, zlib; PNM's header is read here). The format is chosen by the file's leading
/// bytes, never its name, so a mask saved as `.jpg` that is really a PNG
/// still reads exactly. No library message reaches stderr: every failure is an `ImageError`.
public enum ImageCodec {
    /// The file formats `read` understands.
    public enum Format: String, Sendable {
        case png = "PNG", jpeg = "JPEG", tiff = "TIFF", gif = "GIF", pnm = "PNM"
    }

    /// The largest image accepted, in pixels (a 16384 × 16384 image), so that a corrupt or
    /// hostile header cannot make the reader allocate gigabytes before the data runs out.
    public static let maxPixels = 1 << 28

    /// Decodes the image at `path`; see `Image` for what comes back for each kind of file.
    public static func read(_ path: String) throws -> Image {
        try decode(readFile(path), name: path)
    }

    /// Decodes an image held in memory; `name` stands for the file in error messages.
    public static func decode(_ bytes: [UInt8], name: String) throws -> Image {
        guard !bytes.isEmpty else { throw ImageError(name, "empty file") }
        if Gzip.isCompressed(bytes) {
            let inflated: [UInt8]
            do {
                inflated = try Gzip.inflate(bytes, limit: 8 * maxPixels + (1 << 20))
            } catch let failure as DecodeFailure {
                throw ImageError(name, failure.message)
            }
            guard !Gzip.isCompressed(inflated) else { throw ImageError(name, "gzip file inside a gzip file") }
            return try decode(inflated, name: name)
        }
        guard let format = sniff(bytes) else { throw ImageError(name, unknownFormat(bytes)) }
        do {
            switch format {
            case .png: return try PNGCodec.decode(bytes)
            case .jpeg: return try JPEGCodec.decode(bytes)
            case .tiff: return try TIFFCodec.decode(bytes)
            case .gif: return try GIFCodec.decode(bytes)
            case .pnm: return try PNMCodec.decode(bytes)
            }
        } catch let failure as DecodeFailure {
            throw ImageError(name, failure.message)
        }
    }

    /// The format announced by the file's signature, or nil.
    public static func sniff(_ bytes: [UInt8]) -> Format? {
        func starts(_ magic: [UInt8]) -> Bool { bytes.count >= magic.count && bytes.starts(with: magic) }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if starts([0xFF, 0xD8, 0xFF]) { return .jpeg }
        // Classic TIFF (42) and BigTIFF (43), little- and big-endian.
        if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A])
            || starts([0x49, 0x49, 0x2B, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2B]) { return .tiff }
        if starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8)) { return .gif }
        // Netpbm: P1-P6 then whitespace (the ASCII and bitmap kinds get their own error).
        if bytes.count >= 3, bytes[0] == UInt8(ascii: "P"), (UInt8(ascii: "1")...UInt8(ascii: "6")).contains(bytes[1]),
           [0x20, 0x09, 0x0A, 0x0D].contains(bytes[2]) { return .pnm }
        return nil
    }

    /// Writes `image` as a PNG: gray, gray+alpha, RGB, RGBA (8-bit), or a palette PNG whose
    /// pixel values are `image`'s indices and whose palette is `image.palette` (tRNS is
    /// written when an entry is not opaque). 16-bit images are written with their 8-bit
    /// samples. The file appears atomically (`AtomicFile`), so readers never see half a PNG.
    public static func writePNG(_ image: Image, to path: String) throws {
        let bytes: [UInt8]
        do {
            bytes = try PNGCodec.encode(image)
        } catch let failure as DecodeFailure {
            throw ImageError(path, failure.message)
        }
        try AtomicFile.write(bytes, to: path)
    }

    /// The whole file, or an `ImageError` naming the reason it cannot be read.
    static func readFile(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ImageError(path, "cannot open: \(errnoText())") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw ImageError(path, "cannot stat: \(errnoText())") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw ImageError(path, "not a regular file") }
        let size = Int(st.st_size)
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        while done < size {
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + done, size - done) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ImageError(path, "read failed: \(errnoText())")
            }
            guard n > 0 else { throw ImageError(path, "file shrank while being read") }
            done += n
        }
        return bytes
    }

    /// What to say about a file whose signature is none of ours, naming common other formats.
    static func unknownFormat(_ bytes: [UInt8]) -> String {
        func starts(_ s: String) -> Bool { bytes.starts(with: Array(s.utf8)) }
        let other: String? =
            starts("BM") ? "BMP"
            : starts("RIFF") && bytes.count >= 12 && Array(bytes[8..<12]) == Array("WEBP".utf8) ? "WebP"
            : bytes.count >= 12 && Array(bytes[4..<12]) == Array("ftypavif".utf8) ? "AVIF"
            : bytes.starts(with: [0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50]) || bytes.starts(with: [0xFF, 0x4F, 0xFF, 0x51]) ? "JPEG 2000"
            : bytes.starts(with: [0x93] + Array("NUMPY".utf8)) ? "NumPy array" : nil
        if let other { return "unsupported image format (\(other)); convert it to PNG" }
        let head = bytes.prefix(8).map { String(format: "%02x", $0) }.joined(separator: " ")
        return "not a PNG, JPEG, TIFF, GIF or PNM file (it starts with bytes \(head))"
    }
}

/// `strerror(errno)` as a Swift string.
func errnoText() -> String { String(cString: strerror(errno)) }
