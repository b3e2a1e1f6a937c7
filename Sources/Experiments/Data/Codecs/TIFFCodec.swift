import CTIFF
import Foundation

/// TIFF through libtiff, reading the first image (directory) of the file from memory.
///
/// The layouts datasets use are read sample-exact, by strips or tiles, with any codec libtiff
/// has (none, LZW, deflate, PackBits, CCITT, JPEG, ...): unsigned gray at 1/2/4/8/16 bits
/// (min-is-black or min-is-white, the latter inverted), RGB at 8/16 bits, palette images at
/// 1/2/4/8 bits as `.indexed`, each with an optional alpha sample (associated alpha is
/// un-premultiplied like Pillow's RGBa → RGBA; an unspecified extra sample is dropped).
/// Everything else libtiff can render (YCbCr, CMYK, CIELab, separate planes, an orientation
/// other than top-left) goes through libtiff's RGBA interface, which applies the
/// orientation and gives 8-bit RGB(A), or gray for gray photometrics. Float and signed
/// samples are refused with a message.
///
/// libtiff reports problems through handlers; the per-file ones set here collect them for the
/// error message, and the process-wide ones are silenced so nothing reaches stderr.
enum TIFFCodec {
    static func decode(_ bytes: [UInt8]) throws -> Image {
        _ = silenceGlobalHandlers
        try checkFirstDirectory(bytes)
        let messages = Messages()
        return try bytes.withUnsafeBufferPointer { file -> Image in
            let source = UnsafeMutablePointer<MemoryFile>.allocate(capacity: 1)
            source.initialize(to: MemoryFile(base: file.baseAddress, size: file.count, offset: 0))
            defer { source.deallocate() }
            guard let options = TIFFOpenOptionsAlloc() else { throw DecodeFailure("cannot start libtiff") }
            defer { TIFFOpenOptionsFree(options) }
            let sink = Unmanaged.passUnretained(messages).toOpaque()
            TIFFOpenOptionsSetErrorHandlerExtR(options, collectError, sink)
            TIFFOpenOptionsSetWarningHandlerExtR(options, ignoreWarning, sink)
            // No single allocation beyond what the largest accepted image needs.
            TIFFOpenOptionsSetMaxSingleMemAlloc(options, tmsize_t(ImageCodec.maxPixels * 8))
            guard let tif = TIFFClientOpenExt("TIFF", "r", source, readProc, writeProc, seekProc, closeProc,
                                              sizeProc, mapProc, unmapProc, options) else {
                throw messages.failure("cannot open TIFF")
            }
            defer { TIFFClose(tif) }
            return try withExtendedLifetime(messages) { try read(tif, fileSize: file.count, messages) }
        }
    }

    /// Says "truncated" when the first image directory (the tag list) lies past the end of
    /// the file, which libtiff only reports as "Can not read TIFF directory".
    private static func checkFirstDirectory(_ bytes: [UInt8]) throws {
        let big = bytes.count >= 4 && bytes[2 ... 3] == (bytes[0] == 0x49 ? [0x2B, 0x00] : [0x00, 0x2B])
        func number(_ at: Int, _ size: Int) -> Int? {
            guard at >= 0, at + size <= bytes.count else { return nil }
            let field = bytes[at..<(at + size)]
            // Larger than any file; keeps the arithmetic below from overflowing.
            let value = (bytes[0] == 0x49 ? field.reversed() : Array(field)).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            return Int(min(value, 1 << 48))
        }
        guard let offset = big ? number(8, 8) : number(4, 4) else {
            throw DecodeFailure("truncated TIFF: the file ends inside its \(big ? 16 : 8)-byte header")
        }
        let (countSize, entrySize) = big ? (8, 20) : (2, 12)
        guard let entries = number(offset, countSize) else {
            throw DecodeFailure("truncated or corrupt TIFF: the image directory offset \(offset) is past the end of the file (\(bytes.count) bytes)")
        }
        let end = offset + countSize + entries * entrySize
        guard end <= bytes.count else {
            throw DecodeFailure("truncated TIFF: the image directory at byte \(offset) (\(entries) tags) runs past the end of the file (\(bytes.count) bytes)")
        }
    }

