/// A chart that could not be drawn or encoded (Cairo's reason, or a size or id prefix it cannot take).
public struct ChartError: Error, CustomStringConvertible, Equatable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
