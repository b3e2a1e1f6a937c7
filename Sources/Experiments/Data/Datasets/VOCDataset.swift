import Foundation

/// The Pascal VOC segmentation layout: `JPEGImages/ID.jpg`, `SegmentationClass/ID.png` (palette
/// PNGs whose indices are the class ids, 255 on object borders = ignore) and the image ids of
/// each split in `ImageSets/Segmentation/{train,val}.txt`.
///
/// `root` may name the year folder (`VOCdevkit/VOC2012`), `VOCdevkit` (VOC2012 inside is used),
/// or the folder the archive was extracted into. Tools that export other datasets "in VOC
/// format" (CVAT, Label Studio) use the same layout with their own classes, so the class count
/// comes from `data.num_classes`; a value above it says that VOC itself has 21.
public enum VOCDataset {
    /// Background and the 20 object classes of Pascal VOC.
    public static let numClasses = 21

    /// The 21 classes' names (VOCdevkit's), in class-id order.
    public static let classNames = [
        "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
        "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor",
    ]

    /// The folder holding `JPEGImages`, `SegmentationClass` and `ImageSets` for `root` and
    /// `year` (`data.year`: 2012, or 2007 as the bubbliiiing repositories' VOCdevkit/VOC2007).
    public static func yearFolder(_ root: String, year: Int = 2012) throws -> String {
        for candidate in [root, root + "/VOC\(year)", root + "/VOCdevkit/VOC\(year)"]
            where DataFiles.isDirectory(candidate + "/ImageSets/Segmentation") {
            return candidate
        }
        let others = [root, root + "/VOCdevkit"].flatMap { parent in
            DataFiles.subfolders(of: parent).filter { $0.hasPrefix("VOC") && $0 != "VOCdevkit" && $0 != "VOC\(year)" }
        }
        let hint = others.compactMap { Int($0.dropFirst(3)) }.first.map { " (found VOC\($0)/: set data.year: \($0))" } ?? ""
        throw DataPipelineError("\(root): not a Pascal VOC folder: expected JPEGImages/, SegmentationClass/ and "
                                + "ImageSets/Segmentation/ in it, in VOC\(year)/ or in VOCdevkit/VOC\(year)/" + hint)
    }

    /// Training (`train.txt`) and validation (`val.txt`) sets; with `holdOut`, both are drawn
    /// from `train.txt` and `val.txt` is not read.
    public static func splits(root: String, year: Int = 2012, rules: LabelRules, channels: Int = 3,
                              holdOut: HoldOut? = nil) throws -> (train: ImageMaskDataset, val: ImageMaskDataset) {
        let folder = try yearFolder(root, year: year)
        var rules = rules
        if rules.hint == nil && rules.numClasses < numClasses {
            rules = LabelRules(numClasses: rules.numClasses, ignoreIndex: rules.ignoreIndex, labelMap: rules.labelMap,
                               palette: rules.palette, hint: "Pascal VOC has \(numClasses) classes (data.num_classes: \(numClasses))")
        }
        return try ImageMaskDataset(entries: entries(folder, list: "train"), channels: channels, rules: rules, root: folder)
            .split(holdOut) {
                try ImageMaskDataset(entries: entries(folder, list: "val"), channels: channels, rules: rules, root: folder)
            }
    }

    /// The files of the image ids in `ImageSets/Segmentation/<list>.txt`; throws one error
    /// listing the ids whose image or mask is missing.
    public static func entries(_ folder: String, list: String) throws -> [ImageMaskDataset.Entry] {
        let path = folder + "/ImageSets/Segmentation/\(list).txt"
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw DataPipelineError("\(path): cannot read the image list (\(error.localizedDescription))")
        }
        // One id per line; a second column (the classification lists' "-1"/"1") is ignored.
        let ids = text.split(whereSeparator: \.isNewline).compactMap { line in
            line.split(whereSeparator: \.isWhitespace).first.map(String.init)
        }
        guard !ids.isEmpty else { throw DataPipelineError("\(path): the list names no images") }
        var missing: [String] = []
        let entries = ids.map { id in
            let entry = ImageMaskDataset.Entry(name: id, image: folder + "/JPEGImages/\(id).jpg",
                                               mask: folder + "/SegmentationClass/\(id).png")
            if !DataFiles.isFile(entry.image) { missing.append("JPEGImages/\(id).jpg") }
            if !DataFiles.isFile(entry.mask) { missing.append("SegmentationClass/\(id).png") }
            return entry
        }
        guard missing.isEmpty else {
            throw DataPipelineError("\(folder): \(missing.count) file\(missing.count == 1 ? "" : "s") named by "
                                    + "ImageSets/Segmentation/\(list).txt \(missing.count == 1 ? "is" : "are") missing: "
                                    + DataFiles.listing(missing))
        }
        return entries
    }
}
