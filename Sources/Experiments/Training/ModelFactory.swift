import Nets

/// Builds the network a config names, the one place that maps `model:` to a model type, so
/// that training (`RunSetup`) and prediction (`Predictor`) cannot build different networks.
public enum ModelFactory {
    /// The model of `config`, initialised from `config.seed` (the same weights a run starts
    /// from, before any checkpoint is loaded). Throws, at `model.name`, for an architecture
    /// this version cannot build yet.
    public static func makeModel(_ config: ExperimentConfig, at: ConfigLocations) throws -> any SegmentationModel {
        var rng = SeededRandom(seed: UInt64(truncatingIfNeeded: config.seed))
        switch config.model.name {
        case .unet:
            return UNet(inChannels: config.model.inChannels, numClasses: config.data.numClasses,
                        baseChannels: config.model.baseC, bilinear: config.model.upsample == .bilinear, rng: &rng)
        case .fcn, .deeplabv3:
            throw at.error("model '\(config.model.name.rawValue)' is not available yet in this version of runexp "
                           + "(available: unet)", at: "model.name")
        }
    }
}
