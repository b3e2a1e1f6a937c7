import Foundation
import XCTest
@testable import Experiments
@testable import Nets

/// The data check before training: every file of a `folder` dataset decoded, and every
/// problem reported at once with its file; colour-coded masks read through `data.palette`.
final class DataCheckTests: XCTestCase {
    var root = ""

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "runexp-datacheck-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root + "/images", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/masks", withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: root)
    }

    /// A `w`×`h` RGB image whose left half is red and a gray class-id mask (0 left, 1 right).
    func writePair(_ name: String, width w: Int = 40, height h: Int = 32) throws {
        var rgb = [UInt8](repeating: 0, count: w * h * 3), ids = [UInt8](repeating: 0, count: w * h)
        for y in 0..<h {
            for x in 0..<w {
                rgb[3 * (y * w + x)] = x < w / 2 ? 200 : 20
                ids[y * w + x] = x < w / 2 ? 0 : 1
            }
        }
        try ImageCodec.writePNG(Image(width: w, height: h, colorModel: .rgb, samples: rgb), to: "\(root)/images/\(name).png")
        try ImageCodec.writePNG(Image(width: w, height: h, colorModel: .gray, samples: ids), to: "\(root)/masks/\(name).png")
    }

    func config(_ extra: String = "", model: String = "{name: unet, base_c: 4}") throws -> RunSpec {
        let yaml = """
            name: check
            data:
              dataset: folder
              root: '\(root)'
              num_classes: 2
              crop: null
              scale: null
              val_fraction: 0.25
              mean: [0.5, 0.5, 0.5]
              std: [0.2, 0.2, 0.2]
            \(extra)
            model: \(model)
            """
        return try Experiment.parse(yaml, file: "check.yaml").runs[0]
    }

    func problems(_ run: RunSpec, minimumSide: Int = 16) throws -> [String] {
        try DataCheck.run(run.config, at: run.locations, minimumSide: minimumSide).problems.map(\.description).sorted()
    }

    func testCleanDataHasNoProblems() throws {
        for i in 0..<4 { try writePair("p\(i)") }
        let report = try DataCheck.run(try config().config, at: try config().locations, minimumSide: 16)
        XCTAssertEqual(report.problems, [])
        XCTAssertEqual(report.samples, 4)
        XCTAssertEqual(report.files, 8)
    }

    func testEveryProblemIsReportedAtOnceWithItsFile() throws {
        for i in 0..<8 { try writePair("p\(i)") }
        let png = try Data(contentsOf: URL(fileURLWithPath: root + "/images/p0.png"))
        try png.prefix(png.count / 2).write(to: URL(fileURLWithPath: root + "/images/p0.png"))  // truncated
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: root + "/masks/p1.png"))
        try ImageCodec.writePNG(Image(width: 8, height: 8, colorModel: .gray, samples: Array(repeating: 0, count: 64)),
                                to: root + "/masks/p2.png")  // wrong size
        var colour = [UInt8](repeating: 0, count: 40 * 32 * 3)
        colour[3 * 5] = 128  // pixel (5, 0) red: not gray
        try ImageCodec.writePNG(Image(width: 40, height: 32, colorModel: .rgb, samples: colour), to: root + "/masks/p3.png")
        var seven = [UInt8](repeating: 0, count: 40 * 32)
        seven[41] = 7
        try ImageCodec.writePNG(Image(width: 40, height: 32, colorModel: .gray, samples: seven), to: root + "/masks/p4.png")
        try writePair("p5", width: 12, height: 40)  // narrower than the UNet's 16

        let found = try problems(config())
        let expected = [
            "\(root)/images/p0.png: truncated PNG",
            "\(root)/images/p5.png: 12x40 is smaller than the model's minimum input of 16x16; set data.crop, or a larger data.scale",
            "\(root)/masks/p1.png: not a PNG, JPEG, TIFF, GIF or PNM file",
            "\(root)/masks/p2.png: the mask is 8x8 but its image \(root)/images/p2.png is 40x32",
            "\(root)/masks/p3.png: a colour mask (pixel x=5, y=0 is (128, 0, 0)) does not hold class ids",
            "\(root)/masks/p4.png: mask value 7 (1 pixel) (first at x=1, y=1) is not a class id",
        ]
        XCTAssertEqual(found.count, expected.count, found.joined(separator: "\n"))
        for (line, start) in zip(found, expected) { XCTAssertTrue(line.hasPrefix(start), "\(line)\nexpected \(start)") }
    }

    func testColourImagesNeedThreeInputChannels() throws {
        for i in 0..<4 { try writePair("p\(i)") }
        XCTAssertThrowsError(try config("", model: "{name: unet, base_c: 4, in_channels: 1}")) { error in
            XCTAssertTrue("\(error)".contains("data.mean has 3 values but model.in_channels is 1"), "\(error)")
        }
        let yaml = try config().configYAML.replacingOccurrences(of: "in_channels: 3", with: "in_channels: 1")
            .replacingOccurrences(of: "mean: [0.5, 0.5, 0.5]", with: "mean: [0.5]")
            .replacingOccurrences(of: "std: [0.2, 0.2, 0.2]", with: "std: [0.2]")
        let run = try Experiment.parse(yaml, file: "check.yaml").runs[0]
        let found = try problems(run)
        XCTAssertEqual(found.count, 4)
        XCTAssertTrue(found[0].hasSuffix("p0.png: a colour image, but model.in_channels is 1, which would read it as gray; "
                                         + "set model.in_channels: 3, or convert the images to gray"), found[0])
    }

    /// A colour-coded mask (class 1 drawn red) reads as class ids through data.palette; a colour
    /// not in the palette is a problem naming it.
    func testPaletteMapsColourMasksToClassIds() throws {
        for i in 0..<4 { try writePair("p\(i)") }
        var red = [UInt8](repeating: 0, count: 40 * 32 * 3)
        for p in 0..<(40 * 32) where p % 40 >= 20 { red[3 * p] = 255 }
        for i in 0..<4 {
            try ImageCodec.writePNG(Image(width: 40, height: 32, colorModel: .rgb, samples: red), to: "\(root)/masks/p\(i).png")
        }
        let run = try config("  palette: [[0, 0, 0], [255, 0, 0]]")
        XCTAssertTrue(run.configYAML.contains("palette: [[0, 0, 0], [255, 0, 0]]"), run.configYAML)
        XCTAssertEqual(try problems(run), [])
        let (train, _) = try RunSetup.datasets(run.config, at: run.locations, splits: nil)
        let label = try train.sample(0).label
        XCTAssertEqual(label[0], 0)
        XCTAssertEqual(label[25], 1)

        red[0] = 9
        try ImageCodec.writePNG(Image(width: 40, height: 32, colorModel: .rgb, samples: red), to: "\(root)/masks/p2.png")
        XCTAssertEqual(try problems(run), ["\(root)/masks/p2.png: colour (9, 0, 0) at x=0, y=0 is not in data.palette"])

        XCTAssertEqual(configErrors("data: {num_classes: 3, palette: [[0, 0, 0], [1, 2, 3]]}\n"),
                       ["exp.yaml:1:33: data.palette must give one [r, g, b] colour (0-255) per class (data.num_classes is 3), "
                        + "got [[0, 0, 0], [1, 2, 3]]"])
    }
}
