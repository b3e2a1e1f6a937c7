/// What one training epoch produced: one line of `metrics.jsonl`, and a block of `result.txt`
/// when the epoch was evaluated.
public struct EpochRecord: Sendable, Equatable {
    /// Epoch number as the trainer counts it (the recipe counts from 0).
    public var epoch: Int
    /// Mean training loss over the epoch's iterations (the weighted sum of the terms).
    public var trainLoss: Double
    /// Mean of each loss term by its config name (`ce`, `dice`, `focal`); written in name order.
    public var losses: [String: Double]
    /// Learning rate at the end of the epoch (what the recipe prints).
    public var lr: Double
    /// Validation scores; nil for an epoch that was not evaluated.
    public var scores: SegmentationScores?
    /// Training throughput over the epoch.
    public var imagesPerSecond: Double
    /// Wall-clock seconds of the epoch, evaluation included.
    public var seconds: Double
    /// Seconds the training loop waited for the loader's batches in the epoch (nil in records
    /// written before it was measured).
    public var dataWaitSeconds: Double?

    public init(epoch: Int, trainLoss: Double, losses: [String: Double] = [:], lr: Double,
                scores: SegmentationScores?, imagesPerSecond: Double, seconds: Double, dataWaitSeconds: Double? = nil) {
        self.epoch = epoch
        self.trainLoss = trainLoss
        self.losses = losses
        self.lr = lr
        self.scores = scores
        self.imagesPerSecond = imagesPerSecond
        self.seconds = seconds
        self.dataWaitSeconds = dataWaitSeconds
    }

    /// Equality that treats NaN as equal to NaN (a diverged epoch must survive a round trip).
    public static func == (a: EpochRecord, b: EpochRecord) -> Bool {
        func same(_ x: Double, _ y: Double) -> Bool { x == y || (x.isNaN && y.isNaN) }
        return a.epoch == b.epoch && same(a.trainLoss, b.trainLoss) && same(a.lr, b.lr)
            && a.losses.keys.sorted() == b.losses.keys.sorted()
            && a.losses.allSatisfy { same($0.value, b.losses[$0.key]!) }
            && a.scores == b.scores && same(a.imagesPerSecond, b.imagesPerSecond) && same(a.seconds, b.seconds)
            && (a.dataWaitSeconds == nil) == (b.dataWaitSeconds == nil)
            && same(a.dataWaitSeconds ?? 0, b.dataWaitSeconds ?? 0)
    }

    /// The evaluated record with the highest `score` — the first one on ties, since the recipe
    /// only replaces its best on a strict improvement. NaN scores never win; nil when no epoch
    /// was evaluated (or all scored NaN).
    public static func best(in records: [EpochRecord], by score: (SegmentationScores) -> Double) -> EpochRecord? {
        var best: (record: EpochRecord, value: Double)?
        for r in records {
            guard let s = r.scores else { continue }
            let v = score(s)
            if v.isNaN { continue }
            if best == nil || v > best!.value { best = (r, v) }
        }
        return best?.record
    }

    /// The last evaluated record.
    public static func lastEvaluated(in records: [EpochRecord]) -> EpochRecord? {
        records.last { $0.scores != nil }
    }
}