    /// The first image of an opened TIFF.
    private static func read(_ tif: OpaquePointer, fileSize: Int, _ messages: Messages) throws -> Image {
        let width = Int(field(tif, TIFFTAG_IMAGEWIDTH, UInt32(0)) ?? 0)
        let height = Int(field(tif, TIFFTAG_IMAGELENGTH, UInt32(0)) ?? 0)
        guard width > 0, height > 0 else { throw DecodeFailure("corrupt TIFF: the image is \(width)x\(height) pixels") }
        guard width * height <= ImageCodec.maxPixels else {
            throw DecodeFailure("TIFF of \(width)x\(height) pixels is larger than the \(ImageCodec.maxPixels)-pixel limit")
        }
        let bits = Int(defaulted(tif, TIFFTAG_BITSPERSAMPLE, UInt16(0)))
        let spp = Int(defaulted(tif, TIFFTAG_SAMPLESPERPIXEL, UInt16(0)))
        let format = Int(defaulted(tif, TIFFTAG_SAMPLEFORMAT, UInt16(0)))
        let planar = Int(defaulted(tif, TIFFTAG_PLANARCONFIG, UInt16(0)))
        let orientation = Int(defaulted(tif, TIFFTAG_ORIENTATION, UInt16(0)))
        let photometric = field(tif, TIFFTAG_PHOTOMETRIC, UInt16(0)).map(Int.init) ?? -1
        var extraCount: UInt16 = 0
        var extraTypes: UnsafeMutablePointer<UInt16>? = nil
        _ = withUnsafeMutablePointer(to: &extraCount) { count in
            withUnsafeMutablePointer(to: &extraTypes) { types in
                withVaList([count, types]) { TIFFVGetFieldDefaulted(tif, UInt32(TIFFTAG_EXTRASAMPLES), $0) }
            }
        }
        let alphaKind = extraCount >= 1 ? Int(extraTypes?[0] ?? 0) : -1

        // Uncompressed pixels cannot be larger than the file: a cheap test that keeps a
        // corrupt width or height from costing a huge allocation.
        let compression = Int(defaulted(tif, TIFFTAG_COMPRESSION, UInt16(0)))
        let needed = (width * max(1, spp) * bits + 7) / 8 * height
        if compression == Int(COMPRESSION_NONE), needed > fileSize {
            throw DecodeFailure("truncated TIFF: \(width)x\(height) uncompressed pixels need \(needed) bytes, the file has \(fileSize)")
        }

        switch format {
        case Int(SAMPLEFORMAT_UINT), Int(SAMPLEFORMAT_VOID): break
        case Int(SAMPLEFORMAT_IEEEFP): throw DecodeFailure("unsupported TIFF: \(bits)-bit floating-point samples")
        case Int(SAMPLEFORMAT_INT): throw DecodeFailure("unsupported TIFF: \(bits)-bit signed samples")
        default: throw DecodeFailure("unsupported TIFF: sample format \(format)")
        }

        // The direct path: layouts whose stored samples are the answer.
        let gray = photometric == Int(PHOTOMETRIC_MINISBLACK) || photometric == Int(PHOTOMETRIC_MINISWHITE)
        let base = photometric == Int(PHOTOMETRIC_RGB) ? 3 : gray || photometric == Int(PHOTOMETRIC_PALETTE) ? 1 : 0
        let palette = photometric == Int(PHOTOMETRIC_PALETTE)
        let layoutOK = base > 0 && planar == Int(PLANARCONFIG_CONTIG) && orientation == Int(ORIENTATION_TOPLEFT)
        let samplesOK = spp == base || (spp == base + 1 && !palette)
        let depthOK = bits == 8 || (bits == 16 && !palette) || ([1, 2, 4].contains(bits) && spp == 1 && TIFFIsTiled(tif) == 0)
        let direct = layoutOK && samplesOK && depthOK
        guard direct else { return try readRGBA(tif, width: width, height: height, gray: gray, alpha: extraCount > 0, messages) }

        let rowBytes = (width * spp * bits + 7) / 8
        guard Int(TIFFScanlineSize(tif)) == rowBytes else {
            return try readRGBA(tif, width: width, height: height, gray: gray, alpha: extraCount > 0, messages)
        }
        // Left uninitialised: the strips or tiles cover every byte, or the read throws; so a
        // corrupt size costs address space, not the time to clear it.
        let raw = try [UInt8](unsafeUninitializedCapacity: rowBytes * height) { buffer, count in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            if TIFFIsTiled(tif) != 0 {
                try readTiles(tif, into: raw, rowBytes: rowBytes, pixelBytes: spp * bits / 8, width: width, height: height, messages)
            } else {
                try readStrips(tif, into: raw, rowBytes: rowBytes, height: height, messages)
            }
            count = rowBytes * height
        }

        let keepAlpha = spp > base && alphaKind != Int(EXTRASAMPLE_UNSPECIFIED)
        let model: Image.ColorModel = palette ? .indexed
            : base == 3 ? (keepAlpha ? .rgba : .rgb) : (keepAlpha ? .grayAlpha : .gray)
        let whiteIsZero = photometric == Int(PHOTOMETRIC_MINISWHITE)
        let associated = keepAlpha && alphaKind == Int(EXTRASAMPLE_ASSOCALPHA)

        if bits == 16 {
            var samples = [UInt16](repeating: 0, count: width * height * model.channels)
            raw.withUnsafeBytes { src in
                for p in 0..<(width * height) {
                    for c in 0..<model.channels {
                        // libtiff has already swapped the samples to host byte order.
                        let v = src.loadUnaligned(fromByteOffset: 2 * (p * spp + c), as: UInt16.self)
                        samples[p * model.channels + c] = whiteIsZero && !(keepAlpha && c == base) ? 65535 - v : v
                    }
                }
            }
            if associated { unpremultiply(&samples, channels: model.channels, max: 65535) }
            return Image(width: width, height: height, colorModel: model, samples16: samples)
        }

        var samples: [UInt8]
        if bits == 8 {
            samples = spp == model.channels ? raw : (0..<(width * height * model.channels)).map {
                raw[($0 / model.channels) * spp + $0 % model.channels]
            }
            if whiteIsZero {
                for i in samples.indices where !(keepAlpha && i % model.channels == base) { samples[i] = 255 - samples[i] }
            }
            if associated { unpremultiply(&samples, channels: model.channels, max: 255) }
        } else {
            samples = unpack(raw, bits: bits, width: width, height: height, rowBytes: rowBytes)
            let top = UInt8((1 << bits) - 1)
            if model != .indexed {
                let scale = 255 / top
                for i in samples.indices { samples[i] = (whiteIsZero ? top - samples[i] : samples[i]) * scale }
            }
        }
        if model == .indexed {
            return Image(width: width, height: height, colorModel: .indexed, samples: samples,
                         palette: try colormap(tif, bits: bits), bitDepth: bits)
        }
        return Image(width: width, height: height, colorModel: model, samples: samples, bitDepth: bits)
    }

