import Foundation
import XCTest
@testable import Experiments
@testable import Nets

/// A corpus of bad inputs (config files, data files, command lines) given to the `runexp`
/// binary as a user would: each ends with its documented exit status (README, "Exit status")
/// and one line on stderr that names the file, line or argument at fault — never a trap, a
/// backtrace or a usage dump — and nothing is trained.
final class BadInputTests: XCTestCase {
    struct Case {
        var name: String
        /// Files to write (relative path → content) before running.
        var files: [String: String] = [:]
        var arguments: [String]
        var status: Int32 = 2
        /// What the one stderr line starts with, then what it contains.
        var prefix: String
        var contains: String
        /// Lines on stderr: one, but for data problems that every file has (one line each and a count).
        var lines = 1
        /// Changes to a copy of the good folder dataset at `data/` before running.
        var damage: ((String) throws -> Void)? = nil
    }

    /// A config that is fine: a tiny UNet on the built-in synthetic data.
    static func yaml(data: String = "{dataset: synthetic, num_classes: 2, crop: null, scale: null, synthetic: {size: 64, count: 4, val_count: 2}}",
                     model: String = "{name: unet, base_c: 4}", schedule: String = "{epochs: 2, batch_size: 2}",
                     extra: String = "") -> String {
        "name: bad\ndata: \(data)\nmodel: \(model)\nschedule: \(schedule)\n\(extra)"
    }

    /// The folder dataset at `data/` (four 64-pixel synthetic images, class-id masks), with `extra` settings.
    static func folderData(_ extra: String = "scale: null") -> String {
        "{dataset: folder, root: data, num_classes: 2, crop: null, val_fraction: 0.25, \(extra)}"
    }

    static func file(_ yaml: String, _ prefix: String, _ contains: String, _ name: String, extra: [String] = []) -> Case {
        Case(name: name, files: ["bad.yaml": yaml], arguments: ["bad.yaml"] + extra, prefix: prefix, contains: contains)
    }

