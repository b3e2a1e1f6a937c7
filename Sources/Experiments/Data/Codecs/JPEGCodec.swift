import CTurboJPEG

/// JPEG through libjpeg-turbo's TurboJPEG API. The classic libjpeg API reports a corrupt
/// file by calling `error_exit`, which must not return (the default one exits the process)
/// and can only be escaped with longjmp, which Swift cannot catch; TurboJPEG wraps the same
/// decoder and returns error codes and messages instead.
///
/// Decoding matches Pillow's defaults (accurate integer IDCT, fancy upsampling), so the same
/// file gives the same pixels. Gray JPEGs come back `.gray`, everything else `.rgb`; CMYK
/// and YCCK files are converted to RGB with Pillow's formula, taking Adobe files as
/// inverted the way Photoshop writes them. The EXIF orientation is not applied (neither
/// Pillow's `open` nor torchvision's `read_image` does). A file that ends early is an error,
/// as in Pillow; libjpeg's other warnings ("extraneous bytes before marker") are not, since
/// Pillow and OpenCV accept those files too.
enum JPEGCodec {
    static func decode(_ bytes: [UInt8]) throws -> Image {
        guard let handle = tjInitDecompress() else {
            throw DecodeFailure("cannot start the JPEG decoder: \(String(cString: tjGetErrorStr2(nil)))")
        }
        defer { tjDestroy(handle) }
        return try bytes.withUnsafeBufferPointer { file -> Image in
            var w: Int32 = 0, h: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
            if tjDecompressHeader3(handle, file.baseAddress, UInt(file.count), &w, &h, &subsampling, &colorspace) != 0 {
                throw failure(handle, file)
            }
            let width = Int(w), height = Int(h)
            guard width > 0, height > 0 else { throw DecodeFailure("corrupt JPEG: the image is \(width)x\(height) pixels") }
            guard width * height <= ImageCodec.maxPixels else {
                throw DecodeFailure("JPEG of \(width)x\(height) pixels is larger than the \(ImageCodec.maxPixels)-pixel limit")
            }
            let cmyk = colorspace == Int32(TJCS_CMYK.rawValue) || colorspace == Int32(TJCS_YCCK.rawValue)
            let gray = colorspace == Int32(TJCS_GRAY.rawValue)
            let format = cmyk ? TJPF_CMYK : gray ? TJPF_GRAY : TJPF_RGB
            let channels = cmyk ? 4 : gray ? 1 : 3
            var pixels = [UInt8](repeating: 0, count: width * height * channels)
            // LIMITSCANS refuses progressive files with absurd scan counts (a known way to
            // make a tiny file take minutes to decode).
            let flags = TJFLAG_ACCURATEDCT | TJFLAG_LIMITSCANS
            let status = pixels.withUnsafeMutableBufferPointer { out in
                tjDecompress2(handle, file.baseAddress, UInt(file.count), out.baseAddress, w, 0, h,
                              Int32(format.rawValue), Int32(flags))
            }
            if status != 0 {
                // A warning still leaves a decoded image; only running out of data is fatal.
                let text = String(cString: tjGetErrorStr2(handle))
                if tjGetErrorCode(handle) != Int32(TJERR_WARNING.rawValue) || text.contains("Premature end") {
                    throw failure(handle, file)
                }
            }
            if cmyk {
                return Image(width: width, height: height, colorModel: .rgb,
                             samples: cmykToRGB(pixels, inverted: hasAdobeMarker(file)))
            }
            return Image(width: width, height: height, colorModel: gray ? .gray : .rgb, samples: pixels)
        }
    }

    /// The decoder's last message as a `DecodeFailure`, without TurboJPEG's "function(): "
    /// prefix. A file cut short mostly fails with some other complaint (a missing marker), so
    /// a missing end-of-image marker is named as the likely cause.
    private static func failure(_ handle: tjhandle, _ file: UnsafeBufferPointer<UInt8>) -> DecodeFailure {
        var text = String(cString: tjGetErrorStr2(handle))
        if let r = text.range(of: "(): ") { text = String(text[r.upperBound...]) }
        if text.contains("Premature end") {
            return DecodeFailure("truncated JPEG: the file ends inside the image data (libjpeg: \(text))")
        }
        if !file.suffix(2).elementsEqual([0xFF, 0xD9]) {
            return DecodeFailure("truncated JPEG: the file ends without an end-of-image marker (libjpeg: \(text))")
        }
        return DecodeFailure("corrupt JPEG: \(text)")
    }

    /// Pillow's CMYK → RGB (`R = (255 - K) - C·(255 - K)/255`, rounded the same way), after
    /// undoing Adobe's inversion when the file has an Adobe marker.
    private static func cmykToRGB(_ cmyk: [UInt8], inverted: Bool) -> [UInt8] {
        let pixels = cmyk.count / 4
        var rgb = [UInt8](repeating: 0, count: pixels * 3)
        cmyk.withUnsafeBufferPointer { src in
            rgb.withUnsafeMutableBufferPointer { dst in
                for p in 0..<pixels {
                    let flip: Int = inverted ? 255 : 0
                    let nk = 255 - abs(flip - Int(src[4 * p + 3]))
                    for c in 0..<3 {
                        let t = abs(flip - Int(src[4 * p + c])) * nk + 128
                        dst[3 * p + c] = UInt8(clamping: nk - (((t >> 8) + t) >> 8))
                    }
                }
            }
        }
        return rgb
    }

    /// Whether an APP14 "Adobe" segment comes before the first scan.
    private static func hasAdobeMarker(_ file: UnsafeBufferPointer<UInt8>) -> Bool {
        var at = 2
        while at + 4 <= file.count, file[at] == 0xFF {
            let marker = file[at + 1]
            if marker == 0xDA || marker == 0xD9 { return false }
            let length = Int(file[at + 2]) << 8 | Int(file[at + 3])
            if marker == 0xEE, at + 9 <= file.count, Array(file[(at + 4)..<(at + 9)]) == Array("Adobe".utf8) {
                return true
            }
            at += 2 + length
        }
        return false
    }
}
