import Foundation
import XCTest
@testable import Experiments
@testable import Nets

/// The file-based datasets (`drive`, `folder`, `voc`): layouts, pairing, label rules, splits,
/// statistics, and training through the runner. Trees are written to a temporary folder with
/// `ImageCodec.writePNG` (the codec reads by content, so a PNG may stand in for a `.tif` or
/// `.gif`); the DRIVE tests that need real files use the shared copy and skip without it.
final class DatasetTests: XCTestCase {
    var temp = ""

    override func setUpWithError() throws {
        temp = NSTemporaryDirectory() + "runexp-datasets-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: temp, withIntermediateDirectories: true)
        Interrupt.reset()
    }

    override func tearDown() {
        Interrupt.reset()
        try? FileManager.default.removeItem(atPath: temp)
    }

    // MARK: helpers

    /// `../shared/data/DRIVE` beside the package, or skip.
    func sharedDrive() throws -> String {
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let drive = package.deletingLastPathComponent().appendingPathComponent("shared/data/DRIVE").path
        guard DataFiles.isDirectory(drive + "/training/images") else { throw XCTSkip("no DRIVE copy at \(drive)") }
        return drive
    }

    func mkdir(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func gray(_ values: [UInt8], width: Int) -> Image {
        Image(width: width, height: values.count / width, colorModel: .gray, samples: values)
    }

    /// A palette mask with the VOC colours, as VOC's SegmentationClass PNGs are stored.
    func palette(_ values: [UInt8], width: Int) -> Image {
        Image(width: width, height: values.count / width, colorModel: .indexed, samples: values,
              palette: Image.Color.vocColorMap)
    }

    /// An RGB image whose every sample is `value` (recognisable after pairing).
    func rgb(_ value: UInt8, width: Int = 4, height: Int = 3) -> Image {
        Image(width: width, height: height, colorModel: .rgb, samples: Array(repeating: value, count: width * height * 3))
    }

    /// `images/` + `masks/` with one pair per stem: image all `value`, mask all `value % classes`.
    func writeFolder(_ root: String, stems: [(String, imageExt: String, maskExt: String, value: UInt8)],
                     classes: UInt8 = 2) throws {
        try mkdir(root + "/images")
        try mkdir(root + "/masks")
        for (stem, ie, me, v) in stems {
            try ImageCodec.writePNG(rgb(v), to: "\(root)/images/\(stem).\(ie)")
            try ImageCodec.writePNG(gray(Array(repeating: v % classes, count: 12), width: 4), to: "\(root)/masks/\(stem).\(me)")
        }
    }

    func message(_ body: () throws -> Any) -> String {
        do {
            _ = try body()
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    // MARK: DRIVE on the shared copy

    /// 20 + 20 images of 565×584 and, for image 21, the recipe's pixel counts computed with
    /// PIL/numpy (`clip(manual/255 + 255 - fov, 0, 255)`): 24,650 vessel and 200,950 background
    /// pixels make the 225,600 of the FOV; the manual's 24,658 vessel pixels include 8 outside
    /// the FOV, which are ignored like the rest of the 104,360 outside it.
    func testDriveOnTheSharedCopy() throws {
        let root = try sharedDrive()
        let (train, val) = try DriveDataset.splits(root: root)
        XCTAssertEqual(train.count, 20)
        XCTAssertEqual(val.count, 20)
        XCTAssertEqual(train.entries.first?.name, "21_training")
        XCTAssertEqual(train.entries.last?.name, "40_training")
        XCTAssertEqual(val.entries.first?.name, "01_test")
        XCTAssertEqual(val.entries.first?.fov, root + "/test/mask/01_test_mask.gif")

        let s = try train.sample(0)
        XCTAssertEqual([s.width, s.height, s.channels], [565, 584, 3])
        var counts: [Int32: Int] = [:]
        for v in s.label { counts[v, default: 0] += 1 }
        XCTAssertEqual(counts, [1: 24_650, 0: 200_950, 255: 104_360])
        // The manual's own vessel count: inside plus outside the FOV.
        let manual = try ImageCodec.read(train.entries[0].manual).converted(to: .gray)
        XCTAssertEqual(manual.samples.filter { $0 == 255 }.count, 24_658)
        // The image pixels are the TIFF's bytes / 255.
        let tiff = try ImageCodec.read(train.entries[0].image)
        XCTAssertEqual(s.image[0..<300], ArraySlice(tiff.samples[0..<300].map { Float($0) / 255 }))

        // Every sample of both splits decodes at DRIVE's size with labels 0, 1 or 255.
        for dataset in [train, val] {
            for i in 0..<dataset.count {
                let sample = try dataset.sample(i)
                XCTAssertEqual(sample.size, ImageSize(height: 584, width: 565), dataset.entries[i].name)
                XCTAssertTrue(sample.label.allSatisfy { $0 == 0 || $0 == 1 || $0 == 255 })
            }
        }
    }

    /// FOV statistics of the training images against numpy on the same files (float64, the
    /// recipe's `compute_mean_std.py`: 0.708569 0.381459 0.223930 / 0.126932 0.079286 0.043065),
    /// to 1e-6 (Float32 pixel values / 255 against float64), and against the recipe's rounded
    /// defaults (0.709, 0.381, 0.224) / (0.127, 0.079, 0.043) to 5e-4. Pooled numpy values:
    /// 0.708747 0.381479 0.223948 / 0.181205 0.114242 0.068858.
    func testDriveMeanStdOverTheFieldOfView() throws {
        let (train, _) = try DriveDataset.splits(root: try sharedDrive())
        let perImage = try DatasetStatistics.meanStd(train)
        let numpyMean = [0.708569, 0.38145922, 0.22392976], numpyStd = [0.12693249, 0.07928617, 0.04306455]
        for k in 0..<3 {
            XCTAssertEqual(perImage.mean[k], numpyMean[k], accuracy: 1e-6)
            XCTAssertEqual(perImage.std[k], numpyStd[k], accuracy: 1e-6)
            XCTAssertEqual(perImage.mean[k], DataConfig().mean[k], accuracy: 5e-4)
            XCTAssertEqual(perImage.std[k], DataConfig().std[k], accuracy: 5e-4)
        }
        let pooled = try DatasetStatistics.meanStd(train, method: .pooled)
        let pooledMean = [0.70874676, 0.38147947, 0.22394753], pooledStd = [0.18120507, 0.11424172, 0.06885774]
        for k in 0..<3 {
            XCTAssertEqual(pooled.mean[k], pooledMean[k], accuracy: 1e-6)
            XCTAssertEqual(pooled.std[k], pooledStd[k], accuracy: 1e-6)
        }
    }

    // MARK: DRIVE layout on a small fake tree

    /// A DRIVE-like tree of 5×4 images: numbers `training`, `test` get all three files.
    func writeDrive(_ root: String, training: [Int], test: [Int] = [1],
                    manual: [UInt8]? = nil, fov: [UInt8]? = nil) throws {
        for (split, numbers) in [("training", training), ("test", test)] {
            for kind in ["images", "1st_manual", "mask"] { try mkdir("\(root)/\(split)/\(kind)") }
            for n in numbers {
                let nn = n < 10 ? "0\(n)" : "\(n)"
                try ImageCodec.writePNG(rgb(UInt8(n), width: 5, height: 4), to: "\(root)/\(split)/images/\(nn)_\(split).tif")
                try ImageCodec.writePNG(palette(manual ?? Array(repeating: 0, count: 20), width: 5),
                                        to: "\(root)/\(split)/1st_manual/\(nn)_manual1.gif")
                try ImageCodec.writePNG(gray(fov ?? Array(repeating: 255, count: 20), width: 5),
                                        to: "\(root)/\(split)/mask/\(nn)_\(split)_mask.gif")
            }
        }
    }

    /// Labels equal the recipe's arithmetic, evaluated here on the 0/255 masks: a vessel pixel
    /// outside the FOV is ignored, not vessel.
    func testDriveLabelsFollowTheRecipe() throws {
        let root = temp + "/DRIVE"
        // The manual as DRIVE's GIFs are: a palette image whose colours, not indices, are 0/255.
        let manual: [UInt8] = (0..<20).map { [0, 3, 7, 12, 19].contains($0) ? 1 : 0 }
        let fov: [UInt8] = (0..<20).map { $0 % 5 == 0 || $0 >= 18 ? 0 : 255 }
        try writeDrive(root, training: [21, 22], fov: fov)
        try ImageCodec.writePNG(Image(width: 5, height: 4, colorModel: .indexed, samples: manual,
                                      palette: [Image.Color(0, 0, 0), Image.Color(255, 255, 255)]),
                                to: root + "/training/1st_manual/22_manual1.gif")
        let (train, val) = try DriveDataset.splits(root: root)
        XCTAssertEqual(train.entries.map(\.name), ["21_training", "22_training"])
        XCTAssertEqual(val.entries.map(\.name), ["01_test"])
        // clip(manual / 255 + (255 - fov), 0, 255) on the 0/255 gray values.
        let expected: [Int32] = (0..<20).map { i in Int32(min(255, Int(manual[i]) * 255 / 255 + 255 - Int(fov[i]))) }
        let s = try train.sample(1)
        XCTAssertEqual(s.label, expected)
        XCTAssertEqual(s.label[0], 255, "vessel outside the FOV is ignored")
        XCTAssertEqual(s.label[3], 1)
        XCTAssertEqual(s.image, Array(repeating: Float(22) / 255, count: 60))
    }

    func testDriveMissingFilesAreListedInOneError() throws {
        let root = temp + "/DRIVE"
        try writeDrive(root, training: [21, 22, 23, 25])
        try FileManager.default.removeItem(atPath: root + "/training/1st_manual/23_manual1.gif")
        try FileManager.default.removeItem(atPath: root + "/training/mask/25_training_mask.gif")
        try ImageCodec.writePNG(gray([0], width: 1), to: root + "/training/1st_manual/41_manual1.gif")
        let text = message { try DriveDataset.splits(root: root) }
        XCTAssertEqual(text, "\(root)/training: no 1st_manual for 23_training.tif; no mask for 25_training.tif; "
                       + "1st_manual/41_manual1.gif has no image")
        // A root one level too high says where DRIVE is.
        let up = message { try DriveDataset.splits(root: temp) }
        XCTAssertTrue(up.hasPrefix("\(temp): no training/ folder; DRIVE is read as distributed"), up)
        XCTAssertTrue(up.hasSuffix(" (did you mean data.root: \(temp)/DRIVE?)"), up)
        let other = temp + "/other"
        try writeDrive(other, training: [21])
        try FileManager.default.removeItem(atPath: other + "/test/mask")
        XCTAssertTrue(message { try DriveDataset.splits(root: other) }.hasPrefix("\(other)/test: no mask folder; "))
    }

    // MARK: folder

    func testFolderPairsByStemWhateverTheExtensionsAndOrder() throws {
        let root = temp + "/data"
        // Written in shuffled order, with mixed extensions (PNG content: the codec reads by content).
        try writeFolder(root, stems: [("emu", "jpg", "png", 5), ("ant", "png", "gif", 2), ("cat-2", "tif", "png", 9),
                                      ("cat", "png", "tiff", 4), ("bee", "jpeg", "png", 7)])
        try "notes".write(toFile: root + "/images/README.txt", atomically: true, encoding: .utf8)
        try "x".write(toFile: root + "/masks/.DS_Store", atomically: true, encoding: .utf8)
        let rules = LabelRules(numClasses: 2)
        let (train, _) = try FolderDataset.splits(root: root, rules: rules, channels: 3, holdOut: .fraction(0.2))
        let all = try ImageMaskDataset(entries: try FolderDataset.pairs(images: root + "/images", masks: root + "/masks"),
                                       channels: 3, rules: rules, root: root)
        XCTAssertEqual(all.entries.map(\.name), ["ant", "bee", "cat", "cat-2", "emu"])
        XCTAssertEqual(all.entries[2].mask, root + "/masks/cat.tiff")
        for i in 0..<all.count {
            let s = try all.sample(i)
            let v = UInt8((s.image[0] * 255).rounded())
            XCTAssertEqual(s.image, Array(repeating: Float(v) / 255, count: 36))
            XCTAssertEqual(s.label, Array(repeating: Int32(v % 2), count: 12), "\(s.name!): mask of another image")
        }
        XCTAssertEqual(train.count, 4)
        // One channel reads the same files as gray.
        let grayData = try ImageMaskDataset(entries: all.entries, channels: 1, rules: rules, root: root)
        XCTAssertEqual(try grayData.sample(0).channels, 1)
    }

    func testFolderErrorsListEveryMissingPair() throws {
        let root = temp + "/data"
        let stems = (0..<13).map { (String(format: "img%02d", $0), "png", "png", UInt8($0)) }
        try writeFolder(root, stems: stems)
        for i in 0..<12 { try FileManager.default.removeItem(atPath: root + String(format: "/masks/img%02d.png", i)) }
        try ImageCodec.writePNG(gray([0], width: 1), to: root + "/masks/orphan.png")
        try "bmp".write(toFile: root + "/masks/img00.bmp", atomically: true, encoding: .utf8)
        try ImageCodec.writePNG(rgb(1), to: root + "/images/img12.jpg")
        let text = message { try FolderDataset.pairs(images: root + "/images", masks: root + "/masks") }
        XCTAssertEqual(text, "2 files in \(root)/images have the stem 'img12' (img12.jpg, img12.png); "
                       + "12 images have no mask in \(root)/masks: img00.png (\(root)/masks/img00.bmp is not a .png, "
                       + ".jpg, .tif or .gif file), img01.png, img02.png, img03.png, img04.png, img05.png, img06.png, "
                       + "img07.png, img08.png, img09.png, and 2 more; 1 mask has no image in \(root)/images: orphan.png")
        let empty = temp + "/empty"
        try mkdir(empty + "/images")
        XCTAssertEqual(message { try FolderDataset.splits(root: empty, rules: LabelRules(numClasses: 2), channels: 3,
                                                          holdOut: nil) },
                       "\(empty): no masks/ folder; the folder layout is images/ + masks/ (class-id masks with the "
                       + "images' file names), optionally val/images + val/masks")
    }

    /// The layouts of the repositories users copy, read as they are: the UNet tutorial's
    /// `train/image` + `train/label` (ISBI 2012), and milesial/Pytorch-UNet's `imgs/` +
    /// `masks/<stem>_mask.gif`. The default layout's error lists the folders it found, and
    /// masks named after their images with a suffix suggest `data.mask_suffix`.
    func testFolderLayoutsOfPopularRepositories() throws {
        let isbi = temp + "/membrane/train"
        try mkdir(isbi + "/image")
        try mkdir(isbi + "/label")
        for i in 0..<3 {
            try ImageCodec.writePNG(gray(Array(repeating: UInt8(i), count: 12), width: 4), to: "\(isbi)/image/\(i).png")
            try ImageCodec.writePNG(gray(Array(repeating: UInt8(i % 2), count: 12), width: 4), to: "\(isbi)/label/\(i).png")
        }
        let rules = LabelRules(numClasses: 2)
        XCTAssertEqual(message { try FolderDataset.splits(root: isbi, rules: rules, channels: 1, holdOut: .fraction(0.3)) },
                       "\(isbi): no images/ or masks/ folder; the folder layout is images/ + masks/ (class-id masks with "
                       + "the images' file names), optionally val/images + val/masks (found image/, label/; set data.images "
                       + "and data.masks to the image and mask folders)")
        let tutorial = try FolderDataset.splits(root: isbi, layout: FolderLayout(images: "image", masks: "label"), rules: rules,
                                                channels: 1, holdOut: .fraction(0.3))
        XCTAssertEqual(tutorial.train.count + tutorial.val.count, 3)
        XCTAssertEqual(try tutorial.val.sample(0).label, Array(repeating: Int32(Int(tutorial.val.entries[0].name)! % 2), count: 12))
        XCTAssertTrue(message { try FolderDataset.splits(root: isbi, layout: FolderLayout(images: "image", masks: "labels"),
                                                          rules: rules, channels: 1, holdOut: .fraction(0.3)) }
            .hasPrefix("\(isbi): no labels/ folder; data.images and data.masks name the subfolders of data.root (found "),
                      "a layout of the user's own names the keys")

        let carvana = temp + "/data"
        try mkdir(carvana + "/imgs")
        try mkdir(carvana + "/masks")
        for (stem, v) in [("0cdf5b5d0ce1_01", 3), ("0cdf5b5d0ce1_02", 4), ("fff9b3a5373f_16", 5)] as [(String, UInt8)] {
            try ImageCodec.writePNG(rgb(v), to: "\(carvana)/imgs/\(stem).jpg")
            try ImageCodec.writePNG(gray(Array(repeating: v % 2, count: 12), width: 4), to: "\(carvana)/masks/\(stem)_mask.gif")
        }
        let unpaired = message { try FolderDataset.splits(root: carvana, layout: FolderLayout(images: "imgs"), rules: rules,
                                                          channels: 3, holdOut: .fraction(0.3)) }
        XCTAssertTrue(unpaired.hasSuffix("; the masks are named <image stem>_mask: set data.mask_suffix: _mask"), unpaired)
        let milesial = try FolderDataset.splits(root: carvana, layout: FolderLayout(images: "imgs", maskSuffix: "_mask"),
                                                rules: rules, channels: 3, holdOut: .fraction(0.3))
        let entries = milesial.train.entries + milesial.val.entries
        XCTAssertEqual(entries.map(\.name).sorted(), ["0cdf5b5d0ce1_01", "0cdf5b5d0ce1_02", "fff9b3a5373f_16"])
        for entry in entries { XCTAssertEqual(entry.mask, "\(carvana)/masks/\(entry.name)_mask.gif") }
        // A suffix that some mask lacks leaves that mask unpaired, named as written.
        try ImageCodec.writePNG(gray(Array(repeating: 0, count: 12), width: 4), to: "\(carvana)/masks/extra.png")
        XCTAssertTrue(message { try FolderDataset.splits(root: carvana, layout: FolderLayout(images: "imgs", maskSuffix: "_mask"),
                                                          rules: rules, channels: 3, holdOut: .fraction(0.3)) }
            .hasSuffix("1 mask has no image in \(carvana)/imgs (as <image stem>_mask): extra.png"))
    }

    /// The held-out split: round(n × fraction) images, disjoint from training, together all of
    /// them, the same every time (it has its own fixed seed, so a seed sweep validates on the
    /// same images), and the val/ folders are used when there is no fraction.
    func testFolderValidationSplitAndFolders() throws {
        let root = temp + "/data"
        try writeFolder(root, stems: (0..<10).map { ("s\($0)", "png", "png", UInt8($0)) })
        let rules = LabelRules(numClasses: 2)
        let a = try FolderDataset.splits(root: root, rules: rules, channels: 3, holdOut: .fraction(0.3))
        let b = try FolderDataset.splits(root: root, rules: rules, channels: 3, holdOut: .fraction(0.3))
        XCTAssertEqual(a.val.count, 3)
        XCTAssertEqual(a.train.count, 7)
        XCTAssertEqual(a.train.entries, b.train.entries)
        XCTAssertEqual(a.val.entries, b.val.entries)
        let trainNames = Set(a.train.entries.map(\.name)), valNames = Set(a.val.entries.map(\.name))
        XCTAssertTrue(trainNames.isDisjoint(with: valNames))
        XCTAssertEqual(trainNames.union(valNames).count, 10)
        XCTAssertEqual(try HoldOutSplit.indices(count: 10, fraction: 0.3).val.count, 3)
        XCTAssertEqual(try HoldOutSplit.indices(count: 3, fraction: 0.01).val.count, 1, "at least one held out")
        XCTAssertEqual(try HoldOutSplit.indices(count: 3, fraction: 0.99).train.count, 1, "at least one kept")

        XCTAssertTrue(message { try FolderDataset.splits(root: root, rules: rules, channels: 3, holdOut: nil) }
            .hasSuffix("no val/images + val/masks folders for validation; add them, or set data.val_fraction "
                       + "(e.g. 0.2) to hold out part of images/"))
        try writeFolder(root + "/val", stems: [("v1", "png", "png", 1), ("v0", "png", "png", 0)])
        let withFolders = try FolderDataset.splits(root: root, rules: rules, channels: 3, holdOut: nil)
        XCTAssertEqual(withFolders.train.count, 10)
        XCTAssertEqual(withFolders.val.entries.map(\.name), ["v0", "v1"])
    }

    /// 0/255 masks with ignore_index 255 read without error one by one (255 is a legal label),
    /// so `validateLabels` finds them across masks; with another ignore_index each sample fails.
    /// Both messages suggest `label_map: {255: 1}`, which then gives 0/1.
    func testBinaryMasksAskForALabelMapAndTheLabelMapIsApplied() throws {
        let root = temp + "/data"
        try mkdir(root + "/images")
        try mkdir(root + "/masks")
        let mask: [UInt8] = [0, 255, 255, 0, 0, 0, 255, 0, 0, 0, 0, 255]
        for stem in ["a", "b", "c"] {
            try ImageCodec.writePNG(rgb(9), to: "\(root)/images/\(stem).png")
            try ImageCodec.writePNG(gray(mask, width: 4), to: "\(root)/masks/\(stem).png")
        }
        let plain = try FolderDataset.splits(root: root, rules: LabelRules(numClasses: 2), channels: 3, holdOut: .fraction(0.3))
        XCTAssertEqual(try plain.train.sample(0).label, mask.map(Int32.init))
        XCTAssertThrowsError(try plain.train.validateLabels()) { error in
            let e = error as? LabelError
            XCTAssertEqual(e?.configPath, "data.label_map")
            XCTAssertTrue(e?.description.contains("add `label_map: {255: 1}`") ?? false, "\(error)")
        }

        let other = try FolderDataset.splits(root: root, rules: LabelRules(numClasses: 2, ignoreIndex: 100),
                                             channels: 3, holdOut: .fraction(0.3))
        XCTAssertEqual(message { try other.train.sample(0) },
                       "\(root)/masks/a.png: mask value 255 (4 pixels) (first at x=1, y=0) is not a class id: "
                       + "data.num_classes is 2 and data.ignore_index is 100; a binary mask stored as 0/255 needs "
                       + "`label_map: {255: 1}` in the data section")

        let mapped = try FolderDataset.splits(root: root, rules: LabelRules(numClasses: 2, labelMap: [255: 1]),
                                              channels: 3, holdOut: .fraction(0.3))
        XCTAssertEqual(try mapped.train.sample(0).label, mask.map { $0 == 255 ? 1 : 0 })
        XCTAssertNoThrow(try mapped.train.validateLabels())
        // A map may also send a stored value to ignore_index.
        let toIgnore = LabelRules(numClasses: 2, labelMap: [255: 1, 0: 255])
        XCTAssertEqual(try toIgnore.classIds(gray(mask, width: 4), file: "m"), mask.map { $0 == 255 ? 1 : 255 })
    }

    func testOutOfRangeValuesNameTheFileAndTheValue() throws {
        let rules = LabelRules(numClasses: 3)
        XCTAssertEqual(message { try rules.classIds(self.gray([0, 1, 7, 2, 7, 9], width: 3), file: "masks/x.png") },
                       "masks/x.png: mask values 7 (2 pixels), 9 (1 pixel) (first at x=2, y=0) are not class ids: "
                       + "data.num_classes is 3 and data.ignore_index is 255; map stored values to class ids with "
                       + "data.label_map, or raise data.num_classes")
        // 16-bit gray masks keep their exact values.
        let wide = Image(width: 2, height: 1, colorModel: .gray, samples16: [1, 300])
        XCTAssertTrue(message { try rules.classIds(wide, file: "w.png") }
            .hasPrefix("w.png: mask value 300 (1 pixel) (first at x=1, y=0) is not a class id"))
        // A gray mask saved as RGB reads as its gray values; a coloured one is refused.
        let grayRGB = Image(width: 2, height: 1, colorModel: .rgb, samples: [1, 1, 1, 2, 2, 2])
        XCTAssertEqual(try rules.classIds(grayRGB, file: "g.png"), [1, 2])
        let colour = Image(width: 2, height: 1, colorModel: .rgb, samples: [1, 1, 1, 128, 0, 0])
        XCTAssertTrue(message { try rules.classIds(colour, file: "c.png") }
            .hasPrefix("c.png: a colour mask (pixel x=1, y=0 is (128, 0, 0)) does not hold class ids"))
    }

    func testMaskOfAnotherSizeIsAnError() throws {
        let root = temp + "/data"
        try writeFolder(root, stems: [("a", "png", "png", 1), ("b", "png", "png", 0)])
        try ImageCodec.writePNG(gray([0, 0], width: 2), to: root + "/masks/b.png")
        let data = try ImageMaskDataset(entries: FolderDataset.pairs(images: root + "/images", masks: root + "/masks"),
                                        channels: 3, rules: LabelRules(numClasses: 2), root: root).subset([1])
        XCTAssertEqual(message { try data.sample(0) },
                       "\(root)/masks/b.png: the mask is 2x1 but its image \(root)/images/b.png is 4x3")
    }

    // MARK: VOC

    /// `VOCdevkit/VOC2012` with a real JPEG (the codec fixture, 16×12) and palette masks in
    /// the VOC colours with 255 borders, three training and two validation ids.
    func writeVOC(_ devkit: String, year release: Int = 2012) throws -> [String: [UInt8]] {
        let year = devkit + "/VOC\(release)"
        for folder in ["JPEGImages", "SegmentationClass", "ImageSets/Segmentation"] { try mkdir(year + "/" + folder) }
        let jpeg = Bundle.module.path(forResource: "rgb", ofType: "jpg", inDirectory: "Fixtures/Images")!
        var masks: [String: [UInt8]] = [:]
        let ids = ["2007_000032", "2007_000039", "2008_000008", "2009_000001", "2010_000002"]
        for (k, id) in ids.enumerated() {
            try FileManager.default.copyItem(atPath: jpeg, toPath: "\(year)/JPEGImages/\(id).jpg")
            // Class k*4+1 in a rectangle with a 255 border, background 0 elsewhere.
            var m = [UInt8](repeating: 0, count: 16 * 12)
            for y in 2..<10 { for x in 3..<13 { m[y * 16 + x] = (y == 2 || y == 9 || x == 3 || x == 12) ? 255 : UInt8(k * 4 + 1) } }
            masks[id] = m
            try ImageCodec.writePNG(palette(m, width: 16), to: "\(year)/SegmentationClass/\(id).png")
        }
        try (ids[0..<3].joined(separator: "\n") + "\n").write(toFile: year + "/ImageSets/Segmentation/train.txt",
                                                             atomically: true, encoding: .utf8)
        try (ids[3...].joined(separator: "\n") + "\n").write(toFile: year + "/ImageSets/Segmentation/val.txt",
                                                            atomically: true, encoding: .utf8)
        return masks
    }

    func testVOCLayout() throws {
        let devkit = temp + "/VOCdevkit"
        let masks = try writeVOC(devkit)
        let rules = LabelRules(numClasses: VOCDataset.numClasses)
        for root in [devkit, devkit + "/VOC2012", temp] {
            let (train, val) = try VOCDataset.splits(root: root, rules: rules)
            XCTAssertEqual(train.entries.map(\.name), ["2007_000032", "2007_000039", "2008_000008"], root)
            XCTAssertEqual(val.entries.map(\.name), ["2009_000001", "2010_000002"], root)
        }
        let (train, val) = try VOCDataset.splits(root: devkit, rules: rules)
        let jpeg = try ImageCodec.read(train.entries[0].image)
        XCTAssertEqual(jpeg.colorModel, .rgb)
        for (dataset, k0) in [(train, 0), (val, 3)] {
            for i in 0..<dataset.count {
                let s = try dataset.sample(i)
                XCTAssertEqual(s.label, masks[dataset.entries[i].name]!.map(Int32.init), "palette indices are the ids")
                XCTAssertTrue(s.label.contains(255) && s.label.contains(Int32((k0 + i) * 4 + 1)))
                XCTAssertEqual(s.image, jpeg.samples.map { Float($0) / 255 })
            }
        }
        XCTAssertNoThrow(try train.validateLabels())

        // Two classes for VOC: the error says VOC has 21.
        let two = try VOCDataset.splits(root: devkit, rules: LabelRules(numClasses: 2))
        XCTAssertTrue(message { try two.train.sample(1) }.hasSuffix("; Pascal VOC has 21 classes (data.num_classes: 21)"))

        try FileManager.default.removeItem(atPath: devkit + "/VOC2012/SegmentationClass/2007_000039.png")
        try FileManager.default.removeItem(atPath: devkit + "/VOC2012/JPEGImages/2008_000008.jpg")
        XCTAssertEqual(message { try VOCDataset.splits(root: devkit, rules: rules) },
                       "\(devkit)/VOC2012: 2 files named by ImageSets/Segmentation/train.txt are missing: "
                       + "SegmentationClass/2007_000039.png, JPEGImages/2008_000008.jpg")
        XCTAssertTrue(message { try VOCDataset.splits(root: temp + "/nothing", rules: rules) }
            .hasSuffix(": not a Pascal VOC folder: expected JPEGImages/, SegmentationClass/ and ImageSets/Segmentation/ "
                       + "in it, in VOC2012/ or in VOCdevkit/VOC2012/"))
    }

    /// The bubbliiiing repositories' `VOCdevkit/VOC2007`: read with `year: 2007`, and the error
    /// for the default year says which year it found.
    func testVOC2007Layout() throws {
        let devkit = temp + "/VOCdevkit"
        _ = try writeVOC(devkit, year: 2007)
        let rules = LabelRules(numClasses: VOCDataset.numClasses)
        XCTAssertEqual(try VOCDataset.splits(root: devkit, year: 2007, rules: rules).val.entries.map(\.name),
                       ["2009_000001", "2010_000002"])
        XCTAssertTrue(message { try VOCDataset.splits(root: temp, rules: rules) }
            .hasSuffix("in VOC2012/ or in VOCdevkit/VOC2012/ (found VOC2007/: set data.year: 2007)"))
    }

    /// Cityscapes as distributed, two cities: label ids become the 19 train ids (road 7 → 0,
    /// car 26 → 13, bicycle 33 → 18) and every other id (unlabeled 0, parking 9, caravan 29)
    /// the ignore index; an image without its annotation is named.
    func testCityscapesLayoutAndTrainIds() throws {
        let root = temp + "/cityscapes"
        let ids: [UInt8] = [7, 26, 33, 0, 9, 29, 8, 24, 11, 23, 21, 17]  // 4×3
        for (split, cities) in [("train", ["aachen", "bochum"]), ("val", ["frankfurt"])] {
            for city in cities {
                try mkdir("\(root)/leftImg8bit/\(split)/\(city)")
                try mkdir("\(root)/gtFine/\(split)/\(city)")
                let stem = "\(city)_000000_000019"
                try ImageCodec.writePNG(rgb(3), to: "\(root)/leftImg8bit/\(split)/\(city)/\(stem)_leftImg8bit.png")
                try ImageCodec.writePNG(gray(ids, width: 4), to: "\(root)/gtFine/\(split)/\(city)/\(stem)_gtFine_labelIds.png")
                // The other annotation files of the distribution are passed over.
                try ImageCodec.writePNG(gray(ids, width: 4), to: "\(root)/gtFine/\(split)/\(city)/\(stem)_gtFine_color.png")
            }
        }
        let (train, val) = try CityscapesDataset.splits(root: root, ignoreIndex: 255)
        XCTAssertEqual(train.entries.map(\.name), ["aachen_000000_000019", "bochum_000000_000019"])
        XCTAssertEqual(val.entries.map(\.name), ["frankfurt_000000_000019"])
        XCTAssertEqual(try train.sample(1).label, [0, 13, 18, 255, 255, 255, 1, 11, 2, 10, 8, 5])
        XCTAssertEqual(CityscapesDataset.classNames[13], "car")
        try FileManager.default.removeItem(atPath: "\(root)/gtFine/val/frankfurt/frankfurt_000000_000019_gtFine_labelIds.png")
        XCTAssertEqual(message { try CityscapesDataset.splits(root: root, ignoreIndex: 255) },
                       "\(root): 1 image has no annotation: gtFine/val/frankfurt/frankfurt_000000_000019_gtFine_labelIds.png")
        XCTAssertTrue(message { try CityscapesDataset.splits(root: temp, ignoreIndex: 255) }
            .hasPrefix("\(temp): no leftImg8bit/train/ folder; Cityscapes is read as distributed"))
    }

    /// ADE20K as distributed, from ADEChallengeData2016 or its parent: annotation 0 is ignored
    /// and k becomes class k - 1 (reduce_zero_label), up to 150 → 149.
    func testADE20KLayoutReducesTheZeroLabel() throws {
        let root = temp + "/ADEChallengeData2016"
        for (split, prefix) in [("training", "ADE_train"), ("validation", "ADE_val")] {
            try mkdir("\(root)/images/\(split)")
            try mkdir("\(root)/annotations/\(split)")
            for i in 1...2 {
                let stem = "\(prefix)_0000000\(i)"
                try ImageCodec.writePNG(rgb(UInt8(i)), to: "\(root)/images/\(split)/\(stem).jpg")
                try ImageCodec.writePNG(gray([0, 1, 150, 12, 0, 2, 3, 4, 5, 6, 7, UInt8(i)], width: 4),
                                        to: "\(root)/annotations/\(split)/\(stem).png")
            }
        }
        for folder in [root, temp] {
            let (train, val) = try ADE20KDataset.splits(root: folder, ignoreIndex: 255)
            XCTAssertEqual(train.entries.map(\.name), ["ADE_train_00000001", "ADE_train_00000002"])
            XCTAssertEqual(val.count, 2)
            XCTAssertEqual(try val.sample(1).label, [255, 0, 149, 11, 255, 1, 2, 3, 4, 5, 6, 1])
        }
        XCTAssertEqual(ADE20KDataset.classNames.count, 150)
        XCTAssertEqual(ADE20KDataset.classNames[149], "flag")
        try ImageCodec.writePNG(gray([151] + [UInt8](repeating: 0, count: 11), width: 4),
                                to: "\(root)/annotations/training/ADE_train_00000001.png")
        XCTAssertTrue(message { try ADE20KDataset.splits(root: root, ignoreIndex: 255).train.sample(0) }.contains("151"))
    }

    // MARK: statistics

    /// Two images with closed-form statistics: per-image averages versus one pooled population.
    func testStatisticsClosedForm() throws {
        struct Two: Dataset {
            var count: Int { 2 }
            func sample(_ index: Int) throws -> Sample {
                // Image 0: 0 and 1 (mean 0.5, std 0.5); image 1: 0.5 everywhere (mean 0.5, std 0),
                // and a pixel of 9 that the label ignores.
                let image: [Float] = index == 0 ? [0, 1, 0, 1, 9] : [0.5, 0.5, 0.5, 0.5, 9]
                return Sample(height: 1, width: 5, channels: 1, image: image, label: [0, 1, 1, 0, 255])
            }
        }
        let perImage = try DatasetStatistics.meanStd(Two())
        XCTAssertEqual(perImage.mean, [0.5])
        XCTAssertEqual(perImage.std, [0.25])
        let pooled = try DatasetStatistics.meanStd(Two(), method: .pooled)
        XCTAssertEqual(pooled.mean, [0.5])
        XCTAssertEqual(pooled.std[0], (0.125 as Double).squareRoot(), accuracy: 1e-15)
        let whole = try DatasetStatistics.meanStd(Two(), ignoreIndex: nil, method: .pooled)
        XCTAssertEqual(whole.mean[0], (2 + 2 + 18) / 10, accuracy: 1e-12)
    }

    func testCacheIsUsedForSmallDatasetsOnly() throws {
        XCTAssertTrue(RunSetup.cacheFits([(ProbeDataset(count: 40), 2)]))
        XCTAssertFalse(RunSetup.cacheFits([(ProbeDataset(count: 3_000_000), 1)]), "3M × 9×11 × 3 values × 4 bytes")
    }

    // MARK: through the runner

    func experiment(_ data: String, epochs: Int = 1, batch: Int = 4) -> String {
        """
        name: tiny
        seed: 3
        data:
        \(data)
        model: {name: unet, base_c: 4, upsample: bilinear}
        loss: {ce: 1.0, dice: 1.0}
        optimizer: {name: sgd, lr: 0.01, momentum: 0.9, weight_decay: 1.0e-4}
        schedule: {epochs: \(epochs), batch_size: \(batch), warmup: {epochs: 0}, decay: poly}
        """
    }

    func runner(_ yaml: String, results: String) throws -> SweepRunner {
        let experiment = try Experiment.parse(yaml, file: "tiny.yaml", options: ConfigOptions(checkPaths: false))
        return SweepRunner(experiment: experiment, options: SweepOptions(resultsRoot: results),
                           reporter: ProgressReporter(live: false, write: { _ in }))
    }

    /// The synthetic dataset written out in the folder layout (lossless PNGs, palette masks
    /// with 255 outside the FOV) trains bit for bit like the synthetic dataset itself: same
    /// losses, same scores after one epoch.
    func testFolderDatasetTrainsLikeTheDataItWasWrittenFrom() throws {
        let generator = try SyntheticFundus(size: 64, seed: RunSetup.syntheticDataSeed, vesselDensity: 1, noiseLevel: 1,
                                            lesions: false)
        let (train, val) = try SyntheticDataset.split(generator, trainCount: 8, valCount: 2)
        let root = temp + "/synthetic"
        for (dataset, prefix) in [(train, ""), (val, "/val")] {
            try mkdir(root + prefix + "/images")
            try mkdir(root + prefix + "/masks")
            for i in 0..<dataset.count {
                let s = try dataset.sample(i)
                let bytes = s.image.map { UInt8(($0 * 255).rounded()) }
                try ImageCodec.writePNG(Image(width: 64, height: 64, colorModel: .rgb, samples: bytes),
                                        to: "\(root)\(prefix)/images/\(s.name!).png")
                try ImageCodec.writePNG(palette(s.label.map { UInt8($0) }, width: 64),
                                        to: "\(root)\(prefix)/masks/\(s.name!).png")
            }
        }
        let common = """
              num_classes: 2
              crop: 48
              scale: [0.75, 1.25]
              mean: [0.5, 0.3, 0.2]
              std: [0.2, 0.1, 0.1]
            """
        let folder = try runner(experiment("  dataset: folder\n  root: \(root)\n" + common), results: temp + "/r1")
        let synthetic = try runner(experiment("  dataset: synthetic\n  synthetic: {size: 64, count: 8, val_count: 2}\n"
                                              + common), results: temp + "/r2")
        for sweep in [folder, synthetic] {
            let (failed, _) = try sweep.run()
            XCTAssertEqual(failed, 0)
        }
        let a = try MetricsLog.read(folder.directory(of: folder.experiment.runs[0]) + "/metrics.jsonl")
        let b = try MetricsLog.read(synthetic.directory(of: synthetic.experiment.runs[0]) + "/metrics.jsonl")
        XCTAssertEqual(a.count, 1)
        XCTAssertEqual(a.map(\.trainLoss), b.map(\.trainLoss))
        XCTAssertEqual(a.map(\.scores), b.map(\.scores))
        XCTAssertNotNil(a.first?.scores)
    }

    /// 0/255 masks stop the run before training, at the config's data section, with the fix.
    func testBinaryMasksAreAConfigErrorBeforeTraining() throws {
        let root = temp + "/data"
        try mkdir(root + "/images")
        try mkdir(root + "/masks")
        for stem in ["a", "b", "c"] {
            try ImageCodec.writePNG(rgb(9, width: 16, height: 16), to: "\(root)/images/\(stem).png")
            try ImageCodec.writePNG(gray((0..<256).map { $0 % 3 == 0 ? 255 : 0 }, width: 16), to: "\(root)/masks/\(stem).png")
        }
        let sweep = try runner(experiment("  dataset: folder\n  root: \(root)\n  val_fraction: 0.3\n  crop: null\n"
                                          + "  scale: null\n  mean: [0.5, 0.5, 0.5]\n  std: [0.2, 0.2, 0.2]"), results: temp + "/r")
        XCTAssertThrowsError(try sweep.validate()) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("tiny.yaml:4:3: \(root): the 3 masks checked hold only 0 and 255"), text)
            XCTAssertTrue(text.contains("add `label_map: {255: 1}`"), text)
        }
        let mapped = try runner(experiment("  dataset: folder\n  root: \(root)\n  val_fraction: 0.3\n  crop: null\n"
                                           + "  scale: null\n  mean: [0.5, 0.5, 0.5]\n  std: [0.2, 0.2, 0.2]\n  label_map: {255: 1}"),
                                results: temp + "/r")
        XCTAssertNoThrow(try mapped.validate())
    }

    /// A UNet base_c 4 trains one epoch on the real DRIVE (64-pixel crops of the recipe's
    /// augmentation, batch 4) and is evaluated at full size. Evaluating all 20 test images takes
    /// about 20 s in a debug build, so `val_fraction: 0.1` holds out two training images instead
    /// (the `test/` split is read in `testDriveOnTheSharedCopy`).
    func testDriveTrainsThroughTheRunner() throws {
        let root = try sharedDrive()
        let sweep = try runner(experiment("  dataset: drive\n  root: \(root)\n  crop: 64\n  val_fraction: 0.1"),
                               results: temp + "/r")
        let (failed, _) = try sweep.run()
        XCTAssertEqual(failed, 0)
        let records = try MetricsLog.read(sweep.directory(of: sweep.experiment.runs[0]) + "/metrics.jsonl")
        XCTAssertEqual(records.count, 1)
        XCTAssertNotNil(records.first?.scores)
    }
}
