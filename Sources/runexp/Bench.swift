import ArgumentParser
import Experiments
import Foundation
import Nets

/// `runexp bench`: times full training steps of a UNet, the figure the README compares with PyTorch;
/// with `--data`, steps fed by a config's training loader (`BenchData.swift`).
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time UNet training steps (forward, CE+Dice loss, backward, SGD).",
        discussion: """
            Defaults reproduce the README's figure: UNet base_c 32 bilinear, batch 4, 3x256x256, 2 classes.
            With --data, the steps of --config's first run are fed by its training loader, as in \
            training, and the time spent waiting for batches is printed beside the same steps on \
            one fixed batch.

            Examples:
              runexp bench --threads 2 --steps 5
              runexp bench --config experiments/drive_unet.yaml --set data.root=/data/DRIVE --data
            """)

    @Option(name: .customLong("base-c"), help: "UNet base width.") var baseC = 32
    @Option(help: "Images per step (default: 4).") var batch: Int?
    @Option(help: "Image height and width (default: 256).") var size: Int?
    @Option(help: "Number of classes.") var classes = 2
    @Option(help: "Timed steps.") var steps = 5
    @Option(help: "Untimed warm-up steps (primitive creation happens in the first).") var warmup = 2
    @Option(help: "Threads (default: OMP_NUM_THREADS, else all cores).") var threads: Int?
    @Flag(help: "Transposed-convolution upsampling instead of bilinear.") var transposed = false
    @Flag(help: "Freeze the encoder (in_conv, down1-4), as in a freeze stage.") var freezeEncoder = false
    @Option(help: ArgumentHelp("Time the model of this experiment file instead of the UNet (its first run; "
                               + "--set overrides apply).", valueName: "FILE.yaml")) var config: String?
    @Option(name: .customLong("set"), help: ArgumentHelp("Override a setting of --config.", valueName: "key=value"))
    var overrides: [String] = []
    @Option(help: ArgumentHelp("Freeze this group or name prefix of the model (e.g. backbone).", valueName: "name"))
    var freeze: String?
    @Option(help: ArgumentHelp("Precision: fp32, or bf16 (bf16 convolutions and activations, fp32 master weights, "
                               + "BatchNorm statistics and loss; fp32 with a notice on CPUs without AVX512-BF16 or AMX). "
                               + "With --config, default: the config's.", valueName: "fp32|bf16"))
    var precision: Precision?
    @Flag(help: ArgumentHelp("Feed the steps from --config's training data, through the loader training uses (batch "
                             + "size and crop are the config's), and time the wait for batches apart from the steps."))
    var data = false
    @Option(help: "With --data: loader worker threads (default: the trainer's, 1).") var workers: Int?
    @Option(help: "With --data: batches built ahead (default: the trainer's, 2).") var prefetch: Int?

    func validate() throws {
        guard baseC >= 1, (batch ?? 1) >= 1, (size ?? 16) >= 16, classes >= 2, steps >= 1, warmup >= 0 else {
            throw ValidationError("--base-c, --batch, --steps must be ≥ 1, --size ≥ 16, --classes ≥ 2")
        }
        if let threads, threads < 1 { throw ValidationError("--threads must be ≥ 1") }
        if data {
            guard config != nil else {
                throw ValidationError("--data times the training data of an experiment: give --config FILE.yaml")
            }
            guard batch == nil, size == nil else {
                throw ValidationError("--data takes the batch size and image size from the config: drop --batch and --size "
                                      + "(use --set schedule.batch_size=N or --set data.crop=N)")
            }
            if let workers, workers < 1 { throw ValidationError("--workers must be ≥ 1") }
            if let prefetch, prefetch < 1 { throw ValidationError("--prefetch must be ≥ 1") }
        } else if workers != nil || prefetch != nil {
            throw ValidationError("--workers and --prefetch set the data loader of --data; add --data --config FILE.yaml")
        }
    }

    func run() throws {
        if let config, data { return try runWithData(config) }
        if let threads { Threads.set(threads) }
        let batch = self.batch ?? 4, size = self.size ?? 256
        var rng = SeededRandom(seed: 0)
        let model: any SegmentationModel
        var classes = self.classes
        var inChannels = 3
        var title = "UNet base_c=\(baseC) \(transposed ? "transposed" : "bilinear")"
        var run: RunSpec?
        if let config {
            let experiment = try CommandErrors.loadingConfig {
                try Experiment.load(config, overrides: overrides, options: ConfigOptions(checkPaths: false))
            }
            let first = experiment.runs[0]
            run = first
            classes = first.config.data.numClasses
            inChannels = first.config.model.inChannels
            model = try CommandErrors.loadingConfig { try ModelFactory.makeModel(first.config, at: first.locations) }
            title = "\(type(of: model)) from \(config)"
        } else {
            model = UNet(inChannels: 3, numClasses: classes, baseChannels: baseC, bilinear: !transposed, rng: &rng)
        }
        try applyFreezing(model)
        guard size >= model.minimumInputSide else {
            throw ValidationError("--size \(size) is smaller than this model's minimum input of \(model.minimumInputSide)")
        }
        let precision = setPrecision(model, configured: run?.config.precision)
        let images = Tensor.activation(batch, inChannels, size, size)
        images.fillNormal(std: 1, &rng)
        var labels = LabelMap(n: batch, h: size, w: size)
        for i in 0..<labels.count { labels.values[i] = Int32(rng.next() % UInt64(classes)) }
        let sgd = try SGD(model.namedParameters(), lr: 0.01, momentum: 0.9, weightDecay: 1e-4)
        // The trainer's own step; with --config, the config's loss terms and aux weight.
        let step = try run.map { run in
            try CommandErrors.loadingConfig { try TrainingStep(run.config, at: run.locations, model: model, optimizer: sgd) }
        } ?? TrainingStep(model: model,
                          loss: SegmentationLoss([(1, CrossEntropyLoss(classWeights: [1] + Array(repeating: 2, count: classes - 1))),
                                                  (1, DiceLoss())]),
                          auxWeight: 0.5, optimizer: sgd)

        printTitle(title, model: model, batch: batch, shape: "\(inChannels)x\(size)x\(size)", classes: classes,
                   precision: precision)
        for _ in 0..<warmup { _ = try step(images, labels, lr: 0.01) }
        let warm = step.phaseSeconds
        let times = try timedSteps { _ = try step(images, labels, lr: 0.01) }
        printTimings(times, batch: batch, phases: zip(step.phaseSeconds, warm).map { $0 - $1 })
    }

    /// Freezes what --freeze-encoder and --freeze name.
    func applyFreezing(_ model: any SegmentationModel) throws {
        if freezeEncoder { model.freeze(UNet.groups["encoder"]!) }
        if let freeze {
            do {
                model.freeze(try model.freezePrefixes(freeze))
            } catch let error as UnknownFreezeName {
                throw ValidationError("--freeze \(error)")
            }
        }
    }

    /// Sets --precision, else `configured`, else fp32, where the CPU has it; prints the notice when not.
    func setPrecision(_ model: any SegmentationModel, configured: Precision?) -> Precision {
        let (precision, notice) = KernelLibrary.available(self.precision ?? configured ?? .fp32)
        if let notice { print(notice) }
        model.setPrecision(precision)
        return precision
    }

    /// The first line: what is timed.
    func printTitle(_ title: String, model: any SegmentationModel, batch: Int, shape: String, classes: Int,
                    precision: Precision, frozenByConfig: Int = 0) {
        let frozen = freezeEncoder ? "encoder" : freeze
        let staged = frozenByConfig > 0 ? ", \(frozenByConfig) tensors frozen by stage 0" : ""
        print("\(title) (\(model.parameterCount) params\(frozen.map { ", \($0) frozen" } ?? "")\(staged)), "
              + "batch \(batch) \(shape), \(classes) classes, \(Threads.count) threads, \(precision) "
              + "(\(KernelLibrary.version), \(KernelLibrary.cpuISA))")
    }

    /// The wall seconds of each of `steps` calls of `body`.
    func timedSteps(_ body: () throws -> Void) rethrows -> [Double] {
        var times: [Double] = []
        for _ in 0..<steps {
            let t0 = Date()
            try body()
            times.append(Date().timeIntervalSince(t0))
        }
        return times
    }

    /// The throughput line and the per-phase line the README quotes; `phases` are summed over the timed steps.
    func printTimings(_ times: [Double], batch: Int, phases: [Double]) {
        let mean = times.reduce(0, +) / Double(times.count)
        let best = times.min()!
        let rss = MemoryStats.peakResidentBytes.map { "\($0 >> 20) MiB" } ?? "n/a"
        print(String(format: "%.3f img/s mean, %.3f img/s best (%.3f s/step over %d steps after %d warm-up), peak RSS %@",
                     Double(batch) / mean, Double(batch) / best, mean, steps, warmup, rss))
        let n = Double(steps)
        print(String(format: "per step: forward %.3f s, loss %.3f s, backward %.3f s, optimizer %.3f s; peak tensors %d MiB",
                     phases[0] / n, phases[1] / n, phases[2] / n, phases[3] / n, MemoryStats.peakTensorBytes >> 20))
    }
}
extension Precision: ExpressibleByArgument {}
