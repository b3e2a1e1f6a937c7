import Foundation
import XCTest
@testable import Experiments

/// The retinal-vessel benchmarks besides DRIVE (`hrf`, `chase_db1`, `stare`) in small
/// generated trees of their distributed layouts: pairing, the literature's splits, labels with
/// the field of view ignored outside, the derived field of view where none is distributed,
/// second observers, and the located error for each missing piece. Images are synthetic
/// fundus photographs (black outside a circular aperture) written as PNG under the
/// benchmarks' names (the codec reads by content), and as gzipped PPM for STARE.
final class VesselBenchmarkTests: XCTestCase {
    var temp = ""

    override func setUpWithError() throws {
        temp = NSTemporaryDirectory() + "runexp-vessels-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: temp, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: temp)
    }

    let fundus = try! SyntheticFundus(size: 64, seed: 11)

    func mkdir(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func message(_ body: () throws -> Any) -> String {
        do {
            _ = try body()
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    /// Sample `index` of the generator: its RGB image, its 0/255 vessel annotation (vessels
    /// drawn everywhere, also outside the aperture, so that the ignore rule shows) and its aperture.
    func photo(_ index: Int) -> (image: Image, manual: Image, fov: Image, truth: SyntheticFundusSample) {
        let s = fundus.sample(index)
        var manual = s.label.map { $0 == 1 ? UInt8(255) : 0 }
        manual[0] = 255  // a corner "vessel", outside the field of view
        return (Image(width: 64, height: 64, colorModel: .rgb, samples: s.image),
                Image(width: 64, height: 64, colorModel: .gray, samples: manual),
                Image(width: 64, height: 64, colorModel: .gray, samples: s.fov.map { $0 ? 255 : 0 }), s)
    }

    /// A binary PPM (P6) of `image`, gzipped with the system's gzip when `gzipped`.
    func writePPM(_ image: Image, to path: String, gzipped: Bool) throws {
        let rgb = image.converted(to: .rgb)
        let bytes = Array("P6\n# written by a test\n\(rgb.width) \(rgb.height)\n255\n".utf8) + rgb.samples
        let plain = gzipped ? String(path.dropLast(3)) : path
        try Data(bytes).write(to: URL(fileURLWithPath: plain))
        guard gzipped else { return }
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gzip.arguments = ["-n", plain]
        try gzip.run()
        gzip.waitUntilExit()
        XCTAssertEqual(gzip.terminationStatus, 0)
    }

    /// Checks a sample's labels against the photo it was written from: vessel and background
    /// inside `inside`, ignored outside.
    func assertLabels(_ sample: Sample, _ p: (image: Image, manual: Image, fov: Image, truth: SyntheticFundusSample),
                      inside: [Bool], file: StaticString = #filePath, line: UInt = #line) {
        let expected: [Int32] = (0..<(64 * 64)).map { i in inside[i] ? (p.manual.samples[i] == 255 ? 1 : 0) : 255 }
        XCTAssertEqual(sample.label, expected, file: file, line: line)
        XCTAssertEqual(sample.label[0], 255, "a vessel outside the field of view is ignored", file: file, line: line)
        XCTAssertTrue(sample.label.contains(1), file: file, line: line)
    }

    // MARK: field of view

    /// The derived field of view of a synthetic photograph is its aperture, save for the few
    /// rim pixels darker than the threshold; specks outside are dropped and dark spots inside filled.
    func testDerivedFieldOfViewIsTheAperture() throws {
        for index in 0..<4 {
            let p = photo(index)
            let derived = FieldOfView.derived(from: p.image)
            let disagree = (0..<derived.count).filter { derived[$0] != p.truth.fov[$0] }
            XCTAssertLessThan(Double(disagree.count) / Double(p.truth.fov.filter { $0 }.count), 0.02, "image \(index)")
            XCTAssertTrue(disagree.allSatisfy { !derived[$0] }, "only rim pixels are left out")
        }
        // A 12x12 black image with a bright 8x8 square holding a dark 2x2 hole, and a bright speck.
        var samples = [UInt8](repeating: 0, count: 144 * 3)
        func set(_ x: Int, _ y: Int, _ v: UInt8) { for c in 0..<3 { samples[(y * 12 + x) * 3 + c] = v } }
        for y in 2..<10 { for x in 2..<10 { set(x, y, 200) } }
        for y in 5..<7 { for x in 5..<7 { set(x, y, 5) } }
        set(0, 11, 250)
        let fov = FieldOfView.derived(from: Image(width: 12, height: 12, colorModel: .rgb, samples: samples))
        XCTAssertEqual(fov, (0..<144).map { i in (2..<10).contains(i % 12) && (2..<10).contains(i / 12) })
        // A gray image is read by its gray value; an all-black one has no field of view.
        XCTAssertEqual(FieldOfView.derived(from: Image(width: 2, height: 1, colorModel: .gray, samples: [0, 90])), [false, true])
        XCTAssertEqual(FieldOfView.derived(from: Image(width: 2, height: 1, colorModel: .gray, samples: [0, 0])), [false, false])
    }

    // MARK: HRF

    func writeHRF(_ root: String, numbers: [Int] = [1, 2, 3, 4], categories: [String] = ["h", "g", "dr"]) throws {
        for folder in ["images", "manual1", "mask"] { try mkdir(root + "/" + folder) }
        for (k, category) in categories.enumerated() {
            for n in numbers {
                let stem = String(format: "%02d_%@", n, category), p = photo(k * 10 + n)
                // HRF mixes .JPG and .jpg.
                try ImageCodec.writePNG(p.image, to: "\(root)/images/\(stem).\(n % 2 == 0 ? "JPG" : "jpg")")
                try ImageCodec.writePNG(p.manual, to: "\(root)/manual1/\(stem).tif")
                try ImageCodec.writePNG(p.fov.converted(to: .rgb), to: "\(root)/mask/\(stem)_mask.tif")
            }
        }
    }

    func testHRFLayoutSplitsEachCategoryAndUsesItsMasks() throws {
        let root = temp + "/HRF"
        try writeHRF(root, numbers: Array(1...6))
        let (train, val) = try VesselBenchmark.hrf.splits(root: root)
        // A third of each category trains: 2 of 6 here, 5 of 15 in HRF.
        XCTAssertEqual(train.entries.map(\.name), ["01_dr", "02_dr", "01_g", "02_g", "01_h", "02_h"])
        XCTAssertEqual(val.entries.map(\.name).filter { $0.hasSuffix("_h") }, ["03_h", "04_h", "05_h", "06_h"])
        XCTAssertEqual(val.count, 12)
        XCTAssertEqual(train.entries[0].fov, root + "/mask/01_dr_mask.tif")
        XCTAssertEqual(train.entries[1].image, root + "/images/02_dr.JPG")
        let p = photo(2 * 10 + 1)
        assertLabels(try train.sample(0), p, inside: p.truth.fov)
        XCTAssertTrue(message { try train.secondObserver() }.hasSuffix("(HRF distributes one annotation per image)"))
        // With val_fraction, validation comes from the training images and the test set is apart.
        let held = try VesselBenchmark.hrf.splits(root: root, holdOut: .fraction(0.5))
        XCTAssertEqual(Set(held.train.entries.map(\.name) + held.val.entries.map(\.name)), Set(train.entries.map(\.name)))
        XCTAssertEqual(try VesselBenchmark.hrf.test(root: root).entries, val.entries)
    }

    func testHRFMissingPiecesAreListed() throws {
        let root = temp + "/HRF"
        try writeHRF(root)
        try FileManager.default.removeItem(atPath: root + "/manual1/02_g.tif")
        try FileManager.default.removeItem(atPath: root + "/mask/03_h_mask.tif")
        try ImageCodec.writePNG(photo(0).manual, to: root + "/manual1/09_dr.tif")
        XCTAssertEqual(message { try VesselBenchmark.hrf.splits(root: root) },
                       "\(root): no manual1/02_g.tif for images/02_g.JPG; no mask/03_h_mask.tif for images/03_h.jpg; "
                       + "manual1/09_dr.tif has no image")
        try FileManager.default.removeItem(atPath: root + "/mask")
        XCTAssertEqual(message { try VesselBenchmark.hrf.splits(root: root) },
                       "\(root): no mask/ folder; HRF is read as distributed: images/, manual1/ and mask/ "
                       + "(found images/, manual1/)")
        let one = temp + "/one"
        try writeHRF(one, numbers: [1], categories: ["h"])
        XCTAssertTrue(message { try VesselBenchmark.hrf.splits(root: one) }.contains("too few to split"))
    }

    // MARK: CHASE_DB1

    func writeCHASE(_ root: String, children: [Int] = [1, 2, 11]) throws {
        try mkdir(root)
        for child in children {
            for (e, eye) in ["L", "R"].enumerated() {
                let stem = String(format: "Image_%02d%@", child, eye), p = photo(child * 2 + e)
                try ImageCodec.writePNG(p.image, to: "\(root)/\(stem).jpg")
                try ImageCodec.writePNG(p.manual, to: "\(root)/\(stem)_1stHO.png")
                // The second observer drew every vessel pixel's right neighbour too.
                let wider = (0..<(64 * 64)).map { i in p.manual.samples[i] == 255 || (i % 64 > 0 && p.manual.samples[i - 1] == 255) ? UInt8(255) : 0 }
                try ImageCodec.writePNG(Image(width: 64, height: 64, colorModel: .gray, samples: wider),
                                        to: "\(root)/\(stem)_2ndHO.png")
            }
        }
    }

    func testCHASEDB1SplitsByChildAndDerivesTheFieldOfView() throws {
        let root = temp + "/CHASEDB1"
        try writeCHASE(root)
        let (train, val) = try VesselBenchmark.chaseDB1.splits(root: root)
        XCTAssertEqual(train.entries.map(\.name), ["Image_01L", "Image_01R", "Image_02L", "Image_02R"])
        XCTAssertEqual(val.entries.map(\.name), ["Image_11L", "Image_11R"])
        XCTAssertNil(train.entries[0].fov)
        let p = photo(2)
        assertLabels(try train.sample(0), p, inside: FieldOfView.derived(from: p.image))
        // The second observer's labels, same field of view.
        let second = try val.secondObserver()
        XCTAssertEqual(second.entries[0].manual, root + "/Image_11L_2ndHO.png")
        let first = try val.sample(0), other = try second.sample(0)
        XCTAssertEqual(first.label.map { $0 == 255 }, other.label.map { $0 == 255 })
        XCTAssertGreaterThan(other.label.filter { $0 == 1 }.count, first.label.filter { $0 == 1 }.count)
    }

    func testCHASEDB1MissingPiecesAreListed() throws {
        let root = temp + "/data"
        try writeCHASE(root + "/CHASEDB1")
        XCTAssertEqual(message { try VesselBenchmark.chaseDB1.splits(root: root) },
                       "\(root): no Image_NNL.jpg images; CHASE_DB1 is read as distributed, one folder of Image_01L.jpg, "
                       + "Image_01L_1stHO.png and Image_01L_2ndHO.png (did you mean data.root: \(root)/CHASEDB1?)")
        let chase = root + "/CHASEDB1"
        try FileManager.default.removeItem(atPath: chase + "/Image_02R_1stHO.png")
        try FileManager.default.removeItem(atPath: chase + "/Image_11L.jpg")
        try FileManager.default.removeItem(atPath: chase + "/Image_01L_2ndHO.png")
        XCTAssertEqual(message { try VesselBenchmark.chaseDB1.splits(root: chase) },
                       "\(chase): no Image_02R_1stHO.png for Image_02R.jpg; Image_11L_1stHO.png has no image; "
                       + "Image_11L_2ndHO.png has no image")
        try FileManager.default.removeItem(atPath: chase + "/Image_11L_1stHO.png")
        try FileManager.default.removeItem(atPath: chase + "/Image_11L_2ndHO.png")
        try FileManager.default.removeItem(atPath: chase + "/Image_02R.jpg")
        try FileManager.default.removeItem(atPath: chase + "/Image_02R_2ndHO.png")
        let (train, _) = try VesselBenchmark.chaseDB1.splits(root: chase)
        XCTAssertTrue(message { try train.secondObserver() }.hasPrefix("no second observer's annotation: \(chase)/Image_01L_2ndHO.png ("))
        let young = temp + "/young"
        try writeCHASE(young, children: [1])
        XCTAssertEqual(message { try VesselBenchmark.chaseDB1.splits(root: young) },
                       "\(young): no test (children 11-14) images; CHASE_DB1's first 20 images train and its last 8 test")
    }

    // MARK: STARE

    func writeSTARE(_ root: String, annotated: [Int] = [1, 2, 3, 4], gzipped: Bool = true) throws {
        for folder in ["stare-images", "labels-ah", "labels-vk"] { try mkdir(root + "/" + folder) }
        let gz = gzipped ? ".gz" : ""
        for n in annotated + [5] {
            let stem = String(format: "im%04d", n), p = photo(n)
            try writePPM(p.image, to: "\(root)/stare-images/\(stem).ppm\(gz)", gzipped: gzipped)
            guard n != 5 else { continue }  // most of STARE's 400 images have no annotation
            try writePPM(p.manual, to: "\(root)/labels-ah/\(stem).ah.ppm\(gz)", gzipped: gzipped)
            try writePPM(p.fov, to: "\(root)/labels-vk/\(stem).vk.ppm\(gz)", gzipped: gzipped)
        }
    }

    func testSTAREReadsGzippedPPMAndSplitsInHalves() throws {
        for gzipped in [true, false] {
            let root = temp + "/STARE-\(gzipped)"
            try writeSTARE(root, gzipped: gzipped)
            let (train, val) = try VesselBenchmark.stare.splits(root: root)
            XCTAssertEqual(train.entries.map(\.name), ["im0001", "im0002"])
            XCTAssertEqual(val.entries.map(\.name), ["im0003", "im0004"])
            XCTAssertEqual(train.entries[0].manual, root + "/labels-ah/im0001.ah.ppm" + (gzipped ? ".gz" : ""))
            let p = photo(1), sample = try train.sample(0)
            assertLabels(sample, p, inside: FieldOfView.derived(from: p.image))
            XCTAssertEqual(sample.image, p.image.samples.map { Float($0) / 255 })
            // Kouznetsova's annotations here are the aperture itself: vessel wherever it is not ignored.
            let second = try train.secondObserver().sample(0)
            XCTAssertEqual(second.label.filter { $0 == 0 }.count, 0)
        }
    }

    func testSTAREMissingPiecesAreLocated() throws {
        let root = temp + "/STARE"
        try writeSTARE(root)
        try FileManager.default.removeItem(atPath: root + "/stare-images/im0003.ppm.gz")
        XCTAssertEqual(message { try VesselBenchmark.stare.splits(root: root) },
                       "\(root): labels-ah/ annotates images not in stare-images/: im0003.ah.ppm.gz")
        try FileManager.default.removeItem(atPath: root + "/stare-images")
        XCTAssertEqual(message { try VesselBenchmark.stare.splits(root: root) },
                       "\(root): no stare-images/ folder; STARE is read as distributed: stare-images/, labels-ah/ and "
                       + "labels-vk/, the tar files unpacked (found labels-ah/, labels-vk/)")
        // A truncated gzip file is named when its sample is read.
        let other = temp + "/other"
        try writeSTARE(other)
        let path = other + "/labels-ah/im0001.ah.ppm.gz"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: path))
        let (train, _) = try VesselBenchmark.stare.splits(root: other)
        XCTAssertEqual(message { try train.sample(0) }, "\(path): truncated gzip file")
    }

    // MARK: through the runner

    /// `dataset: chase_db1` trains through the runner, and `runexp`'s library calls for the
    /// test split and the second observer read CHASE_DB1's.
    func testCHASEDB1TrainsAndItsObserverScores() throws {
        let root = temp + "/CHASEDB1"
        try writeCHASE(root, children: [1, 2, 11, 12])
        let yaml = """
            name: tiny
            data: {dataset: chase_db1, root: \(root), crop: 32, val_fraction: 0.25}
            model: {name: unet, base_c: 4, upsample: bilinear}
            schedule: {epochs: 1, batch_size: 2, warmup: {epochs: 0}}
            """
        let experiment = try Experiment.parse(yaml, file: "tiny.yaml", options: ConfigOptions(checkPaths: false))
        let sweep = SweepRunner(experiment: experiment, options: SweepOptions(resultsRoot: temp + "/r"),
                                reporter: ProgressReporter(live: false, write: { _ in }))
        XCTAssertEqual(try sweep.run().0, 0)
        let config = experiment.runs[0].config
        XCTAssertEqual(config.data.effectiveClassNames, ["background", "vessel"])
        let locations = experiment.runs[0].locations
        let test = try Evaluation.dataset(config, at: locations, split: .test, splits: nil)
        XCTAssertEqual((test as? VesselDataset)?.entries.map(\.name), ["Image_11L", "Image_11R", "Image_12L", "Image_12R"])
        let observer = try Evaluation.observer(config: config, at: locations, split: .test)
        XCTAssertGreaterThan(observer.dice, 0.5)
        XCTAssertLessThan(observer.dice, 1)
    }
}
