/// The High-Resolution Fundus database as distributed (`all.zip`): `ROOT/images/NN_C.JPG`,
/// `ROOT/manual1/NN_C.tif` and `ROOT/mask/NN_C_mask.tif`, where C is the category (`h`
/// healthy, `g` glaucoma, `dr` diabetic retinopathy), 15 images of each at 3504x2336. HRF has
/// one annotation per image. The split is Orlando et al.'s (2017), which MMSegmentation's
/// converter also makes: the first 5 images of each category train, the other 10 test
/// (15 / 30); a partial copy trains on the first third of each category.
public enum HRFDataset {
    public static func sets(root: String, channels: Int = 3, ignoreIndex: Int32 = 255) throws
        -> (train: VesselDataset, test: VesselDataset) {
        let folders = ["images", "manual1", "mask"]
        let missing = folders.filter { !DataFiles.isDirectory(root + "/" + $0) }
        guard missing.isEmpty else {
            var message = "\(root): no \(missing.joined(separator: "/, "))/ folder\(missing.count > 1 ? "s" : ""); "
                + "HRF is read as distributed: images/, manual1/ and mask/"
            let found = DataFiles.subfolders(of: root)
            if !found.isEmpty { message += " (found \(found.map { $0 + "/" }.joined(separator: ", ")))" }
            throw DataPipelineError(message)
        }
        // stem → file name in each folder; the masks' stems end in _mask.
        var problems: [String] = []
        func stems(_ folder: String, dropping suffix: String = "") throws -> [String: String] {
            var out: [String: String] = [:]
            for name in try DataFiles.files(in: root + "/" + folder) where DataFiles.isImage(name) {
                var stem = DataFiles.split(name).stem
                guard stem.hasSuffix(suffix) else { continue }
                stem.removeLast(suffix.count)
                if let earlier = out[stem] { problems.append("\(folder)/\(earlier) and \(folder)/\(name) have the same name") }
                out[stem] = name
            }
            return out
        }
        let images = try stems("images"), manuals = try stems("manual1"), masks = try stems("mask", dropping: "_mask")
        for stem in images.keys.sorted() {
            if manuals[stem] == nil { problems.append("no manual1/\(stem).tif for images/\(images[stem]!)") }
            if masks[stem] == nil { problems.append("no mask/\(stem)_mask.tif for images/\(images[stem]!)") }
        }
        for (folder, files) in [("manual1", manuals), ("mask", masks)] {
            for stem in files.keys.sorted() where images[stem] == nil { problems.append("\(folder)/\(files[stem]!) has no image") }
        }
        guard problems.isEmpty else { throw DataPipelineError("\(root): " + DataFiles.listing(problems, separator: "; ")) }
        // Category → its stems by number ("01_dr" is number 1 of category dr).
        var categories: [String: [(number: Int, stem: String)]] = [:]
        for stem in images.keys {
            let parts = stem.split(separator: "_", maxSplits: 1)
            guard parts.count == 2, let number = Int(parts[0]) else {
                throw DataPipelineError("\(root)/images/\(images[stem]!): HRF's images are named NN_h, NN_g or NN_dr")
            }
            categories[String(parts[1]), default: []].append((number, stem))
        }
        guard !categories.isEmpty else { throw DataPipelineError("\(root)/images: no NN_h.jpg, NN_g.jpg or NN_dr.jpg images") }
        var train: [VesselDataset.Entry] = [], test: [VesselDataset.Entry] = []
        for category in categories.keys.sorted() {
            let members = categories[category]!.sorted { $0.number < $1.number }
            let trained = max(1, members.count / 3)
            for (k, member) in members.enumerated() {
                let s = member.stem
                let entry = VesselDataset.Entry(name: s, image: "\(root)/images/\(images[s]!)", manual: "\(root)/manual1/\(manuals[s]!)",
                                                fov: "\(root)/mask/\(masks[s]!)", secondManual: nil)
                if k < trained { train.append(entry) } else { test.append(entry) }
            }
        }
        guard !test.isEmpty else {
            throw DataPipelineError("\(root)/images: \(train.count) image(s), too few to split into training and test (HRF has 45)")
        }
        let note = "HRF distributes one annotation per image"
        return (try VesselDataset(entries: train, channels: channels, ignoreIndex: ignoreIndex, secondObserverNote: note),
                try VesselDataset(entries: test, channels: channels, ignoreIndex: ignoreIndex, secondObserverNote: note))
    }
}
