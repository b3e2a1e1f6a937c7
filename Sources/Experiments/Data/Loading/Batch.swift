import Nets

/// Samples stacked for the engine: images as an activation tensor (logical [N, C, H, W], stored
/// NHWC), labels as a `LabelMap`, and for each item its dataset index, name and size before padding.
public struct Batch: Sendable {
    public let images: Tensor
    public let labels: LabelMap
    public let indices: [Int]
    public let names: [String?]
    /// Each item's height and width before padding: the region that holds its data.
    public let sizes: [ImageSize]

    public var count: Int { indices.count }

    /// Stacks `samples` (dataset indices `indices`), padding each at the bottom/right to the largest
    /// height and width among them, rounded up to `padMultiple`: image 0, label `ignoreIndex` — what
    /// the recipe's `collate_fn` does, so padded pixels take no part in losses or metrics.
    /// Throws when the samples' channel counts differ (say, one grayscale file among RGB ones).
    public init(collating samples: [Sample], indices: [Int], padMultiple: Int = 1, ignoreIndex: Int32 = 255) throws {
        precondition(!samples.isEmpty && samples.count == indices.count && padMultiple >= 1,
                     "collate: \(samples.count) samples, \(indices.count) indices, pad multiple \(padMultiple)")
        let C = samples[0].channels
        for (k, s) in samples.enumerated() where s.channels != C {
            throw DataPipelineError("\(s.displayName(index: indices[k])) has \(s.channels) channel(s) but "
                + "\(samples[0].displayName(index: indices[0])) has \(C); all images must have the same channels")
        }
        let H = roundUp(samples.map(\.height).max()!, padMultiple)
        let W = roundUp(samples.map(\.width).max()!, padMultiple)
        let images = Tensor.uninitialized(shape: [samples.count, C, H, W], layout: .nhwc)
        var labels = [Int32](repeating: ignoreIndex, count: samples.count * H * W)
        labels.withUnsafeMutableBufferPointer { labelBuffer in
            for (n, s) in samples.enumerated() {
                let item = images.data + n * H * W * C
                let rowValues = s.width * C
                s.image.withUnsafeBufferPointer { src in
                    for y in 0..<s.height {
                        let dst = item + y * W * C
                        dst.update(from: src.baseAddress! + y * rowValues, count: rowValues)
                        (dst + rowValues).update(repeating: 0, count: (W - s.width) * C)
                    }
                }
                (item + s.height * W * C).update(repeating: 0, count: (H - s.height) * W * C)
                s.label.withUnsafeBufferPointer { src in
                    for y in 0..<s.height {
                        (labelBuffer.baseAddress! + (n * H + y) * W).update(from: src.baseAddress! + y * s.width, count: s.width)
                    }
                }
            }
        }
        self.images = images
        self.labels = LabelMap(n: samples.count, h: H, w: W, values: labels)
        self.indices = indices
        self.names = samples.map(\.name)
        self.sizes = samples.map(\.size)
    }

    /// Item `item` of a per-pixel map shaped like this batch (its labels, or an argmax
    /// prediction), cropped back to the item's size before padding.
    public func unpadded(_ map: LabelMap, item: Int) -> LabelMap {
        precondition(map.n == count && map.h == labels.h && map.w == labels.w, "unpadded: map \(map.n)x\(map.h)x\(map.w)")
        let size = sizes[item]
        var values = [Int32](repeating: 0, count: size.height * size.width)
        for y in 0..<size.height {
            let row = (item * map.h + y) * map.w
            for x in 0..<size.width { values[y * size.width + x] = map.values[row + x] }
        }
        return LabelMap(n: 1, h: size.height, w: size.width, values: values)
    }

    /// Item `item` of an NHWC tensor with this batch's height and width (logits, probabilities,
    /// the images themselves), cropped back to the item's size: interleaved HWC values, or only
    /// those of `channel`.
    public func unpadded(_ tensor: Tensor, item: Int, channel: Int? = nil) -> [Float] {
        precondition(tensor.layout == .nhwc && tensor.n == count && tensor.h == labels.h && tensor.w == labels.w,
                     "unpadded: \(tensor) for a batch of \(count)x\(labels.h)x\(labels.w)")
        precondition(channel.map { (0..<tensor.c).contains($0) } ?? true, "unpadded: channel \(channel!) of \(tensor)")
        let size = sizes[item], C = tensor.c, kept = channel == nil ? C : 1
        var out = [Float](repeating: 0, count: size.height * size.width * kept)
        out.withUnsafeMutableBufferPointer { dst in
            for y in 0..<size.height {
                let src = tensor.data + tensor.offset(item, 0, y, 0), row = dst.baseAddress! + y * size.width * kept
                if let channel {
                    for x in 0..<size.width { row[x] = src[x * C + channel] }
                } else {
                    row.update(from: src, count: size.width * C)
                }
            }
        }
        return out
    }
}
