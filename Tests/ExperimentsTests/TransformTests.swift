import XCTest
import Nets
@testable import Experiments

final class TransformTests: XCTestCase {
    /// An image whose channels 0 and 1 hold each pixel's row and column + 1 (so padding, 0, is
    /// distinguishable from row 0) and whose label is the pixel's index `y * width + x`.
    static func coordinateSample(height: Int, width: Int) -> Sample {
        var image = [Float](), label = [Int32]()
        for y in 0..<height {
            for x in 0..<width {
                image += [Float(y + 1), Float(x + 1), 0.5]
                label.append(Int32(y * width + x))
            }
        }
        return Sample(height: height, width: width, channels: 3, image: image, label: label, name: "coords")
    }

    /// Checks that every label pixel names the source pixel whose coordinates the image holds
    /// there, within `tolerance` pixels, and that padding is 0 in the image wherever the label is ignore.
    /// A label that drifted by one pixel against the image misses by at least 0.5 (scale 2: 0.75, scale 1: 1).
    func assertAligned(_ out: Sample, sourceWidth: Int, tolerance: Float, ignore: Int32,
                       file: StaticString = #filePath, line: UInt = #line) {
        var worst: Float = 0
        for i in 0..<out.height * out.width {
            let l = out.label[i], py = out.image[3 * i], px = out.image[3 * i + 1]
            XCTAssertEqual(out.image[3 * i + 2], l == ignore ? 0 : 0.5, file: file, line: line)
            if l == ignore {
                XCTAssertEqual(py, 0, file: file, line: line)
                XCTAssertEqual(px, 0, file: file, line: line)
                continue
            }
            let ly = Float(Int(l) / sourceWidth + 1), lx = Float(Int(l) % sourceWidth + 1)
            worst = max(worst, abs(py - ly), abs(px - lx))
        }
        XCTAssertLessThanOrEqual(worst, tolerance, "label drifted from image", file: file, line: line)
    }

    func testAugmentationKeepsImageAndLabelAligned() throws {
        let source = Self.coordinateSample(height: 23, width: 17)
        // (scale range, crop, tolerance): scale 1 maps pixels exactly; at scale 2 the bilinear centre
        // sits 0.25 px from the nearest-exact label pixel; other scales stay within half a pixel.
        let cases: [(ClosedRange<Float>, ImageSize?, Float)] = [
            (1...1, ImageSize(height: 11, width: 9), 0),
            (1...1, ImageSize(height: 30, width: 12), 0),     // padded rows, cropped columns
            (1...1, nil, 0),
            (2...2, ImageSize(height: 20, width: 25), 0.25),
            (2...2, nil, 0.25),
            (0.5...2, ImageSize(height: 16, width: 16), 0.5 + 1e-3),
            (0.3...0.7, ImageSize(height: 16, width: 16), 0.5 + 1e-3),
        ]
        for (scales, crop, tolerance) in cases {
            let t = try TrainTransform(scaleRange: scales, crop: crop, hflip: 0.5, vflip: 0.5, ignoreIndex: -1)
            var sawFlip = (h: false, v: false)
            for index in 0..<24 {
                let out = try t.apply(source, seed: 9, epoch: 1, index: index)
                XCTAssertEqual(out.size, crop ?? out.size)
                assertAligned(out, sourceWidth: source.width, tolerance: tolerance, ignore: -1)
                var rng = DataSeeds.augmentation(seed: 9, epoch: 1, index: index)
                let warp = t.draw(for: source.size, &rng)
                sawFlip.h = sawFlip.h || warp.hflip
                sawFlip.v = sawFlip.v || warp.vflip
            }
            XCTAssertTrue(sawFlip.h && sawFlip.v, "both flips exercised for \(scales)")
        }
    }

    func testFlipsAndCropMoveWholeImage() throws {
        let s = Self.coordinateSample(height: 6, width: 5)
        let h = try TrainTransform(hflip: 1).apply(s, seed: 1, epoch: 0, index: 0)
        let v = try TrainTransform(hflip: 0, vflip: 1).apply(s, seed: 1, epoch: 0, index: 0)
        for y in 0..<6 {
            for x in 0..<5 {
                XCTAssertEqual(h.label[y * 5 + x], s.label[y * 5 + (4 - x)])
                XCTAssertEqual(v.label[y * 5 + x], s.label[(5 - y) * 5 + x])
                XCTAssertEqual(h.image[3 * (y * 5 + x) + 1], Float(5 - x))
            }
        }
        // A crop is one rectangle of the source: its corner pixel fixes every other pixel.
        let c = try TrainTransform(crop: ImageSize(height: 3, width: 2), hflip: 0).apply(s, seed: 4, epoch: 2, index: 7)
        let top = Int(c.label[0]) / 5, left = Int(c.label[0]) % 5
        for y in 0..<3 { for x in 0..<2 { XCTAssertEqual(c.label[y * 2 + x], Int32((top + y) * 5 + left + x)) } }
    }

