/// The `synthetic` dataset: `SyntheticFundus` images served as samples, one set of generator
/// indices per split.
///
/// Sample `i` of the dataset is generator sample `indices[i]`, so a training split
/// `0..<trainCount` and a validation split after it never share an image; a hold-out
/// (`data.val_fraction`, `data.folds`) takes a subset of the training indices. Pixels outside the
/// circular field of view are labelled `ignoreIndex`, as the DRIVE recipe does with its FOV mask.
public struct SyntheticDataset: FieldOfViewDataset, SplittableDataset {
    public let generator: SyntheticFundus
    /// The generator samples, in dataset order.
    public let indices: [Int]
    public let ignoreIndex: Int32

    /// A dataset of generator samples `indices` (non-negative).
    public init(generator: SyntheticFundus, indices: Range<Int>, ignoreIndex: Int32 = 255) throws {
        guard indices.lowerBound >= 0 else {
            throw DataPipelineError("synthetic sample indices \(indices) must not be negative")
        }
        self.init(checked: Array(indices), generator: generator, ignoreIndex: ignoreIndex)
    }

    private init(checked indices: [Int], generator: SyntheticFundus, ignoreIndex: Int32) {
        self.generator = generator
        self.indices = indices
        self.ignoreIndex = ignoreIndex
    }

    /// The samples at `positions` of this dataset, same generator.
    public func subset(_ positions: [Int]) -> SyntheticDataset {
        SyntheticDataset(checked: positions.map { indices[$0] }, generator: generator, ignoreIndex: ignoreIndex)
    }

    public var sampleNames: [String] { indices.map(Self.name) }

    /// Training samples `0..<trainCount` and validation samples `trainCount..<trainCount + valCount`.
    public static func split(_ generator: SyntheticFundus, trainCount: Int, valCount: Int,
                             ignoreIndex: Int32 = 255) throws -> (train: SyntheticDataset, val: SyntheticDataset) {
        guard trainCount >= 1 else { throw DataPipelineError("synthetic train count \(trainCount) must be at least 1") }
        guard valCount >= 0 else { throw DataPipelineError("synthetic validation count \(valCount) must not be negative") }
        return (try SyntheticDataset(generator: generator, indices: 0..<trainCount, ignoreIndex: ignoreIndex),
                try SyntheticDataset(generator: generator, indices: trainCount..<trainCount + valCount,
                                     ignoreIndex: ignoreIndex))
    }

    public var count: Int { indices.count }

    /// The generator's sample as RGB in [0, 1], vessel 1 / background 0 inside the field of view.
    public func sample(_ index: Int) throws -> Sample {
        precondition(index >= 0 && index < count, "synthetic sample \(index) of \(count)")
        let global = indices[index]
        let s = generator.sample(global)
        var label = [Int32](repeating: ignoreIndex, count: s.label.count)
        for i in 0..<label.count where s.fov[i] { label[i] = Int32(s.label[i]) }
        return Sample(height: s.size, width: s.size, channels: 3, bytes: s.image, label: label,
                      name: Self.name(global))
    }

    /// The file stem sample `index` of the generator gets ("synthetic_0007").
    public static func name(_ index: Int) -> String {
        let digits = String(index)
        return "synthetic_" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
