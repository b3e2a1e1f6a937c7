import Foundation
import XCTest
@testable import Experiments
@testable import Nets

/// Sliding windows and test-time flips (`Inference`) against computations that do not use
/// them: MMSegmentation's tile grid worked by hand, whole-image inference, a network whose
/// output at a pixel depends on that pixel alone (so any correct tiling or flip reproduces
/// its whole-image output), and the flipped copies averaged by hand.
final class InferenceTests: XCTestCase {
    /// A 1×1 convolution to three classes: each pixel's logits depend only on its own values.
    final class Pointwise: Module, SegmentationModel {
        let conv: Conv2d

        init(seed: UInt64) {
            var rng = SeededRandom(seed: seed)
            conv = Conv2d(3, 3, kernelSize: 1, rng: &rng)
        }

        func forward(_ x: Tensor) -> SegmentationOutput { SegmentationOutput(out: conv(x)) }
        var groups: [String: [String]] { [:] }
        var minimumInputSide: Int { 1 }
    }

    /// One image of `height`×`width` with smoothly varying RGB values, padded as evaluation pads.
    func batch(height: Int, width: Int, padMultiple: Int = 16) throws -> Batch {
        let values = (0..<height * width * 3).map { i -> Float in
            let (p, c) = (i / 3, i % 3)
            return sin(Float(p % width) * 0.37 + Float(c)) + cos(Float(p / width) * 0.23 - Float(c))
        }
        let sample = Sample(height: height, width: width, channels: 3, image: values,
                            label: [Int32](repeating: 0, count: height * width))
        return try Batch(collating: [sample], indices: [0], padMultiple: padMultiple)
    }

    func unet(seed: UInt64 = 4) -> UNet {
        var rng = SeededRandom(seed: seed)
        let model = UNet(inChannels: 3, numClasses: 2, baseChannels: 4, bilinear: true, rng: &rng)
        model.setTraining(false)
        return model
    }

    func settings(_ mode: InferenceMode = .whole, crop: Int? = nil, stride: Int? = nil, blend: TileBlending = .gaussian,
                  tileBatch: Int = 8, tta: [TestTimeFlip] = []) -> InferenceConfig {
        var s = InferenceConfig()
        s.mode = mode
        s.crop = crop.map { CropSize(height: $0, width: $0) }
        s.stride = (stride ?? crop.map { $0 / 2 }).map { CropSize(height: $0, width: $0) }
        s.blend = blend
        s.tileBatch = tileBatch
        s.tta = tta
        return s
    }

    // MARK: The tile grid

    /// MMSegmentation's `slide_inference`: h_grids = max(h - crop + stride - 1, 0) // stride + 1,
    /// y1 = min(i * stride, h - crop). DRIVE's 584×565 images with its recipe's 64/42.
    func testTileGridIsMMSegmentations() {
        let rows = TileAxis(side: 584, crop: 64, stride: 42), columns = TileAxis(side: 565, crop: 64, stride: 42)
        XCTAssertEqual(rows.length, 64)
        XCTAssertEqual(rows.starts, (0..<13).map { $0 * 42 } + [520])
        XCTAssertEqual(columns.starts, (0..<12).map { $0 * 42 } + [501])
        XCTAssertEqual(TileAxis(side: 128, crop: 64, stride: 64).starts, [0, 64])
        // A side shorter than the crop is one tile of the side's length.
        let short = TileAxis(side: 50, crop: 64, stride: 42)
        XCTAssertEqual([short.length] + short.starts, [50, 0])
        // Uniform coverage counts the tiles over each position.
        let axis = TileAxis(side: 10, crop: 4, stride: 3)
        XCTAssertEqual(axis.starts, [0, 3, 6])
        XCTAssertEqual(axis.coverage(axis.weights(.uniform)), [1, 1, 1, 2, 1, 1, 2, 1, 1, 1])
    }

    func testGaussianWeightsPeakAtTheCentreAndNeverVanish() {
        for length in [1, 7, 64] {
            let w = TileAxis(side: length, crop: length, stride: 1).weights(.gaussian)
            XCTAssertEqual(w, w.reversed(), "symmetric about the centre")
            XCTAssertEqual(w.max(), w[(length - 1) / 2])
            XCTAssertGreaterThan(w.min()!, 3e-4)  // exp(-8) at the border: σ = side/8
        }
        let w = TileAxis(side: 64, crop: 64, stride: 1).weights(.gaussian)
        XCTAssertEqual(Double(w[0]), exp(-0.5 * pow(31.5 / 8, 2)), accuracy: 1e-9)
    }

    // MARK: Slide mode

