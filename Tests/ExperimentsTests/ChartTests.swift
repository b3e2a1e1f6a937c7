import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import CCairo
import XCTest
@testable import Experiments

/// The Cairo charts: nice ticks in closed form, pixels where the axis mapping puts them (read
/// back with the project's own PNG decoder), breaks at NaN, deterministic bytes, and SVGs that
/// parse and can share an HTML page.
final class ChartTests: XCTestCase {
    // MARK: ticks

    func testNiceStepIsOneTwoOrFiveTimesAPowerOfTen() {
        XCTAssertEqual(AxisScale.niceStep(0.2), 0.2)
        XCTAssertEqual(AxisScale.niceStep(0.21), 0.5)
        XCTAssertEqual(AxisScale.niceStep(0.3 / 3), 0.1)  // 0.09999999999999999
        XCTAssertEqual(AxisScale.niceStep(7), 10)
        XCTAssertEqual(AxisScale.niceStep(1.5e-4), 2e-4, accuracy: 1e-18)
        XCTAssertEqual(AxisScale.niceStep(3000), 5000)
        XCTAssertEqual(AxisScale.niceStep(0), 1)
        XCTAssertEqual(AxisScale.niceStep(.nan), 1)
    }

    func testLinearAxisTicksInsideTheData() {
        let unit = AxisScale.linear(0, 1, target: 5)
        XCTAssertEqual(unit.ticks, [0, 0.2, 0.4, 0.6000000000000001, 0.8, 1])
        XCTAssertEqual(unit.ticks.map(unit.label), ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        let wide = AxisScale.linear(0, 97, target: 5)
        XCTAssertEqual([wide.lo, wide.hi, wide.step], [0, 97, 20])
        XCTAssertEqual(wide.ticks, [0, 20, 40, 60, 80])
        let signed = AxisScale.linear(-3, 7, target: 5)
        XCTAssertEqual(signed.ticks.map(signed.label), ["-2", "0", "2", "4", "6"])
        // Ends that are multiples of the step are ticks, though 0.7 / 0.1 is 6.999999999999999.
        XCTAssertEqual(AxisScale.linear(0.3, 0.7, target: 4).ticks.map { ($0 * 10).rounded() }, [3, 4, 5, 6, 7])
        // A range between the target's ticks takes smaller steps until three show.
        XCTAssertEqual(AxisScale.linear(0.3, 0.95, target: 3).ticks.map { ($0 * 10).rounded() }, [4, 6, 8])
        // Epochs: no half ticks however few there are.
        XCTAssertEqual(AxisScale.linear(0, 3, target: 8, minStep: 1).ticks, [0, 1, 2, 3])
        // A learning rate's ticks print in exponent form.
        let lr = AxisScale.linear(0, 1e-4, target: 5)
        XCTAssertEqual(lr.ticks.map(lr.label), ["0", "2e-05", "4e-05", "6e-05", "8e-05", "0.0001"])
    }

    func testConstantAndEmptyRangesStillHaveAnAxis() {
        for v in [0.0, 0.8, -250, 1e-7] {
            let axis = AxisScale.linear(v, v)
            XCTAssertLessThan(axis.lo, v)
            XCTAssertGreaterThan(axis.hi, v)
            XCTAssertGreaterThanOrEqual(axis.ticks.count, 2)
            XCTAssertTrue(axis.ticks.allSatisfy(\.isFinite))
        }
        let empty = AxisScale.linear(.nan, .nan)
        XCTAssertEqual([empty.lo, empty.hi], [0, 1])
        // Ranges no step can walk give their ends as ticks instead of hanging.
        XCTAssertEqual(AxisScale.linear(-1e308, 1e308).ticks, [-1e308, 1e308])
        XCTAssertLessThanOrEqual(AxisScale.linear(1e20, 1e20 + 16384).ticks.count, 101)
    }

    func testLogAxisTicksAtDecadesAndTheirTwoAndFiveTimes() {
        XCTAssertEqual(AxisScale.logarithmic(0.003, 0.2).ticks, [0.01, 0.1])
        XCTAssertEqual(AxisScale.logarithmic(2, 30).ticks, [2, 5, 10, 20], "one power of ten: 2x and 5x too")
        XCTAssertEqual(AxisScale.logarithmic(0.22, 0.48).ticks.map { ($0 * 10).rounded() }, [3, 4],
                       "within a decade: linear steps")
        let many = AxisScale.logarithmic(0.001, 1)
        XCTAssertEqual(many.ticks.map(many.label), ["0.001", "0.01", "0.1", "1"])
        var axis = many
        axis.pixelLo = 100
        axis.pixelHi = 0
        XCTAssertEqual(axis.pixel(0.01)!, 100 - 100.0 / 3, accuracy: 1e-9)
        XCTAssertNil(axis.pixel(0))
        XCTAssertNil(axis.pixel(-1))
    }

    // MARK: pixels

    /// 400x300: frame from x 72 to 386 and y 28 to 256 (margins 72/14/28/44), data 6 px inside.
    static let width = 400, height = 300

    func render(_ panel: ChartPanel) throws -> Image {
        let figure = ChartFigure(panels: [panel], panelWidth: Self.width, panelHeight: Self.height)
        let image = try ImageCodec.decode(try figure.png(), name: "chart.png")
        XCTAssertEqual([image.width, image.height], [Self.width, Self.height])
        XCTAssertEqual(image.colorModel, .rgb)
        return image
    }

    func layout(_ panel: ChartPanel) throws -> PanelDrawing {
        let surface = try XCTUnwrap(cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1))
        defer { cairo_surface_destroy(surface) }
        let cr = try XCTUnwrap(cairo_create(surface))
        defer { cairo_destroy(cr) }
        return PanelDrawing(panel, in: .init(x: 0, y: 0, width: Double(Self.width), height: Double(Self.height)),
                            canvas: ChartCanvas(cr))
    }

