/// A decoded raster image as the file stores it: 8-bit samples, row-major and interleaved
/// (height × width × channels, "HWC"), plus the exact 16-bit samples when the file has them
/// and the palette when the samples are palette indices.
///
/// Decoders keep the file's colour model instead of forcing RGB, because the dataset code
/// needs the difference: a VOC label is a palette PNG whose *indices* are the class ids,
/// a DRIVE annotation is a GIF whose palette *colours* are 0/255. `converted(to:)` turns any
/// image into gray, gray+alpha, RGB or RGBA; `labelValues()` gives the class ids a label
/// map stores (indices, or gray values with 16-bit precision).
public struct Image: Equatable, Sendable {
    /// How the samples of one pixel are to be read.
    public enum ColorModel: String, Equatable, Sendable {
        case gray, grayAlpha, rgb, rgba
        /// One sample per pixel, an index into `palette`.
        case indexed

        /// Samples per pixel.
        public var channels: Int {
            switch self {
            case .gray, .indexed: return 1
            case .grayAlpha: return 2
            case .rgb: return 3
            case .rgba: return 4
            }
        }

        /// Whether the last sample of a pixel is an alpha (opacity) value.
        public var hasAlpha: Bool { self == .grayAlpha || self == .rgba }
    }

    /// One palette entry; `alpha` is 255 unless the file marks the entry transparent
    /// (PNG tRNS, the GIF transparent index).
    public struct Color: Equatable, Hashable, Sendable {
        public var red: UInt8
        public var green: UInt8
        public var blue: UInt8
        public var alpha: UInt8

        /// A colour, opaque unless `alpha` says otherwise.
        public init(_ red: UInt8, _ green: UInt8, _ blue: UInt8, alpha: UInt8 = 255) {
            self.red = red
            self.green = green
            self.blue = blue
            self.alpha = alpha
        }

        /// ITU-R 601-2 luma with Pillow's rounding, so `convert("L")` and we agree exactly;
        /// a gray colour (r = g = b) gives back its own value.
        public var gray: UInt8 { luma(red, green, blue) }
    }

    /// Columns, pixels per row.
    public let width: Int
    /// Rows.
    public let height: Int
    /// What the samples of a pixel mean; `channels` samples per pixel.
    public let colorModel: ColorModel
    /// The file's bits per sample (1, 2, 4, 8 or 16). Gray below 8 bits is scaled to
    /// 0...255 in `samples` (1 → 255, 2-bit × 85, 4-bit × 17) as libpng, OpenCV and
    /// Pillow's "L" do; palette indices below 8 bits are unpacked, not scaled.
    public let bitDepth: Int
    /// `width × height × channels` 8-bit samples, row-major, interleaved; palette indices
    /// when `colorModel` is `.indexed`. For 16-bit files, each is round(v × 255 / 65535).
    public let samples: [UInt8]
    /// The exact samples of a 16-bit file, same layout as `samples`; nil otherwise.
    public let samples16: [UInt16]?
    /// The colour of each index for `.indexed` images (at most 256 entries); empty otherwise.
    /// Indices past the end of the palette are legal in `samples` and read as opaque black.
    public let palette: [Color]

    /// An 8-bit image; `samples` must hold `width × height × channels` values and `palette`
    /// must be given exactly when the model is `.indexed`.
    public init(width: Int, height: Int, colorModel: ColorModel, samples: [UInt8],
                palette: [Color] = [], bitDepth: Int = 8) {
        precondition(width >= 0 && height >= 0, "image size \(width)x\(height)")
        precondition(samples.count == width * height * colorModel.channels,
                     "\(samples.count) samples for \(width)x\(height) \(colorModel)")
        precondition((colorModel == .indexed) == !palette.isEmpty && palette.count <= 256,
                     "\(palette.count) palette entries for a \(colorModel) image")
        self.width = width
        self.height = height
        self.colorModel = colorModel
        self.samples = samples
        self.samples16 = nil
        self.palette = palette
        self.bitDepth = bitDepth
    }

    /// A 16-bit image; the 8-bit `samples` are derived with `Image.to8Bit`.
    public init(width: Int, height: Int, colorModel: ColorModel, samples16: [UInt16]) {
        precondition(colorModel != .indexed, "palette indices are at most 8-bit")
        precondition(samples16.count == width * height * colorModel.channels,
                     "\(samples16.count) samples for \(width)x\(height) \(colorModel)")
        self.width = width
        self.height = height
        self.colorModel = colorModel
        self.samples = samples16.map(Image.to8Bit)
        self.samples16 = samples16
        self.palette = []
        self.bitDepth = 16
    }

    /// Samples per pixel.
    public var channels: Int { colorModel.channels }

