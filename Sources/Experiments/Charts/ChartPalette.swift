/// An opaque sRGB colour.
public struct ChartColor: Equatable, Sendable {
    public var red: UInt8
    public var green: UInt8
    public var blue: UInt8

    public init(_ red: UInt8, _ green: UInt8, _ blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }
}

/// The colours series are drawn in: Okabe and Ito's palette (2008), which stays distinguishable
/// for the common colour-vision deficiencies. Its yellow comes last because it is faint on white.
public enum ChartPalette {
    public static let colors: [ChartColor] = [
        ChartColor(0x00, 0x72, 0xB2),  // blue
        ChartColor(0xD5, 0x5E, 0x00),  // vermillion
        ChartColor(0x00, 0x9E, 0x73),  // bluish green
        ChartColor(0xCC, 0x79, 0xA7),  // reddish purple
        ChartColor(0xE6, 0x9F, 0x00),  // orange
        ChartColor(0x56, 0xB4, 0xE9),  // sky blue
        ChartColor(0x00, 0x00, 0x00),  // black
        ChartColor(0xF0, 0xE4, 0x42),  // yellow
    ]

    /// The colour of series `index`, repeating after the last (a negative index counts from 0).
    public static func color(_ index: Int) -> ChartColor {
        colors[((index % colors.count) + colors.count) % colors.count]
    }
}
