/// Cityscapes' fine annotations as distributed: `ROOT/leftImg8bit/{train,val}/<city>/<stem>_leftImg8bit.png`
/// and `ROOT/gtFine/{train,val}/<city>/<stem>_gtFine_labelIds.png`. The 34 label ids become the
/// 19 train ids of the benchmark (cityscapesScripts' `labels.py`); every other id (unlabeled,
/// ego vehicle, parking, guard rail, caravan, ...) is ignored, as MMSegmentation and torchvision
/// train on them. The official test annotations are withheld, so `val` validates.
public enum CityscapesDataset {
    /// The 19 train ids' classes, in id order.
    public static let classNames = [
        "road", "sidewalk", "building", "wall", "fence", "pole", "traffic light", "traffic sign", "vegetation",
        "terrain", "sky", "person", "rider", "car", "truck", "bus", "train", "motorcycle", "bicycle",
    ]

    /// Label id → train id, for the ids that are classes.
    static let trainIds: [Int: Int] = [
        7: 0, 8: 1, 11: 2, 12: 3, 13: 4, 17: 5, 19: 6, 20: 7, 21: 8, 22: 9, 23: 10, 24: 11, 25: 12, 26: 13,
        27: 14, 28: 15, 31: 16, 32: 17, 33: 18,
    ]

    /// The label rules: train ids, every other stored value ignored.
    public static func rules(ignoreIndex: Int32) -> LabelRules {
        LabelRules(numClasses: classNames.count, ignoreIndex: ignoreIndex,
                   labelMap: Dictionary(uniqueKeysWithValues: (0...255).map { ($0, trainIds[$0] ?? Int(ignoreIndex)) }))
    }

    /// `train` trains and `val` validates; with `holdOut`, both come from `train`.
    public static func splits(root: String, ignoreIndex: Int32, channels: Int = 3, holdOut: HoldOut? = nil) throws
        -> (train: ImageMaskDataset, val: ImageMaskDataset) {
        let rules = rules(ignoreIndex: ignoreIndex)
        return try ImageMaskDataset(entries: entries(root, split: "train"), channels: channels, rules: rules, root: root)
            .split(holdOut) {
                try ImageMaskDataset(entries: entries(root, split: "val"), channels: channels, rules: rules, root: root)
            }
    }

    /// Every image of `split`, city by city, with its label-id annotation; throws one error
    /// listing the images without one.
    static func entries(_ root: String, split: String) throws -> [ImageMaskDataset.Entry] {
        let images = "\(root)/leftImg8bit/\(split)", labels = "\(root)/gtFine/\(split)"
        for folder in [images, labels] where !DataFiles.isDirectory(folder) {
            throw DataPipelineError("\(root): no \(folder.dropFirst(root.count + 1))/ folder; Cityscapes is read as "
                                    + "distributed: leftImg8bit/{train,val}/<city>/ and gtFine/{train,val}/<city>/")
        }
        var entries: [ImageMaskDataset.Entry] = [], missing: [String] = []
        for city in DataFiles.subfolders(of: images) {
            for name in try DataFiles.files(in: "\(images)/\(city)") where name.hasSuffix("_leftImg8bit.png") {
                let stem = String(name.dropLast("_leftImg8bit.png".count))
                let mask = "\(labels)/\(city)/\(stem)_gtFine_labelIds.png"
                if !DataFiles.isFile(mask) { missing.append("gtFine/\(split)/\(city)/\(stem)_gtFine_labelIds.png") }
                entries.append(ImageMaskDataset.Entry(name: stem, image: "\(images)/\(city)/\(name)", mask: mask))
            }
        }
        guard missing.isEmpty else {
            throw DataPipelineError("\(root): \(missing.count) image\(missing.count == 1 ? " has" : "s have") no annotation: "
                                    + DataFiles.listing(missing))
        }
        guard !entries.isEmpty else { throw DataPipelineError("\(images): no <city>/*_leftImg8bit.png images") }
        return entries
    }
}
