/// CHASE_DB1 as distributed (`CHASEDB1.zip`, one flat folder): `ROOT/Image_NNE.jpg` with the
/// first observer's `Image_NNE_1stHO.png` and the second's `Image_NNE_2ndHO.png`, for the
/// left and right eye (E is L or R) of 14 children, 999x960. No field-of-view masks are
/// distributed, so each image's is derived from it (`FieldOfView.derived`). The split is the
/// one the literature and MMSegmentation's converter use: the first 20 images (children 01-10)
/// train, the last 8 (11-14) test.
public enum CHASEDB1Dataset {
    /// Children up to this number train.
    static let lastTrainingChild = 10

    public static func sets(root: String, channels: Int = 3, ignoreIndex: Int32 = 255) throws
        -> (train: VesselDataset, test: VesselDataset) {
        guard DataFiles.isDirectory(root) else { throw DataPipelineError("\(root): no such folder") }
        let names = try DataFiles.files(in: root)
        let images = names.filter { name in
            let stem = DataFiles.split(name).stem
            return DataFiles.isImage(name) && stem.hasPrefix("Image_") && !stem.hasSuffix("HO")
        }
        guard !images.isEmpty else {
            var message = "\(root): no Image_NNL.jpg images; CHASE_DB1 is read as distributed, one folder of "
                + "Image_01L.jpg, Image_01L_1stHO.png and Image_01L_2ndHO.png"
            if let inner = DataFiles.subfolders(of: root).first(where: { $0.lowercased().hasPrefix("chase") }) {
                message += " (did you mean data.root: \(root)/\(inner)?)"
            }
            throw DataPipelineError(message)
        }
        let byStem = Dictionary(names.map { (DataFiles.split($0).stem, $0) }) { a, _ in a }
        var problems: [String] = [], train: [VesselDataset.Entry] = [], test: [VesselDataset.Entry] = []
        for image in images {
            let stem = DataFiles.split(image).stem
            guard let child = Int(stem.dropFirst("Image_".count).dropLast()), ["L", "R"].contains(stem.last) else {
                problems.append("\(image) is not named Image_NNL or Image_NNR")
                continue
            }
            guard let manual = byStem[stem + "_1stHO"] else {
                problems.append("no \(stem)_1stHO.png for \(image)")
                continue
            }
            let entry = VesselDataset.Entry(name: stem, image: "\(root)/\(image)", manual: "\(root)/\(manual)", fov: nil,
                                            secondManual: "\(root)/\(byStem[stem + "_2ndHO"] ?? stem + "_2ndHO.png")")
            if child <= lastTrainingChild { train.append(entry) } else { test.append(entry) }
        }
        let stems = Set(images.map { DataFiles.split($0).stem })
        for name in names where name.contains("_1stHO.") || name.contains("_2ndHO.") {
            let stem = DataFiles.split(name).stem
            if !stems.contains(String(stem.dropLast("_1stHO".count))) { problems.append("\(name) has no image") }
        }
        guard problems.isEmpty else { throw DataPipelineError("\(root): " + DataFiles.listing(problems, separator: "; ")) }
        for (set, which) in [(train, "training (children 01-10)"), (test, "test (children 11-14)")] where set.isEmpty {
            throw DataPipelineError("\(root): no \(which) images; CHASE_DB1's first 20 images train and its last 8 test")
        }
        let note = "CHASE_DB1 distributes Image_NNE_2ndHO.png beside each image"
        return (try VesselDataset(entries: train, channels: channels, ignoreIndex: ignoreIndex, secondObserverNote: note),
                try VesselDataset(entries: test, channels: channels, ignoreIndex: ignoreIndex, secondObserverNote: note))
    }
}
