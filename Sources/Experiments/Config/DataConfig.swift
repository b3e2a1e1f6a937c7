/// Where the images come from.
public enum DatasetKind: String, ConfigChoice {
    /// DRIVE retinal vessels (`training/images`, `1st_manual`, `mask`; outside-FOV pixels ignored).
    case drive
    /// HRF, the High-Resolution Fundus database (`images/`, `manual1/`, `mask/`).
    case hrf
    /// CHASE_DB1 (`Image_01L.jpg`, `Image_01L_1stHO.png`; field of view derived).
    case chaseDB1 = "chase_db1"
    /// STARE (`stare-images/`, `labels-ah/`, `labels-vk/`; field of view derived).
    case stare
    /// A generic `images/` + `masks/` folder pair.
    case folder
    /// Pascal VOC layout (`JPEGImages`, `SegmentationClass`, `ImageSets/Segmentation`).
    case voc
    /// Cityscapes' fine annotations (`leftImg8bit/`, `gtFine/`), 19 train ids.
    case cityscapes
    /// ADE20K (`ADEChallengeData2016/images`, `annotations`), 150 classes, 0 ignored.
    case ade20k
    /// Generated fundus-like images; needs no files.
    case synthetic

    /// The retinal-vessel benchmark, for those that are one.
    var vesselBenchmark: VesselBenchmark? { VesselBenchmark(rawValue: rawValue) }

    /// The benchmark's own class count, where it has one.
    var ownClassCount: Int? {
        switch self {
        case .cityscapes: return CityscapesDataset.classNames.count
        case .ade20k: return ADE20KDataset.classNames.count
        default: return nil
        }
    }

    /// The names of its classes that the dataset knows, for `numClasses` classes.
    func ownClassNames(numClasses: Int) -> [String]? {
        switch self {
        case .drive, .hrf, .chaseDB1, .stare, .synthetic: return numClasses == 2 ? ["background", "vessel"] : nil
        case .voc: return numClasses == VOCDataset.classNames.count ? VOCDataset.classNames : nil
        case .cityscapes: return numClasses == CityscapesDataset.classNames.count ? CityscapesDataset.classNames : nil
        case .ade20k: return numClasses == ADE20KDataset.classNames.count ? ADE20KDataset.classNames : nil
        case .folder: return nil
        }
    }
}

/// Training crop size in pixels (`crop: 480` is 480×480, `crop: [h, w]` otherwise).
public struct CropSize: Equatable, Sendable {
    public var height: Int
    public var width: Int

    public init(height: Int, width: Int) {
        self.height = height
        self.width = width
    }
}

/// Settings of the built-in synthetic dataset (`data.synthetic`, only with `dataset: synthetic`).
public struct SyntheticDataConfig: Equatable, Sendable {
    /// Image side in pixels (square images).
    public var size = 128
    /// Training images per epoch.
    public var count = 16
    /// Validation images.
    public var valCount = 4
    public var vesselDensity = 1.0
    public var noise = 1.0
    public var lesions = false

    public init() {}
}

