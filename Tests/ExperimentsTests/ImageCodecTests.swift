import Foundation
import XCTest
@testable import Experiments

/// Decoders against files whose pixels are known independently of the C libraries
/// (tools/fixtures/images.py: our own PNG/TIFF encoders, Pillow's decoders), the PNG writer
/// by round trips, error handling on truncated and byte-flipped copies, and the real DRIVE
/// files when the shared copy is present.
final class ImageCodecTests: XCTestCase {
    struct Expected: Decodable {
        let width: Int
        let height: Int
        let model: String
        let bitDepth: Int
        let samples: [Int]
        let samples16: [Int]?
        let palette: [[Int]]?
        let conversions: [String: [Int]]?
    }

    static let folder = Bundle.module.resourcePath! + "/Fixtures/Images"

    static let expected: [String: Expected] = {
        let data = FileManager.default.contents(atPath: folder + "/expected.json")!
        return try! JSONDecoder().decode([String: Expected].self, from: data)
    }()

    /// Fresh folder for files a test writes, removed afterwards.
    /// Checks a decoded fixture against expected.json. `tolerance` bounds |decoded - expected|
    /// per 8-bit sample (0 = exact).
    func check(_ name: String, tolerance: Int = 0, file: StaticString = #filePath, line: UInt = #line) throws {
        let want = try XCTUnwrap(Self.expected[name], "no expected values for \(name)")
        let image = try ImageCodec.read(Self.folder + "/" + name)
        XCTAssertEqual(image.width, want.width, name, file: file, line: line)
        XCTAssertEqual(image.height, want.height, name, file: file, line: line)
        XCTAssertEqual(image.colorModel.rawValue, want.model, name, file: file, line: line)
        XCTAssertEqual(image.bitDepth, want.bitDepth, name, file: file, line: line)
        let got = image.samples.map(Int.init)
        XCTAssertEqual(got.count, want.samples.count, name, file: file, line: line)
        let worst = zip(got, want.samples).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, tolerance, "\(name): largest sample difference", file: file, line: line)
        if let want16 = want.samples16 {
            XCTAssertEqual(image.samples16?.map(Int.init), want16, "\(name): 16-bit samples", file: file, line: line)
        } else {
            XCTAssertNil(image.samples16, name, file: file, line: line)
        }
        let palette = image.palette.map { [Int($0.red), Int($0.green), Int($0.blue), Int($0.alpha)] }
        XCTAssertEqual(palette, want.palette ?? [], "\(name): palette", file: file, line: line)
        for (target, values) in want.conversions ?? [:] {
            let model = try XCTUnwrap(Image.ColorModel(rawValue: target))
            XCTAssertEqual(image.converted(to: model).samples.map(Int.init), values,
                           "\(name) converted to \(target) differs from Pillow", file: file, line: line)
        }
    }

    // MARK: decoding

    /// Every PNG layout, exact. palette8.png is the VOC case: a shuffled 256-colour palette
    /// with tRNS, so an index that libpng re-mapped to its colour order would show up.
    func testPNGFixturesDecodeExactly() throws {
        for name in ["palette8.png", "palette4.png", "gray1.png", "gray2.png", "gray4.png", "gray16.png", "rgb16.png",
                     "graya8.png", "rgba8.png", "rgb8_interlaced.png", "gamma.png"] {
            try check(name)
        }
        let voc = try ImageCodec.read(Self.folder + "/palette8.png")
        XCTAssertEqual(voc.colorModel, .indexed)
        XCTAssertTrue(voc.samples.contains(255), "the ignore index survives")
        XCTAssertEqual(voc.labelValues(), Self.expected["palette8.png"]!.samples.map(Int32.init))
    }

    /// 16-bit RGBA comes from libpng premultiplied: exact where alpha is 65535, and within
    /// 32768 / alpha (plus rounding) elsewhere; alpha itself is exact; alpha 0 reads colour 0.
    func testPNG16BitAlphaIsExactWhereOpaque() throws {
        let want = Self.expected["rgba16.png"]!
        let image = try ImageCodec.read(Self.folder + "/rgba16.png")
        let got = try XCTUnwrap(image.samples16).map(Int.init)
        let truth = try XCTUnwrap(want.samples16)
        for p in 0..<(image.width * image.height) {
            let alpha = truth[4 * p + 3]
            XCTAssertEqual(got[4 * p + 3], alpha)
            for c in 0..<3 {
                let (g, t) = (got[4 * p + c], truth[4 * p + c])
                switch alpha {
                case 65535: XCTAssertEqual(g, t, "pixel \(p) channel \(c)")
                case 0: XCTAssertEqual(g, 0, "pixel \(p) channel \(c)")
                default: XCTAssertLessThanOrEqual(abs(g - t), 32768 / alpha + 1, "pixel \(p) channel \(c), alpha \(alpha)")
                }
            }
        }
    }

    /// TurboJPEG against Pillow's libjpeg-turbo with the same IDCT and upsampling: the
    /// decoders are the same code, so the pixels agree exactly (CMYK included, through
    /// Pillow's conversion formula).
    func testJPEGFixturesMatchPillow() throws {
        for name in ["rgb.jpg", "progressive.jpg", "gray.jpg", "cmyk.jpg"] { try check(name) }
    }

    /// Strips, tiles, LZW/deflate/CCITT G4, big-endian, 1/4/8/16 bits, palette, min-is-white,
    /// both kinds of alpha, exact; CMYK, planar and orientation go through libtiff's RGBA
    /// interface (CMYK within 1: libtiff truncates where Pillow rounds).
    func testTIFFFixturesDecode() throws {
        for name in ["rgb_deflate.tif", "gray16_lzw.tif", "bilevel_g4.tif", "palette.tif", "rgba.tif",
                     "miniswhite4.tif", "tiled16.tif", "planar.tif", "orientation3.tif", "rgba_assoc.tif"] {
            try check(name)
        }
        try check("cmyk.tif", tolerance: 1)
    }

    /// GIFs come back as indices + palette (transparent index alpha 0), de-interlaced.
    func testGIFFixturesDecode() throws {
        try check("palette.gif")
        try check("mask.gif")
        let mask = try ImageCodec.read(Self.folder + "/mask.gif")
        XCTAssertEqual(mask.converted(to: .gray).samples.map(Int.init),
                       Self.expected["mask.gif"]!.samples.map { $0 * 255 }, "gray values of a black/white palette")
    }

    /// Data loaders decode on several threads at once: no decoder may share state between
    /// calls (libtiff's handlers, TurboJPEG's error string, giflib's reader).
    func testConcurrentDecodingGivesTheSameImages() throws {
        let names = Self.expected.keys.sorted()
        let sequential = try names.map { try ImageCodec.read(Self.folder + "/" + $0) }
        let lock = NSLock()
        var mismatches: [String] = []
        DispatchQueue.concurrentPerform(iterations: names.count * 8) { i in
            let name = names[i % names.count]
            let image = try? ImageCodec.read(Self.folder + "/" + name)
            // Damaged copies in between exercise the error paths concurrently too.
            let bytes = [UInt8](FileManager.default.contents(atPath: Self.folder + "/" + name) ?? Data())
            _ = try? ImageCodec.decode(Array(bytes.prefix(bytes.count / 2)), name: name)
            if image != sequential[i % names.count] {
                lock.lock()
                mismatches.append(name)
                lock.unlock()
            }
        }
        XCTAssertEqual(mismatches, [])
    }

    func testFormatIsChosenBySignatureNotName() throws {
        let dir = try temporaryFolder()
        let bytes = try XCTUnwrap(FileManager.default.contents(atPath: Self.folder + "/palette4.png"))
        try bytes.write(to: URL(fileURLWithPath: dir + "/labels.jpg"))
        let image = try ImageCodec.read(dir + "/labels.jpg")
        XCTAssertEqual(image.colorModel, .indexed)
        XCTAssertEqual(image.samples.map(Int.init), Self.expected["palette4.png"]!.samples)
    }

    func testLabelValues() throws {
        let gray16 = try ImageCodec.read(Self.folder + "/gray16.png")
        XCTAssertEqual(gray16.labelValues(), Self.expected["gray16.png"]!.samples16!.map(Int32.init), "exact 16-bit ids")
        XCTAssertEqual(try ImageCodec.read(Self.folder + "/gamma.png").labelValues(),
                       Self.expected["gamma.png"]!.samples.map(Int32.init))
        XCTAssertNil(try ImageCodec.read(Self.folder + "/rgb.jpg").labelValues())
    }

    /// Well-known entries of the VOC colour map (background, aeroplane, bicycle, person, ignore).
    func testVOCColorMap() {
        let map = Image.Color.vocColorMap
        XCTAssertEqual(map.count, 256)
        XCTAssertEqual(map[0], Image.Color(0, 0, 0))
        XCTAssertEqual(map[1], Image.Color(128, 0, 0))
        XCTAssertEqual(map[2], Image.Color(0, 128, 0))
        XCTAssertEqual(map[15], Image.Color(192, 128, 128))
        XCTAssertEqual(map[255], Image.Color(224, 224, 192))
    }

    // MARK: writing

    func testWritePNGRoundTripsEveryModel() throws {
        let dir = try temporaryFolder()
        var rng = SystemRandomNumberGenerator()
        func random(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) } }
        let (w, h) = (13, 7)
        var images: [Image] = [
            Image(width: w, height: h, colorModel: .gray, samples: random(w * h)),
            Image(width: w, height: h, colorModel: .grayAlpha, samples: random(w * h * 2)),
            Image(width: w, height: h, colorModel: .rgb, samples: random(w * h * 3)),
            Image(width: w, height: h, colorModel: .rgba, samples: random(w * h * 4)),
            // A prediction: class ids with the ignore index, VOC colours.
            Image(width: w, height: h, colorModel: .indexed,
                  samples: (0..<(w * h)).map { $0 % 9 == 0 ? 255 : UInt8($0 % 21) }, palette: Image.Color.vocColorMap),
        ]
        // A three-colour palette with a translucent entry: written at 2 bits with tRNS.
        images.append(Image(width: w, height: h, colorModel: .indexed, samples: (0..<(w * h)).map { UInt8($0 % 3) },
                            palette: [Image.Color(10, 20, 30), Image.Color(200, 100, 0, alpha: 128), Image.Color(1, 2, 3)]))
        for (i, image) in images.enumerated() {
            let path = dir + "/\(i).png"
            try ImageCodec.writePNG(image, to: path)
            let back = try ImageCodec.read(path)
            XCTAssertEqual(back.colorModel, image.colorModel, "image \(i)")
            XCTAssertEqual(back.samples, image.samples, "image \(i)")
            XCTAssertEqual(back.palette, image.palette, "image \(i)")
        }
        XCTAssertEqual(try ImageCodec.read(dir + "/5.png").bitDepth, 2, "small palettes are packed")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), (0..<6).map { "\($0).png" },
                       "no temporary files left behind")
    }

    func testWritePNGErrors() throws {
        let dir = try temporaryFolder()
        let image = Image(width: 2, height: 1, colorModel: .indexed, samples: [0, 5], palette: [Image.Color(0, 0, 0)])
        XCTAssertThrowsError(try ImageCodec.writePNG(image, to: dir + "/bad.png")) { error in
            XCTAssertEqual("\(error)", "\(dir)/bad.png: cannot write PNG: palette index 5 is past the end of the 1-colour palette")
        }
        let gray = Image(width: 1, height: 1, colorModel: .gray, samples: [7])
        XCTAssertThrowsError(try ImageCodec.writePNG(gray, to: dir + "/missing/x.png")) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(dir)/missing/x.png: cannot create a temporary file in \(dir)/missing: "), "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [])
        // Replacing an existing file is atomic rename, not an error.
        try ImageCodec.writePNG(gray, to: dir + "/x.png")
        try ImageCodec.writePNG(Image(width: 1, height: 1, colorModel: .gray, samples: [9]), to: dir + "/x.png")
        XCTAssertEqual(try ImageCodec.read(dir + "/x.png").samples, [9])
    }

    // MARK: errors

    /// Reads `bytes` from a file named `name` and returns the error message (nil if it decoded).
    func message(_ bytes: [UInt8], name: String, in dir: String) -> String? {
        let path = dir + "/" + name
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        do {
            _ = try ImageCodec.read(path)
            return nil
        } catch {
            return "\(error)"
        }
    }

    func fixtureBytes(_ name: String) throws -> [UInt8] {
        [UInt8](try XCTUnwrap(FileManager.default.contents(atPath: Self.folder + "/" + name)))
    }

    func testTruncatedFilesNameTheFileAndTheProblem() throws {
        let dir = try temporaryFolder()
        // Each cut lands in the pixel data (PNG, JPEG, GIF) or in the tag list (TIFF: Pillow
        // writes it after the pixels).
        for (fixture, cut, want) in [
            ("palette8.png", 20, "truncated PNG: file ends inside chunk IDAT (51 of its 59 bytes present) (libpng: read beyond end of data)"),
            ("rgb.jpg", 60, "truncated JPEG: the file ends inside the image data (libjpeg: Premature end of JPEG file)"),
            ("rgb.jpg", 400, "truncated JPEG: the file ends without an end-of-image marker (libjpeg: "),
            ("rgb_deflate.tif", 60, "truncated TIFF: the image directory at byte 182 (10 tags) runs past the end of the file (254 bytes)"),
            ("palette.gif", 60, "truncated GIF: the file ends before the image is complete"),
        ] {
            let bytes = try fixtureBytes(fixture)
            let name = "cut-" + fixture
            let text = message(Array(bytes.dropLast(cut)), name: name, in: dir)
            XCTAssertTrue(text?.hasPrefix("\(dir)/\(name): \(want)") == true, "\(fixture): \(text ?? "decoded")")
        }
    }

    func testDamagedHeadersAreReported() throws {
        let dir = try temporaryFolder()
        func damaged(_ fixture: String, _ at: Int, _ value: UInt8) throws -> String? {
            var bytes = try fixtureBytes(fixture)
            bytes[at] = value
            return message(bytes, name: "bad-" + fixture, in: dir)
        }
        // PNG: the IHDR width no longer matches the chunk's CRC.
        XCTAssertEqual(try damaged("rgba8.png", 17, 0x44), "\(dir)/bad-rgba8.png: corrupt PNG header: IHDR: CRC error")
        // JPEG: the SOF0 marker becomes an unknown one.
        let jpeg = try fixtureBytes("rgb.jpg")
        let sof = try XCTUnwrap((0..<(jpeg.count - 1)).first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 })
        let jpegText = try damaged("rgb.jpg", sof + 1, 0x01)
        XCTAssertTrue(jpegText?.hasPrefix("\(dir)/bad-rgb.jpg: corrupt JPEG: ") == true, jpegText ?? "decoded")
        // TIFF: the first directory offset points past the end; the directory has no tags.
        XCTAssertEqual(try damaged("rgb_deflate.tif", 7, 0x7F), "\(dir)/bad-rgb_deflate.tif: truncated or corrupt TIFF: "
                       + "the image directory offset 2130706614 is past the end of the file (314 bytes)")
        let tiffText = try damaged("rgb_deflate.tif", 182, 0)
        XCTAssertTrue(tiffText?.hasPrefix("\(dir)/bad-rgb_deflate.tif: cannot open TIFF (libtiff: ") == true, tiffText ?? "decoded")
        // GIF: an image descriptor separator becomes an unknown record type.
        let gif = try fixtureBytes("mask.gif")
        let descriptor = try XCTUnwrap((13..<gif.count).first { gif[$0] == 0x2C })
        let gifText = try damaged("mask.gif", descriptor, 0x55)
        XCTAssertTrue(gifText?.hasPrefix("\(dir)/bad-mask.gif: corrupt GIF: ") == true, gifText ?? "decoded")
    }

    func testFilesThatAreNotImages() throws {
        let dir = try temporaryFolder()
        XCTAssertEqual(message([], name: "empty.png", in: dir), "\(dir)/empty.png: empty file")
        XCTAssertEqual(message(Array("hello, world".utf8), name: "text.png", in: dir),
                       "\(dir)/text.png: not a PNG, JPEG, TIFF, GIF or PNM file (it starts with bytes 68 65 6c 6c 6f 2c 20 77)")
        XCTAssertEqual(message(Array("BM\u{0}\u{0}\u{0}\u{0}".utf8), name: "a.bmp", in: dir),
                       "\(dir)/a.bmp: unsupported image format (BMP); convert it to PNG")
        XCTAssertThrowsError(try ImageCodec.read(dir + "/nothing.png")) { error in
            XCTAssertEqual("\(error)", "\(dir)/nothing.png: cannot open: No such file or directory")
        }
        XCTAssertThrowsError(try ImageCodec.read(dir)) { error in
            XCTAssertEqual("\(error)", "\(dir): not a regular file")
        }
    }

    /// Every prefix and every single-byte flip of every fixture either decodes or throws a
    /// one-line `ImageError`; none crashes, and no library writes to stderr meanwhile.
    func testEveryTruncationAndByteFlipFailsCleanly() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.folder).filter { $0 != "expected.json" }.sorted()
        XCTAssertEqual(names.count, Self.expected.count)
        var (decoded, failed) = (0, 0)
        let stderrText = try capturingStderr {
            for name in names {
                let bytes = try fixtureBytes(name)
                var variants: [[UInt8]] = (0..<bytes.count).map { Array(bytes.prefix($0)) }
                for i in bytes.indices {
                    var flipped = bytes
                    flipped[i] ^= 0xFF
                    variants.append(flipped)
                }
                for variant in variants {
                    do {
                        _ = try ImageCodec.decode(variant, name: name)
                        decoded += 1
                    } catch let error as ImageError {
                        failed += 1
                        XCTAssertTrue(error.description.hasPrefix(name + ": "), error.description)
                        XCTAssertFalse(error.description.contains("\n"), error.description)
                    }
                }
            }
        }
        XCTAssertEqual(stderrText, "", "libraries wrote to stderr")
        XCTAssertGreaterThan(failed, decoded, "most damaged files must be refused")
    }

    /// The stderr check above is not vacuous: C-level writes are seen.
    func testStderrCaptureSeesLibraryOutput() throws {
        XCTAssertEqual(try capturingStderr { fputs("from C\n", stderr) }, "from C\n")
    }

    /// Runs `body` with file descriptor 2 sent to a temporary file; returns what was written.
    func capturingStderr(_ body: () throws -> Void) throws -> String {
        let path = NSTemporaryDirectory() + "runexp-stderr-\(UUID().uuidString)"
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o600)
        XCTAssertGreaterThanOrEqual(fd, 0)
        let saved = dup(2)
        fflush(stderr)
        dup2(fd, 2)
        defer {
            fflush(stderr)
            dup2(saved, 2)
            close(saved)
            close(fd)
            unlink(path)
        }
        try body()
        fflush(stderr)
        return String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
    }

    // MARK: DRIVE

    /// `../shared/data/DRIVE` beside the package, or skip.
    func driveFolder() throws -> String {
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let drive = package.deletingLastPathComponent().appendingPathComponent("shared/data/DRIVE").path
        guard FileManager.default.fileExists(atPath: drive + "/training/images/21_training.tif") else {
            throw XCTSkip("no DRIVE copy at \(drive)")
        }
        return drive
    }

    /// Reference values from Pillow on the same files (LZW RGB TIFF, gray-ramp palette GIFs).
    func testDRIVETrainingImage21() throws {
        let drive = try driveFolder()
        let image = try ImageCodec.read(drive + "/training/images/21_training.tif")
        XCTAssertEqual([image.width, image.height], [565, 584])
        XCTAssertEqual(image.colorModel, .rgb)
        var sums = [0, 0, 0]
        for (i, v) in image.samples.enumerated() { sums[i % 3] += Int(v) }
        XCTAssertEqual(sums, [45_774_389, 27_315_295, 17_944_183])
        XCTAssertEqual([image[x: 282, y: 292, c: 0], image[x: 282, y: 292, c: 1], image[x: 282, y: 292, c: 2]], [199, 110, 66])
        XCTAssertEqual([image[x: 400, y: 100, c: 0], image[x: 400, y: 100, c: 1], image[x: 400, y: 100, c: 2]], [159, 114, 81])

        let manual = try ImageCodec.read(drive + "/training/1st_manual/21_manual1.gif").converted(to: .gray)
        let mask = try ImageCodec.read(drive + "/training/mask/21_training_mask.gif").converted(to: .gray)
        XCTAssertEqual([manual.width, manual.height, mask.width, mask.height], [565, 584, 565, 584])
        XCTAssertEqual(Set(manual.samples), [0, 255])
        XCTAssertEqual(Set(mask.samples), [0, 255])
        let vessel = manual.samples.filter { $0 == 255 }.count
        let fov = mask.samples.filter { $0 == 255 }.count
        let outside = zip(manual.samples, mask.samples).filter { $0 == 255 && $1 == 0 }.count
        XCTAssertEqual([vessel, fov, outside], [24_658, 225_600, 8])
        let fraction = Double(vessel) / Double(fov)
        XCTAssertTrue((0.08...0.14).contains(fraction), "vessel fraction of the FOV \(fraction)")
    }

    /// The second observer's annotations are palette indices 0/1 with off-gray colours:
    /// the indices must survive.
    func testDRIVESecondObserverKeepsIndices() throws {
        let drive = try driveFolder()
        let path = drive + "/test/2nd_manual/01_manual2.gif"
        guard FileManager.default.fileExists(atPath: path) else { throw XCTSkip("no \(path)") }
        let image = try ImageCodec.read(path)
        XCTAssertEqual(image.colorModel, .indexed)
        XCTAssertEqual(Set(image.samples), [0, 1])
        XCTAssertEqual(image.samples.filter { $0 == 1 }.count, 28_848)
        XCTAssertEqual(Array(image.palette.prefix(2)), [Image.Color(4, 2, 4), Image.Color(252, 254, 252)])
        XCTAssertEqual(image.palette.count, 256)
    }

    /// Every file of the shared copy decodes at DRIVE's size.
    func testDRIVEEveryFileDecodes() throws {
        let drive = try driveFolder()
        let files = FileManager.default.enumerator(atPath: drive)!.compactMap { $0 as? String }
            .filter { $0.hasSuffix(".tif") || $0.hasSuffix(".gif") }
        XCTAssertEqual(files.count, 140, "SOURCE.txt lists 140 image files")
        for file in files {
            let image = try ImageCodec.read(drive + "/" + file)
            XCTAssertEqual([image.width, image.height], [565, 584], file)
            XCTAssertEqual(image.colorModel, file.hasSuffix(".tif") ? .rgb : .indexed, file)
        }
    }

    /// Binary PNM: P6 RGB and P5 gray, comments in the header, maxval below 255 rescaled as
    /// Pillow does, 16-bit big-endian samples kept exact; other kinds and short data are errors.
    func testPNM() throws {
        let rgb = try ImageCodec.decode(Array("P6 # comment\n2 1\n255\n".utf8) + [1, 2, 3, 250, 251, 252], name: "a.ppm")
        XCTAssertEqual(rgb, Image(width: 2, height: 1, colorModel: .rgb, samples: [1, 2, 3, 250, 251, 252]))
        let small = try ImageCodec.decode(Array("P5\n3 1\n15\n".utf8) + [0, 15, 7], name: "b.pgm")
        XCTAssertEqual(small.samples, [0, 255, 119])
        let wide = try ImageCodec.decode(Array("P5\n2 1\n65535\n".utf8) + [0x12, 0x34, 0xFF, 0xFF], name: "c.pgm")
        XCTAssertEqual(wide.samples16, [0x1234, 0xFFFF])
        func error(_ bytes: [UInt8]) -> String {
            do { _ = try ImageCodec.decode(bytes, name: "x.ppm"); return "no error" } catch { return "\(error)" }
        }
        XCTAssertEqual(error(Array("P6\n2 2\n255\n".utf8) + [1, 2, 3]), "x.ppm: truncated PNM: 3 of 12 sample bytes")
        XCTAssertEqual(error(Array("P3\n1 1\n255\n1 2 3\n".utf8)),
                       "x.ppm: PNM kind P3 is not supported (binary P5 gray and P6 RGB are); convert it to PNG")
        XCTAssertEqual(error(Array("P6\n2 x\n".utf8)), "x.ppm: corrupt PNM header: no height")
        XCTAssertEqual(error([0x1F, 0x8B, 0x08, 0x00]), "x.ppm: truncated gzip file")
    }
}
