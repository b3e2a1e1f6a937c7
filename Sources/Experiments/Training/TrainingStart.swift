import Foundation
import Nets

/// A run's first training stage as `Trainer` starts it: the model with stage 0's parameters
/// frozen, the run's training step (loss, aux weight, optimiser), the stage's training loader
/// and the learning-rate schedule. `runexp bench --data` times the training loop with it.
///
/// Building reads no weights (a pretrained backbone or `init.checkpoint` trains at the same
/// speed) and writes nothing; a cross-validation fold is drawn in memory.
public struct TrainingStart {
    public let model: any SegmentationModel
    public let step: TrainingStep
    /// The first stage's training loader, as the trainer reads it.
    public let loader: DataLoader
    public let schedule: StagedSchedule
    /// How many parameter tensors stage 0 freezes.
    public let frozenCount: Int

    /// Builds the run; config and data-location problems throw `ConfigError` as training would.
    public init(_ run: RunSpec) throws {
        let setup = try RunSetup(run, splits: nil)
        model = setup.model
        model.setTraining(true)
        step = TrainingStep(model: setup.model, loss: setup.loss, auxWeight: run.config.loss.aux,
                            optimizer: setup.optimizer)
        loader = setup.trainLoaders[0]
        schedule = setup.schedule
        frozenCount = setup.frozenPrefixes[0].isEmpty ? 0 : setup.model.freeze(setup.frozenPrefixes[0]).count
    }

    /// Throws the trainer's message for a batch too small for the model's poolings.
    public func checkInputSize(_ batch: Batch) throws {
        try Experiments.checkInputSize(batch, model)
    }
}
