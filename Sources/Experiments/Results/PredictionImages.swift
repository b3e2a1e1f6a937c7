import Nets

/// Pictures of a segmentation for people to look at: the class-id PNG with a colour palette,
/// the prediction blended over its image, and the image | ground truth | prediction panel with
/// its legend.
///
/// Class colours come from a palette indexed by class id, the Pascal VOC colour map by
/// default (background black, class 1 dark red, …), the convention of VOC's own label PNGs
/// and of MMSegmentation's visualiser. Its colours never reach 255 in any channel, so white
/// is free to mark ignored pixels unambiguously.
public enum PredictionImages {
    /// Ignored ground-truth pixels (`ignore_index`, e.g. outside DRIVE's field of view) in panels.
    public static let ignoreColor = Image.Color(255, 255, 255)
    /// The strip between the pictures of a panel.
    public static let separatorColor = Image.Color(128, 128, 128)
    /// Width of that strip in pixels.
    public static let separatorWidth = 4

    /// A palette PNG image whose pixel values are the class ids of `classes` (one image,
    /// n = 1): read back, its `labelValues()` are the ids, and viewers show `palette`'s colours.
    /// Throws for an id that does not fit 8 bits (a model with more than 256 classes).
    public static func classImage(_ classes: LabelMap, palette: [Image.Color] = Image.Color.vocColorMap) throws -> Image {
        precondition(classes.n == 1, "classImage: \(classes.n) images, expected one")
        precondition(!palette.isEmpty && palette.count <= 256, "classImage: \(palette.count) palette entries")
        var samples = [UInt8](repeating: 0, count: classes.count)
        for (i, id) in classes.values.enumerated() {
            guard id >= 0 && id < 256 else {
                throw DataPipelineError("class id \(id) at (\(i % classes.w), \(i / classes.w)) does not fit "
                                        + "an 8-bit palette PNG (ids 0...255)")
            }
            samples[i] = UInt8(id)
        }
        return Image(width: classes.w, height: classes.h, colorModel: .indexed, samples: samples, palette: palette)
    }

    /// Probabilities as a 16-bit gray image, value round(p × 65535), so that anyone can
    /// recompute curves from the files with their own tools.
    public static func probabilityImage(_ p: [Float], width: Int, height: Int) -> Image {
        Image(width: width, height: height, colorModel: .gray,
              samples16: p.map { UInt16((min(max($0, 0), 1) * 65535).rounded()) })
    }

