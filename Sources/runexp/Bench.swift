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
        if let config {
            let experiment: Experiment
            do {
                experiment = try Experiment.load(config, overrides: overrides, options: ConfigOptions(checkPaths: false))
            } catch {
                FileHandle.standardError.write(Data("\(error)\n".utf8))
                throw ExitCode(2)
            }
            let run = experiment.runs[0]
            classes = run.config.data.numClasses
            inChannels = run.config.model.inChannels
            model = try CommandErrors.loadingConfig { try ModelFactory.makeModel(run.config, at: run.locations) }
            title = "\(type(of: model)) from \(config)"
        } else {
            model = UNet(inChannels: 3, numClasses: classes, baseChannels: baseC, bilinear: !transposed, rng: &rng)
        }
        if freezeEncoder { model.freeze(UNet.groups["encoder"]!) }
        if let freeze {
            let prefixes = model.groups[freeze] ?? [freeze]
            guard !model.freeze(prefixes).isEmpty else {
                let groups = model.groups.keys.sorted().joined(separator: ", ")
                throw ValidationError("--freeze '\(freeze)' is neither a group of this model (\(groups)) nor a prefix "
                                      + "of its parameter names (e.g. '\(model.namedParameters().first?.0 ?? "")')")
            }
        }
        guard size >= model.minimumInputSide else {
            throw ValidationError("--size \(size) is smaller than this model's minimum input of \(model.minimumInputSide)")
        }
        let images = Tensor.activation(batch, inChannels, size, size)
        images.fillNormal(std: 1, &rng)
        var labels = LabelMap(n: batch, h: size, w: size)
        for i in 0..<labels.count { labels.values[i] = Int32(rng.next() % UInt64(classes)) }
        let loss = SegmentationLoss([(1, CrossEntropyLoss(classWeights: [1] + Array(repeating: 2, count: classes - 1))),
                                     (1, DiceLoss())])
        let sgd = try SGD(model.namedParameters(), lr: 0.01, momentum: 0.9, weightDecay: 1e-4)

        let frozen = freezeEncoder ? "encoder" : freeze
        print("\(title) (\(model.parameterCount) params\(frozen.map { ", \($0) frozen" } ?? "")), "
              + "batch \(batch) 3x\(size)x\(size), \(classes) classes, \(Threads.count) threads")
        var times: [Double] = []
        var phases = [Double](repeating: 0, count: 4)
        for step in 0..<(warmup + steps) {
            let t0 = Date()
            model.zeroGrad()
            let logits = model.forward(images)
            let t1 = Date()
            let value = try loss(logits, labels)
            var auxGradient: Tensor?
            if let aux = model.auxiliaryLogits {
                auxGradient = try loss(aux, labels).gradient
                auxGradient!.scale(0.5)
            }
            let t2 = Date()
            _ = model.backward(value.gradient, auxiliaryGradient: auxGradient)
            let t3 = Date()
            sgd.step()
            let t4 = Date()
            if step >= warmup {
                times.append(t4.timeIntervalSince(t0))
                for (i, d) in [t1.timeIntervalSince(t0), t2.timeIntervalSince(t1), t3.timeIntervalSince(t2),
                               t4.timeIntervalSince(t3)].enumerated() { phases[i] += d }
            }
        }
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
