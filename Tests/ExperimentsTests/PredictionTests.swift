import Foundation
import XCTest
@testable import Experiments
@testable import Nets

/// Prediction pictures against values that do not come from the code under test: the VOC
/// colour map's published entries, blends computed in integers, PNG round trips through the
/// decoder; validation previews and the synthetic export against the generator's own samples;
/// channel statistics against a direct two-pass sum over all values.
final class PredictionTests: XCTestCase {
    /// Published Pascal VOC colours (VOCdevkit `labelcolormap`) of a few class ids.
    static let voc: [Int32: (UInt8, UInt8, UInt8)] = [
        0: (0, 0, 0), 1: (128, 0, 0), 2: (0, 128, 0), 3: (128, 128, 0), 7: (128, 128, 128),
        15: (192, 128, 128), 20: (0, 64, 128), 255: (224, 224, 192),
    ]

    func pixel(_ image: Image, _ x: Int, _ y: Int) -> [UInt8] {
        (0..<image.channels).map { image[x: x, y: y, c: $0] }
    }

    // MARK: Pictures

    func testClassImageDecodesBackToTheSameClassIds() throws {
        let ids: [Int32] = [0, 1, 2, 3, 7, 15, 20, 255, 1, 0, 2, 20]
        let classes = LabelMap(n: 1, h: 3, w: 4, values: ids)
        let path = try temporaryFolder() + "/pred.png"
        try ImageCodec.writePNG(PredictionImages.classImage(classes), to: path)
        let back = try ImageCodec.read(path)
        XCTAssertEqual(back.colorModel, .indexed)
        XCTAssertEqual([back.width, back.height], [4, 3])
        XCTAssertEqual(back.labelValues(), ids)
        // Viewers show the VOC colours.
        let rgb = back.converted(to: .rgb)
        for (i, id) in ids.enumerated() {
            let c = try XCTUnwrap(Self.voc[id])
            XCTAssertEqual(pixel(rgb, i % 4, i / 4), [c.0, c.1, c.2], "class \(id)")
        }
        XCTAssertThrowsError(try PredictionImages.classImage(LabelMap(n: 1, h: 1, w: 2, values: [0, 256])))
        XCTAssertThrowsError(try PredictionImages.classImage(LabelMap(n: 1, h: 1, w: 1, values: [-1])))
    }

    func testOverlayBlendsOnlyForegroundClasses() {
        // 3×2 RGB image with distinct values; classes: background, vessel, ignore / 2, background, 15.
        let bytes: [UInt8] = [10, 20, 30, 11, 21, 31, 12, 22, 32, 200, 201, 202, 40, 50, 60, 255, 0, 7]
        let image = Image(width: 3, height: 2, colorModel: .rgb, samples: bytes)
        let classes = LabelMap(n: 1, h: 2, w: 3, values: [0, 1, 255, 2, 0, 15])
        let out = PredictionImages.overlay(image, classes: classes, ignoreIndex: 255)
        XCTAssertEqual([out.width, out.height], [3, 2])
        XCTAssertEqual(out.colorModel, .rgb)
        // alpha 0.5: round half up of (pixel + colour) / 2, in integers.
        func blend(_ p: [UInt8], _ c: (UInt8, UInt8, UInt8)) -> [UInt8] {
            zip(p, [c.0, c.1, c.2]).map { UInt8((Int($0) + Int($1) + 1) / 2) }
        }
        XCTAssertEqual(pixel(out, 0, 0), [10, 20, 30])
        XCTAssertEqual(pixel(out, 1, 0), blend([11, 21, 31], Self.voc[1]!))  // [70, 11, 16]
        XCTAssertEqual(pixel(out, 1, 0), [70, 11, 16])
        XCTAssertEqual(pixel(out, 2, 0), [12, 22, 32], "ignored pixels are not painted")
        XCTAssertEqual(pixel(out, 0, 1), blend([200, 201, 202], Self.voc[2]!))
        XCTAssertEqual(pixel(out, 1, 1), [40, 50, 60])
        XCTAssertEqual(pixel(out, 2, 1), blend([255, 0, 7], Self.voc[15]!))
        // A gray input is shown in gray before blending.
        let gray = Image(width: 1, height: 1, colorModel: .gray, samples: [100])
        let g = PredictionImages.overlay(gray, classes: LabelMap(n: 1, h: 1, w: 1, values: [1]))
        XCTAssertEqual(pixel(g, 0, 0), [114, 50, 50])
    }