/// The `data:` section. Defaults are the PyTorch DRIVE UNet recipe: 2 classes, 255 ignored
/// (outside the field of view), random resize 0.5–1.2, both flips at 0.5, 480 crops, and
/// the DRIVE channel mean/std.
public struct DataConfig: Equatable, Sendable {
    public var dataset = DatasetKind.drive
    /// The dataset folder, resolved as `ConfigOptions` describes (as written when not found
    /// and path checks are off). Unused by `synthetic`.
    public var root = "data/DRIVE"
    public var numClasses = 2
    /// Label value excluded from losses and metrics; never a class id.
    public var ignoreIndex = 255
    /// Random training crop; nil trains on whole (resized) images.
    public var crop: CropSize? = CropSize(height: 480, width: 480)
    /// Per-channel normalisation of images scaled to [0, 1]; one value per input channel.
    public var mean = [0.709, 0.381, 0.224]
    public var std = [0.127, 0.079, 0.043]
    /// Random resize of training images by a factor drawn from this range; nil: no resize.
    public var scale: ClosedRange<Double>? = 0.5...1.2
    /// Probabilities of a horizontal and a vertical flip of a training image.
    public var hflip = 0.5
    public var vflip = 0.5
    /// Fraction of the training images held out for validation; nil uses the dataset's
    /// own split (DRIVE `test/`, VOC `val.txt`).
    public var valFraction: Double?
    /// Cross-validation: the training images are dealt into this many folds (`KFold`), kept in
    /// the experiment's `splits.json`; nil: no cross-validation.
    public var folds: Int?
    /// The fold that validates (0-based; the others train); given exactly when `folds` is.
    public var fold: Int?
    /// The user's own splits file (nnU-Net's `splits_final.json` layout), instead of drawing one.
    public var splits: String?
    /// The seed of the fold draw: the split's own, so a `seed` sweep of replicates keeps the folds.
    public var splitSeed = 0
    /// Whether validation images are held out of the training images (`val_fraction`, `folds`),
    /// leaving the dataset's own validation split (DRIVE's `test/`) to `runexp eval --split test`.
    public var holdsOutValidation: Bool { valFraction != nil || folds != nil }
    /// Stored pixel value → class id (e.g. `{255: 1}` for 0/255 masks); nil uses the
    /// dataset's own mapping.
    public var labelMap: [Int: Int]?
    /// The colour of each class id, `[[r, g, b], ...]` (one per class), for colour-coded RGB
    /// masks; nil: RGB masks must be gray.
    public var palette: [[Int]]?
    /// The `folder` dataset's subfolders and mask names (`data.images`, `data.masks`, `data.mask_suffix`).
    public var folder = FolderLayout()
    /// The Pascal VOC release (`VOC2012/`, or `VOC2007/` as VOCdevkit layouts of other repositories have it).
    public var year = 2012
    /// A name for each class id (`[background, vessel]`), so that metrics can be chosen by
    /// name (`eval.metric: f1.vessel`); nil: classes are known by their ids.
    public var classNames: [String]?
    /// `class_names`, else the dataset's own (DRIVE's background and vessel, VOC's 21, ...).
    public var effectiveClassNames: [String]? { classNames ?? dataset.ownClassNames(numClasses: numClasses) }
    /// The colours previews paint classes in: the masks' own `palette` (so a preview looks like
    /// the user's masks), else the Pascal VOC colour map.
    public var previewPalette: [Image.Color] {
        // `palette` is checked to hold three values in 0...255 per class.
        palette.map { $0.map { Image.Color(UInt8(clamping: $0[0]), UInt8(clamping: $0[1]), UInt8(clamping: $0[2])) } }
            ?? Image.Color.vocColorMap
    }
    /// Present exactly when `dataset` is `synthetic`.
    public var synthetic: SyntheticDataConfig?

    public init() {}
}