    func rgb(_ image: Image, _ x: Int, _ y: Int) -> [Int] {
        (0..<3).map { Int(image[x: x, y: y, c: $0]) }
    }

    /// Each channel within `tolerance` of `expected` (antialiasing is exact on whole pixels,
    /// so 2 levels only absorbs rounding of the blend).
    func assertColor(_ image: Image, _ x: Int, _ y: Int, _ expected: [Int], tolerance: Int = 2,
                     file: StaticString = #filePath, line: UInt = #line) {
        let got = rgb(image, x, y)
        XCTAssertTrue(zip(got, expected).allSatisfy { abs($0 - $1) <= tolerance },
                      "pixel (\(x), \(y)) is \(got), expected \(expected)", file: file, line: line)
    }

    static let blue = [0x00, 0x72, 0xB2], white = [255, 255, 255]
    /// The first palette colour at the band's 20 % over white.
    static let blueBand = blue.map { Int((0.2 * Double($0) + 0.8 * 255).rounded()) }

    func testHorizontalLineAndBandLandWhereTheAxisPutsThem() throws {
        let panel = ChartPanel(title: "t", xLabel: "x", yLabel: "y", series: [
            ChartSeries("line", points: (0...10).map { ChartPoint(Double($0), 2) },
                        band: (0...10).map { ChartBandPoint(x: Double($0), lo: 1.5, hi: 2.5) }),
            // Two dots in the corners stretch y to 1...3.
            ChartSeries("ends", points: [ChartPoint(0, 1), ChartPoint(5, .nan), ChartPoint(10, 3)]),
        ])
        // Closed form: y 1...3 over rows 250 (256 - 6) to 34 (28 + 6), 108 rows per unit, so
        // y = 2 at row 142 and the band from row 196 (1.5) to 88 (2.5).
        let drawing = try layout(panel)
        XCTAssertEqual([drawing.y.lo, drawing.y.hi], [1, 3])
        XCTAssertEqual(drawing.y.pixel(2)!, 142, accuracy: 1e-9)
        let image = try render(panel)
        // The 2-pixel line centred on y = 142 covers rows 141 and 142 whole, at any column away
        // from the x grid line (x = 5 at column 229) and the legend (top left: no points there).
        for x in [170, 200, 300] {
            assertColor(image, x, 141, Self.blue)
            assertColor(image, x, 142, Self.blue)
            // Inside the band, off the grid rows (every 0.5: 250, 196, 142, 88, 34)...
            assertColor(image, x, 120, Self.blueBand)
            assertColor(image, x, 170, Self.blueBand)
            // ...and outside it.
            assertColor(image, x, 60, Self.white)
            assertColor(image, x, 220, Self.white)
        }
    }

    func testNothingIsDrawnForNaNAndInfinitePoints() throws {
        let ys: [Double] = [1, 1, .nan, 1, 1]
        let panel = ChartPanel(title: "t", xLabel: "x", yLabel: "y", series: [
            ChartSeries("broken", points: ys.enumerated().map { ChartPoint(Double($0.offset), $0.element) }),
            ChartSeries("never", points: [ChartPoint(0, .nan), ChartPoint(1, .infinity), ChartPoint(.nan, 1)]),
        ])
        let drawing = try layout(panel)
        XCTAssertEqual(drawing.runs(panel.series[0]).map(\.count), [2, 2])
        XCTAssertTrue(drawing.runs(panel.series[1]).isEmpty)
        XCTAssertEqual(LegendDrawing(drawing).entries, [0])
        let row = Int(try XCTUnwrap(drawing.y.pixel(1)).rounded(.down))
        let columns = try [0.5, 1.5, 2.5, 3.5].map { Int(try XCTUnwrap(drawing.x.pixel($0))) }
        let image = try render(panel)
        // Drawn from x 0 to 1 and 3 to 4; between 1 and 3 only the gray grid and white.
        assertColor(image, columns[0], row, Self.blue)
        assertColor(image, columns[3], row, Self.blue)
        for x in [columns[1], columns[2]] {
            for y in row - 3...row + 3 {
                let c = rgb(image, x, y)
                XCTAssertTrue(c[0] == c[1] && c[1] == c[2] && c[0] >= 200, "pixel (\(x), \(y)) is \(c)")
            }
        }
    }

