import Foundation
import Nets

/// How evaluation, the validation previews and `runexp predict` turn a batch of images into
/// class scores, as `InferenceConfig` (`eval.mode`, `eval.tta`) says.
///
/// Whole: the network sees each image at once, padded at the bottom/right to the model's
/// multiple, and its logits are the scores: the recipe's evaluation.
///
/// Slide: crop×crop tiles start `stride` apart along each side, the last moved back to end at
/// the edge (MMSegmentation's `slide_inference` grid). They run `tile_batch` at a time, each
/// padded as a whole image is, and a pixel's probabilities are the average over the tiles that
/// cover it, weighted by the blend (nnU-Net's Gaussian, or uniform). Peak memory is the image,
/// its probabilities and one tile batch's activations, whatever the image's size. One tile that
/// covers the whole image is whole-image inference, exactly.
///
/// Test-time flips: each image (or tile) also runs flipped, and the probabilities of all the
/// copies, each flipped back, are averaged.
public struct Inference: Sendable {
    public let settings: InferenceConfig
    /// Whole images and tiles are padded at the bottom/right to a multiple of this.
    public let padMultiple: Int

    public init(_ settings: InferenceConfig, padMultiple: Int) {
        precondition(padMultiple >= 1 && settings.tileBatch >= 1, "inference: pad multiple \(padMultiple), tile batch \(settings.tileBatch)")
        self.settings = settings
        self.padMultiple = padMultiple
    }

    /// The scores of `batch` (padded by the eval transform, `padMultiple`), shaped as its images
    /// with one channel per class; in slide mode, pixels outside an item's own size are zero.
    public func scores(_ model: any SegmentationModel, _ batch: Batch) -> ClassScores {
        guard settings.mode == .slide, let crop = settings.crop, let stride = settings.stride else {
            return scores(model, batch.images)
        }
        let grids = batch.sizes.map {
            (rows: TileAxis(side: $0.height, crop: crop.height, stride: stride.height),
             columns: TileAxis(side: $0.width, crop: crop.width, stride: stride.width))
        }
        if batch.count == 1 && grids[0].rows.starts.count == 1 && grids[0].columns.starts.count == 1 {
            return scores(model, batch.images)
        }
        let images = batch.images, channels = images.c
        var sum: Tensor?  // allocated when the first tiles tell the class count
        for (item, grid) in grids.enumerated() {
            let (rows, columns) = grid
            let (rowWeights, columnWeights) = (rows.weights(settings.blend), columns.weights(settings.blend))
            let starts = rows.starts.flatMap { y in columns.starts.map { x in (y: y, x: x) } }
            let tileShape = [0, channels, roundUp(rows.length, padMultiple), roundUp(columns.length, padMultiple)]
            for first in Swift.stride(from: 0, to: starts.count, by: settings.tileBatch) {
                let chunk = Array(starts[first..<min(first + settings.tileBatch, starts.count)])
                let tiles = Tensor(shape: [chunk.count] + tileShape.dropFirst(), layout: .nhwc)  // zeros pad
                for (t, start) in chunk.enumerated() {
                    for y in 0..<rows.length {
                        (tiles.data + tiles.offset(t, 0, y, 0))
                            .update(from: images.data + images.offset(item, 0, start.y + y, start.x), count: columns.length * channels)
                    }
                }
                let p = scores(model, tiles).probabilities
                let out = sum ?? Tensor(shape: [batch.count, p.c, images.h, images.w], layout: .nhwc)
                sum = out
                let classes = p.c
                for (t, start) in chunk.enumerated() {
                    for y in 0..<rows.length {
                        let src = p.data + p.offset(t, 0, y, 0), dst = out.data + out.offset(item, 0, start.y + y, start.x)
                        for x in 0..<columns.length {
                            let weight = rowWeights[y] * columnWeights[x]
                            for c in 0..<classes { dst[x * classes + c] += weight * src[x * classes + c] }
                        }
                    }
                }
            }
            // The weights of every covering tile, summed: their rows' times their columns'.
            let (rowCover, columnCover) = (rows.coverage(rowWeights), columns.coverage(columnWeights))
            let out = sum!, classes = out.c
            for y in 0..<batch.sizes[item].height {
                let row = out.data + out.offset(item, 0, y, 0)
                for x in 0..<batch.sizes[item].width {
                    let total = rowCover[y] * columnCover[x]
                    for c in 0..<classes { row[x * classes + c] /= total }
                }
            }
        }
        return ClassScores(probabilities: sum!)
    }

    /// The scores of whole padded images or tiles: the logits, or with flips the mean of the
    /// copies' probabilities.
    private func scores(_ model: any SegmentationModel, _ images: Tensor) -> ClassScores {
        let logits = model(images).out
        guard !settings.tta.isEmpty else { return ClassScores(logits: logits) }
        let mean = ClassSoftmax(logits).probabilities
        for flip in settings.tta {
            mean.add(flip.applied(to: ClassSoftmax(model(flip.applied(to: images)).out).probabilities))
        }
        mean.scale(1 / Float(settings.tta.count + 1))
        return ClassScores(probabilities: mean)
    }
}

extension TestTimeFlip {
    /// `x` (N×C×H×W, channels-last) flipped; each flip is its own inverse.
    func applied(to x: Tensor) -> Tensor {
        precondition(x.layout == .nhwc && x.shape.count == 4, "flip: \(x)")
        let out = Tensor.uninitialized(shape: x.shape, layout: .nhwc)
        let (C, H, W) = (x.c, x.h, x.w)
        let (rows, columns) = (self != .hflip, self != .vflip)
        for n in 0..<x.n {
            for y in 0..<H {
                let src = x.data + x.offset(n, 0, rows ? H - 1 - y : y, 0), dst = out.data + out.offset(n, 0, y, 0)
                if columns {
                    for i in 0..<W { (dst + i * C).update(from: src + (W - 1 - i) * C, count: C) }
                } else {
                    dst.update(from: src, count: W * C)
                }
            }
        }
        return out
    }
}

/// Where sliding-window tiles lie along one side of an image, and how they are weighted.
struct TileAxis {
    /// The tiles' extent along this side: the crop, or the whole side where that is shorter.
    let length: Int
    /// Where each tile starts: `stride` apart, the last moved back to end at the edge.
    let starts: [Int]

    init(side: Int, crop: Int, stride: Int) {
        precondition(side >= 1 && crop >= 1 && stride >= 1, "tiles: side \(side), crop \(crop), stride \(stride)")
        let length = min(crop, side)
        let count = (side - length + stride - 1) / stride + 1
        self.length = length
        starts = (0..<count).map { min($0 * stride, side - length) }
    }

    /// One tile's weights along this side. nnU-Net's Gaussian has σ = side/8 about the centre;
    /// it never reaches zero (exp(-8) at the border), so every pixel has a weight.
    func weights(_ blend: TileBlending) -> [Float] {
        switch blend {
        case .uniform: return [Float](repeating: 1, count: length)
        case .gaussian:
            let centre = Double(length - 1) / 2, sigma = Double(length) / 8
            return (0..<length).map { Float(exp(-0.5 * pow((Double($0) - centre) / sigma, 2))) }
        }
    }

    /// The summed weights of the tiles covering each position of the side.
    func coverage(_ weights: [Float]) -> [Float] {
        var total = [Float](repeating: 0, count: (starts.last ?? 0) + length)
        for start in starts {
            for i in 0..<length { total[start + i] += weights[i] }
        }
        return total
    }
}
