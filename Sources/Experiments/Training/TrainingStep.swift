import Foundation
import Nets

/// One optimizer step of a segmentation model, the same for the trainer and `runexp bench`:
/// forward, the loss of the main output (averaged with the deep-supervision heads' when the
/// model has them) plus `auxWeight` times the loss of the auxiliary head (torchvision's
/// `losses['out'] + 0.5 * losses['aux']`), backward, optimizer update.
///
/// A step whose loss is not finite stops before backward, so a diverged run's weights stay
/// those of its last good step.
public final class TrainingStep {
    public let model: any SegmentationModel
    public let loss: SegmentationLoss
    public let auxWeight: Float
    public let optimizer: any Optimizer

    /// Seconds spent in forward, loss, backward and optimizer, summed over all steps so far.
    public private(set) var phaseSeconds = [Double](repeating: 0, count: 4)

    public init(model: any SegmentationModel, loss: SegmentationLoss, auxWeight: Double, optimizer: any Optimizer) {
        self.model = model
        self.loss = loss
        self.auxWeight = Float(auxWeight)
        self.optimizer = optimizer
    }

    /// The step a run of `config` takes: its loss terms and `loss.aux` weight.
    public convenience init(_ config: ExperimentConfig, at locations: ConfigLocations, model: any SegmentationModel,
                            optimizer: any Optimizer) throws {
        let (loss, _) = try RunSetup.loss(config, at: locations)
        self.init(model: model, loss: loss, auxWeight: config.loss.aux, optimizer: optimizer)
    }

    /// Trains on one batch at learning rate `lr` and returns its loss: `total` (weighted, with
    /// the aux term) and each main-output term. When `total` is not finite nothing was updated.
    public func callAsFunction(_ images: Tensor, _ labels: LabelMap, lr: Double) throws -> SegmentationLoss.Value {
        var clock = Date()
        func lap(_ phase: Int) {
            let now = Date()
            phaseSeconds[phase] += now.timeIntervalSince(clock)
            clock = now
        }
        optimizer.lr = lr
        model.zeroGrad()
        let tape = Tape()
        let output = tape.record { model(images) }
        lap(0)
        var value = try loss(output.out, labels)
        var seeds = [(output: output.out, gradient: value.gradient)]
        if !output.deepSupervision.isEmpty {
            // UNet++'s deep supervision: the mean of every head's loss (the logged terms stay the main head's).
            let scale = 1 / Float(output.deepSupervision.count + 1)
            var total = value.total
            for head in output.deepSupervision {
                let headValue = try loss(head, labels)
                seeds.append((head, headValue.gradient))
                total += headValue.total
            }
            for seed in seeds { seed.gradient.scale(scale) }
            value.total = total * scale
        }
        if let aux = output.aux {
            let auxValue = try loss(aux, labels)
            auxValue.gradient.scale(auxWeight)
            seeds.append((aux, auxValue.gradient))
            value.total += auxWeight * auxValue.total
        }
        lap(1)
        guard value.total.isFinite else { return value }
        tape.backward(seeds)
        lap(2)
        optimizer.step()
        lap(3)
        return value
    }
}
