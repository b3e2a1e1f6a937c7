/// Validation images drawn from a dataset's training images, in place of the dataset's own
/// validation split (DRIVE's `test/`, VOC's `val.txt`), which is then left alone: a share of
/// them (`data.val_fraction`) or one fold of a cross-validation (`data.folds`, `data.fold`).
/// Every dataset takes it through its `split` the same way.
public enum HoldOut: Sendable {
    /// `data.val_fraction`: `HoldOutSplit`'s fixed share.
    case fraction(Double)
    /// `data.fold` of `data.folds`: the fold's images of the experiment's `splits.json`.
    case fold(CrossValidationFold)

    /// Sorted training and validation indices into `names`, the training images' sample names
    /// in dataset order.
    func indices(names: [String]) throws -> (train: [Int], val: [Int]) {
        switch self {
        case .fraction(let fraction): return try HoldOutSplit.indices(count: names.count, fraction: fraction)
        case .fold(let fold): return try fold.indices(names: names)
        }
    }
}

/// A dataset whose training images a `HoldOut` can split: it names its samples and takes
/// subsets of them (the file datasets, the synthetic one).
public protocol SplittableDataset: Dataset {
    /// Each sample's name (its file stem, `21_training`), in dataset order: what `splits.json` lists.
    var sampleNames: [String] { get }
    /// The samples at `positions`, same settings.
    func subset(_ positions: [Int]) -> Self
}

extension SplittableDataset {
    /// This dataset as training and `validation()` as validation; with `holdOut`, both are
    /// drawn from this one instead and `validation` is not called.
    func split(_ holdOut: HoldOut?, validation: () throws -> Self) throws -> (train: Self, val: Self) {
        guard let holdOut else { return (self, try validation()) }
        let (train, val) = try holdOut.indices(names: sampleNames)
        return (subset(train), subset(val))
    }
}
