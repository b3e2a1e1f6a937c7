import Foundation
import Nets

/// The experiment folder (`results/<experiment>`) whose `splits.json` a cross-validation run
/// reads, and whether this step may create the file when it is missing: training does; checks,
/// dry runs, `runexp eval` and `runexp predict` only compute the split they would have written.
public struct SplitsStore: Sendable {
    public let experimentDirectory: String
    public let creates: Bool

    public init(experimentDirectory: String, creates: Bool) {
        self.experimentDirectory = experimentDirectory
        self.creates = creates
    }

    /// The experiment folder of the run folder `runDirectory` (its parent), for commands that
    /// find a run from its checkpoint.
    public init(runDirectory: String, creates: Bool) {
        self.init(experimentDirectory: URL(fileURLWithPath: runDirectory).deletingLastPathComponent().path, creates: creates)
    }

    public var path: String { experimentDirectory + "/splits.json" }
}

/// A problem with a cross-validation split, reported at the config setting that fixes it.
public struct SplitsError: Error, CustomStringConvertible, Equatable {
    public let description: String
    /// `data.splits` for the user's own file, else `data.folds`.
    public let configPath: String
}

/// One fold of a cross-validation (`data.folds`, `data.fold`, `data.split_seed`, `data.splits`):
/// which of a dataset's training images train and which validate.
///
/// The split is drawn once per experiment and kept as `splits.json` in its results folder, so
/// every fold run, rerun and resume (and `runexp eval`) sees the same images even if the drawing
/// code or the data's listing order changed since. A file that exists is read, never redrawn:
/// when it does not fit (another fold count or seed, names that are not training images) the
/// run stops with what differs. `data.splits` names a file of the user's own (nnU-Net's
/// `splits_final.json` reads as is), used instead and never written.
public struct CrossValidationFold: Sendable {
    public let folds: Int
    public let fold: Int
    public let seed: Int
    /// `data.splits`, resolved; nil: the experiment's `splits.json`.
    public let userFile: String?
    /// Where the experiment's `splits.json` is; nil: the split is drawn in memory (`runexp data`).
    public let store: SplitsStore?

    public init(folds: Int, fold: Int, seed: Int, userFile: String?, store: SplitsStore?) {
        self.folds = folds
        self.fold = fold
        self.seed = seed
        self.userFile = userFile
        self.store = store
    }

    /// Sorted training and validation indices into `names`, the training images' sample names.
    func indices(names: [String]) throws -> (train: [Int], val: [Int]) {
        var position: [String: Int] = [:]
        for (i, name) in names.enumerated() where position.updateValue(i, forKey: name) != nil {
            throw SplitsError(description: "two training images are named '\(name)', so a splits file cannot tell them "
                                  + "apart; cross-validation needs distinct names", configPath: "data.folds")
        }
        guard names.count >= folds else {
            let images = names.count == 1 ? "is 1 training image" : "are \(names.count) training images"
            throw SplitsError(description: "data.folds is \(folds) but there \(images); each fold needs at least one to "
                                  + "validate on", configPath: "data.folds")
        }
        let chosen = try split(names: names).folds[fold]
        // `split` checked that every name it lists is one of `names`.
        return (chosen.train.compactMap { position[$0] }.sorted(), chosen.val.compactMap { position[$0] }.sorted())
    }

    /// The user's file, else the experiment's `splits.json` (written under a lock when this step
    /// creates it and no other process has yet), else the split drawn in memory.
    private func split(names: [String]) throws -> SplitsFile {
        if let userFile {
            return try checked(read(userFile, at: "data.splits"), names, userFile, at: "data.splits",
                               fix: "correct it, or point data.splits at another file")
        }
        let drawn = SplitsFile(drawing: names, k: folds, seed: seed)
        guard let store else { return drawn }
        if let file = try existing(store, names) { return file }
        guard store.creates else { return drawn }
        try FileManager.default.createDirectory(atPath: store.experimentDirectory, withIntermediateDirectories: true)
        // Fold runs started together must not each draw and write: the first writes, the rest read.
        let lock = try FileLock.lock(store.experimentDirectory + "/.splits.lock")
        defer { lock.release() }
        if let file = try existing(store, names) { return file }
        try AtomicFile.write(drawn.json, to: store.path)
        return drawn
    }

    /// The experiment's `splits.json` when it exists, checked against `names` and the seed.
    private func existing(_ store: SplitsStore, _ names: [String]) throws -> SplitsFile? {
        guard FileManager.default.fileExists(atPath: store.path) else { return nil }
        let fix = "delete it to split the training images again, or set data.splits to a file of your own"
        let file = try checked(read(store.path, at: "data.folds"), names, store.path, at: "data.folds", fix: fix)
        if let written = file.seed, written != seed {
            throw SplitsError(description: "\(store.path) was drawn with split seed \(written) but data.split_seed is "
                                  + "\(seed); \(fix)", configPath: "data.split_seed")
        }
        return file
    }

    private func read(_ path: String, at configPath: String) throws -> SplitsFile {
        do {
            return try SplitsFile.read(path)
        } catch {
            throw SplitsError(description: "\(error)", configPath: configPath)
        }
    }

    private func checked(_ file: SplitsFile, _ names: [String], _ path: String, at configPath: String,
                         fix: String) throws -> SplitsFile {
        guard let problem = file.mismatch(names: names, k: folds) else { return file }
        throw SplitsError(description: "\(path) does not fit this data: \(problem); \(fix)", configPath: configPath)
    }
}
