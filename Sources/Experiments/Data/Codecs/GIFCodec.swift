import CGIF

/// GIF through giflib, first frame only, read record by record so that an animation's later
/// frames are never decoded and a frame's size is checked before its pixels are allocated.
///
/// A GIF is always palette-based, and it comes back `.indexed` like a palette PNG: `samples`
/// are the stored indices, `palette` the frame's (or the global) colour table, with alpha 0
/// for the transparent index. That keeps the indices for label use (DRIVE's second-observer
/// annotations are indices 0/1 with near-black/near-white colours), while
/// `converted(to: .gray)` gives each pixel its palette colour's gray value, which is how
/// DRIVE's 0/255 manuals and masks are meant to be read (Pillow opens those as mode "L").
/// The canvas is the logical screen; pixels the first frame does not cover take the
/// background index. A file whose data ends early is an error.
enum GIFCodec {
    static func decode(_ bytes: [UInt8]) throws -> Image {
        try bytes.withUnsafeBufferPointer { file -> Image in
            var source = MemoryFile(base: file.baseAddress!, size: file.count, offset: 0)
            return try withUnsafeMutablePointer(to: &source) { source -> Image in
                var error: Int32 = 0
                guard let gif = DGifOpen(source, readProc, &error) else { throw failure(error, "cannot open GIF") }
                defer { DGifCloseFile(gif, &error) }
                return try firstFrame(gif)
            }
        }
    }

    private static func firstFrame(_ gif: UnsafeMutablePointer<GifFileType>) throws -> Image {
        var transparent = Int(NO_TRANSPARENT_COLOR)
        while true {
            var record = UNDEFINED_RECORD_TYPE
            guard DGifGetRecordType(gif, &record) == GIF_OK else { throw failure(gif.pointee.Error, "corrupt GIF") }
            switch record {
            case EXTENSION_RECORD_TYPE:
                var code: Int32 = 0
                var block: UnsafeMutablePointer<GifByteType>? = nil
                guard DGifGetExtension(gif, &code, &block) == GIF_OK else { throw failure(gif.pointee.Error, "corrupt GIF") }
                if code == GRAPHICS_EXT_FUNC_CODE, let block {
                    var gcb = GraphicsControlBlock()
                    if DGifExtensionToGCB(Int(block[0]), block + 1, &gcb) == GIF_OK { transparent = Int(gcb.TransparentColor) }
                }
                while block != nil {
                    guard DGifGetExtensionNext(gif, &block) == GIF_OK else { throw failure(gif.pointee.Error, "corrupt GIF") }
                }
            case IMAGE_DESC_RECORD_TYPE:
                guard DGifGetImageDesc(gif) == GIF_OK else { throw failure(gif.pointee.Error, "corrupt GIF") }
                return try readImage(gif, transparent: transparent)
            case TERMINATE_RECORD_TYPE:
                throw DecodeFailure("corrupt GIF: the file holds no image")
            default:
                throw DecodeFailure("corrupt GIF: unknown record type")
            }
        }
    }

    /// Decodes the frame whose descriptor was just read onto the logical screen.
    private static func readImage(_ gif: UnsafeMutablePointer<GifFileType>, transparent: Int) throws -> Image {
        let desc = gif.pointee.Image
        let left = Int(desc.Left), top = Int(desc.Top), fw = Int(desc.Width), fh = Int(desc.Height)
        // A zero logical screen (written by some encoders) means "as large as the frame".
        let width = gif.pointee.SWidth > 0 ? Int(gif.pointee.SWidth) : left + fw
        let height = gif.pointee.SHeight > 0 ? Int(gif.pointee.SHeight) : top + fh
        guard fw > 0, fh > 0, width > 0, height > 0 else { throw DecodeFailure("corrupt GIF: a frame of \(fw)x\(fh) pixels") }
        guard width * height <= ImageCodec.maxPixels, fw * fh <= ImageCodec.maxPixels else {
            throw DecodeFailure("GIF of \(max(width, fw))x\(max(height, fh)) pixels is larger than the \(ImageCodec.maxPixels)-pixel limit")
        }
        guard let map = desc.ColorMap ?? gif.pointee.SColorMap, let colors = map.pointee.Colors else {
            throw DecodeFailure("corrupt GIF: no colour table")
        }
        let palette = (0..<min(Int(map.pointee.ColorCount), 256)).map { i in
            Image.Color(colors[i].Red, colors[i].Green, colors[i].Blue, alpha: i == transparent ? 0 : 255)
        }

        var frame = [UInt8](repeating: 0, count: fw * fh)
        // Interlaced frames store rows 0, 8, 16, … then 4, 12, … then 2, 6, … then 1, 3, ….
        let passes = desc.Interlace ? [(0, 8), (4, 8), (2, 4), (1, 2)] : [(0, 1)]
        try frame.withUnsafeMutableBufferPointer { rows in
            for (start, step) in passes {
                for y in stride(from: start, to: fh, by: step) {
                    guard DGifGetLine(gif, rows.baseAddress! + y * fw, Int32(fw)) == GIF_OK else {
                        throw failure(gif.pointee.Error, "corrupt GIF")
                    }
                }
            }
        }
        if left == 0, top == 0, fw == width, fh == height {
            return Image(width: width, height: height, colorModel: .indexed, samples: frame, palette: palette)
        }
        var canvas = [UInt8](repeating: UInt8(truncatingIfNeeded: gif.pointee.SBackGroundColor), count: width * height)
        for y in 0..<min(fh, max(0, height - top)) {
            for x in 0..<min(fw, max(0, width - left)) { canvas[(top + y) * width + left + x] = frame[y * fw + x] }
        }
        return Image(width: width, height: height, colorModel: .indexed, samples: canvas, palette: palette)
    }

    /// giflib's error as a message; a read past the end of the bytes means the file is short.
    private static func failure(_ code: Int32, _ what: String) -> DecodeFailure {
        if code == D_GIF_ERR_READ_FAILED || code == D_GIF_ERR_EOF_TOO_SOON {
            return DecodeFailure("truncated GIF: the file ends before the image is complete")
        }
        let text = GifErrorString(code).map { String(cString: $0) } ?? "giflib error \(code)"
        return DecodeFailure("\(what): \(text)")
    }

    /// The file bytes giflib reads through `readProc`.
    private struct MemoryFile {
        let base: UnsafePointer<UInt8>
        let size: Int
        var offset: Int
    }

    private static let readProc: InputFunc = { gif, buffer, count in
        let file = gif!.pointee.UserData!.assumingMemoryBound(to: MemoryFile.self)
        let n = max(0, min(Int(count), file.pointee.size - file.pointee.offset))
        if n > 0 { buffer!.update(from: file.pointee.base + file.pointee.offset, count: n) }
        file.pointee.offset += n
        return Int32(n)
    }
}