    private static func readStrips(_ tif: OpaquePointer, into raw: UnsafeMutableRawBufferPointer, rowBytes: Int,
                                   height: Int, _ messages: Messages) throws {
        let rowsPerStrip = max(1, min(height, Int(defaulted(tif, TIFFTAG_ROWSPERSTRIP, UInt32(0)))))
        let strips = Int(TIFFNumberOfStrips(tif))
        guard strips >= (height + rowsPerStrip - 1) / rowsPerStrip else {
            throw DecodeFailure("corrupt TIFF: \(strips) strips for \(height) rows of \(rowsPerStrip)")
        }
        for strip in 0..<((height + rowsPerStrip - 1) / rowsPerStrip) {
            let row = strip * rowsPerStrip
            let bytes = min(rowsPerStrip, height - row) * rowBytes
            let n = TIFFReadEncodedStrip(tif, UInt32(strip), raw.baseAddress! + row * rowBytes, tmsize_t(bytes))
            guard n >= 0 else { throw messages.failure("corrupt TIFF: cannot read strip \(strip)") }
            guard n == bytes else { throw messages.failure("corrupt TIFF: strip \(strip) holds \(n) of its \(bytes) bytes") }
        }
    }

    private static func readTiles(_ tif: OpaquePointer, into raw: UnsafeMutableRawBufferPointer, rowBytes: Int,
                                  pixelBytes: Int, width: Int, height: Int, _ messages: Messages) throws {
        let tileWidth = Int(field(tif, TIFFTAG_TILEWIDTH, UInt32(0)) ?? 0)
        let tileHeight = Int(field(tif, TIFFTAG_TILELENGTH, UInt32(0)) ?? 0)
        let tileRow = Int(TIFFTileRowSize(tif)), tileSize = Int(TIFFTileSize(tif))
        guard tileWidth > 0, tileHeight > 0, tileWidth * tileHeight <= ImageCodec.maxPixels,
              tileRow == tileWidth * pixelBytes, tileSize >= tileRow * tileHeight, tileSize <= tileRow * tileHeight * 2 else {
            throw messages.failure("corrupt TIFF: tiles of \(tileWidth)x\(tileHeight) pixels")
        }
        let tile = UnsafeMutableRawPointer.allocate(byteCount: tileSize, alignment: 16)
        defer { tile.deallocate() }
        for y in stride(from: 0, to: height, by: tileHeight) {
            for x in stride(from: 0, to: width, by: tileWidth) {
                let index = TIFFComputeTile(tif, UInt32(x), UInt32(y), 0, 0)
                let n = Int(TIFFReadEncodedTile(tif, index, tile, tmsize_t(tileSize)))
                guard n >= 0 else { throw messages.failure("corrupt TIFF: cannot read tile \(index)") }
                let rowPart = min(tileWidth, width - x) * pixelBytes
                guard n >= (min(tileHeight, height - y) - 1) * tileRow + rowPart else {
                    throw messages.failure("corrupt TIFF: tile \(index) holds only \(n) bytes")
                }
                for r in 0..<min(tileHeight, height - y) {
                    (raw.baseAddress! + (y + r) * rowBytes + x * pixelBytes).copyMemory(from: tile + r * tileRow, byteCount: rowPart)
                }
            }
        }
    }