    func testCropPadsImageWithZeroBeforeNormalisationAndLabelWithIgnore() throws {
        let base = Self.coordinateSample(height: 5, width: 4)
        let s = Sample(height: 5, width: 4, channels: 3, image: base.image.map { $0 / 10 }, label: base.label)
        for hflip in [Float(0), 1] {
            let t = try TrainTransform(crop: ImageSize(height: 8, width: 7), hflip: hflip, mean: [0.5], std: [0.25])
            let out = try t.apply(s, seed: 3, epoch: 0, index: 0)
            for y in 0..<8 {
                for x in 0..<7 {
                    let i = y * 7 + x
                    if y < 5 && x < 4 {
                        // The recipe pads after flipping, so padding stays at the bottom/right either way.
                        let sx = hflip == 1 ? 3 - x : x
                        XCTAssertEqual(out.label[i], s.label[y * 4 + sx])
                        for k in 0..<3 { XCTAssertEqual(out.image[3 * i + k], (s.image[3 * (y * 4 + sx) + k] - 0.5) / 0.25) }
                    } else {
                        XCTAssertEqual(out.label[i], 255)
                        // Pixel value 0 normalised: (0 - 0.5) / 0.25.
                        for k in 0..<3 { XCTAssertEqual(out.image[3 * i + k], -2) }
                    }
                }
            }
        }
    }

    /// Nets' `bilinearResize` is tested against PyTorch's `F.interpolate`; the sample resize must
    /// give the same bits. Labels follow nearest-exact, whose closed forms are below.
    func testResizeMatchesNetsBilinearAndNearestExact() throws {
        var rng = SeededRandom(seed: 5)
        let (H, W, C) = (6, 9, 3)
        let image = (0..<H * W * C).map { _ in rng.nextFloat() }
        let label = (0..<H * W).map { Int32($0) }
        let s = Sample(height: H, width: W, channels: C, image: image, label: label)
        let tensor = Tensor(shape: [1, C, H, W], layout: .nhwc, values: image)
        for (h, w) in [(12, 18), (2, 3), (6, 9), (13, 7), (4, 20)] {
            let out = s.resized(to: ImageSize(height: h, width: w))
            XCTAssertEqual(out.image, bilinearResize(tensor, height: h, width: w, alignCorners: false).array, "\(h)x\(w)")
        }
        // 2× up: each label pixel becomes a 2×2 block.
        let up = s.resized(to: ImageSize(height: 12, width: 18))
        for y in 0..<12 { for x in 0..<18 { XCTAssertEqual(up.label[y * 18 + x], label[(y / 2) * W + x / 2]) } }
        // 3× down: floor((o + 0.5) * 3) = 3o + 1, the centre pixel of each 3×3 block.
        let down = s.resized(to: ImageSize(height: 2, width: 3))
        for y in 0..<2 { for x in 0..<3 { XCTAssertEqual(down.label[y * 3 + x], label[(3 * y + 1) * W + 3 * x + 1]) } }
    }