    /// The documented 16 → 8-bit conversion: round(v × 255 / 65535), i.e. v / 257 rounded,
    /// which maps 0 → 0 and 65535 → 255 and is the nearest 8-bit value (unlike v >> 8).
    @inline(__always)
    public static func to8Bit(_ v: UInt16) -> UInt8 {
        UInt8(truncatingIfNeeded: (UInt32(v) * 255 + 32767) / 65535)
    }

    /// The sample at column `x`, row `y`, channel `c`.
    public subscript(x x: Int, y y: Int, c c: Int) -> UInt8 {
        samples[(y * width + x) * channels + c]
    }

    /// The values a label map stores, one per pixel: the indices of a palette image, the
    /// gray values of a gray image (exact 16-bit values when the file has 16 bits). Nil for
    /// an image with colour or alpha channels, which does not hold one class id per pixel.
    public func labelValues() -> [Int32]? {
        switch colorModel {
        case .indexed: return samples.map { Int32($0) }
        case .gray: return samples16.map { $0.map { Int32($0) } } ?? samples.map { Int32($0) }
        case .grayAlpha, .rgb, .rgba: return nil
        }
    }

    /// The same pixels in another colour model, 8-bit (16-bit samples are kept only when the
    /// model does not change). Colour → gray uses ITU-R 601-2 luma like Pillow's
    /// `convert("L")`; dropping alpha discards it without compositing, as Pillow does;
    /// adding alpha makes pixels opaque; an indexed image takes its palette's colours
    /// (`.gray` then gives each palette colour's gray value, the way DRIVE's GIF masks are
    /// read). Converting *to* `.indexed` (quantising) is not offered.
    public func converted(to target: ColorModel) -> Image {
        precondition(target != .indexed, "converting to a palette image (quantising) is not supported")
        if target == colorModel { return self }
        let pixels = width * height
        let cin = channels, cout = target.channels
        // Any model → RGBA first as a 256-entry lookup for indexed images, then the target.
        let lut: [Color] = colorModel == .indexed
            ? (0..<256).map { $0 < palette.count ? palette[$0] : Color(0, 0, 0) } : []
        var out = [UInt8](repeating: 0, count: pixels * cout)
        samples.withUnsafeBufferPointer { src in
            lut.withUnsafeBufferPointer { lut in
                out.withUnsafeMutableBufferPointer { dst in
                    for p in 0..<pixels {
                        let s = p * cin
                        let r, g, b, a: UInt8
                        switch colorModel {
                        case .gray: (r, g, b, a) = (src[s], src[s], src[s], 255)
                        case .grayAlpha: (r, g, b, a) = (src[s], src[s], src[s], src[s + 1])
                        case .rgb: (r, g, b, a) = (src[s], src[s + 1], src[s + 2], 255)
                        case .rgba: (r, g, b, a) = (src[s], src[s + 1], src[s + 2], src[s + 3])
                        case .indexed:
                            let c = lut[Int(src[s])]
                            (r, g, b, a) = (c.red, c.green, c.blue, c.alpha)
                        }
                        let d = p * cout
                        switch target {
                        case .gray:
                            dst[d] = colorModel == .gray || colorModel == .grayAlpha ? r : luma(r, g, b)
                        case .grayAlpha:
                            dst[d] = colorModel == .gray || colorModel == .grayAlpha ? r : luma(r, g, b)
                            dst[d + 1] = a
                        case .rgb: (dst[d], dst[d + 1], dst[d + 2]) = (r, g, b)
                        case .rgba: (dst[d], dst[d + 1], dst[d + 2], dst[d + 3]) = (r, g, b, a)
                        case .indexed: break
                        }
                    }
                }
            }
        }
        return Image(width: width, height: height, colorModel: target, samples: out)
    }
}

/// Pillow's `L = R·299/1000 + G·587/1000 + B·114/1000` in 16-bit fixed point
/// (the weights sum to exactly 65536, so gray stays gray).
@inline(__always)
func luma(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> UInt8 {
    UInt8(truncatingIfNeeded: (UInt32(r) * 19595 + UInt32(g) * 38470 + UInt32(b) * 7471 + 0x8000) >> 16)
}

extension Image.Color {
    /// The Pascal VOC colour map (256 entries: class 0 black, 1 (128,0,0), …, 255 (224,224,192)),
    /// the palette of VOC's SegmentationClass PNGs and of the prediction PNGs runexp writes.
    public static let vocColorMap: [Image.Color] = (0..<256).map { i in
        var (r, g, b, c) = (0, 0, 0, i)
        // Each class id's bits are spread over the high bits of r, g and b in turn.
        for j in 0..<8 {
            r |= (c & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        }
        return Image.Color(UInt8(r), UInt8(g), UInt8(b))
    }
}