    static let cases: [Case] = [
        // Config files.
        file(yaml(model: "{base_channels: 8}"), "bad.yaml:3:9: ", "unknown key 'base_channels' in model; did you mean 'base_c'?", "unknown key"),
        file("name: bad\nmodel: {name: unet\n", "bad.yaml:", "", "unclosed flow mapping"),
        file("name: bad\n\tmodel: {}\n", "bad.yaml:2:", "", "tab indentation"),
        file("model: [unet\n", "bad.yaml:", "", "unclosed list"),
        file("- 1\n- 2\n", "bad.yaml:1:1: ", "mapping", "a list instead of a mapping"),
        file(yaml(schedule: "{epochs: ten}"), "bad.yaml:4:20: ", "schedule.epochs: expected an integer, got 'ten'", "wrong type"),
        file(yaml(extra: "optimizer: {lr: -1}\n"), "bad.yaml:5:17: ", "optimizer.lr must be > 0", "negative lr"),
        file(yaml(model: "{name: unetz}"), "bad.yaml:3:15: ", "model.name must be 'unet', 'unetpp', 'fcn', 'deeplabv3', 'deeplabv3plus' or 'lraspp', got 'unetz'", "unknown model"),
        file(yaml(extra: "seed: -5\n"), "bad.yaml:5:7: ", "seed must be >= 0", "negative seed"),
        file(yaml(extra: "threads: -1\n"), "bad.yaml:5:10: ", "threads must be >= 0", "negative threads"),
        file(yaml(model: "{name: unet, base_c: 0}"), "bad.yaml:3:29: ", "model.base_c must be >= 1", "zero width"),
        file(yaml(model: "{name: unet, in_channels: true}"), "bad.yaml:3:34: ", "model.in_channels: expected an integer, got 'true'", "input channels not a number"),
        file(yaml(data: "{dataset: synthetic, mean: [0.5], std: [0.2]}", model: "{name: unet, in_channels: 1}"), "bad.yaml:3:34: ",
             "the synthetic fundus images are RGB, so model.in_channels must be 3, got 1", "gray model on RGB synthetic data"),
        file(yaml(model: "{name: deeplabv3, backbone: vgg16}"), "bad.yaml:3:36: ", "or mobilenet_v3_large for deeplabv3", "deeplab on vgg"),
        file(yaml(model: "{name: deeplabv3plus, backbone: mobilenet_v3_large}"), "bad.yaml:3:40: ", "must be a ResNet for deeplabv3plus", "deeplabv3+ on mobilenet"),
        file(yaml(model: "{name: fcn, backbone: mobilenet_v3_large}"), "bad.yaml:3:30: ", "must be a ResNet or VGG16 for fcn", "fcn on mobilenet"),
        file(yaml(model: "{name: fcn, backbone: resnet18, output_stride: 4}"), "bad.yaml:", "output_stride must be 8 or 16", "output stride"),
        file(yaml(model: "{name: deeplabv3, backbone: resnet18, aspp_rates: [6, 12]}"), "bad.yaml:", "aspp_rates needs three rates", "two ASPP rates"),
        file(yaml(schedule: "{epochs: 2, batch_size: 0}"), "bad.yaml:4:35: ", "schedule.batch_size must be >= 1", "batch of zero"),
        file(yaml(schedule: "{epochs: 2, warmup: {epochs: 2}}"), "bad.yaml:", "schedule.warmup.epochs must be less than schedule.epochs (2)", "warmup as long as the run"),
        file(yaml(schedule: "{epochs: 4, decay: step}"), "bad.yaml:", "schedule.milestones (epochs at which lr drops) is required", "step without milestones"),
        file(yaml(schedule: "{epochs: 10, decay: step, milestones: [5, 3]}"), "bad.yaml:", "must be increasing epochs", "decreasing milestones"),
        file(yaml(extra: "optimizer: {name: adam, betas: [0.9, 1.5]}\n"), "bad.yaml:", "optimizer.betas must be [beta1, beta2]", "betas"),
        file(yaml(extra: "optimizer: {momentum: 0, nesterov: true}\n"), "bad.yaml:", "nesterov needs optimizer.momentum > 0", "nesterov"),
        file(yaml(extra: "loss: {ce: 0, dice: 0}\n"), "bad.yaml:", "loss: every term has weight 0, so there is nothing to train", "no loss"),
        file(yaml(extra: "loss: {class_weights: [1.0]}\n"), "bad.yaml:", "class_weights", "class weights count"),
        file(yaml(extra: "eval: {metric: f2}\n"), "bad.yaml:5:16: ", "eval.metric must be one of 'dice', 'miou'", "unknown metric"),
        file(yaml(extra: "eval: {metric: f1}\n"), "bad.yaml:5:7: ", "eval.metrics must be true for eval.metric 'f1'", "paper metric without eval.metrics"),
        file(yaml(extra: "eval: {metric: iou.5}\n"), "bad.yaml:5:16: ", "eval.metric iou.5 names class 5, but data.num_classes is 2", "metric class out of range"),
        file(yaml(extra: "eval: {metric: dice.1}\n"), "bad.yaml:5:16: ", "dice has no classes", "class of a split-wide metric"),
        file(yaml(data: "{dataset: synthetic, num_classes: 3, crop: null, scale: null, synthetic: {size: 64, count: 4, val_count: 2}}",
                  extra: "eval: {metric: f1.vessel, metrics: true}\n"), "bad.yaml:5:16: ",
             "eval.metric names class 'vessel', which is not a class name: give the classes names with data.class_names", "class name without names"),
        file(yaml(data: "{dataset: synthetic, num_classes: 2, crop: null, scale: null, synthetic: {size: 64, count: 4, val_count: 2}, class_names: [bg, vessel]}", extra: "eval: {metric: f1.vesel, metrics: true}\n"), "bad.yaml:5:16: ",
             "the classes are bg, vessel; did you mean 'vessel'?", "misspelt class name"),
        file(yaml(data: "{dataset: synthetic, num_classes: 2, crop: null, scale: null, synthetic: {size: 64, count: 4, val_count: 2}, class_names: [bg]}"), "bad.yaml:2:", "data.class_names must name each class (data.num_classes is 2), has 1", "class names count"),
        file(yaml(data: "{dataset: synthetic, num_classes: 2, crop: null, scale: null, synthetic: {size: 64, count: 4, val_count: 2}, class_names: [bg, '1']}"), "bad.yaml:2:", "data.class_names must be names, not numbers", "numeric class name"),
        file(yaml(extra: "stages:\n  - {epochs: 1}\n  - {epochs: 3}\n"), "bad.yaml:", "stages add up to 4 epochs, but schedule.epochs is 2", "stages disagree"),
        file(yaml(extra: "stages:\n  - {epochs: 1, freeze: [down9]}\n  - {epochs: 1}\n"), "bad.yaml:6:", "'down9' is neither a group of this model", "unknown freeze name"),
        file(yaml(model: "{name: deeplabv3, backbone: resnet18}", schedule: "{epochs: 2, batch_size: 1}"), "bad.yaml:4:", "deeplabv3 trains with batch_size >= 2", "deeplab batch of one"),
        file(yaml(data: "{dataset: synthetic, crop: 8, synthetic: {size: 64, count: 4, val_count: 2}}"), "bad.yaml:2:", "data.crop 8x8 is smaller than this model's minimum input of 16x16", "crop below the minimum"),
        file(yaml(data: "{dataset: synthetic, num_classes: 1}"), "bad.yaml:2:", "data.num_classes must be at least 2", "one class"),
        file(yaml(data: "{dataset: synthetic, ignore_index: 1}"), "bad.yaml:2:", "data.ignore_index must not be a class id", "ignore index is a class"),
        file(yaml(data: "{dataset: synthetic, scale: [2, 1]}"), "bad.yaml:2:", "data.scale must be [min, max]", "scale backwards"),
        file(yaml(data: "{dataset: synthetic, hflip: 2}"), "bad.yaml:2:", "data.hflip is a probability", "flip probability"),
        file(yaml(data: "{dataset: synthetic, std: [0, 1, 1]}"), "bad.yaml:2:", "data.std values must be > 0", "zero std"),
        file(yaml(data: "{dataset: synthetic, mean: [0.5]}", model: "{name: unet, in_channels: 3}"), "bad.yaml:2:", "", "mean count"),
        file(yaml(data: "{dataset: synthetic, synthetic: {size: 8}}"), "bad.yaml:2:", "data.synthetic.size must be in 64...4096", "tiny synthetic"),
        file(yaml(data: "{dataset: folder, root: nowhere}"), "bad.yaml:2:", "nowhere", "missing data folder"),
        file(yaml(data: "{dataset: folder, root: data, images: ../up}"), "bad.yaml:2:", "data.images must be a folder inside data.root", "images outside root"),
        file(yaml(data: "{dataset: drive, root: nowhere}"), "bad.yaml:2:", "nowhere", "missing DRIVE folder"),
        file(yaml(data: "{dataset: synthetic, label_map: {255: 7}}"), "bad.yaml:2:", "data.label_map.255 must be a class id", "label map target"),
        file(yaml(data: "{dataset: synthetic, palette: [[0, 0, 0]]}"), "bad.yaml:2:", "data.palette must give one [r, g, b] colour", "palette count"),
        file(yaml(extra: "init: {checkpoint: missing.safetensors}\n"), "bad.yaml:5:", "missing.safetensors", "missing init checkpoint"),
        file(yaml(model: "{name: fcn, backbone: resnet18, pretrained: missing.safetensors}"), "bad.yaml:3:", "missing.safetensors", "missing pretrained weights"),
        file(yaml(extra: "sweep: {model.bas_c: [4, 8]}\n"), "bad.yaml:5:9: ", "did you mean 'base_c'?", "sweep unknown key"),
        file(yaml(extra: "sweep: {name: [a, b]}\n"), "bad.yaml:5:9: ", "'name' cannot be swept", "sweep name"),
        file(yaml(extra: "sweep: {model.base_c: 8}\n"), "bad.yaml:5:", "needs a non-empty list of values", "sweep scalar"),
        file(yaml(model: "{name: fcn, backbone: resnet18}", extra: "sweep: {model.base_c: [4, 8]}\n"), "bad.yaml:5:",
             "would train the same config: model fcn does not use model.base_c", "sweep a key the model ignores"),
        file(yaml(extra: "sweep: {random: {n: 0, params: {seed: {int: [0, 9]}}}}\n"), "bad.yaml:5:", "", "random sweep of no draws"),
        file(yaml(extra: "sweep: {data.fold: all}\n"), "bad.yaml:5:20: ", "data.fold: all sweeps the folds of a cross-validation, but data.folds",
             "fold sweep without folds"),
        file(yaml(data: "{dataset: synthetic, crop: null, synthetic: {size: 64, count: 4, val_count: 2}, fold: 1}"), "bad.yaml:2:",
             "data.fold needs data.folds", "fold without folds"),
        file(yaml(data: "{dataset: synthetic, crop: null, synthetic: {size: 64, count: 4, val_count: 2}, folds: 2, fold: 0, val_fraction: 0.5}"),
             "bad.yaml:2:", "data.folds cannot be combined with data.val_fraction", "folds and val_fraction"),
        Case(name: "splits file that does not fit", files: ["splits.json": "[{\"train\": [\"a\"], \"val\": [\"b\"]}, {\"train\": [\"b\"], \"val\": [\"a\"]}]",
                                                            "bad.yaml": yaml(data: "{dataset: synthetic, crop: null, scale: null, synthetic: {size: 64, count: 4, val_count: 2}, folds: 2, fold: 0, splits: splits.json}")],
             arguments: ["bad.yaml"], prefix: "bad.yaml:2:", contains: "splits.json does not fit this data: fold 0 names 2 images that are not among the 4 training images: a, b"),
        file("base: missing.yaml\n" + yaml(), "bad.yaml:1:7: ", "base file 'missing.yaml' not found", "missing base file"),
        file("base: bad.yaml\n" + yaml(), "bad.yaml:1:7: ", "base files include each other", "base includes itself"),
        file("", "bad.yaml:1:1: ", "data.root folder 'data/DRIVE' not found", "empty file: defaults need DRIVE at data/DRIVE"),
        Case(name: "config file missing", arguments: ["nothere.yaml"], prefix: "nothere.yaml: ", contains: ""),
        Case(name: "config path is a folder", arguments: ["data/images"], prefix: "data/images: ", contains: "folder"),

        // Command lines.
        Case(name: "--set without =", files: ["ok.yaml": yaml()], arguments: ["ok.yaml", "--set", "model.base_c"],
             prefix: "--set model.base_c: ", contains: ""),
        Case(name: "--set unknown key", files: ["ok.yaml": yaml()], arguments: ["ok.yaml", "--set", "model.bas_c=8"],
             prefix: "--set model.bas_c=8: ", contains: "did you mean 'base_c'?"),
        Case(name: "--set bad value", files: ["ok.yaml": yaml()], arguments: ["ok.yaml", "--set", "schedule.epochs=[1"],
             prefix: "--set schedule.epochs=[1", contains: ""),
        Case(name: "--set key the model ignores", files: ["ok.yaml": yaml(model: "{name: fcn, backbone: resnet18}")],
             arguments: ["ok.yaml", "--set", "model.upsample=transposed"], prefix: "--set model.upsample=transposed: ",
             contains: "model fcn does not use model.upsample"),
        Case(name: "--shard out of range", files: ["ok.yaml": yaml()], arguments: ["ok.yaml", "--shard", "3/2"],
             prefix: "--shard must be I/N", contains: "(see runexp --help)"),
        Case(name: "--threads 0", files: ["ok.yaml": yaml()], arguments: ["ok.yaml", "--threads", "0"],
             prefix: "--threads must be at least 1", contains: ""),
        Case(name: "unknown option", files: ["ok.yaml": yaml()], arguments: ["ok.yaml", "--nope"],
             prefix: "Unknown option '--nope'", contains: "(see runexp --help)"),
        Case(name: "--only matches nothing", files: ["ok.yaml": yaml()], arguments: ["ok.yaml", "--only", "zzz*"],
             prefix: "ok.yaml: ", contains: "no run of the 1 matches --only/--shard"),
        Case(name: "no file", arguments: [], prefix: "Missing expected argument", contains: ""),
        Case(name: "bench too small for the model", files: ["ok.yaml": yaml(model: "{name: fcn, backbone: vgg16, fc_channels: 8}")],
             arguments: ["bench", "--config", "ok.yaml", "--size", "16"], prefix: "--size 16 is smaller than this model's minimum input of 32",
             contains: ""),
        Case(name: "bench freezes nothing", arguments: ["bench", "--freeze", "nonsense", "--size", "32"],
             prefix: "--freeze 'nonsense' is neither a group of this model", contains: ""),
        Case(name: "bench bad config", files: ["bad.yaml": "model: {name: nope}\n"], arguments: ["bench", "--config", "bad.yaml"],
             prefix: "bad.yaml:1:15: ", contains: "model.name must be"),
        Case(name: "bench --data without --config", arguments: ["bench", "--data"],
             prefix: "--data times the training data of an experiment: give --config FILE.yaml", contains: "(see runexp --help)"),
        Case(name: "bench --data with --batch", files: ["ok.yaml": yaml()], arguments: ["bench", "--config", "ok.yaml", "--data", "--batch", "2"],
             prefix: "--data takes the batch size and image size from the config", contains: "--set schedule.batch_size=N"),
        Case(name: "bench --workers without --data", arguments: ["bench", "--workers", "2"],
             prefix: "--workers and --prefetch set the data loader of --data", contains: ""),
        Case(name: "bench --data --workers 0", files: ["ok.yaml": yaml()], arguments: ["bench", "--config", "ok.yaml", "--data", "--workers", "0"],
             prefix: "--workers must be ≥ 1", contains: ""),
        Case(name: "bench --data of a missing folder", files: ["bad.yaml": yaml(data: "{dataset: folder, root: nowhere}")],
             arguments: ["bench", "--config", "bad.yaml", "--data"], prefix: "bad.yaml:2:", contains: "nowhere"),
        Case(name: "bench --data on unreadable images", files: ["bad.yaml": yaml(data: folderData())],
             arguments: ["bench", "--config", "bad.yaml", "--data", "--steps", "1"], prefix: "data/images/synthetic_000",
             contains: "not a PNG, JPEG, TIFF, GIF or PNM file",
             damage: { root in
                 for name in try FileManager.default.contentsOfDirectory(atPath: root + "/images") {
                     try Data("hello".utf8).write(to: URL(fileURLWithPath: root + "/images/" + name))
                 }
             }),
        Case(name: "predict without checkpoint", arguments: ["predict", "--checkpoint", "none.safetensors", "--out", "p", "a.png"],
             status: 1, prefix: "none.safetensors: checkpoint not found", contains: ""),
        Case(name: "data check of a bad config", files: ["bad.yaml": yaml(model: "{name: unet, base_c: x}")],
             arguments: ["data", "check", "bad.yaml"], prefix: "bad.yaml:3:29: ", contains: "model.base_c: expected an integer"),
        Case(name: "data stats of a missing folder", files: ["bad.yaml": yaml(data: "{dataset: folder, root: nowhere}")],
             arguments: ["data", "stats", "bad.yaml"], prefix: "bad.yaml:2:", contains: "nowhere"),
    ] + dataCases