    func testPanelIsImageTruthPredictionWithSeparatorsOverTheLegend() throws {
        let image = Image(width: 2, height: 2, colorModel: .rgb, samples: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
        let truth = LabelMap(n: 1, h: 2, w: 2, values: [0, 1, 255, 1])
        let prediction = LabelMap(n: 1, h: 2, w: 2, values: [1, 1, 0, 2])
        let panel = try PredictionImages.panel(image: image, truth: truth, prediction: prediction, ignoreIndex: 255,
                                               classNames: ["background", "vessel", "artery"])
        let gap = PredictionImages.separatorWidth
        XCTAssertEqual(gap, 4)
        // Under the pictures and a separator, the legend of the classes shown (the prediction's
        // 0 under an ignored truth pixel is shown ignored, but class 0 is in the truth).
        let voc = Image.Color.vocColorMap
        let legend = try ClassLegend.image([.init(name: "background", color: voc[0]), .init(name: "vessel", color: voc[1]),
                                            .init(name: "artery", color: voc[2]),
                                            .init(name: "ignored", color: Image.Color(255, 255, 255))], width: 14)
        XCTAssertEqual([panel.width, panel.height], [3 * 2 + 2 * 4, 2 + gap + legend.height])
        XCTAssertEqual(Array(panel.samples.suffix(legend.samples.count)), legend.samples)
        XCTAssertEqual(Array(panel.samples[2 * 14 * 3..<6 * 14 * 3]), Array(repeating: 128, count: 4 * 14 * 3))
        XCTAssertEqual(pixel(panel, 0, 0), [1, 2, 3])
        XCTAssertEqual(pixel(panel, 1, 1), [10, 11, 12])
        for y in 0..<2 {
            for x in [2, 5, 8, 11] { XCTAssertEqual(pixel(panel, x, y), [128, 128, 128], "separator at \(x),\(y)") }
        }
        // Ground truth from x = 6: black, VOC red / white (ignored), VOC red.
        XCTAssertEqual(pixel(panel, 6, 0), [0, 0, 0])
        XCTAssertEqual(pixel(panel, 7, 0), [128, 0, 0])
        XCTAssertEqual(pixel(panel, 6, 1), [255, 255, 255])
        XCTAssertEqual(pixel(panel, 7, 1), [128, 0, 0])
        // Prediction from x = 12; where the truth is ignored the prediction shows white too.
        XCTAssertEqual(pixel(panel, 12, 0), [128, 0, 0])
        XCTAssertEqual(pixel(panel, 13, 0), [128, 0, 0])
        XCTAssertEqual(pixel(panel, 12, 1), [255, 255, 255])
        XCTAssertEqual(pixel(panel, 13, 1), [0, 128, 0])
    }

    func testDenormalizedRecoversTheBytesExactly() throws {
        var rng = SeededRandom(seed: 4)
        for channels in [1, 3] {
            let bytes = (0..<(5 * 7 * channels)).map { _ in UInt8(rng.next() % 256) }
            let sample = Sample(height: 5, width: 7, channels: channels, bytes: bytes, label: Array(repeating: 0, count: 35))
            // DRIVE's statistics: std as small as 0.043 magnifies the float error most.
            let mean: [Float] = channels == 3 ? [0.709, 0.381, 0.224] : [0.5]
            let std: [Float] = channels == 3 ? [0.127, 0.079, 0.043] : [0.25]
            let normalized = try Normalization(mean: mean, std: std).apply(sample)
            let image = try PredictionImages.denormalized(normalized.image, size: sample.size, channels: channels,
                                                          mean: mean, std: std)
            XCTAssertEqual(image.colorModel, channels == 3 ? .rgb : .gray)
            XCTAssertEqual(image.samples, bytes)
        }
        XCTAssertThrowsError(try PredictionImages.denormalized([0, 0, 0, 0], size: ImageSize(height: 1, width: 2),
                                                               channels: 2, mean: [0, 0, 0], std: [1, 1, 1]))
    }

    func testArgmaxTakesTheLowerClassOnTiesInBothLayouts() {
        var rng = SeededRandom(seed: 9)
        let logits = Tensor.activation(2, 4, 3, 5)
        // Integers in 0..<3, so many pixels have tied maxima.
        for i in 0..<logits.count { logits.data[i] = Float(rng.next() % 3) }
        let plain = logits.converted(to: .plain)
        var expected = [Int32]()
        for n in 0..<2 {
            for y in 0..<3 {
                for x in 0..<5 {
                    let scores = (0..<4).map { plain.data[((n * 4 + $0) * 3 + y) * 5 + x] }
                    expected.append(Int32(scores.firstIndex(of: scores.max()!)!))
                }
            }
        }
        XCTAssertEqual(Predictor.argmax(logits).values, expected)
        XCTAssertEqual(Predictor.argmax(plain).values, expected)
    }

    // MARK: Validation previews

    /// A UNet base_c 4 (random weights) and an eval loader over two 72-pixel synthetic images,
    /// padded to 80 as evaluation pads them.
    func tinySetup() throws -> (UNet, DataLoader, SyntheticDataset) {
        var rng = SeededRandom(seed: 5)
        let model = UNet(inChannels: 3, numClasses: 2, baseChannels: 4, bilinear: true, rng: &rng)
        let generator = try SyntheticFundus(size: 72, seed: 1)
        let (_, val) = try SyntheticDataset.split(generator, trainCount: 3, valCount: 2)
        let loader = try DataLoader(dataset: val, transform: .eval(EvalTransform(mean: [0.6, 0.25, 0.1],
                                                                                 std: [0.13, 0.07, 0.04])),
                                    seed: 0, batchSize: 1, shuffle: false)
        return (model, loader, val)
    }

    /// Shifts the vessel logit's bias of a random two-class `model` so that about half of the
    /// pixels of `images` are predicted as vessel: a random UNet is otherwise nearly constant,
    /// and a test of all-background pictures would not see swapped colours.
    static func balance(_ model: any SegmentationModel, on images: Tensor) throws {
        let wasTraining = model.training
        model.setTraining(false)
        defer { model.setTraining(wasTraining) }
        let logits = model(images).out
        let plain = logits.converted(to: .plain)
        let plane = logits.h * logits.w
        let margins = (0..<plane).map { plain.data[plane + $0] - plain.data[$0] }.sorted()
        let bias = try XCTUnwrap(model.namedParameters().first { $0.0 == "out_conv.0.bias" }?.1)
        bias.value.data[1] -= margins[plane / 2]
    }

    func testValidationPreviewsWritePanelsOfTheFirstSamples() throws {
        let (model, loader, val) = try tinySetup()
        try Self.balance(model, on: loader.batch([0], epoch: 0).images)
        let dir = try temporaryFolder()
        let paths = try ValidationPreviews.write(model: model, loader: loader, count: 3, directory: dir,
                                                 classNames: ["background", "vessel"])
        XCTAssertEqual(paths, ["\(dir)/previews/synthetic_0003.png", "\(dir)/previews/synthetic_0004.png"],
                       "count is capped by the dataset")
        XCTAssertTrue(model.training, "training mode restored")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/previews").sorted(),
                       ["synthetic_0003.png", "synthetic_0004.png"])

        model.setTraining(false)
        for (i, path) in paths.enumerated() {
            let panel = try ImageCodec.read(path)
            XCTAssertEqual(panel.colorModel, .rgb)
            XCTAssertEqual(panel.width, 3 * 72 + 8)
            XCTAssertGreaterThan(panel.height, 72 + 4 + 20, "the pictures, a separator, the legend")
            // The legend: below a separator, swatches of background (black), vessel (dark red) and
            // ignored (white, in a gray border); its text is gray, so pure black and dark red
            // pixels there are the swatches' insides (10x10 at least).
            XCTAssertTrue((0..<panel.width).allSatisfy { pixel(panel, $0, 73) == [128, 128, 128] })
            var legendColors: [[UInt8]: Int] = [:]
            for y in 76..<panel.height { for x in 0..<panel.width { legendColors[pixel(panel, x, y), default: 0] += 1 } }
            XCTAssertGreaterThanOrEqual(legendColors[[0, 0, 0]] ?? 0, 100)
            XCTAssertGreaterThanOrEqual(legendColors[[128, 0, 0]] ?? 0, 100)
            XCTAssertGreaterThan(legendColors[[255, 255, 255]] ?? 0, (panel.height - 76) * panel.width / 2, "on white")
            let sample = try val.sample(i)
            // The model's own prediction at full (padded) size, argmax written out here.
            let logits = model(try loader.batch([i], epoch: 0).images).out
            XCTAssertEqual(logits.shape, [1, 2, 80, 80])
            var foreground = 0
            for y in 0..<72 {
                for x in 0..<72 {
                    let p = y * 72 + x
                    let original = (0..<3).map { UInt8((sample.image[p * 3 + $0] * 255).rounded()) }
                    XCTAssertEqual(pixel(panel, x, y), original, "image at \(x),\(y)")
                    let truth = sample.label[p]
                    let truthColor: [UInt8] = truth == 255 ? [255, 255, 255] : truth == 1 ? [128, 0, 0] : [0, 0, 0]
                    XCTAssertEqual(pixel(panel, 76 + x, y), truthColor, "truth at \(x),\(y)")
                    let o = logits.offset(0, 0, y, x)
                    let predicted = logits.data[o + 1] > logits.data[o]
                    foreground += predicted && truth != 255 ? 1 : 0
                    // Where the truth is ignored, the prediction is shown ignored (white) too.
                    let predictionColor: [UInt8] = truth == 255 ? [255, 255, 255] : predicted ? [128, 0, 0] : [0, 0, 0]
                    XCTAssertEqual(pixel(panel, 152 + x, y), predictionColor, "prediction at \(x),\(y)")
                    if x == 0 && y > 0 { XCTAssertEqual(pixel(panel, 72, y), [128, 128, 128]) }
                }
            }
            XCTAssertTrue(foreground > 0 && foreground < 72 * 72, "a prediction with both classes: \(foreground)")
        }
        XCTAssertEqual(try ValidationPreviews.write(model: model, loader: loader, count: 0, directory: dir), [])
        XCTAssertFalse(model.training, "eval mode restored too")
    }

