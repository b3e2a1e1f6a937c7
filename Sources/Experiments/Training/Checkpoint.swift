import Foundation
import Nets

/// Where a run stands, saved with every checkpoint so that training resumes exactly.
struct TrainingProgress: Codable, Equatable {
    /// The epoch in progress (0-based over all stages) and how many of its batches are done.
    var epoch = 0
    var batch = 0
    /// Optimizer steps taken since the start of the run.
    var iteration = 0
    /// Sums over the finished batches of the epoch in progress (for its mean train loss).
    var lossSum = 0.0
    var termSums: [Double] = []
    var images = 0
    var epochSeconds = 0.0
    /// Seconds of the epoch in progress spent waiting for batches (optional: older checkpoints lack it).
    var dataWaitSeconds: Double? = nil
    /// Wall seconds of all earlier sessions of this run.
    var elapsed = 0.0
    var configHash = ""
    /// Each Dropout's generator state by module path, in hex (JSON numbers lose 64-bit precision).
    var generators: [String: String]? = nil
}

/// The run's checkpoint files.
///
/// `last.safetensors` and `best.safetensors` hold only the model, under its PyTorch
/// state-dict keys, so `load_state_dict(load_file(path))` works on them as they are.
/// Resuming reads `last.resume.safetensors`, which is self-contained (model, optimizer
/// state and progress in one atomically written file), so a kill between two writes can
/// never pair a model with another step's optimizer state.
enum Checkpoint {
    static func resumePath(_ dir: String) -> String { dir + "/checkpoints/last.resume.safetensors" }
    static func lastPath(_ dir: String) -> String { dir + "/checkpoints/last.safetensors" }
    static func bestPath(_ dir: String) -> String { dir + "/checkpoints/best.safetensors" }

    /// Writes the model-only `last.safetensors`, then the resume file. The resume file is the
    /// commit point: a kill between the two leaves `last` one save ahead of it, and resuming
    /// recomputes that same save, so a finished run's `last` is always its final weights.
    static func save(model: Module, optimizer: any Optimizer, progress: TrainingProgress, runDirectory dir: String,
                     metadata: [String: String]) throws {
        try FileManager.default.createDirectory(atPath: dir + "/checkpoints", withIntermediateDirectories: true)
        try model.save(to: lastPath(dir), metadata: metadata)
        var tensors: [(String, Tensor)] = model.stateDict().map { ("model." + $0.0, $0.1) }
        tensors += optimizer.state().sorted { $0.key < $1.key }.map { ("optimizer." + $0.key, $0.value) }
        var dtypes: [String: SafeTensors.DType] = [:]
        for (key, p) in model.namedParameters() where p.kind == .counter { dtypes["model." + key] = .i64 }
        var progress = progress
        progress.generators = Dictionary(uniqueKeysWithValues: dropouts(model).map {
            ($0.0, String($0.1.generatorState, radix: 16))
        })
        let json = String(decoding: try JSONEncoder().encode(progress), as: UTF8.self)
        try SafeTensors.write(tensors, dtypes: dtypes, metadata: metadata.merging(["progress": json]) { $1 },
                              to: resumePath(dir))
    }

    /// Restores model and optimizer from the resume file and returns the progress; nil when
    /// the run has no resume file yet.
    static func restore(model: Module, optimizer: any Optimizer, runDirectory dir: String) throws -> TrainingProgress? {
        let path = resumePath(dir)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let file = try SafeTensors.readFile(path)
        guard let json = file.metadata["progress"],
              let progress = try? JSONDecoder().decode(TrainingProgress.self, from: Data(json.utf8)) else {
            throw ResultsError(path, "no training progress in the checkpoint's metadata")
        }
        var modelState: [String: Tensor] = [:]
        var optimizerState: [String: Tensor] = [:]
        for (name, t) in file.tensors {
            if name.hasPrefix("model.") { modelState[String(name.dropFirst(6))] = t }
            if name.hasPrefix("optimizer.") { optimizerState[String(name.dropFirst(10))] = t }
        }
        for (key, p) in model.namedParameters() {
            guard let t = modelState[key], t.count == p.value.count else {
                throw ResultsError(path, "the checkpoint has no matching '\(key)'; delete the run folder to start over")
            }
            p.value.data.update(from: t.data, count: t.count)
        }
        do {
            try optimizer.load(state: optimizerState)
        } catch {
            throw ResultsError(path, "\(error)")
        }
        for (name, dropout) in dropouts(model) {
            guard let text = progress.generators?[name], let state = UInt64(text, radix: 16) else {
                throw ResultsError(path, "no generator state for dropout '\(name)'; delete the run folder to start over")
            }
            dropout.generatorState = state
        }
        return progress
    }

    /// The model's dropout layers by module path: the only random state a forward consumes.
    static func dropouts(_ model: Module) -> [(String, Dropout)] {
        model.namedModules().compactMap { name, module in (module as? Dropout).map { (name, $0) } }
    }
}