    /// A crop at least the image's size is one tile that is the whole padded image: the scores
    /// are whole-image inference's, bit for bit (with and without flips).
    func testSlideWithACropCoveringTheImageIsWholeImageInference() throws {
        let model = unet()
        let batch = try batch(height: 72, width: 60)
        for tta in [[], [TestTimeFlip.hflip, .vflip]] {
            let whole = Inference(settings(tta: tta), padMultiple: 16).scores(model, batch)
            for crop in [72, 100] {
                let slide = Inference(settings(.slide, crop: crop, tta: tta), padMultiple: 16).scores(model, batch)
                XCTAssertEqual(slide.areProbabilities, whole.areProbabilities)
                XCTAssertEqual(slide.values.array, whole.values.array, "crop \(crop), tta \(tta)")
            }
        }
    }

    /// Tiles of a pointwise network, blended either way, reproduce its whole-image
    /// probabilities (to float rounding) over every pixel of an image that is not a multiple
    /// of the crop, whatever the tile batch; padding stays zero.
    func testSlideBlendsTilesBackIntoTheWholeImageOutput() throws {
        let model = Pointwise(seed: 9)
        let batch = try batch(height: 70, width: 90)
        let whole = Inference(settings(), padMultiple: 16).scores(model, batch).probabilities
        for blend in TileBlending.allCases {
            var first: [Float]?
            for tileBatch in [1, 5] {
                let slide = Inference(settings(.slide, crop: 32, stride: 20, blend: blend, tileBatch: tileBatch), padMultiple: 16)
                    .scores(model, batch)
                XCTAssertTrue(slide.areProbabilities)
                XCTAssertEqual(slide.values.shape, [1, 3, 80, 96])
                for y in 0..<80 {
                    for x in 0..<96 {
                        for c in 0..<3 {
                            let got = slide.values[0, c, y, x]
                            if y < 70 && x < 90 {
                                XCTAssertEqual(got, whole[0, c, y, x], accuracy: 2e-6, "\(blend) at \(x),\(y)")
                            } else {
                                XCTAssertEqual(got, 0, "padding at \(x),\(y)")
                            }
                        }
                    }
                }
                if let first { XCTAssertEqual(slide.values.array, first, "\(blend): tile batch \(tileBatch)") }
                first = slide.values.array
            }
        }
    }

    /// The two blends differ where tiles overlap, for a network that sees context.
    func testBlendsWeighOverlapsDifferently() throws {
        let model = unet()
        let batch = try batch(height: 64, width: 64)
        let gaussian = Inference(settings(.slide, crop: 32, stride: 16), padMultiple: 16).scores(model, batch).values.array
        let uniform = Inference(settings(.slide, crop: 32, stride: 16, blend: .uniform), padMultiple: 16)
            .scores(model, batch).values.array
        XCTAssertNotEqual(gaussian, uniform)
        // Probabilities still sum to one at every pixel.
        for p in stride(from: 0, to: gaussian.count, by: 2) {
            XCTAssertEqual(gaussian[p] + gaussian[p + 1], 1, accuracy: 1e-5)
        }
    }

    /// Peak memory in slide mode is the output plus one tile batch's work, whatever the image:
    /// the work beyond the output is the same at 256² and 512², and far below whole-image
    /// inference's, which grows with the area.
    func testSlidePeakMemoryDoesNotGrowWithTheImage() throws {
        let model = unet()
        func peak(_ side: Int, _ settings: InferenceConfig) throws -> Int {
            let batch = try batch(height: side, width: side)
            let before = MemoryStats.liveTensorBytes
            MemoryStats.resetPeak()
            _ = Inference(settings, padMultiple: 16).scores(model, batch)
            return MemoryStats.peakTensorBytes - before
        }
        let slide = settings(.slide, crop: 64, tileBatch: 4)
        let output = { (side: Int) in side * side * 2 * MemoryLayout<Float>.stride }
        let work256 = try peak(256, slide) - output(256), work512 = try peak(512, slide) - output(512)
        XCTAssertLessThanOrEqual(work512, work256 + 64 << 10, "slide: \(work256) bytes beyond the output at 256², \(work512) at 512²")
        let whole512 = try peak(512, settings())
        XCTAssertLessThan(try peak(512, slide) * 4, whole512, "slide vs whole at 512²")
    }

    // MARK: Flips

