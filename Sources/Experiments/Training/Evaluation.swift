import Nets

/// Scoring a model on a split the way validation does: eval mode, no tape, one image at a
/// time at full size, through the split's evaluation transform and `eval.mode`/`eval.tta`
/// (`Inference`: whole, padded to the model's multiple, or in tiles).
public enum Evaluation {
    /// The split of a run's data that `runexp eval` scores.
    public enum Split: String, CaseIterable, Sendable {
        /// The validation split (DRIVE: the 20 test images, unless `data.val_fraction` or
        /// `data.folds` hold validation images out of training/).
        case val
        case train
        /// DRIVE's test/ images, whatever `data.val_fraction` or `data.folds` say; other data has
        /// none apart from val.
        case test
    }

    /// The scores of `model` on every image of `loader`; `pixelScores` adds the paper metrics.
    public static func scores(_ model: any SegmentationModel, _ loader: DataLoader, _ config: ExperimentConfig,
                              pixelScores: Bool) throws -> SegmentationScores {
        let wasTraining = model.training
        model.setTraining(false)
        defer { model.setTraining(wasTraining) }
        var metrics = SegmentationMetrics(numClasses: config.data.numClasses, ignoreIndex: Int32(config.data.ignoreIndex),
                                          pixelScores: pixelScores)
        let inference = Inference(config.eval.inference, padMultiple: loader.transform.padMultiple)
        let batches = loader.epoch(0)
        while let batch = try batches.next() {
            try checkInputSize(batch, model)
            metrics.add(inference.scores(model, batch), target: batch.labels)
        }
        return metrics.scores
    }

    /// The scores, paper metrics included, of the checkpoint at `path` (loaded strictly into
    /// the model `config` builds) on `split` of `config`'s data (a cross-validation run's fold as
    /// `splits` has it); `secondObserver` scores against DRIVE's second annotations instead of the first.
    public static func checkpoint(_ path: String, config: ExperimentConfig, at: ConfigLocations,
                                  split: Split, splits: SplitsStore?, secondObserver: Bool = false) throws -> SegmentationScores {
        // The network and its evaluation transform as `runexp predict` builds them.
        let trained = try Predictor(config: config, at: at, checkpoint: path)
        let dataset = try self.dataset(config, at: at, split: split, splits: splits, secondObserver: secondObserver)
        let loader = try DataLoader(dataset: dataset, transform: .eval(trained.transform),
                                    seed: UInt64(truncatingIfNeeded: config.seed), batchSize: 1, shuffle: false)
        return try scores(trained.model, loader, config, pixelScores: true)
    }

    /// The scores, paper metrics included, of an ensemble's mean probabilities on `split` of its
    /// first member's data (`runexp eval --checkpoint A B C`; cross-validation folds are scored
    /// on `test`, the images none of them trained or validated on).
    public static func ensemble(_ ensemble: PredictorEnsemble, at: ConfigLocations, split: Split, splits: SplitsStore?,
                                secondObserver: Bool = false) throws -> SegmentationScores {
        let config = ensemble.config
        let dataset = try self.dataset(config, at: at, split: split, splits: splits, secondObserver: secondObserver)
        var metrics = SegmentationMetrics(numClasses: config.data.numClasses, ignoreIndex: Int32(config.data.ignoreIndex),
                                          pixelScores: true)
        for i in 0..<dataset.count {
            let sample = try dataset.sample(i)
            let mean = try ensemble.meanProbabilities(sample)
            metrics.add(ClassScores(probabilities: ensemble.probabilityTensor(mean, height: sample.height, width: sample.width)),
                        target: LabelMap(n: 1, h: sample.height, w: sample.width, values: sample.label))
        }
        return metrics.scores
    }

    /// The second human observer (DRIVE, CHASE_DB1, STARE) scored against the first, with no model: the human
    /// baseline papers quote. Each image's prediction is the second annotation (certain: its
    /// "probability" is 0 or 1, so the ROC and PR areas are those of one operating point).
    public static func observer(config: ExperimentConfig, at: ConfigLocations, split: Split) throws -> SegmentationScores {
        let first = try dataset(config, at: at, split: split, splits: nil, secondObserver: false)
        guard let vessels = first as? VesselDataset else { throw noObserver(config, at) }
        let second = try RunSetup.located(at) { try vessels.secondObserver() }
        var metrics = SegmentationMetrics(numClasses: 2, ignoreIndex: vessels.ignoreIndex, pixelScores: true)
        for i in 0..<vessels.count {
            let (truth, other) = (try vessels.sample(i), try second.sample(i))
            // Two-class logits (0, ±30): softmax 1 or 0 where the second observer drew a vessel or not.
            let logits = Tensor(shape: [1, 2, truth.height, truth.width], layout: .nhwc,
                                values: other.label.flatMap { [0, $0 == 1 ? 30 : -30] })
            metrics.add(ClassScores(logits: logits), target: LabelMap(n: 1, h: truth.height, w: truth.width, values: truth.label))
        }
        return metrics.scores
    }

    /// The images of `split` of `config`'s data (a cross-validation fold as `splits` has it; with
    /// DRIVE's second annotations as labels when `secondObserver`); throws when the split is empty.
    public static func dataset(_ config: ExperimentConfig, at: ConfigLocations, split: Split, splits: SplitsStore?,
                               secondObserver: Bool = false) throws -> any Dataset {
        let (train, val) = try RunSetup.datasets(config, at: at, splits: splits)
        var dataset: any Dataset
        switch split {
        case .val: dataset = val
        case .train: dataset = train
        case .test:
            guard let vessels = val as? VesselDataset, let benchmark = config.data.dataset.vesselBenchmark else {
                throw at.error("only the retinal-vessel benchmarks (drive, hrf, chase_db1, stare) have a test split apart "
                               + "from val; use --split val", at: "data.dataset")
            }
            dataset = !config.data.holdsOutValidation ? vessels
                : try RunSetup.located(at) { try benchmark.test(root: config.data.root, channels: vessels.channels,
                                                       ignoreIndex: vessels.ignoreIndex) }
        }
        if secondObserver {
            guard let vessels = dataset as? VesselDataset else { throw noObserver(config, at) }
            dataset = try RunSetup.located(at) { try vessels.secondObserver() }
        }
        guard dataset.count > 0 else {
            throw at.error("the \(split.rawValue) split of this data has no images", at: "data")
        }
        return dataset
    }

    private static func noObserver(_ config: ExperimentConfig, _ at: ConfigLocations) -> ConfigError {
        at.error("the \(config.data.dataset.rawValue) dataset has no second observer's annotations; drive, chase_db1 and "
                 + "stare have them", at: "data.dataset")
    }
}