    func testASinglePointIsADot() throws {
        let panel = ChartPanel(title: "t", xLabel: "x", yLabel: "y", series: [
            ChartSeries("one", points: [ChartPoint(3, 0.5)], colorIndex: 1),
        ])
        let drawing = try layout(panel)
        let px = Int(try XCTUnwrap(drawing.x.pixel(3))), py = Int(try XCTUnwrap(drawing.y.pixel(0.5)))
        XCTAssertEqual(px, 72 + 157, "one x sits mid-frame")
        assertColor(try render(panel), px, py, [0xD5, 0x5E, 0x00])
    }

    func testEmptyAndConstantSeriesDrawWithoutTrouble() throws {
        let figure = ChartFigure(panels: [
            ChartPanel(title: "none", xLabel: "x", yLabel: "y", series: []),
            ChartPanel(title: "empty", xLabel: "x", yLabel: "y", logY: true, series: [ChartSeries("e", points: [])]),
            ChartPanel(title: "flat", xLabel: "x", yLabel: "y", series: [
                ChartSeries("c", points: [ChartPoint(0, 0), ChartPoint(5, 0)], band: [ChartBandPoint(x: 2, lo: 0, hi: 0)]),
            ], markers: [ChartMarker(x: 2, label: "best")]),
            ChartPanel(title: "log", xLabel: "x", yLabel: "y", logY: true, series: [
                ChartSeries("zero and up", points: [ChartPoint(0, 0), ChartPoint(1, 1e-3), ChartPoint(2, 10)]),
            ]),
        ], columns: 2, panelWidth: 300, panelHeight: 200)
        let image = try ImageCodec.decode(try figure.png(), name: "chart.png")
        XCTAssertEqual([image.width, image.height], [600, 400])
        XCTAssertFalse(try figure.svg(idPrefix: "e").isEmpty)
    }

    func testSizesCairoCannotTakeAreErrors() {
        XCTAssertThrowsError(try ChartFigure(panels: [], panelWidth: 20_000).png()) { XCTAssertTrue($0 is ChartError) }
        XCTAssertThrowsError(try ChartFigure(panels: [], columns: 0).png())
        XCTAssertThrowsError(try ChartFigure(panels: [], panelHeight: 5).svg(idPrefix: "a"))
    }

    // MARK: bytes

    /// Two panels with a band, dashes, a NaN gap, a marker and a log axis.
    var sampleFigure: ChartFigure {
        let xs = (0..<20).map(Double.init)
        return ChartFigure(panels: [
            ChartPanel(title: "Loss", xLabel: "epoch", yLabel: "loss", logY: true, series: [
                ChartSeries("train", points: xs.map { ChartPoint($0, exp(-$0 / 5)) }),
                ChartSeries("val", points: xs.map { ChartPoint($0, $0 == 7 ? .nan : 1.2 * exp(-$0 / 6)) }, style: .dashed),
            ]),
            ChartPanel(title: "Dice ± std over 3 seeds", xLabel: "epoch", yLabel: "Dice", series: [
                ChartSeries("unet", points: xs.map { ChartPoint($0, 0.8 - 0.5 * exp(-$0 / 4)) },
                            band: xs.map { ChartBandPoint(x: $0, lo: 0.78 - 0.5 * exp(-$0 / 4), hi: 0.82 - 0.5 * exp(-$0 / 4)) }),
            ], markers: [ChartMarker(x: 17, label: "best: epoch 17")]),
        ], columns: 2, panelWidth: 480, panelHeight: 300)
    }

    func testSameFigureGivesTheSameBytes() throws {
        let figure = sampleFigure
        XCTAssertEqual(try figure.png(), try figure.png())
        // Cairo numbers SVG surfaces across the process; the inlined SVG must not show it.
        XCTAssertEqual(try figure.svg(idPrefix: "a-"), try figure.svg(idPrefix: "a-"))
    }

    func testWritePNGReplacesTheFileWhole() throws {
        let dir = NSTemporaryDirectory() + "runexp-chart-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try sampleFigure.writePNG(to: dir + "/c.png")
        XCTAssertEqual(Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/c.png"))), try sampleFigure.png())
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["c.png"], "no temporary file left")
    }

    // MARK: SVG

