import CCairo

/// The few drawing calls a chart makes, over a Cairo context, so the panel code reads as
/// geometry rather than C calls. The same calls draw the PNG and the SVG.
struct ChartCanvas {
    let cr: OpaquePointer

    enum Align { case left, center, right }

    /// "DejaVu Sans" is what scripts/setup.sh installs; fontconfig substitutes another sans
    /// face where it is missing.
    static let fontFamily = "DejaVu Sans"

    init(_ cr: OpaquePointer) {
        self.cr = cr
        // Unhinted outlines and metrics: text is laid out the same in the PNG and the SVG,
        // whatever the machine's fontconfig settings.
        let options = cairo_font_options_create()
        cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE)
        cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF)
        cairo_font_options_set_antialias(options, CAIRO_ANTIALIAS_GRAY)
        cairo_set_font_options(cr, options)
        cairo_font_options_destroy(options)
        cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND)
        cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT)
    }

    func color(_ c: ChartColor, alpha: Double = 1) {
        cairo_set_source_rgba(cr, Double(c.red) / 255, Double(c.green) / 255, Double(c.blue) / 255, alpha)
    }

    func gray(_ level: Double, alpha: Double = 1) { cairo_set_source_rgba(cr, level, level, level, alpha) }

    func lineWidth(_ width: Double) { cairo_set_line_width(cr, width) }

    /// Dashes of `on` pixels with `off` gaps; no arguments for a solid line.
    func dash(_ on: Double = 0, _ off: Double = 0) {
        if on > 0 {
            var pattern = [on, off]
            cairo_set_dash(cr, &pattern, 2, 0)
        } else {
            cairo_set_dash(cr, nil, 0, 0)
        }
    }

    func move(_ x: Double, _ y: Double) { cairo_move_to(cr, x, y) }
    func line(_ x: Double, _ y: Double) { cairo_line_to(cr, x, y) }
    func close() { cairo_close_path(cr) }
    func rectangle(_ x: Double, _ y: Double, _ w: Double, _ h: Double) { cairo_rectangle(cr, x, y, w, h) }
    func circle(_ x: Double, _ y: Double, radius: Double) {
        cairo_new_sub_path(cr)
        cairo_arc(cr, x, y, radius, 0, 2 * Double.pi)
    }
    func stroke() { cairo_stroke(cr) }
    func fill() { cairo_fill(cr) }
    func fillPreserve() { cairo_fill_preserve(cr) }
    func paint() { cairo_paint(cr) }
    func save() { cairo_save(cr) }
    func restore() { cairo_restore(cr) }
    /// Limits later drawing to the rectangle, until `restore`.
    func clip(_ x: Double, _ y: Double, _ w: Double, _ h: Double) {
        cairo_rectangle(cr, x, y, w, h)
        cairo_clip(cr)
    }

    private func font(_ size: Double, bold: Bool) {
        cairo_select_font_face(cr, Self.fontFamily, CAIRO_FONT_SLANT_NORMAL,
                               bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_font_size(cr, size)
    }

    /// The advance width of `text` at `size` pixels.
    func width(_ text: String, size: Double, bold: Bool = false) -> Double {
        font(size, bold: bold)
        var extents = cairo_text_extents_t()
        cairo_text_extents(cr, text, &extents)
        return extents.x_advance
    }

    /// Draws `text` aligned horizontally on `x` and centred vertically on `y` (on the height of
    /// a digit, so tick labels sit level with their ticks); `rotated` turns it to read upwards.
    func text(_ text: String, x: Double, y: Double, size: Double, align: Align = .left, bold: Bool = false,
              rotated: Bool = false) {
        let w = width(text, size: size, bold: bold)
        let dx: Double
        switch align {
        case .left: dx = 0
        case .center: dx = -w / 2
        case .right: dx = -w
        }
        save()
        cairo_translate(cr, x, y)
        if rotated { cairo_rotate(cr, -Double.pi / 2) }
        // 0.36 em: half the cap height of DejaVu Sans (0.73 em).
        cairo_move_to(cr, dx, 0.36 * size)
        cairo_show_text(cr, text)
        cairo_new_path(cr)
        restore()
    }
}
