import Foundation
import Nets

/// A cross-validation split as `splits.json` stores it: for each fold, the names of its training
/// and validation images (the samples' file stems, `21_training`, so the file means the same on
/// every machine), and the fold count and seed it was drawn with. It mirrors nnU-Net's
/// `splits_final.json`, whose bare list of `{"train": [...], "val": [...]}` reads as well:
///
/// ```json
/// {"folds": 5, "seed": 0, "splits": [{"train": ["21_training", ...], "val": ["22_training", ...]}, ...]}
/// ```
public struct SplitsFile: Equatable, Sendable {
    public struct Fold: Equatable, Sendable {
        public var train: [String]
        public var val: [String]

        public init(train: [String], val: [String]) {
            self.train = train
            self.val = val
        }
    }

    public var folds: [Fold]
    /// The `data.split_seed` the folds were drawn with; nil in a file written by hand or by nnU-Net.
    public var seed: Int?

    public init(folds: [Fold], seed: Int?) {
        self.folds = folds
        self.seed = seed
    }

    /// The `k` folds of `names` that `KFold` deals with `seed`: fold i validates on the i-th
    /// part and trains on the others.
    public init(drawing names: [String], k: Int, seed: Int) {
        let parts = KFold.validationFolds(of: names, k: k, seed: UInt64(truncatingIfNeeded: seed))
        folds = parts.map { val in
            let held = Set(val)
            return Fold(train: names.filter { !held.contains($0) }.sorted(), val: val)
        }
        self.seed = seed
    }

    /// The file's text: one fold per line, so a diff shows which images moved.
    public var json: String {
        func list(_ names: [String]) -> String { "[" + names.map(JSONText.quoted).joined(separator: ", ") + "]" }
        let lines = folds.map { "    {\"train\": \(list($0.train)), \"val\": \(list($0.val))}" }
        return "{\n  \"folds\": \(folds.count),\n" + (seed.map { "  \"seed\": \($0),\n" } ?? "")
            + "  \"splits\": [\n" + lines.joined(separator: ",\n") + "\n  ]\n}\n"
    }

    /// Reads the file at `path`; throws a one-line description of what is wrong with it.
    public static func read(_ path: String) throws -> SplitsFile {
        let shape = "expected {\"folds\": K, \"seed\": S, \"splits\": [{\"train\": [names], \"val\": [names]}, ...]}"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataPipelineError("\(path): cannot read the splits file")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) else {
            throw DataPipelineError("\(path): not JSON; \(shape)")
        }
        let top = object as? [String: Any]
        guard let entries = (top?["splits"] ?? object) as? [Any], !entries.isEmpty else {
            throw DataPipelineError("\(path): no list of folds; \(shape)")
        }
        var folds: [Fold] = []
        for (i, entry) in entries.enumerated() {
            guard let fold = entry as? [String: Any], let train = fold["train"] as? [String], let val = fold["val"] as? [String] else {
                throw DataPipelineError("\(path): fold \(i) is not {\"train\": [names], \"val\": [names]}; \(shape)")
            }
            folds.append(Fold(train: train, val: val))
        }
        if let k = top?["folds"], (k as? Int) != folds.count {
            throw DataPipelineError("\(path): \"folds\" is \(k) but \"splits\" lists \(folds.count) folds")
        }
        let seed = top?["seed"]
        if let seed, !(seed is Int) { throw DataPipelineError("\(path): \"seed\" must be an integer, got \(seed)") }
        return SplitsFile(folds: folds, seed: seed as? Int)
    }

    /// What keeps this from being a split of `names` (a dataset's training images) into `k`
    /// folds, each of which names every image once, in train or in val; nil when nothing does.
    public func mismatch(names: [String], k: Int) -> String? {
        guard folds.count == k else { return "has \(folds.count) folds but data.folds is \(k)" }
        let known = Set(names)
        for (i, fold) in folds.enumerated() {
            let listed = fold.train + fold.val
            let unknown = listed.filter { !known.contains($0) }
            if !unknown.isEmpty {
                return "fold \(i) names \(unknown.count) image\(unknown.count == 1 ? "" : "s") that "
                    + "\(unknown.count == 1 ? "is" : "are") not among the \(names.count) training images: "
                    + DataFiles.listing(unknown, limit: 5)
            }
            var seen: Set<String> = []
            if let twice = listed.first(where: { !seen.insert($0).inserted }) {
                return "fold \(i) lists '\(twice)' twice" + (Set(fold.train).contains(twice) && Set(fold.val).contains(twice)
                    ? " (in train and in val)" : "")
            }
            let missing = names.filter { !seen.contains($0) }
            if !missing.isEmpty {
                return "fold \(i) leaves out \(missing.count) training image\(missing.count == 1 ? "" : "s"): "
                    + DataFiles.listing(missing, limit: 5)
            }
            if fold.val.isEmpty || fold.train.isEmpty {
                return "fold \(i) has no \(fold.val.isEmpty ? "validation" : "training") images"
            }
        }
        return nil
    }
}