extension DataConfig: ConfigSection {
    static let keys: [ConfigKey<DataConfig>] = [
        .value("dataset", \.dataset),
        // Synthetic data has no folder: its root is ignored and stays at the default, so
        // the resolved config (which leaves it out) reads back equal.
        .value("root", \.root, when: { $0.dataset != .synthetic }),
        .value("num_classes", \.numClasses, default: { $0.dataset.ownClassCount ?? 2 }, check: { d in [
            (d.numClasses >= 2, "must be at least 2 (background and one class)"),
            (d.dataset.ownClassCount.map { $0 == d.numClasses } ?? true,
             "must be \(d.dataset.ownClassCount ?? 0) for \(d.dataset.rawValue), the benchmark's classes"),
        ] }),
        .value("ignore_index", \.ignoreIndex, check: { d in [
            (d.ignoreIndex >= 0, "must be >= 0"),
            (d.ignoreIndex < 0 || d.ignoreIndex >= d.numClasses, "must not be a class id (data.num_classes is \(d.numClasses))"),
        ] }),
        .value("crop", \.crop),
        .value("mean", \.mean),
        .value("std", \.std, check: { [($0.std.allSatisfy { $0 > 0 }, "values must be > 0")] }),
        .value("scale", \.scale),
        .value("hflip", \.hflip, check: { [((0...1).contains($0.hflip), "is a probability and must be in [0, 1]")] }),
        .value("vflip", \.vflip, check: { [((0...1).contains($0.vflip), "is a probability and must be in [0, 1]")] }),
        .value("val_fraction", \.valFraction, check: { [($0.valFraction.map { $0 > 0 && $0 < 1 } ?? true, "must be in (0, 1)")] }),
        // The cross-validation keys are written only when set, so other configs keep their hash.
        .value("folds", \.folds, check: { d in [
            (d.folds.map { $0 >= 2 } ?? true, "must be at least 2 (the number of cross-validation folds)"),
            (d.folds == nil || d.valFraction == nil,
             "cannot be combined with data.val_fraction (both choose the validation images; keep one)"),
        ] }, writing: { $0?.yamlText }),
        .value("fold", \.fold, check: { d in
            guard let folds = d.folds else {
                return [(d.fold == nil, "needs data.folds, the number of cross-validation folds")]
            }
            guard let fold = d.fold else {
                return [(false, "must be given with data.folds: one fold (data.fold: 0), or every fold with "
                         + "sweep: {data.fold: all}")]
            }
            return [((0..<folds).contains(fold), "must be a fold from 0 to \(folds - 1) (data.folds is \(folds))")]
        }, writing: { $0?.yamlText }),
        .value("splits", \.splits, when: { $0.folds != nil }, writing: { $0?.yamlText }),
        .value("split_seed", \.splitSeed, when: { $0.folds != nil && $0.splits == nil },
               check: { [($0.splitSeed >= 0, "must be >= 0")] }),
        // null clears the map (`.some(nil)`); nil, after an error, keeps the default.
        .value("label_map", \.labelMap,
               reading: { r, key, node, data in node.isNull ? .some(nil) : data.readLabelMap(r, key, node).map { .some($0) } },
               writing: { labels in
                   labels.map { m in "{" + m.keys.sorted().map { "\($0): \(m[$0]!)" }.joined(separator: ", ") + "}" } ?? "null"
               }),
        // Written only when set, so configs without one keep their hash.
        .value("palette", \.palette, check: { d in
            guard let palette = d.palette else { return [] }
            let colours = palette.allSatisfy { $0.count == 3 && $0.allSatisfy { (0...255).contains($0) } }
            return [(palette.count == d.numClasses && colours,
                     "must give one [r, g, b] colour (0-255) per class (data.num_classes is \(d.numClasses))"),
                    (Set(palette).count == palette.count, "must give each class its own colour")]
        }, writing: { $0?.yamlText }),
        // The folder layout's keys are written only when not the default, so configs keep their hash.
        .value("images", \.folder.images, when: { $0.dataset == .folder }, check: { [(isSubfolder($0.folder.images), subfolderRule)] },
               writing: { $0 == "images" ? nil : yamlString($0) }),
        .value("masks", \.folder.masks, when: { $0.dataset == .folder }, check: { [(isSubfolder($0.folder.masks), subfolderRule)] },
               writing: { $0 == "masks" ? nil : yamlString($0) }),
        .value("mask_suffix", \.folder.maskSuffix, when: { $0.dataset == .folder },
               check: { [(!$0.folder.maskSuffix.contains("/"), "is the end of a mask's file name, without '/'")] },
               writing: { $0.isEmpty ? nil : yamlString($0) }),
        .value("year", \.year, when: { $0.dataset == .voc }, check: { [([2007, 2012].contains($0.year), "must be 2007 or 2012")] },
               writing: { $0 == 2012 ? nil : "\($0)" }),
        // Written only when set, so configs without names keep their hash.
        .value("class_names", \.classNames, check: { d in
            guard let names = d.classNames else { return [] }
            return [(names.count == d.numClasses, "must name each class (data.num_classes is \(d.numClasses)), has \(names.count)"),
                    (Set(names).count == names.count, "must give each class its own name"),
                    (names.allSatisfy { !$0.isEmpty && Int($0) == nil && !$0.contains(".") },
                     "must be names, not numbers, without dots (eval.metric: f1.vessel names a class after the dot)")]
        }, writing: { $0?.yamlText }),
        .section("synthetic", \.synthetic, when: { $0.dataset == .synthetic }, defaults: SyntheticDataConfig()),
    ]

