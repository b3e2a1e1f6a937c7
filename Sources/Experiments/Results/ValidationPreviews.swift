import Foundation
import Nets

/// The pictures a run keeps of its first few validation images, beside its result.txt:
/// `previews/<name>.png`, each image | ground truth | prediction over a legend of the classes'
/// colours and names (see `PredictionImages.panel`), so a person can see what the scores mean
/// without running `predict`.
public enum ValidationPreviews {
    /// The folder, inside the run's folder, the panels go to.
    public static let folder = "previews"

    /// Runs `model` in eval mode, as `inference` says, on the first `count` samples of `loader`
    /// (the validation loader, one sample per batch) and writes their panels, the legend naming
    /// classes by `classNames`, to `directory/previews/`; returns the paths.
    /// Images are shown denormalised with `mean`/`std` (default: the loader's own normalisation)
    /// and cropped back to their size before padding. The model's training mode is restored.
    @discardableResult
    public static func write(model: any SegmentationModel, loader: DataLoader, count: Int = 3, directory: String,
                             inference settings: InferenceConfig = InferenceConfig(),
                             mean: [Float]? = nil, std: [Float]? = nil,
                             palette: [Image.Color] = Image.Color.vocColorMap,
                             classNames: [String]? = nil) throws -> [String] {
        let normalization: Normalization
        switch loader.transform {
        case .eval(let t): normalization = t.normalization
        case .train(let t): normalization = t.normalization
        }
        let mean = mean ?? normalization.mean, std = std ?? normalization.std
        let ignore = loader.transform.ignoreIndex
        let folder = directory + "/" + folder
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)

        let wasTraining = model.training
        model.setTraining(false)
        defer { model.setTraining(wasTraining) }
        let inference = Inference(settings, padMultiple: loader.transform.padMultiple)
        var paths: [String] = []
        for index in 0..<min(max(count, 0), loader.dataset.count) {
            let batch = try loader.batch([index], epoch: 0)
            let prediction = batch.unpadded(Predictor.argmax(inference.scores(model, batch).values), item: 0)
            let size = batch.sizes[0]
            let image = try PredictionImages.denormalized(batch.unpadded(batch.images, item: 0), size: size,
                                                          channels: batch.images.c, mean: mean, std: std)
            let panel = try PredictionImages.panel(image: image, truth: batch.unpadded(batch.labels, item: 0),
                                                   prediction: prediction, palette: palette, ignoreIndex: ignore,
                                                   classNames: classNames)
            let path = "\(folder)/\(batch.names[0] ?? "val_\(index)").png"
            try ImageCodec.writePNG(panel, to: path)
            paths.append(path)
        }
        return paths
    }
}