    /// Damaged copies of the good folder dataset.
    static let dataCases: [Case] = {
        func damaged(_ name: String, _ prefix: String, _ contains: String, extra: String = "", model: String = "{name: unet, base_c: 4}",
                     lines: Int = 1, _ damage: @escaping (String) throws -> Void) -> Case {
            let data = folderData(extra.isEmpty ? "scale: null" : extra)
            return Case(name: name, files: ["bad.yaml": yaml(data: data, model: model)], arguments: ["bad.yaml"],
                        prefix: prefix, contains: contains, lines: lines, damage: damage)
        }
        func url(_ path: String) -> URL { URL(fileURLWithPath: path) }
        return [
            damaged("truncated image", "data/images/synthetic_0001.png: ", "truncated PNG") { root in
                let bytes = try Data(contentsOf: url(root + "/images/synthetic_0001.png"))
                try bytes.prefix(bytes.count - 40).write(to: url(root + "/images/synthetic_0001.png"))
            },
            damaged("text file as an image", "data/images/synthetic_0002.png: ", "not a PNG, JPEG, TIFF, GIF or PNM file") { root in
                try Data("hello".utf8).write(to: url(root + "/images/synthetic_0002.png"))
            },
            damaged("empty image file", "data/images/synthetic_0002.png: ", "empty file") { root in
                try Data().write(to: url(root + "/images/synthetic_0002.png"))
            },
            damaged("BMP as a mask", "data/masks/synthetic_0000.png: ", "unsupported image format (BMP)") { root in
                try Data("BM0000000000".utf8).write(to: url(root + "/masks/synthetic_0000.png"))
            },
            damaged("mask of another size", "data/masks/synthetic_0003.png: ", "the mask is 2x2 but its image") { root in
                try ImageCodec.writePNG(Image(width: 2, height: 2, colorModel: .gray, samples: [0, 0, 0, 0]),
                                        to: root + "/masks/synthetic_0003.png")
            },
            damaged("colour mask", "data/masks/synthetic_0001.png: ", "a colour mask") { root in
                var rgb = [UInt8](repeating: 0, count: 64 * 64 * 3)
                rgb[0] = 200
                try ImageCodec.writePNG(Image(width: 64, height: 64, colorModel: .rgb, samples: rgb), to: root + "/masks/synthetic_0001.png")
            },
            damaged("colour not in the palette", "data/masks/synthetic_0001.png: ", "colour (200, 0, 0) at x=0, y=0 is not in data.palette",
                    extra: "scale: null, palette: [[0, 0, 0], [255, 255, 255]]") { root in
                var rgb = [UInt8](repeating: 0, count: 64 * 64 * 3)
                rgb[0] = 200
                try ImageCodec.writePNG(Image(width: 64, height: 64, colorModel: .rgb, samples: rgb), to: root + "/masks/synthetic_0001.png")
            },
            damaged("mask value above the classes", "data/masks/synthetic_0002.png: ", "mask value 9 (1 pixel)") { root in
                var ids = [UInt8](repeating: 0, count: 64 * 64)
                ids[70] = 9
                try ImageCodec.writePNG(Image(width: 64, height: 64, colorModel: .gray, samples: ids), to: root + "/masks/synthetic_0002.png")
            },
            damaged("colour image, gray model", "data/images/synthetic_0000.png: ", "a colour image, but model.in_channels is 1",
                    extra: "scale: null, mean: [0.5], std: [0.2]", model: "{name: unet, base_c: 4, in_channels: 1}", lines: 5) { _ in },
            damaged("images too small without a crop", "data/images/synthetic_0000.png: ",
                    "64x64 (12 at the smallest data.scale) is smaller than the model's minimum input of 16x16",
                    extra: "scale: [0.2, 1.0]", lines: 4) { _ in },
            damaged("image without its mask", "bad.yaml:2:", "synthetic_0003") { root in
                try FileManager.default.removeItem(atPath: root + "/masks/synthetic_0003.png")
            },
            damaged("no images", "bad.yaml:2:", "images") { root in
                for name in try FileManager.default.contentsOfDirectory(atPath: root + "/images") {
                    try FileManager.default.removeItem(atPath: root + "/images/" + name)
                }
            },
        ]
    }()

