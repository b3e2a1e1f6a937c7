/// Per-pixel class ids for a batch (N×H×W, row-major), the target of a segmentation loss.
///
/// A pixel equal to `ignoreIndex` (255 by convention, as in PyTorch recipes) takes
/// no part in losses or metrics.
public struct LabelMap: Sendable {
    public let n: Int
    public let h: Int
    public let w: Int
    public var values: [Int32]

    public init(n: Int, h: Int, w: Int, values: [Int32]) {
        precondition(values.count == n * h * w, "\(values.count) labels for \(n)x\(h)x\(w)")
        self.n = n
        self.h = h
        self.w = w
        self.values = values
    }

    public init(n: Int, h: Int, w: Int, repeating value: Int32 = 0) {
        self.init(n: n, h: h, w: w, values: Array(repeating: value, count: n * h * w))
    }

    public var count: Int { n * h * w }

    public subscript(n: Int, y: Int, x: Int) -> Int32 {
        get { values[(n * h + y) * w + x] }
        set { values[(n * h + y) * w + x] = newValue }
    }
}
