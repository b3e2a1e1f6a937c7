import Nets

/// Scoring a model on a split the way validation does: eval mode, no tape, one image at a
/// time at full size (padded to the model's multiple and cropped back), through the split's
/// evaluation transform.
public enum Evaluation {
    /// The split of a run's data that `runexp eval` scores.
    public enum Split: String, CaseIterable, Sendable {
        /// The validation split (DRIVE: the 20 test images).
        case val
        case train
    }

    /// The scores of `model` on every image of `loader`; `pixelScores` adds the paper metrics.
    public static func scores(_ model: any SegmentationModel, _ loader: DataLoader, _ config: ExperimentConfig,
                              pixelScores: Bool) throws -> SegmentationScores {
        let wasTraining = model.training
        model.setTraining(false)
        defer { model.setTraining(wasTraining) }
        var metrics = SegmentationMetrics(numClasses: config.data.numClasses, ignoreIndex: Int32(config.data.ignoreIndex),
                                          pixelScores: pixelScores)
        let batches = loader.epoch(0)
        while let batch = try batches.next() {
            try checkInputSize(batch, model)
            metrics.add(logits: model(batch.images).out, target: batch.labels)
        }
        return metrics.scores
    }

    /// The scores, paper metrics included, of the checkpoint at `path` (loaded strictly into
    /// the model `config` builds) on `split` of `config`'s data.
    public static func checkpoint(_ path: String, config: ExperimentConfig, at: ConfigLocations,
                                  split: Split) throws -> SegmentationScores {
        let model = try ModelFactory.makeModel(config, at: at)
        try model.load(from: path, strict: true)
        let (train, val) = try RunSetup.datasets(config, at: at)
        let dataset = split == .val ? val : train
        guard dataset.count > 0 else {
            throw at.error("the \(split.rawValue) split of this data has no images", at: "data")
        }
        let loader = try DataLoader(dataset: dataset, transform: .eval(try EvalTransform.forModel(config, model)),
                                    seed: UInt64(truncatingIfNeeded: config.seed), batchSize: 1, shuffle: false)
        return try scores(model, loader, config, pixelScores: true)
    }
}
