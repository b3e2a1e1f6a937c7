import CCairo

/// Cairo surfaces that collect their output in memory: an image surface encoded as PNG, and an
/// SVG surface. Cairo reports failures through a status, never by aborting, so every failure
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