    func testNormalizationValues() throws {
        let s = Sample(height: 1, width: 2, channels: 3, bytes: [0, 128, 255, 10, 20, 30], label: [0, 1])
        XCTAssertEqual(s.image[1], Float(128) / 255)
        let n = try Normalization(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]).apply(s)
        let (m, d): ([Float], [Float]) = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
        for i in 0..<6 { XCTAssertEqual(n.image[i], (s.image[i] - m[i % 3]) / d[i % 3]) }
        XCTAssertEqual(n.image[2], (1 - 0.406) / 0.225, accuracy: 1e-6)
        XCTAssertEqual(n.label, s.label)
        // One value broadcasts over channels, as in torchvision.
        XCTAssertEqual(try Normalization(mean: [0.5], std: [0.5]).apply(s).image, s.image.map { ($0 - 0.5) / 0.5 })
        // Three means for a grayscale image is the user's mistake: a message, not a crash.
        let gray = Sample(height: 1, width: 1, channels: 1, image: [0.3], label: [0], name: "img07")
        XCTAssertThrowsError(try Normalization.imagenet.apply(gray)) { error in
            XCTAssertTrue("\(error)".contains("img07 has 1 channel(s)"), "\(error)")
        }
        XCTAssertThrowsError(try Normalization(mean: [0, 0], std: [1, 0]))
        XCTAssertThrowsError(try Normalization(mean: [0, 0], std: [1, 1, 1]))
    }

    func testEvalPaddingAndCropBack() throws {
        let t = try EvalTransform(mean: [0.5], std: [2], padMultiple: 16, ignoreIndex: 255)
        let a = Self.coordinateSample(height: 20, width: 13), b = Self.coordinateSample(height: 9, width: 33)
        let na = try t.apply(a), nb = try t.apply(b)
        XCTAssertEqual(t.paddedSize(a.size), ImageSize(height: 32, width: 16))
        let batch = try Batch(collating: [na, nb], indices: [4, 7], padMultiple: t.padMultiple, ignoreIndex: 255)
        XCTAssertEqual(batch.images.shape, [2, 3, 32, 48])
        XCTAssertEqual(batch.images.layout, .nhwc)
        XCTAssertEqual(batch.sizes, [a.size, b.size])
        XCTAssertEqual(batch.indices, [4, 7])
        XCTAssertEqual(batch.names, ["coords", "coords"])
        for (n, s) in [na, nb].enumerated() {
            for y in 0..<32 {
                for x in 0..<48 {
                    let inside = y < s.height && x < s.width
                    XCTAssertEqual(batch.labels[n, y, x], inside ? s.label[y * s.width + x] : 255)
                    for c in 0..<3 {
                        // Padding is 0 after normalisation, as the recipe's collate_fn pads.
                        XCTAssertEqual(batch.images[n, c, y, x], inside ? s.image[(y * s.width + x) * 3 + c] : 0)
                    }
                }
            }
            XCTAssertEqual(batch.unpadded(batch.labels, item: n).values, s.label)
            XCTAssertEqual(batch.unpadded(batch.images, item: n), s.image)
        }
        XCTAssertEqual(na.image[0], (1 - 0.5) / 2)
        // Multiple 1: no padding beyond the largest image.
        let plain = try Batch(collating: [na], indices: [0], padMultiple: 1, ignoreIndex: 255)
        XCTAssertEqual(plain.images.shape, [1, 3, 20, 13])
        // Mixed channel counts are a data error naming both files.
        let gray = Sample(height: 2, width: 2, channels: 1, image: [0, 0, 0, 0], label: [0, 0, 0, 0], name: "g")
        XCTAssertThrowsError(try Batch(collating: [na, gray], indices: [0, 1])) { XCTAssertTrue("\($0)".contains("g has 1")) }
    }

    func testAugmentationDependsOnlyOnSeedEpochAndIndex() throws {
        let s = Self.coordinateSample(height: 19, width: 21)
        let t = try TrainTransform(scaleRange: 0.5...2, crop: ImageSize(height: 12, width: 12), hflip: 0.5, vflip: 0.5)
        XCTAssertEqual(try t.apply(s, seed: 1, epoch: 3, index: 5), try t.apply(s, seed: 1, epoch: 3, index: 5))
        let variants = [(1, 4, 5), (1, 3, 6), (2, 3, 5)].map { try? t.apply(s, seed: UInt64($0.0), epoch: $0.1, index: $0.2) }
        for v in variants { XCTAssertNotEqual(v, try t.apply(s, seed: 1, epoch: 3, index: 5)) }
        // Turning flips off keeps the scale and crop draws: the same rectangle, unmirrored.
        let still = try TrainTransform(scaleRange: 0.5...2, crop: ImageSize(height: 12, width: 12), hflip: 0, vflip: 0)
        var r1 = DataSeeds.augmentation(seed: 1, epoch: 3, index: 5), r2 = r1
        let w1 = t.draw(for: s.size, &r1), w2 = still.draw(for: s.size, &r2)
        XCTAssertEqual([w1.resized, w1.output], [w2.resized, w2.output])
        XCTAssertEqual([w1.top, w1.left], [w2.top, w2.left])
    }

    func testInvalidSettingsThrow() {
        XCTAssertThrowsError(try TrainTransform(scaleRange: 0...2))
        XCTAssertThrowsError(try TrainTransform(crop: ImageSize(height: 0, width: 4)))
        XCTAssertThrowsError(try TrainTransform(hflip: 1.5))
        XCTAssertThrowsError(try TrainTransform(vflip: .nan))
        XCTAssertThrowsError(try EvalTransform(padMultiple: 0))
    }
}