    /// The class ids of `classes` (one image) painted in `palette`'s colours as an RGB image;
    /// `ignoreIndex` pixels in `ignoreColor`. An id without a palette entry is painted black.
    public static func colored(_ classes: LabelMap, palette: [Image.Color] = Image.Color.vocColorMap,
                               ignoreIndex: Int32? = nil) -> Image {
        precondition(classes.n == 1, "colored: \(classes.n) images, expected one")
        var rgb = [UInt8](repeating: 0, count: classes.count * 3)
        for (i, id) in classes.values.enumerated() {
            let c = id == ignoreIndex ? ignoreColor : color(id, palette)
            (rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]) = (c.red, c.green, c.blue)
        }
        return Image(width: classes.w, height: classes.h, colorModel: .rgb, samples: rgb)
    }

    /// `image` (converted to RGB) with each pixel of a class other than background (0) and
    /// `ignoreIndex` blended with its class colour: `round((1 - alpha)·pixel + alpha·colour)`.
    /// Background stays as it is, so the picture shows where the model found something.
    public static func overlay(_ image: Image, classes: LabelMap, palette: [Image.Color] = Image.Color.vocColorMap,
                               alpha: Float = 0.5, ignoreIndex: Int32? = nil) -> Image {
        precondition(classes.n == 1 && classes.h == image.height && classes.w == image.width,
                     "overlay: classes \(classes.w)x\(classes.h) on a \(image.width)x\(image.height) image")
        precondition(alpha >= 0 && alpha <= 1, "overlay: alpha \(alpha)")
        var rgb = image.converted(to: .rgb).samples
        func blend(_ p: UInt8, _ v: UInt8) -> UInt8 {
            UInt8(((1 - alpha) * Float(p) + alpha * Float(v) + 0.5).rounded(.down))
        }
        for (i, id) in classes.values.enumerated() where id != 0 && id != ignoreIndex {
            let c = color(id, palette)
            rgb[3 * i] = blend(rgb[3 * i], c.red)
            rgb[3 * i + 1] = blend(rgb[3 * i + 1], c.green)
            rgb[3 * i + 2] = blend(rgb[3 * i + 2], c.blue)
        }
        return Image(width: image.width, height: image.height, colorModel: .rgb, samples: rgb)
    }

    /// image | ground truth | prediction side by side, separated by `separatorWidth` pixels of
    /// `separatorColor`, over a legend naming the colours of the classes they show (by
    /// `classNames`, else `class 3`; see `ClassLegend`): the picture a run keeps of a few
    /// validation images. Throws when Cairo cannot draw the legend.
    public static func panel(image: Image, truth: LabelMap, prediction: LabelMap,
                             palette: [Image.Color] = Image.Color.vocColorMap, ignoreIndex: Int32? = 255,
                             classNames: [String]? = nil) throws -> Image {
        // Pixels the truth ignores are shown ignored in the prediction too: they take no part in
        // training or metrics (DRIVE's outside of the field of view), so what the model says
        // there is noise that would only distract.
        var shown = prediction
        if let ignoreIndex {
            for i in 0..<shown.count where truth.values[i] == ignoreIndex { shown.values[i] = ignoreIndex }
        }
        let pictures = sideBySide([image.converted(to: .rgb), colored(truth, palette: palette, ignoreIndex: ignoreIndex),
                                   colored(shown, palette: palette, ignoreIndex: ignoreIndex)])
        let entries = ClassLegend.entries([truth, shown], classNames: classNames, palette: palette, ignoreIndex: ignoreIndex)
        let legend = try ClassLegend.image(entries, width: pictures.width,
                                           scale: ClassLegend.scale(panelHeight: pictures.height))
        return above(pictures, legend)
    }

    /// RGB images of equal width, `top` over `bottom`, with a separator between them.
    static func above(_ top: Image, _ bottom: Image) -> Image {
        precondition(top.width == bottom.width && top.colorModel == .rgb && bottom.colorModel == .rgb,
                     "above: RGB images of one width expected")
        let s = separatorColor
        let gap = Array(repeating: [s.red, s.green, s.blue], count: top.width * separatorWidth).joined()
        return Image(width: top.width, height: top.height + separatorWidth + bottom.height, colorModel: .rgb,
                     samples: top.samples + gap + bottom.samples)
    }

    /// RGB images of equal height placed left to right with separators between them.
    public static func sideBySide(_ images: [Image]) -> Image {
        precondition(!images.isEmpty, "sideBySide: no images")
        let height = images[0].height, gap = separatorWidth
        precondition(images.allSatisfy { $0.height == height && $0.colorModel == .rgb },
                     "sideBySide: RGB images of one height expected")
        let width = images.reduce(0) { $0 + $1.width } + gap * (images.count - 1)
        let s = separatorColor
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        for p in 0..<width * height { (rgb[3 * p], rgb[3 * p + 1], rgb[3 * p + 2]) = (s.red, s.green, s.blue) }
        var left = 0
        for image in images {
            let row = image.width * 3
            for y in 0..<height {
                rgb.replaceSubrange((y * width + left) * 3..<(y * width + left) * 3 + row,
                                    with: image.samples[y * row..<(y + 1) * row])
            }
            left += image.width + gap
        }
        return Image(width: width, height: height, colorModel: .rgb, samples: rgb)
    }

    /// A normalised interleaved (HWC) image back in 8-bit: `x·std + mean`, scaled to 0...255,
    /// rounded and clamped. One or two channels give gray (the second, an alpha, is dropped),
    /// three or more give RGB from the first three. `mean`/`std` hold one value or one per channel.
    public static func denormalized(_ values: [Float], size: ImageSize, channels: Int,
                                    mean: [Float], std: [Float]) throws -> Image {
        precondition(values.count == size.height * size.width * channels,
                     "denormalized: \(values.count) values for \(size)x\(channels)")
        let (m, s) = try Normalization(mean: mean, std: std).perChannel(channels, for: "the image")
        let out = channels >= 3 ? 3 : 1
        var bytes = [UInt8](repeating: 0, count: size.height * size.width * out)
        for p in 0..<size.height * size.width {
            for k in 0..<out {
                // Inverting (b/255 - mean)/std leaves b within ~1e-4 of an integer: rounding recovers it.
                let v = (values[p * channels + k] * s[k] + m[k]) * 255
                bytes[p * out + k] = UInt8(min(max(v, 0), 255).rounded())
            }
        }
        return Image(width: size.width, height: size.height, colorModel: out == 3 ? .rgb : .gray, samples: bytes)
    }

    @inline(__always)
    static func color(_ id: Int32, _ palette: [Image.Color]) -> Image.Color {
        id >= 0 && Int(id) < palette.count ? palette[Int(id)] : Image.Color(0, 0, 0)
    }
}
