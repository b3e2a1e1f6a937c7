import Nets

/// The `data.folds` split: a dataset's training images dealt into K folds after a seeded
/// shuffle, as scikit-learn's `KFold(n_splits=K, shuffle=True)` deals nnU-Net's cases.
///
/// The names are sorted first, so the order in which a file system lists them does not matter,
/// then permuted by `DataSeeds.permutation` from `SeededRandom(seed)` (our own Fisher–Yates, the
/// same on every machine and Swift version) and cut into K contiguous runs, the first
/// `count % K` of them one name longer (KFold's fold sizes). The seed is `data.split_seed`, not
/// the run's: replicates of a fold must validate on the same images.
public enum KFold {
    /// The validation names of each of the `k` folds, each sorted; every name is in exactly one.
    public static func validationFolds(of names: [String], k: Int, seed: UInt64) -> [[String]] {
        precondition(k >= 1, "k-fold: k = \(k)")
        let sorted = names.sorted()
        var rng = SeededRandom(seed: seed)
        let order = DataSeeds.permutation(sorted.count, &rng)
        var folds: [[String]] = []
        var start = 0
        for fold in 0..<k {
            let size = sorted.count / k + (fold < sorted.count % k ? 1 : 0)
            folds.append(order[start..<start + size].map { sorted[$0] }.sorted())
            start += size
        }
        return folds
    }
}
