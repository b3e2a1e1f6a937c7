import Nets

/// The `data.val_fraction` split: a fixed share of a dataset's samples held out for validation.
///
/// The split uses its own fixed seed, not the run's: a seed sweep must compare seeds on the
/// same validation images, so the split is a property of the data (like the DRIVE test set),
/// and the same files with the same fraction always give the same split.
public enum HoldOutSplit {
    /// The seed of the held-out permutation (any constant; changing it changes every split).
    public static let seed: UInt64 = 0x5EED_5917

    /// Sorted training and validation indices of `0..<count`: `round(count × fraction)`
    /// validation samples (at least one, and at least one left for training).
    public static func indices(count: Int, fraction: Double) throws -> (train: [Int], val: [Int]) {
        guard fraction > 0 && fraction < 1 else {
            throw DataPipelineError("val_fraction \(fraction) must be in (0, 1)")
        }
        guard count >= 2 else {
            throw DataPipelineError("val_fraction needs at least 2 images to hold some out, found \(count)")
        }
        let held = min(count - 1, max(1, Int((Double(count) * fraction).rounded())))
        var rng = SeededRandom(seed: seed)
        let order = DataSeeds.permutation(count, &rng)
        return (Array(order[held...]).sorted(), Array(order[..<held]).sorted())
    }
}
