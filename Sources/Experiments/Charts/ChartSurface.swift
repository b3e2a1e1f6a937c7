import CCairo

/// Cairo surfaces that collect their output in memory: an image surface encoded as PNG or kept
/// as RGB samples, and an SVG surface. Cairo reports failures through a status, never by aborting, so every failure
/// comes back as a `ChartError` with Cairo's reason.
enum ChartSurface {
    /// What Cairo's write callback appends to; passed to C as an unretained pointer.
    private final class Sink {
        var bytes: [UInt8] = []
    }

    private static let append: cairo_write_func_t = { closure, data, length in
        guard let closure, let data else { return CAIRO_STATUS_WRITE_ERROR }
        let sink = Unmanaged<Sink>.fromOpaque(closure).takeUnretainedValue()
        sink.bytes.append(contentsOf: UnsafeBufferPointer(start: data, count: Int(length)))
        return CAIRO_STATUS_SUCCESS
    }

    static func png(width: Int, height: Int, _ draw: (ChartCanvas) -> Void) throws -> [UInt8] {
        // RGB24: the chart is opaque, and the PNG comes out RGB without an alpha channel.
        guard let surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(width), Int32(height)) else {
            throw ChartError("Cairo cannot create a \(width)x\(height) image")
        }
        defer { cairo_surface_destroy(surface) }
        try render(surface, draw)
        let sink = Sink()
        let status = withExtendedLifetime(sink) {
            cairo_surface_write_to_png_stream(surface, append, Unmanaged.passUnretained(sink).toOpaque())
        }
        try check(status, "encoding the PNG")
        return sink.bytes
    }

    /// The drawing as 8-bit RGB samples, row by row: for pictures that are put together with
    /// others before being encoded (the class legend under a preview).
    static func rgb(width: Int, height: Int, _ draw: (ChartCanvas) -> Void) throws -> [UInt8] {
        guard let surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(width), Int32(height)) else {
            throw ChartError("Cairo cannot create a \(width)x\(height) image")
        }
        defer { cairo_surface_destroy(surface) }
        try render(surface, draw)
        guard let data = cairo_image_surface_get_data(surface) else {
            throw ChartError("Cairo gave no pixels for a \(width)x\(height) image")
        }
        let stride = Int(cairo_image_surface_get_stride(surface))
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                // RGB24 keeps each pixel as a native-endian 32-bit 0x00RRGGBB.
                let pixel = UnsafeRawPointer(data).load(fromByteOffset: y * stride + 4 * x, as: UInt32.self)
                let i = 3 * (y * width + x)
                rgb[i] = UInt8(truncatingIfNeeded: pixel >> 16)
                rgb[i + 1] = UInt8(truncatingIfNeeded: pixel >> 8)
                rgb[i + 2] = UInt8(truncatingIfNeeded: pixel)
            }
        }
        return rgb
    }

    /// Runs `measure` on a canvas that draws nowhere, to lay out text before the picture's size is known.
    static func measuring<T>(_ measure: (ChartCanvas) -> T) throws -> T {
        guard let surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1) else {
            throw ChartError("Cairo cannot create an image")
        }
        defer { cairo_surface_destroy(surface) }
        try check(cairo_surface_status(surface), "creating the surface")
        guard let cr = cairo_create(surface) else { throw ChartError("Cairo cannot create a drawing context") }
        defer { cairo_destroy(cr) }
        let result = measure(ChartCanvas(cr))
        try check(cairo_status(cr), "measuring text")
        return result
    }

    static func svg(width: Int, height: Int, _ draw: (ChartCanvas) -> Void) throws -> String {
        let sink = Sink()
        try withExtendedLifetime(sink) {
            guard let surface = cairo_svg_surface_create_for_stream(
                append, Unmanaged.passUnretained(sink).toOpaque(), Double(width), Double(height)) else {
                throw ChartError("Cairo cannot create an SVG surface")
            }
            defer { cairo_surface_destroy(surface) }
            // Pixels, not Cairo's default points, so the SVG shows at the PNG's size in a browser.
            cairo_svg_surface_set_document_unit(surface, CAIRO_SVG_UNIT_PX)
            try render(surface, draw)
            // The SVG is written out when the surface finishes.
            cairo_surface_finish(surface)
            try check(cairo_surface_status(surface), "writing the SVG")
        }
        return String(decoding: sink.bytes, as: UTF8.self)
    }

    private static func render(_ surface: OpaquePointer, _ draw: (ChartCanvas) -> Void) throws {
        try check(cairo_surface_status(surface), "creating the surface")
        guard let cr = cairo_create(surface) else { throw ChartError("Cairo cannot create a drawing context") }
        defer { cairo_destroy(cr) }
        draw(ChartCanvas(cr))
        try check(cairo_status(cr), "drawing")
        cairo_surface_flush(surface)
    }

    private static func check(_ status: cairo_status_t, _ what: String) throws {
        guard status == CAIRO_STATUS_SUCCESS else {
            throw ChartError("Cairo failed \(what): \(String(cString: cairo_status_to_string(status)))")
        }
    }
}