    /// libtiff's RGBA rendering, for the layouts the direct path does not read.
    private static func readRGBA(_ tif: OpaquePointer, width: Int, height: Int, gray: Bool, alpha: Bool,
                                 _ messages: Messages) throws -> Image {
        var reason = [CChar](repeating: 0, count: 1024)
        guard TIFFRGBAImageOK(tif, &reason) != 0 else {
            throw DecodeFailure("unsupported TIFF: \(String(cString: reason))")
        }
        // Stop at the first damaged strip instead of rendering around it.
        let raster = try [UInt32](unsafeUninitializedCapacity: width * height) { buffer, count in
            let ok = TIFFReadRGBAImageOriented(tif, UInt32(width), UInt32(height), buffer.baseAddress,
                                               Int32(ORIENTATION_TOPLEFT), 1)
            guard ok != 0 else { throw messages.failure("corrupt TIFF") }
            count = width * height
        }
        let model: Image.ColorModel = gray ? (alpha ? .grayAlpha : .gray) : (alpha ? .rgba : .rgb)
        let keep: [UInt32] = gray ? (alpha ? [0, 3] : [0]) : (alpha ? [0, 1, 2, 3] : [0, 1, 2])
        var samples = [UInt8](repeating: 0, count: width * height * keep.count)
        raster.withUnsafeBufferPointer { src in
            samples.withUnsafeMutableBufferPointer { dst in
                var d = 0
                for pixel in src {  // A, B, G, R from the high byte down
                    for c in keep {
                        dst[d] = UInt8(truncatingIfNeeded: pixel >> (8 * c))
                        d += 1
                    }
                }
            }
        }
        // The RGBA interface premultiplies alpha.
        if alpha { unpremultiply(&samples, channels: keep.count, max: 255) }
        return Image(width: width, height: height, colorModel: model, samples: samples)
    }

