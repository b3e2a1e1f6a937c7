extension Sample {
    /// The colour model a model input of `channels` channels reads images as: 1 gray,
    /// 2 gray+alpha, 3 RGB (as the recipe's `convert("RGB")`), 4 RGBA.
    static func colorModel(channels: Int) throws -> Image.ColorModel {
        switch channels {
        case 1: return .gray
        case 2: return .grayAlpha
        case 3: return .rgb
        case 4: return .rgba
        default:
            throw DataPipelineError("model.in_channels \(channels): image files can be read with 1 (gray), "
                                    + "3 (RGB) or 4 (RGBA) channels")
        }
    }

    /// A sample from a decoded image file, converted to `channels` channels and scaled to
    /// [0, 1] (8-bit values / 255, exact 16-bit values / 65535 when the file has them).
    /// `label` must have one class id per pixel of the image; `file` names the image in errors.
    init(image: Image, channels: Int, label: [Int32], name: String, file: String) throws {
        let converted = image.converted(to: try Sample.colorModel(channels: channels))
        let n = converted.samples.count
        var values = [Float](repeating: 0, count: n)
        if let wide = converted.samples16 {
            for i in 0..<n { values[i] = Float(wide[i]) / 65535 }
        } else {
            // A table of v / 255 (divided, not multiplied by 1/255, to equal PyTorch's `x / 255`).
            let scale = (0..<256).map { Float($0) / 255 }
            scale.withUnsafeBufferPointer { s in
                converted.samples.withUnsafeBufferPointer { src in
                    values.withUnsafeMutableBufferPointer { dst in
                        for i in 0..<n { dst[i] = s[Int(src[i])] }
                    }
                }
            }
        }
        guard converted.width > 0, converted.height > 0 else {
            throw DataPipelineError("\(file): the image is empty (\(converted.width)x\(converted.height))")
        }
        self.init(height: converted.height, width: converted.width, channels: channels, image: values,
                  label: label, name: name)
    }
}
