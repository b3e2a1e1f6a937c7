/// The `folder` layout: `ROOT/images/` and `ROOT/masks/`, an image and its class-id mask
/// paired by file stem (`cat.jpg` ↔ `cat.png`), never by sorted position, so one missing
/// file cannot shift every pair after it.
///
/// Validation images come from `ROOT/val/images` + `ROOT/val/masks` when those exist, else
/// from `data.val_fraction` of `images/` (the fixed-seed `HoldOutSplit`, the same for every
/// run seed). A `val_fraction` that is given always wins over `val/`, as for the other
/// datasets. Masks store class ids: palette indices or gray values (see `LabelRules`).
public enum FolderDataset {
    /// Training and validation datasets of the folder at `root`.
    public static func splits(root: String, rules: LabelRules, channels: Int, valFraction: Double?) throws
        -> (train: ImageMaskDataset, val: ImageMaskDataset) {
        let images = root + "/images", masks = root + "/masks"
        let missing = [images, masks].filter { !DataFiles.isDirectory($0) }
        guard missing.isEmpty else {
            let names = missing.map { $0 == images ? "images/" : "masks/" }.joined(separator: " or ")
            throw DataPipelineError("\(root): no \(names) folder; the folder layout is images/ + masks/ "
                                    + "(class-id masks with the images' file names), optionally val/images + val/masks")
        }
        let all = try ImageMaskDataset(entries: pairs(images: images, masks: masks), channels: channels,
                                       rules: rules, root: root)
        if let valFraction {
            let (train, val) = try HoldOutSplit.indices(count: all.count, fraction: valFraction)
            return (all.subset(train), all.subset(val))
        }
        let valImages = root + "/val/images", valMasks = root + "/val/masks"
        guard DataFiles.isDirectory(valImages) && DataFiles.isDirectory(valMasks) else {
            throw DataPipelineError("\(root): no val/images + val/masks folders for validation; add them, or set "
                                    + "data.val_fraction (e.g. 0.2) to hold out part of images/")
        }
        let val = try ImageMaskDataset(entries: pairs(images: valImages, masks: valMasks), channels: channels,
                                       rules: rules, root: root + "/val")
        return (all, val)
    }

    /// The image/mask pairs of two folders, matched by stem and sorted by it; throws one error
    /// listing every image without a mask, mask without an image, and stem used twice.
    public static func pairs(images: String, masks: String) throws -> [ImageMaskDataset.Entry] {
        let (imageFiles, otherImages) = try byStem(images)
        let (maskFiles, otherMasks) = try byStem(masks)
        guard !imageFiles.isEmpty else {
            throw DataPipelineError("\(images): no image files (.png, .jpg, .jpeg, .tif, .tiff, .gif)")
        }
        var problems: [String] = []
        for (folder, files) in [(images, imageFiles), (masks, maskFiles)] {
            for (stem, names) in files.sorted(by: { $0.key < $1.key }) where names.count > 1 {
                let list = names.joined(separator: ", ")
                problems.append("\(names.count) files in \(folder) have the stem '\(stem)' (\(list))")
            }
        }
        func unpaired(_ from: [String: [String]], _ to: [String: [String]], _ others: [String: String],
                      _ folder: String) -> [String] {
            from.keys.filter { to[$0] == nil }.sorted().map { stem in
                let other = others[stem].map { " (\(folder)/\($0) is not a .png, .jpg, .tif or .gif file)" } ?? ""
                return from[stem]![0] + other
            }
        }
        let noMask = unpaired(imageFiles, maskFiles, otherMasks, masks)
        let noImage = unpaired(maskFiles, imageFiles, otherImages, images)
        if !noMask.isEmpty {
            problems.append("\(noMask.count) image\(noMask.count == 1 ? " has" : "s have") no mask in \(masks): "
                            + DataFiles.listing(noMask))
        }
        if !noImage.isEmpty {
            problems.append("\(noImage.count) mask\(noImage.count == 1 ? " has" : "s have") no image in \(images): "
                            + DataFiles.listing(noImage))
        }
        guard problems.isEmpty else { throw DataPipelineError(problems.joined(separator: "; ")) }
        // Same-stem duplicates were rejected above, so each stem has exactly one file on each side.
        return imageFiles.keys.sorted().map { stem in
            ImageMaskDataset.Entry(name: stem, image: images + "/" + imageFiles[stem]![0],
                                   mask: masks + "/" + maskFiles[stem]![0])
        }
    }

    /// The image files of `folder` by stem, and the other visible files by stem.
    private static func byStem(_ folder: String) throws -> (images: [String: [String]], others: [String: String]) {
        var images: [String: [String]] = [:], others: [String: String] = [:]
        for name in try DataFiles.files(in: folder) {
            let stem = DataFiles.split(name).stem
            if DataFiles.isImage(name) { images[stem, default: []].append(name) } else { others[stem] = name }
        }
        return (images, others)
    }
}