    func testFlipsOfAKnownTensor() {
        // 1×1×2×3: rows [0 1 2] and [3 4 5].
        let x = Tensor(shape: [1, 1, 2, 3], layout: .nhwc, values: [0, 1, 2, 3, 4, 5])
        XCTAssertEqual(TestTimeFlip.hflip.applied(to: x).array, [2, 1, 0, 5, 4, 3])
        XCTAssertEqual(TestTimeFlip.vflip.applied(to: x).array, [3, 4, 5, 0, 1, 2])
        XCTAssertEqual(TestTimeFlip.hvflip.applied(to: x).array, [5, 4, 3, 2, 1, 0])
        // Channels of a pixel move together.
        let rgb = Tensor(shape: [1, 2, 1, 2], layout: .nhwc, values: [1, 2, 3, 4])
        XCTAssertEqual(TestTimeFlip.hflip.applied(to: rgb).array, [3, 4, 1, 2])
        for flip in TestTimeFlip.allCases {
            XCTAssertEqual(flip.applied(to: flip.applied(to: x)).array, x.array, "\(flip) twice")
        }
    }

    /// Test-time flips average the probabilities of the image and its flipped copies, each
    /// flipped back: equal bit for bit to that sum taken by hand; and for a pointwise network,
    /// whose flipped outputs flip back onto its own, equal to plain inference.
    func testFlipsAreUndonePixelExactly() throws {
        let model = unet()
        let batch = try batch(height: 48, width: 40)
        for flip in TestTimeFlip.allCases {
            let got = Inference(settings(tta: [flip]), padMultiple: 16).scores(model, batch)
            let expected = ClassSoftmax(model(batch.images).out).probabilities
            expected.add(flip.applied(to: ClassSoftmax(model(flip.applied(to: batch.images)).out).probabilities))
            expected.scale(0.5)
            XCTAssertTrue(got.areProbabilities)
            XCTAssertEqual(got.values.array, expected.array, "\(flip)")
        }
        let pointwise = Pointwise(seed: 2)
        let plain = Inference(settings(), padMultiple: 16).scores(pointwise, batch)
        let flipped = Inference(settings(tta: TestTimeFlip.allCases), padMultiple: 16).scores(pointwise, batch)
        for (a, b) in zip(flipped.values.array, plain.probabilities.array) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        XCTAssertEqual(Predictor.argmax(flipped.values).values, Predictor.argmax(plain.values).values)
    }

    // MARK: Config

    func testSlideAndFlipKeys() throws {
        let c = try loadConfig("eval: {mode: slide, crop: 64, tta: [hflip, vflip]}\n").runs[0].config
        XCTAssertEqual(c.eval.inference.crop, CropSize(height: 64, width: 64))
        XCTAssertEqual(c.eval.inference.stride, CropSize(height: 32, width: 32), "half the crop by default")
        XCTAssertEqual(c.eval.inference.blend, .gaussian)
        XCTAssertEqual(c.eval.inference.tta, [.hflip, .vflip])
        XCTAssertEqual(c.eval.inference.description, "slide 64x64 stride 32x32 gaussian, tta hflip+vflip")
        XCTAssertEqual(InferenceConfig().description, "whole image")
        let rect = try loadConfig("eval: {mode: slide, crop: [64, 128], stride: [42, 100], blend: uniform}\n").runs[0].config
        XCTAssertEqual(rect.eval.inference.stride, CropSize(height: 42, width: 100))
        XCTAssertEqual(rect.eval.inference.blend, .uniform)
        // Whole-image runs without flips write none of the keys: their run hashes stay as they were.
        let plain = try loadConfig("eval: {mode: whole, tta: []}\n").runs[0]
        XCTAssertEqual(plain.hash, try loadConfig("name: exp\n").runs[0].hash)
        XCTAssertFalse(plain.configYAML.contains("mode:") || plain.configYAML.contains("tta:"), plain.configYAML)

        XCTAssertEqual(configErrors("eval: {mode: slide}\n"),
                       ["exp.yaml:1:7: eval.crop must be given with eval.mode: slide (the tile size, e.g. 64 or [h, w])"])
        XCTAssertEqual(configErrors("eval: {mode: slide, crop: 64, stride: 80}\n"),
                       ["exp.yaml:1:39: eval.stride must be at most eval.crop (64x64), or tiles leave gaps, got 80"])
        XCTAssertEqual(configErrors("eval: {mode: slid}\n"),
                       ["exp.yaml:1:14: eval.mode must be 'whole' or 'slide', got 'slid'; did you mean 'slide'?"])
        XCTAssertEqual(configErrors("eval: {tta: [hflip, hflip]}\n"), ["exp.yaml:1:13: eval.tta lists a flip twice"])
        XCTAssertEqual(configErrors("eval: {crop: 64}\n").count, 0, "ignored without slide, as keys that do not apply are")
        XCTAssertEqual(configErrors("name: exp\n", overrides: ["eval.crop=64"]),
                       ["--set eval.crop=64: this config does not use eval.crop, so this --set changes nothing"])
    }
}