    /// The legend lists the classes present in the maps, by id, named or `class N`, then the
    /// ignored pixels; it wraps onto more rows when narrow, and its swatches are the palette's colours.
    func testClassLegendListsThePresentClasses() throws {
        let truth = LabelMap(n: 1, h: 2, w: 3, values: [0, 3, 3, 255, 0, 0])
        let prediction = LabelMap(n: 1, h: 2, w: 3, values: [0, 5, 3, 255, 0, 0])
        let palette = Image.Color.vocColorMap
        let names = ["background", "aeroplane", "bicycle", "bird", "boat"]
        let entries = ClassLegend.entries([truth, prediction], classNames: names, palette: palette, ignoreIndex: 255)
        XCTAssertEqual(entries, [.init(name: "background", color: palette[0]), .init(name: "bird", color: palette[3]),
                                 .init(name: "class 5", color: palette[5]), .init(name: "ignored", color: Image.Color(255, 255, 255))])
        XCTAssertEqual(ClassLegend.entries([truth], classNames: nil, palette: palette, ignoreIndex: nil).map(\.name),
                       ["class 0", "class 3", "class 255"])

        let wide = try ClassLegend.image(entries, width: 600)
        let narrow = try ClassLegend.image(entries, width: 100)
        XCTAssertEqual([wide.width, wide.height], [600, 32], "one row: 6 + 20 + 6 pixels")
        XCTAssertEqual(narrow.width, 100)
        XCTAssertEqual(narrow.height, 12 + 4 * 20, "one entry a row")
        for legend in [wide, narrow] {
            var counts: [[UInt8]: Int] = [:]
            for y in 0..<legend.height { for x in 0..<legend.width { counts[pixel(legend, x, y), default: 0] += 1 } }
            for id in [0, 3, 5] {
                let c = palette[id]
                XCTAssertEqual(counts[[c.red, c.green, c.blue]], 100, "the 10x10 inside of class \(id)'s swatch")
            }
        }
        XCTAssertEqual(try ClassLegend.image([], width: 50).height, 12, "no entries: the padding alone")
        XCTAssertGreaterThan(try ClassLegend.image(entries, width: 600, scale: 2).height, 60, "scaled for large panels")
        // Wider than Cairo draws: the strip is drawn at its widest and padded with white.
        let huge = try ClassLegend.image(entries, width: 40000)
        XCTAssertEqual([huge.width, huge.height], [40000, 32])
        XCTAssertEqual(pixel(huge, 39999, 16), [255, 255, 255])
        XCTAssertEqual(pixel(huge, 12, 16), [0, 0, 0], "background's swatch")
    }

