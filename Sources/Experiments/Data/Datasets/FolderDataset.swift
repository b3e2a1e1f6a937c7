/// Where the `folder` dataset's files are under its root: the image and mask subfolders and
/// how a mask's name extends its image's (`data.images`, `data.masks`, `data.mask_suffix`).
public struct FolderLayout: Equatable, Sendable {
    public var images = "images"
    public var masks = "masks"
    /// The mask of `cat.jpg` is `cat<suffix>.<any image extension>` (milesial/Pytorch-UNet: `_mask`).
    public var maskSuffix = ""

    public init(images: String = "images", masks: String = "masks", maskSuffix: String = "") {
        self.images = images
        self.masks = masks
        self.maskSuffix = maskSuffix
    }
}

/// The `folder` layout: `ROOT/images/` and `ROOT/masks/` (or the subfolders `FolderLayout`
/// names), an image and its class-id mask paired by file stem (`cat.jpg` ↔ `cat.png`, or
/// `cat_mask.gif` with a mask suffix), never by sorted position, so one missing file cannot
/// shift every pair after it.
///
/// Validation images come from `ROOT/val/images` + `ROOT/val/masks`, or are held out of
/// `images/` by `data.val_fraction` (the fixed-seed `HoldOutSplit`, the same for every run
/// seed) or `data.folds` (a cross-validation fold). A hold-out that is given always wins over
/// `val/`, as for the other datasets. Masks store class ids: palette indices or gray values (see `LabelRules`).
public enum FolderDataset {
    /// Training and validation datasets of the folder at `root`.
    public static func splits(root: String, layout: FolderLayout = FolderLayout(), rules: LabelRules, channels: Int,
                              holdOut: HoldOut?) throws -> (train: ImageMaskDataset, val: ImageMaskDataset) {
        let images = root + "/" + layout.images, masks = root + "/" + layout.masks
        let missing = [images, masks].filter { !DataFiles.isDirectory($0) }
        guard missing.isEmpty else {
            let names = missing.map { ($0 == images ? layout.images : layout.masks) + "/" }.joined(separator: " or ")
            var message = "\(root): no \(names) folder; "
            if layout == FolderLayout() {
                message += "the folder layout is images/ + masks/ (class-id masks with the images' file names), "
                    + "optionally val/images + val/masks"
            } else {
                message += "data.images and data.masks name the subfolders of data.root"
            }
            // Other folders there may be the data under other names.
            let found = DataFiles.subfolders(of: root).filter { ![layout.images, layout.masks, "val"].contains($0) }
            if !found.isEmpty {
                message += " (found \(DataFiles.listing(found.map { $0 + "/" })); set data.images and data.masks "
                    + "to the image and mask folders)"
            }
            throw DataPipelineError(message)
        }
        let all = try ImageMaskDataset(entries: pairs(images: images, masks: masks, maskSuffix: layout.maskSuffix),
                                       channels: channels, rules: rules, root: root)
        return try all.split(holdOut) {
            let valImages = root + "/val/" + layout.images, valMasks = root + "/val/" + layout.masks
            guard DataFiles.isDirectory(valImages) && DataFiles.isDirectory(valMasks) else {
                throw DataPipelineError("\(root): no val/\(layout.images) + val/\(layout.masks) folders for validation; add "
                                        + "them, or set data.val_fraction (e.g. 0.2) to hold out part of \(layout.images)/")
            }
            return try ImageMaskDataset(entries: pairs(images: valImages, masks: valMasks, maskSuffix: layout.maskSuffix),
                                        channels: channels, rules: rules, root: root + "/val")
        }
    }

    /// The image/mask pairs of two folders, matched by stem (a mask's stem less `maskSuffix`)
    /// and sorted by it; throws one error listing every image without a mask, mask without an
    /// image, and stem used twice, and when nothing pairs, the suffix the masks' names suggest.
    public static func pairs(images: String, masks: String, maskSuffix: String = "") throws -> [ImageMaskDataset.Entry] {
        let (imageFiles, otherImages) = try byStem(images)
        let (maskFiles, otherMasks) = try byStem(masks, suffix: maskSuffix)
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
            problems.append("\(noImage.count) mask\(noImage.count == 1 ? " has" : "s have") no image in \(images)"
                            + (maskSuffix.isEmpty ? "" : " (as <image stem>\(maskSuffix))") + ": " + DataFiles.listing(noImage))
        }
        if noMask.count == imageFiles.count,
           let hint = suffixHint(images: Array(imageFiles.keys), masks: Array(try byStem(masks).images.keys), current: maskSuffix) {
            problems.append(hint)
        }
        guard problems.isEmpty else { throw DataPipelineError(problems.joined(separator: "; ")) }
        // Same-stem duplicates were rejected above, so each stem has exactly one file on each side.
        return imageFiles.keys.sorted().map { stem in
            ImageMaskDataset.Entry(name: stem, image: images + "/" + imageFiles[stem]![0],
                                   mask: masks + "/" + maskFiles[stem]![0])
        }
    }

    /// The image files of `folder` by stem (less `suffix` where it ends with it), and the other
    /// visible files by stem.
    private static func byStem(_ folder: String, suffix: String = "") throws
        -> (images: [String: [String]], others: [String: String]) {
        var images: [String: [String]] = [:], others: [String: String] = [:]
        for name in try DataFiles.files(in: folder) {
            var stem = DataFiles.split(name).stem
            if !suffix.isEmpty && stem.hasSuffix(suffix) && stem.count > suffix.count { stem.removeLast(suffix.count) }
            if DataFiles.isImage(name) { images[stem, default: []].append(name) } else { others[stem] = name }
        }
        return (images, others)
    }

    /// When no mask pairs: the `data.mask_suffix` under which every mask would, if one does
    /// (masks named `cat_mask.gif` for `cat.jpg` suggest `_mask`).
    private static func suffixHint(images: [String], masks: [String], current: String) -> String? {
        // The suffix of a mask's stem: what is left after the longest image stem it starts with.
        func suffix(_ mask: String) -> String? {
            images.filter { mask.hasPrefix($0) && mask.count > $0.count }.max { $0.count < $1.count }
                .map { String(mask.dropFirst($0.count)) }
        }
        let sample = masks.sorted().prefix(100)  // a hint, on failure only: no need to try every mask
        guard let first = sample.first, let candidate = suffix(first), candidate != current,
              sample.allSatisfy({ suffix($0) == candidate }) else { return nil }
        return "the masks are named <image stem>\(candidate): set data.mask_suffix: \(yamlString(candidate))"
    }
}
