/// STARE's vessel images as distributed (the tar files unpacked into folders of their names):
/// `ROOT/stare-images/imNNNN.ppm` (or `images/`), with Hoover's annotations
/// `ROOT/labels-ah/imNNNN.ah.ppm` as the labels and Kouznetsova's `ROOT/labels-vk/imNNNN.vk.ppm`
/// as the second observer's, each file gzipped (`.ppm.gz`, as downloaded) or not, 700x605.
/// Only the 20 images Hoover annotated are used, of the 400 in stare-images. No field-of-view
/// masks are distributed, so each image's is derived from it (`FieldOfView.derived`). The
/// split is MMSegmentation's: the first 10 annotated images train, the last 10 test.
public enum STAREDataset {
    public static func sets(root: String, channels: Int = 3, ignoreIndex: Int32 = 255) throws
        -> (train: VesselDataset, test: VesselDataset) {
        guard let imageFolder = ["stare-images", "images"].first(where: { DataFiles.isDirectory(root + "/" + $0) }),
              DataFiles.isDirectory(root + "/labels-ah") else {
            var message = "\(root): no " + (DataFiles.isDirectory(root + "/labels-ah") ? "stare-images/" : "labels-ah/")
                + " folder; STARE is read as distributed: stare-images/, labels-ah/ and labels-vk/, the tar files unpacked"
            let found = DataFiles.subfolders(of: root)
            if !found.isEmpty { message += " (found \(found.map { $0 + "/" }.joined(separator: ", ")))" }
            throw DataPipelineError(message)
        }
        // "im0001.ah.ppm.gz" → "im0001"; files of other names are passed over.
        func byImage(_ folder: String, tag: String) throws -> [String: String] {
            guard DataFiles.isDirectory(root + "/" + folder) else { return [:] }
            var out: [String: String] = [:]
            for name in try DataFiles.files(in: root + "/" + folder) where DataFiles.isImage(name) {
                var stem = DataFiles.split(name).stem
                if !tag.isEmpty {
                    guard stem.hasSuffix("." + tag) else { continue }
                    stem.removeLast(tag.count + 1)
                }
                out[stem] = name
            }
            return out
        }
        let images = try byImage(imageFolder, tag: ""), first = try byImage("labels-ah", tag: "ah")
        let second = try byImage("labels-vk", tag: "vk")
        let missing = first.keys.sorted().filter { images[$0] == nil }
        guard missing.isEmpty else {
            throw DataPipelineError("\(root): labels-ah/ annotates images not in \(imageFolder)/: "
                                    + DataFiles.listing(missing.map { first[$0]! }))
        }
        let stems = first.keys.sorted()
        guard stems.count >= 2 else {
            throw DataPipelineError("\(root)/labels-ah: \(stems.count) imNNNN.ah.ppm annotation(s); STARE's 20 are split "
                                    + "into 10 training and 10 test images")
        }
        let entries = stems.map { stem in
            VesselDataset.Entry(name: stem, image: "\(root)/\(imageFolder)/\(images[stem]!)",
                                manual: "\(root)/labels-ah/\(first[stem]!)", fov: nil,
                                secondManual: "\(root)/labels-vk/\(second[stem] ?? stem + ".vk.ppm")")
        }
        let half = entries.count / 2, note = "STARE distributes labels-vk/imNNNN.vk.ppm for the 20 annotated images"
        return (try VesselDataset(entries: Array(entries[..<half]), channels: channels, ignoreIndex: ignoreIndex,
                                  secondObserverNote: note),
                try VesselDataset(entries: Array(entries[half...]), channels: channels, ignoreIndex: ignoreIndex,
                                  secondObserverNote: note))
    }
}
