/// The retinal-vessel benchmarks, each read in its distributed layout with the training and
/// test split its literature uses.
public enum VesselBenchmark: String, Sendable, CaseIterable {
    case drive, hrf, chaseDB1 = "chase_db1", stare

    /// Training and validation sets: the benchmark's training and test images; with
    /// `holdOut`, both drawn from its training images.
    public func splits(root: String, channels: Int = 3, ignoreIndex: Int32 = 255, holdOut: HoldOut? = nil) throws
        -> (train: VesselDataset, val: VesselDataset) {
        if self == .drive {  // test/ is not needed when validation comes from training/
            return try DriveDataset.splits(root: root, channels: channels, ignoreIndex: ignoreIndex, holdOut: holdOut)
        }
        let (train, test) = try sets(root: root, channels: channels, ignoreIndex: ignoreIndex)
        return try train.split(holdOut) { test }
    }

    /// The benchmark's test images, whatever `data.val_fraction` or `data.folds` hold out for validation.
    public func test(root: String, channels: Int = 3, ignoreIndex: Int32 = 255) throws -> VesselDataset {
        try sets(root: root, channels: channels, ignoreIndex: ignoreIndex).test
    }

    private func sets(root: String, channels: Int, ignoreIndex: Int32) throws -> (train: VesselDataset, test: VesselDataset) {
        switch self {
        case .drive: return (try DriveDataset.load(root: root, split: .training, channels: channels, ignoreIndex: ignoreIndex),
                             try DriveDataset.load(root: root, split: .test, channels: channels, ignoreIndex: ignoreIndex))
        case .hrf: return try HRFDataset.sets(root: root, channels: channels, ignoreIndex: ignoreIndex)
        case .chaseDB1: return try CHASEDB1Dataset.sets(root: root, channels: channels, ignoreIndex: ignoreIndex)
        case .stare: return try STAREDataset.sets(root: root, channels: channels, ignoreIndex: ignoreIndex)
        }
    }
}