    /// Ids defined, and ids referenced by `href="#…"` or `url(#…)`, in `svg`.
    func idsAndReferences(_ svg: String) -> (ids: [String], refs: [String]) {
        func captures(_ pattern: String) -> [String] {
            let regex = try! NSRegularExpression(pattern: pattern)
            return regex.matches(in: svg, range: NSRange(svg.startIndex..., in: svg)).compactMap {
                Range($0.range(at: 1), in: svg).map { String(svg[$0]) }
            }
        }
        return (captures(#"\sid="([^"]*)""#), captures(##"href="#([^"]*)""##) + captures(##"url\(#([^)]*)\)"##))
    }

    func testSVGIsAnInlinableElementWithEveryIdPrefixed() throws {
        let svg = try sampleFigure.svg(idPrefix: "run3-")
        XCTAssertTrue(svg.hasPrefix("<svg"), String(svg.prefix(80)))
        XCTAssertFalse(svg.contains("<?xml"))
        XCTAssertTrue(svg.contains(#"width="960px" height="300px" viewBox="0 0 960 300""#))
        let (ids, refs) = idsAndReferences(svg)
        XCTAssertGreaterThan(ids.count, 10, "glyphs and clips have ids")
        XCTAssertGreaterThan(refs.count, 10)
        XCTAssertEqual(Set(ids).count, ids.count, "ids are unique")
        XCTAssertEqual(ids.filter { !$0.hasPrefix("run3-") }, [])
        XCTAssertEqual(Set(refs).subtracting(ids), [], "every reference names an id of this SVG")
        #if canImport(FoundationXML)
        let document = try XMLDocument(xmlString: svg, options: [])
        XCTAssertEqual(document.rootElement()?.name, "svg")
        let parsedIds = try document.nodes(forXPath: "//@id").compactMap(\.stringValue)
        XCTAssertEqual(Set(parsedIds), Set(ids), "the text scan sees every id the parser sees")
        #endif
    }

    func testTwoPrefixesShareNoId() throws {
        let a = idsAndReferences(try sampleFigure.svg(idPrefix: "a")).ids
        let b = idsAndReferences(try sampleFigure.svg(idPrefix: "b")).ids
        XCTAssertFalse(a.isEmpty)
        XCTAssertTrue(Set(a).isDisjoint(with: b))
    }

    func testPrefixesThatWouldBreakTheDocumentAreRefused() {
        for bad in ["", "1abc", "a b", "a\"", "ä"] {
            XCTAssertThrowsError(try sampleFigure.svg(idPrefix: bad), bad) { XCTAssertTrue($0 is ChartError) }
        }
    }

    // MARK: progress.png

    func record(_ epoch: Int, loss: Double, dice: Double?, miou: Double = 0.5) -> EpochRecord {
        EpochRecord(epoch: epoch, trainLoss: loss, losses: ["ce": loss / 2, "dice": loss / 2], lr: 0.01 / Double(epoch + 1),
                    scores: dice.map {
                        SegmentationScores(dice: $0, recipeDice: $0, globalAccuracy: 0.9, classAccuracy: [0.9, 0.8],
                                           classIoU: [0.9, 0.4], meanIoU: miou)
                    }, imagesPerSecond: 10, seconds: 1)
    }

    func testProgressPanelsFollowTheRecords() throws {
        let records = [record(0, loss: 1.2, dice: 0.3), record(1, loss: .nan, dice: nil),
                       record(2, loss: 0.8, dice: 0.7), record(3, loss: 0.7, dice: 0.6)]
        let panels = ProgressChart.panels(records, metric: .dice)
        XCTAssertEqual(panels.map(\.title), ["Training loss", "Validation", "Learning rate"])
        XCTAssertEqual(panels[0].series.map(\.label), ["loss", "ce", "dice"])
        XCTAssertEqual(panels[1].series.map(\.label), ["Dice", "mean IoU"])
        XCTAssertEqual(panels[1].series[0].points, [ChartPoint(0, 0.3), ChartPoint(2, 0.7), ChartPoint(3, 0.6)])
        XCTAssertEqual(panels[1].markers, [ChartMarker(x: 2, label: "best: epoch 2, dice 0.700")])
        XCTAssertEqual(panels.map(\.xRange), [0...3, 0...3, 0...3], "one epoch axis for the three panels")
        // A selection metric other than Dice and mean IoU gets its own line.
        let accuracy = ProgressChart.panels(records, metric: .accuracy)[1]
        XCTAssertEqual(accuracy.series.map(\.label), ["Dice", "mean IoU", "accuracy"])
        XCTAssertEqual(accuracy.markers.map(\.x), [0], "ties keep the first epoch")
        let image = try ImageCodec.decode(try ProgressChart.figure(records, metric: .dice).png(), name: "progress.png")
        XCTAssertEqual([image.width, image.height], [720, 750])
    }
}