    // MARK: Synthetic export

    func testSyntheticExportReadsBackAsTheGeneratorsSamples() throws {
        let generator = try SyntheticFundus(size: 64, seed: 21)
        let dataset = try SyntheticDataset(generator: generator, indices: 0..<5)
        let dir = try temporaryFolder()
        try SyntheticDataset.export(generator, indices: 2..<5, to: dir)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/images").sorted(),
                       ["synthetic_0002.png", "synthetic_0003.png", "synthetic_0004.png"])
        for i in 2..<5 {
            let image = try ImageCodec.read("\(dir)/images/synthetic_000\(i).png")
            let mask = try ImageCodec.read("\(dir)/masks/synthetic_000\(i).png")
            XCTAssertEqual(image.colorModel, .rgb)
            XCTAssertEqual(image.samples, generator.sample(i).image)
            XCTAssertEqual(mask.colorModel, .indexed)
            let sample = try dataset.sample(i)
            XCTAssertEqual(mask.labelValues(), sample.label, "class ids, 255 outside the field of view")
            XCTAssertEqual(Set(sample.label), [0, 1, 255])
        }
        XCTAssertThrowsError(try SyntheticDataset.export(generator, indices: 0..<1, to: dir, ignoreIndex: 256))
    }

    // MARK: Channel statistics

    /// Samples given in code, with a label per pixel.
    struct ListDataset: Dataset {
        var samples: [Sample]
        var count: Int { samples.count }
        func sample(_ index: Int) throws -> Sample { samples[index] }
    }

    func testPooledStatisticsMatchADirectSum() throws {
        var rng = SeededRandom(seed: 12)
        var samples: [Sample] = []
        for (h, w) in [(3, 4), (5, 2), (1, 7)] {
            let image = (0..<(h * w * 2)).map { _ in 0.7 + 0.05 * rng.nextFloat() }
            // Ignored pixels get a value far off, which `labelledOnly` must leave out.
            let label = (0..<(h * w)).map { _ in rng.next() % 3 == 0 ? Int32(255) : Int32(rng.next() % 2) }
            var masked = image
            for p in 0..<h * w where label[p] == 255 { (masked[2 * p], masked[2 * p + 1]) = (100, -100) }
            samples.append(Sample(height: h, width: w, channels: 2, image: masked, label: label))
        }
        let dataset = ListDataset(samples: samples)
        for labelledOnly in [false, true] {
            let stats = try DatasetStatistics.meanStd(dataset, ignoreIndex: labelledOnly ? 255 : nil, method: .pooled)
            for k in 0..<2 {
                var values: [Double] = []
                for s in samples {
                    for p in 0..<s.height * s.width where !labelledOnly || s.label[p] != 255 {
                        values.append(Double(s.image[2 * p + k]))
                    }
                }
                let mean = values.reduce(0, +) / Double(values.count)
                let std = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)).squareRoot()
                // Double sums of a few dozen values: agreement to ~1e-15 relative.
                XCTAssertEqual(stats.mean[k], mean, accuracy: 1e-12 * abs(mean), "mean \(k), labelledOnly \(labelledOnly)")
                XCTAssertEqual(stats.std[k], std, accuracy: 1e-12 * std, "std \(k), labelledOnly \(labelledOnly)")
            }
        }
        XCTAssertLessThan(try DatasetStatistics.meanStd(dataset, ignoreIndex: 255, method: .pooled).std[0], 0.05)

        // Closed form: half zeros, half ones → mean 1/2, std 1/2 exactly.
        let binary = ListDataset(samples: [Sample(height: 2, width: 2, channels: 1, image: [0, 1, 1, 0], label: [0, 0, 0, 0]),
                                           Sample(height: 1, width: 2, channels: 1, image: [1, 0], label: [0, 0])])
        let b = try DatasetStatistics.meanStd(binary, ignoreIndex: nil, method: .pooled)
        XCTAssertEqual(b.mean, [0.5])
        XCTAssertEqual(b.std, [0.5])

        let mixed = ListDataset(samples: [samples[0], Sample(height: 1, width: 1, channels: 3, image: [0, 0, 0], label: [0])])
        XCTAssertThrowsError(try DatasetStatistics.meanStd(mixed, ignoreIndex: nil)) { error in
            XCTAssertTrue("\(error)".contains("channel"), "\(error)")
        }
        let ignored = ListDataset(samples: [Sample(height: 1, width: 2, channels: 1, image: [0, 1], label: [255, 255])])
        XCTAssertThrowsError(try DatasetStatistics.meanStd(ignored, ignoreIndex: 255))
    }

    /// Previews paint classes in the masks' own `data.palette` when one is given, else VOC's.
    func testPreviewPaletteIsTheMasksOwn() throws {
        var data = DataConfig()
        XCTAssertEqual(data.previewPalette, Image.Color.vocColorMap)
        data.palette = [[0, 0, 0], [255, 255, 0], [0, 128, 255]]
        XCTAssertEqual(data.previewPalette, [Image.Color(0, 0, 0), Image.Color(255, 255, 0), Image.Color(0, 128, 255)])
    }
}
