import ArgumentParser
import Experiments
import Foundation
import Nets

/// `runexp bench`: times full training steps of a UNet, the figure the README compares with PyTorch.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time UNet training steps (forward, CE+Dice loss, backward, SGD).",
        discussion: """
            Defaults reproduce the README's figure: UNet base_c 32 bilinear, batch 4, 3x256x256, 2 classes.
            Example: runexp bench --threads 2 --steps 5
            """)

    @Option(name: .customLong("base-c"), help: "UNet base width.") var baseC = 32
    @Option(help: "Images per step.") var batch = 4
    @Option(help: "Image height and width.") var size = 256
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
    @Option(help: ArgumentHelp("Convolution precision: fp32, or bf16 (bf16 kernels, fp32 master weights, loss and "
                               + "BatchNorm; fp32 with a notice on CPUs without AVX512-BF16 or AMX). "
                               + "With --config, default: the config's.", valueName: "fp32|bf16"))
    var precision: Precision?

    func validate() throws {
        guard baseC >= 1, batch >= 1, size >= 16, classes >= 2, steps >= 1, warmup >= 0 else {
            throw ValidationError("--base-c, --batch, --steps must be ≥ 1, --size ≥ 16, --classes ≥ 2")
        }
        if let threads, threads < 1 { throw ValidationError("--threads must be ≥ 1") }
    }

    func run() throws {
        if let threads { Threads.set(threads) }
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
        if freezeEncoder { model.freeze(UNet.groups["encoder"]!) }
        if let freeze {
            do {
                model.freeze(try model.freezePrefixes(freeze))
            } catch let error as UnknownFreezeName {
                throw ValidationError("--freeze \(error)")
            }
        }
        guard size >= model.minimumInputSide else {
            throw ValidationError("--size \(size) is smaller than this model's minimum input of \(model.minimumInputSide)")
        }
        let (precision, notice) = KernelLibrary.available(self.precision ?? run?.config.precision ?? .fp32)
        if let notice { print(notice) }
        model.setPrecision(precision)
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

        let frozen = freezeEncoder ? "encoder" : freeze
        print("\(title) (\(model.parameterCount) params\(frozen.map { ", \($0) frozen" } ?? "")), "
              + "batch \(batch) \(inChannels)x\(size)x\(size), \(classes) classes, \(Threads.count) threads, \(precision) "
              + "(\(KernelLibrary.cpuISA))")
        var times: [Double] = []
        for _ in 0..<warmup { _ = try step(images, labels, lr: 0.01) }
        let warm = step.phaseSeconds
        for _ in 0..<steps {
            let t0 = Date()
            _ = try step(images, labels, lr: 0.01)
            times.append(Date().timeIntervalSince(t0))
        }
        let phases = zip(step.phaseSeconds, warm).map { $0 - $1 }
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