    /// Packed 1/2/4-bit rows (each starting on a byte) to one byte per sample, high bits first.
    private static func unpack(_ raw: [UInt8], bits: Int, width: Int, height: Int, rowBytes: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: width * height)
        let perByte = 8 / bits, mask = UInt8((1 << bits) - 1)
        for y in 0..<height {
            for x in 0..<width {
                let byte = raw[y * rowBytes + x / perByte]
                out[y * width + x] = (byte >> UInt8(8 - bits * (x % perByte + 1))) & mask
            }
        }
        return out
    }

    /// The palette: TIFF stores 16-bit colour values; files from some writers hold 8-bit
    /// values there instead, which libtiff (and we) recognise by every value being < 256.
    private static func colormap(_ tif: OpaquePointer, bits: Int) throws -> [Image.Color] {
        var red: UnsafeMutablePointer<UInt16>? = nil, green = red, blue = red
        let found = withUnsafeMutablePointer(to: &red) { r in
            withUnsafeMutablePointer(to: &green) { g in
                withUnsafeMutablePointer(to: &blue) { b in
                    withVaList([r, g, b]) { TIFFVGetField(tif, UInt32(TIFFTAG_COLORMAP), $0) }
                }
            }
        }
        guard found != 0, let red, let green, let blue else { throw DecodeFailure("corrupt TIFF: palette image without a colour map") }
        let count = 1 << bits
        let eightBit = (0..<count).allSatisfy { red[$0] < 256 && green[$0] < 256 && blue[$0] < 256 }
        let shift: UInt16 = eightBit ? 0 : 8
        return (0..<min(count, 256)).map {
            Image.Color(UInt8(red[$0] >> shift), UInt8(green[$0] >> shift), UInt8(blue[$0] >> shift))
        }
    }

    /// Pillow's RGBa → RGBA: colour × max / alpha, truncated and clipped; alpha 0 keeps the colour.
    private static func unpremultiply<T: FixedWidthInteger & UnsignedInteger>(_ samples: inout [T], channels: Int, max: UInt32) {
        for p in stride(from: 0, to: samples.count, by: channels) {
            let a = UInt32(samples[p + channels - 1])
            guard a != 0, a != max else { continue }
            for c in 0..<(channels - 1) { samples[p + c] = T(Swift.min(max, UInt32(samples[p + c]) * max / a)) }
        }
    }

    // MARK: libtiff plumbing

    /// A tag's value, or nil when the file lacks it (`TIFFGetField` is variadic, so through `TIFFVGetField`).
    private static func field<T>(_ tif: OpaquePointer, _ tag: Int32, _ zero: T) -> T? {
        var value = zero
        let found = withUnsafeMutablePointer(to: &value) { p in withVaList([p]) { TIFFVGetField(tif, UInt32(tag), $0) } }
        return found != 0 ? value : nil
    }

    /// A tag's value or the TIFF default.
    private static func defaulted<T>(_ tif: OpaquePointer, _ tag: Int32, _ zero: T) -> T {
        var value = zero
        _ = withUnsafeMutablePointer(to: &value) { p in withVaList([p]) { TIFFVGetFieldDefaulted(tif, UInt32(tag), $0) } }
        return value
    }

    /// libtiff's messages for one file.
    private final class Messages {
        var errors: [String] = []

        /// `what`, with libtiff's first complaint (usually the cause; later ones follow from it).
        func failure(_ what: String) -> DecodeFailure {
            guard let first = errors.first else { return DecodeFailure(what) }
            return DecodeFailure("\(what) (libtiff: \(first))")
        }
    }

    private static let collectError: TIFFErrorHandlerExtR = { _, sink, _, format, args in
        guard let sink, let format, let args else { return 1 }
        var text = [CChar](repeating: 0, count: 512)
        vsnprintf(&text, text.count, format, args)
        Unmanaged<Messages>.fromOpaque(sink).takeUnretainedValue().errors.append(String(cString: text))
        return 1
    }

    private static let ignoreWarning: TIFFErrorHandlerExtR = { _, _, _, _, _ in 1 }

    /// Messages libtiff raises without a file at hand would go to the process-wide handlers,
    /// which print to stderr by default.
    private static let silenceGlobalHandlers: Void = {
        TIFFSetErrorHandler(nil)
        TIFFSetWarningHandler(nil)
    }()

    /// The file bytes libtiff reads through the client callbacks below.
    private struct MemoryFile {
        var base: UnsafePointer<UInt8>?
        var size: Int
        var offset: Int
    }

    private static let readProc: TIFFReadWriteProc = { handle, buffer, count in
        let file = handle!.assumingMemoryBound(to: MemoryFile.self)
        let n = max(0, min(Int(count), file.pointee.size - file.pointee.offset))
        if n > 0, let base = file.pointee.base { buffer!.copyMemory(from: base + file.pointee.offset, byteCount: n) }
        file.pointee.offset += n
        return tmsize_t(n)
    }

    private static let writeProc: TIFFReadWriteProc = { _, _, _ in -1 }

    private static let seekProc: TIFFSeekProc = { handle, offset, whence in
        let file = handle!.assumingMemoryBound(to: MemoryFile.self)
        let origin = whence == SEEK_CUR ? file.pointee.offset : whence == SEEK_END ? file.pointee.size : 0
        let (target, overflow) = Int64(origin).addingReportingOverflow(Int64(bitPattern: offset))
        guard !overflow, target >= 0 else { return UInt64.max }
        file.pointee.offset = Int(min(target, Int64(Int.max / 2)))
        return UInt64(file.pointee.offset)
    }

    private static let closeProc: TIFFCloseProc = { _ in 0 }

    private static let sizeProc: TIFFSizeProc = { handle in
        UInt64(handle!.assumingMemoryBound(to: MemoryFile.self).pointee.size)
    }

    /// Hands libtiff the bytes themselves, so strips are decoded without another copy.
    private static let mapProc: TIFFMapFileProc = { handle, base, size in
        let file = handle!.assumingMemoryBound(to: MemoryFile.self)
        guard let bytes = file.pointee.base else { return 0 }
        base!.pointee = UnsafeMutableRawPointer(mutating: bytes)
        size!.pointee = UInt64(file.pointee.size)
        return 1
    }

    private static let unmapProc: TIFFUnmapFileProc = { _, _, _ in }
}