    func testEveryBadInputGivesOneLocatedLineAndItsExitStatus() throws {
        _ = try RunexpBinary.path()
        XCTAssertGreaterThanOrEqual(Self.cases.count, 50)
        let base = NSTemporaryDirectory() + "runexp-bad-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: base) }
        let good = base + "/good-data"
        try SyntheticDataset.export(try SyntheticFundus(size: 64, seed: 1), indices: 0..<4, to: good, ignoreIndex: 255)
        for (k, c) in Self.cases.enumerated() {
            let dir = "\(base)/\(k)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: good, toPath: dir + "/data")
            for (path, text) in c.files { try text.write(toFile: dir + "/" + path, atomically: true, encoding: .utf8) }
            try c.damage?(dir + "/data")
            let result = try RunexpBinary.run(c.arguments, in: dir)
            let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
            let label = "\(c.name): \(c.arguments.joined(separator: " ")) → \(result.status)\n\(result.stderr)"
            XCTAssertEqual(result.status, c.status, label)
            XCTAssertEqual(lines.count, c.lines, label)
            XCTAssertTrue(lines.first?.hasPrefix(c.prefix) ?? false, "prefix \(c.prefix)\n" + label)
            XCTAssertTrue(c.contains.isEmpty || lines.first?.contains(c.contains) ?? false, "contains \(c.contains)\n" + label)
            let trained = (try? FileManager.default.contentsOfDirectory(atPath: dir + "/results/bad")) ?? []
            XCTAssertEqual(trained.filter { $0.contains("@") }, [], "nothing trained: " + label)
        }
    }
}