    private static let subfolderRule = "must be a folder inside data.root (a relative path without '..')"

    private static func isSubfolder(_ path: String) -> Bool {
        !path.isEmpty && !path.hasPrefix("/") && !path.split(separator: "/").contains("..")
    }

    private func readLabelMap(_ r: SectionReader, _ key: String, _ node: YAMLNode) -> [Int: Int]? {
        guard let entries = node.mapping else { return r.typeError(key, node, "a mapping of stored value to class id, like {255: 1}") }
        var map: [Int: Int] = [:]
        for e in entries {
            guard let from = YAMLValue.integer(e.key), from >= 0 else {
                r.diagnostics.error("data.label_map keys must be stored pixel values >= 0, got '\(e.key)'", at: e.keyLocation)
                continue
            }
            guard let to = r.int("\(key).\(e.key)", e.value) else { continue }
            if to != ignoreIndex && !(0..<numClasses).contains(to) {
                r.diagnostics.error("data.label_map.\(e.key) must be a class id below \(numClasses) or the ignore_index \(ignoreIndex), got \(to)", at: e.value.location)
            }
            map[from] = to
        }
        return map
    }
}

/// `crop: 480` is 480×480; `crop: [h, w]` otherwise. Written as `[h, w]`.
extension CropSize: ConfigValue {
    static func read(_ r: SectionReader, _ key: String, _ node: YAMLNode) -> CropSize? {
        let sides: [Int]? = node.sequence != nil ? r.ints(key, node) : r.int(key, node).map { [$0, $0] }
        guard let sides else { return nil }
        guard sides.count == 2, sides.allSatisfy({ $0 >= 1 }) else {
            r.check(key, false, "must be a size >= 1 or [height, width]")
            return nil
        }
        return CropSize(height: sides[0], width: sides[1])
    }

    var yamlText: String { yamlFlow(["\(height)", "\(width)"]) }
}

/// The random-resize range `data.scale`, written `[min, max]`.
extension ClosedRange: ConfigValue where Bound == Double {
    static func read(_ r: SectionReader, _ key: String, _ node: YAMLNode) -> ClosedRange<Double>? {
        guard let v = r.doubles(key, node) else { return nil }
        guard v.count == 2, v[0] > 0, v[0] <= v[1] else {
            r.check(key, false, "must be [min, max] with 0 < min <= max")
            return nil
        }
        return v[0]...v[1]
    }

    var yamlText: String { yamlFlow([yamlNumber(lowerBound), yamlNumber(upperBound)]) }
}

extension SyntheticDataConfig: ConfigSection {
    static let keys: [ConfigKey<SyntheticDataConfig>] = [
        .value("size", \.size, check: { [((64...4096).contains($0.size), "must be in 64...4096")] }),
        .value("count", \.count, check: { [($0.count >= 1, "must be >= 1")] }),
        .value("val_count", \.valCount, check: { [($0.valCount >= 1, "must be >= 1")] }),
        .value("vessel_density", \.vesselDensity, check: { [($0.vesselDensity > 0, "must be > 0")] }),
        .value("noise", \.noise, check: { [($0.noise >= 0, "must be >= 0")] }),
        .value("lesions", \.lesions),
    ]
}
