import ArgumentParser
import Experiments
import Foundation
import Nets

/// `runexp eval`: scores a trained run's checkpoint on a split of its data.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score a checkpoint on its run's data; writes eval.json and eval.txt.",
        discussion: """
            Evaluates the checkpoint as validation does (eval mode, each image at full size), with \
            every metric: the DRIVE recipe's (Dice, global correct, per-class recall and IoU) and the \
            paper metrics (sensitivity, specificity, precision, F1, MCC, AUC-ROC, AUC-PR), not \
            counting ignore_index pixels (DRIVE: outside the field of view), pooled over the split \
            and as the per-image mean ± std. Prints the result block and writes OUT/eval.json and \
            OUT/eval.txt (OUT defaults to the run folder). The model and data come from the run's \
            config.yaml, two folders above the checkpoint unless --config names it.

            Example:
              runexp eval --checkpoint results/drive_unet/run@91148df8/checkpoints/best.safetensors
            """)

    @Option(help: ArgumentHelp("The model weights, e.g. RUN_DIR/checkpoints/best.safetensors.", valueName: "file"))
    var checkpoint: String
    @Option(help: ArgumentHelp("The run's config (default: RUN_DIR/config.yaml, two folders above --checkpoint).",
                               valueName: "file"))
    var config: String?
    @Option(help: ArgumentHelp("The split to score: val (DRIVE: the test images) or train.", valueName: "split"))
    var split: Evaluation.Split = .val
    @Option(help: ArgumentHelp("A setting of the config to change, e.g. data.root=/data/DRIVE (repeatable).",
                               valueName: "key=value"))
    var set: [String] = []
    @Option(help: ArgumentHelp("Folder for eval.json and eval.txt (default: the run folder).", valueName: "dir"))
    var out: String?
    @Option(help: "Threads (default: the config's `threads`, else OMP_NUM_THREADS, else all cores).") var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    var runDirectory: String {
        URL(fileURLWithPath: checkpoint).deletingLastPathComponent().deletingLastPathComponent().path
    }

    func run() throws {
        guard FileManager.default.fileExists(atPath: checkpoint) else {
            CommandErrors.print("\(checkpoint): checkpoint not found")
            throw ExitCode(1)
        }
        let configPath = config ?? runDirectory + "/config.yaml"
        guard FileManager.default.fileExists(atPath: configPath) else {
            CommandErrors.print("\(configPath): no config.yaml in the checkpoint's run folder; give the run's config with --config")
            throw ExitCode(2)
        }
        let experiment = try CommandErrors.loadingConfig { try Experiment.load(configPath, overrides: set) }
        let run = experiment.runs[0]
        if let n = threads ?? (run.config.threads > 0 ? run.config.threads : nil) { Threads.set(n) }
        let scores: SegmentationScores
        do {
            scores = try CommandErrors.loadingConfig {
                try Evaluation.checkpoint(checkpoint, config: run.config, at: run.locations, split: split)
            }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            CommandErrors.print("\(error)")
            throw ExitCode(1)
        }
        let text = "[eval: \(checkpoint), \(split.rawValue) split]\n" + ResultFile.scoreLines(scores)
        print(text, terminator: "")
        let folder = out ?? runDirectory
        let json = "{" + ([
            "\"checkpoint\":\(JSONText.quoted(checkpoint))",
            "\"split\":\"\(split.rawValue)\"",
        ] + MetricsLog.scoreFields(scores)).joined(separator: ",") + "}\n"
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try AtomicFile.write(json, to: folder + "/eval.json")
            try AtomicFile.write(text, to: folder + "/eval.txt")
        } catch {
            CommandErrors.print("\(error)")
            throw ExitCode(1)
        }
    }
}

extension Evaluation.Split: ExpressibleByArgument {}
