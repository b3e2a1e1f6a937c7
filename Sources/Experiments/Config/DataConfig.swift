/// Where the images come from.
public enum DatasetKind: String, ConfigChoice {
    /// DRIVE retinal vessels (`training/images`, `1st_manual`, `mask`; outside-FOV pixels ignored).
    case drive
    /// A generic `images/` + `masks/` folder pair.
    case folder
    /// Pascal VOC layout (`JPEGImages`, `SegmentationClass`, `ImageSets/Segmentation`).
    case voc
    /// Generated fundus-like images; needs no files.
    case synthetic
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
    /// Stored pixel value → class id (e.g. `{255: 1}` for 0/255 masks); nil uses the
    /// dataset's own mapping.
    public var labelMap: [Int: Int]?
    /// The colour of each class id, `[[r, g, b], ...]` (one per class), for colour-coded RGB
    /// masks; nil: RGB masks must be gray.
    public var palette: [[Int]]?
    /// Present exactly when `dataset` is `synthetic`.
    public var synthetic: SyntheticDataConfig?

    public init() {}
}

extension DataConfig {
    init(_ r: SectionReader) {
        self.init()
        dataset = r.choice("dataset", dataset)
        // Synthetic data has no folder: its root is ignored and stays at the default, so
        // the resolved config (which leaves it out) reads back equal.
        if dataset != .synthetic { root = r.string("root", root) }
        numClasses = r.int("num_classes", numClasses)
        r.check("num_classes", numClasses >= 2, "must be at least 2 (background and one class)")
        ignoreIndex = r.int("ignore_index", ignoreIndex)
        r.check("ignore_index", ignoreIndex >= 0, "must be >= 0")
        r.check("ignore_index", ignoreIndex < 0 || ignoreIndex >= numClasses,
                "must not be a class id (data.num_classes is \(numClasses))")
        if r.has("crop") { crop = r.optional("crop") { readCrop(r, $0, $1) } }
        mean = r.doubles("mean", mean)
        std = r.doubles("std", std)
        r.check("std", std.allSatisfy { $0 > 0 }, "values must be > 0")
        if r.has("scale") {
            scale = r.optional("scale") { key, node in
                guard let v = r.doubles(key, node) else { return nil }
                guard v.count == 2, v[0] > 0, v[0] <= v[1] else {
                    r.check(key, false, "must be [min, max] with 0 < min <= max")
                    return nil
                }
                return v[0]...v[1]
            }
        }
        hflip = r.double("hflip", hflip)
        r.check("hflip", (0...1).contains(hflip), "is a probability and must be in [0, 1]")
        vflip = r.double("vflip", vflip)
        r.check("vflip", (0...1).contains(vflip), "is a probability and must be in [0, 1]")
        valFraction = r.optional("val_fraction") { r.double($0, $1) }
        if let f = valFraction { r.check("val_fraction", f > 0 && f < 1, "must be in (0, 1)") }
        labelMap = r.optional("label_map") { readLabelMap(r, $0, $1) }
        palette = r.optional("palette") { key, node in r.list(key, node) { r.ints($0, $1) } }
        if let palette {
            let colours = palette.allSatisfy { $0.count == 3 && $0.allSatisfy { (0...255).contains($0) } }
            r.check("palette", palette.count == numClasses && colours,
                    "must give one [r, g, b] colour (0-255) per class (data.num_classes is \(numClasses))")
            r.check("palette", Set(palette).count == palette.count, "must give each class its own colour")
        }
        if dataset == .synthetic { synthetic = SyntheticDataConfig(r.section("synthetic")) }
    }

    private func readCrop(_ r: SectionReader, _ key: String, _ node: YAMLNode) -> CropSize? {
        let sides: [Int]? = node.sequence != nil ? r.ints(key, node) : r.int(key, node).map { [$0, $0] }
        guard let sides else { return nil }
        guard sides.count == 2, sides.allSatisfy({ $0 >= 1 }) else {
            r.check(key, false, "must be a size >= 1 or [height, width]")
            return nil
        }
        return CropSize(height: sides[0], width: sides[1])
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

    func render(into w: inout YAMLWriter) {
        w.field("dataset", dataset.rawValue)
        if dataset != .synthetic { w.field("root", yamlString(root)) }
        w.field("num_classes", "\(numClasses)")
        w.field("ignore_index", "\(ignoreIndex)")
        w.field("crop", crop.map { yamlFlow(["\($0.height)", "\($0.width)"]) } ?? "null")
        w.field("mean", yamlFlow(mean.map(yamlNumber)))
        w.field("std", yamlFlow(std.map(yamlNumber)))
        w.field("scale", scale.map { yamlFlow([yamlNumber($0.lowerBound), yamlNumber($0.upperBound)]) } ?? "null")
        w.field("hflip", yamlNumber(hflip))
        w.field("vflip", yamlNumber(vflip))
        w.field("val_fraction", valFraction.map(yamlNumber) ?? "null")
        w.field("label_map", labelMap.map { map in
            "{" + map.keys.sorted().map { "\($0): \(map[$0]!)" }.joined(separator: ", ") + "}"
        } ?? "null")
        // Written only when set, so configs without one keep their hash.
        if let palette { w.field("palette", yamlFlow(palette.map { yamlFlow($0.map(String.init)) })) }
        if let synthetic { w.section("synthetic") { synthetic.render(into: &$0) } }
    }
}

extension SyntheticDataConfig {
    init(_ r: SectionReader) {
        self.init()
        size = r.int("size", size)
        r.check("size", (64...4096).contains(size), "must be in 64...4096")
        count = r.int("count", count)
        r.check("count", count >= 1, "must be >= 1")
        valCount = r.int("val_count", valCount)
        r.check("val_count", valCount >= 1, "must be >= 1")
        vesselDensity = r.double("vessel_density", vesselDensity)
        r.check("vessel_density", vesselDensity > 0, "must be > 0")
        noise = r.double("noise", noise)
        r.check("noise", noise >= 0, "must be >= 0")
        lesions = r.bool("lesions", lesions)
    }

    func render(into w: inout YAMLWriter) {
        w.field("size", "\(size)")
        w.field("count", "\(count)")
        w.field("val_count", "\(valCount)")
        w.field("vessel_density", yamlNumber(vesselDensity))
        w.field("noise", yamlNumber(noise))
        w.field("lesions", "\(lesions)")
    }
}
