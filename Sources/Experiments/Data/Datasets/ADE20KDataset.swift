/// The ADE20K scene-parsing benchmark (the MIT Scene Parsing challenge release) as distributed:
/// `ADEChallengeData2016/images/{training,validation}/ADE_*.jpg` and `annotations/.../ADE_*.png`.
/// Annotation 0 ("other objects") is ignored and 1…150 become classes 0…149, as
/// MMSegmentation's `reduce_zero_label` does. `root` may name ADEChallengeData2016 or its parent.
public enum ADE20KDataset {
    /// The 150 classes, in class-id order (MMSegmentation's names).
    public static let classNames = [
        "wall", "building", "sky", "floor", "tree", "ceiling", "road", "bed", "windowpane", "grass", "cabinet",
        "sidewalk", "person", "earth", "door", "table", "mountain", "plant", "curtain", "chair", "car", "water",
        "painting", "sofa", "shelf", "house", "sea", "mirror", "rug", "field", "armchair", "seat", "fence", "desk",
        "rock", "wardrobe", "lamp", "bathtub", "railing", "cushion", "base", "box", "column", "signboard",
        "chest of drawers", "counter", "sand", "sink", "skyscraper", "fireplace", "refrigerator", "grandstand",
        "path", "stairs", "runway", "case", "pool table", "pillow", "screen door", "stairway", "river", "bridge",
        "bookcase", "blind", "coffee table", "toilet", "flower", "book", "hill", "bench", "countertop", "stove",
        "palm", "kitchen island", "computer", "swivel chair", "boat", "bar", "arcade machine", "hovel", "bus",
        "towel", "light", "truck", "tower", "chandelier", "awning", "streetlight", "booth", "television receiver",
        "airplane", "dirt track", "apparel", "pole", "land", "bannister", "escalator", "ottoman", "bottle",
        "buffet", "poster", "stage", "van", "ship", "fountain", "conveyer belt", "canopy", "washer", "plaything",
        "swimming pool", "stool", "barrel", "basket", "waterfall", "tent", "bag", "minibike", "cradle", "oven",
        "ball", "food", "step", "tank", "trade name", "microwave", "pot", "animal", "bicycle", "lake",
        "dishwasher", "screen", "blanket", "sculpture", "hood", "sconce", "vase", "traffic light", "tray",
        "ashcan", "fan", "pier", "crt screen", "plate", "monitor", "bulletin board", "shower", "radiator", "glass",
        "clock", "flag",
    ]

    /// The label rules: 0 ignored, k → k - 1.
    public static func rules(ignoreIndex: Int32) -> LabelRules {
        LabelRules(numClasses: classNames.count, ignoreIndex: ignoreIndex,
                   labelMap: Dictionary(uniqueKeysWithValues: (0...classNames.count).map { ($0, $0 == 0 ? Int(ignoreIndex) : $0 - 1) }))
    }

    /// `training` trains and `validation` validates; with `holdOut`, both come from `training`.
    public static func splits(root: String, ignoreIndex: Int32, channels: Int = 3, holdOut: HoldOut? = nil) throws
        -> (train: ImageMaskDataset, val: ImageMaskDataset) {
        let folder = DataFiles.isDirectory(root + "/ADEChallengeData2016") ? root + "/ADEChallengeData2016" : root
        let rules = rules(ignoreIndex: ignoreIndex)
        return try ImageMaskDataset(entries: entries(folder, split: "training"), channels: channels, rules: rules, root: folder)
            .split(holdOut) {
                try ImageMaskDataset(entries: entries(folder, split: "validation"), channels: channels, rules: rules, root: folder)
            }
    }

    /// The images of `split` paired by stem with their annotations (`FolderDataset.pairs`).
    static func entries(_ folder: String, split: String) throws -> [ImageMaskDataset.Entry] {
        let images = "\(folder)/images/\(split)", annotations = "\(folder)/annotations/\(split)"
        for path in [images, annotations] where !DataFiles.isDirectory(path) {
            throw DataPipelineError("\(folder): no \(path.dropFirst(folder.count + 1))/ folder; ADE20K is read as "
                                    + "distributed: ADEChallengeData2016/images/{training,validation}/ and "
                                    + "annotations/{training,validation}/")
        }
        return try FolderDataset.pairs(images: images, masks: annotations)
    }
}
