/// The DRIVE retinal-vessel dataset in its distributed layout:
/// `ROOT/training/{images/NN_training.tif, 1st_manual/NN_manual1.gif, mask/NN_training_mask.gif}`
/// and the same under `ROOT/test/` with `_test` (and `2nd_manual/NN_manual2.gif`, the second
/// observer's, for the test images), the files of an image paired by the number `NN` in front
/// of their names. `training/` trains and `test/` tests, as DRIVE defines.
public enum DriveDataset {
    /// The two folders of the distribution.
    public enum Split: String, Sendable {
        case training, test
    }

    /// The images of `split` under `root`, sorted by number; throws one error listing every
    /// missing folder, image without an annotation or mask, and annotation without an image.
    public static func load(root: String, split: Split, channels: Int = 3, ignoreIndex: Int32 = 255) throws -> VesselDataset {
        let folder = root + "/" + split.rawValue
        let kinds = [("images", "_\(split.rawValue)"), ("1st_manual", "_manual1"), ("mask", "_\(split.rawValue)_mask")]
        let missing = kinds.map(\.0).filter { !DataFiles.isDirectory(folder + "/" + $0) }
        guard missing.isEmpty else {
            var message = DataFiles.isDirectory(folder)
                ? "\(folder): no \(missing.joined(separator: ", ")) folder\(missing.count > 1 ? "s" : ""); "
                : "\(root): no \(split.rawValue)/ folder; "
            message += "DRIVE is read as distributed: training/ and test/, each with images/, 1st_manual/ and mask/"
            if DataFiles.isDirectory(root + "/DRIVE") { message += " (did you mean data.root: \(root)/DRIVE?)" }
            throw DataPipelineError(message)
        }
        // number → file name, for each of the three folders.
        var problems: [String] = []
        let files = try kinds.map { kind, suffix in
            try numbered(folder + "/" + kind, suffix: suffix, problems: &problems)
        }
        for (number, image) in files[0].sorted(by: { $0.key < $1.key }) {
            for k in 1...2 where files[k][number] == nil { problems.append("no \(kinds[k].0) for \(image)") }
        }
        for k in 1...2 {
            for (number, name) in files[k].sorted(by: { $0.key < $1.key }) where files[0][number] == nil {
                problems.append("\(kinds[k].0)/\(name) has no image")
            }
        }
        guard problems.isEmpty else {
            throw DataPipelineError("\(folder): " + DataFiles.listing(problems, separator: "; "))
        }
        guard !files[0].isEmpty else {
            throw DataPipelineError("\(folder)/images: no NN\(kinds[0].1).tif images")
        }
        let entries = files[0].keys.sorted().map { number in
            let image = files[0][number]!
            return VesselDataset.Entry(name: DataFiles.split(image).stem,
                                       image: folder + "/images/" + image,
                                       manual: folder + "/1st_manual/" + files[1][number]!,
                                       fov: folder + "/mask/" + files[2][number]!,
                                       secondManual: "\(folder)/2nd_manual/\(image.prefix { $0 != "_" })_manual2.gif")
        }
        return try VesselDataset(entries: entries, channels: channels, ignoreIndex: ignoreIndex,
                                 secondObserverNote: "DRIVE distributes 2nd_manual/ for the test images only")
    }

    /// Training (`training/`) and validation (`test/`) sets; with `holdOut`, both are drawn
    /// from `training/` instead and `test/` is left alone.
    public static func splits(root: String, channels: Int = 3, ignoreIndex: Int32 = 255, holdOut: HoldOut? = nil)
        throws -> (train: VesselDataset, val: VesselDataset) {
        try load(root: root, split: .training, channels: channels, ignoreIndex: ignoreIndex).split(holdOut) {
            try load(root: root, split: .test, channels: channels, ignoreIndex: ignoreIndex)
        }
    }

    /// The image files of `folder` named `NN<suffix>.<image extension>`, by NN; other files
    /// (DRIVE has none, a copy may have `Thumbs.db`) are passed over.
    private static func numbered(_ folder: String, suffix: String, problems: inout [String]) throws -> [Int: String] {
        var out: [Int: String] = [:]
        for name in try DataFiles.files(in: folder) where DataFiles.isImage(name) {
            let stem = DataFiles.split(name).stem
            guard stem.hasSuffix(suffix), let number = Int(stem.dropLast(suffix.count)), number >= 0 else { continue }
            if let earlier = out[number] {
                problems.append("\(earlier) and \(name) in \(folder) have the same number")
                continue
            }
            out[number] = name
        }
        return out
    }
}
