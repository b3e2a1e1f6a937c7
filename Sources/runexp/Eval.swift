import ArgumentParser
import Experiments
import Foundation
import Nets

/// `runexp eval`: scores a trained run's checkpoint on a split of its data.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score a checkpoint on its run's data; writes eval.json and eval.txt.",
        discussion: """
            Evaluates the checkpoint as validation does (eval mode, each image whole or in tiles and \
            with flips as the config's eval.mode and eval.tta say; --set changes them), with \
            every metric: the DRIVE recipe's (Dice, global correct, per-class recall and IoU) and the \
            paper metrics (sensitivity, specificity, precision, F1, MCC, AUC-ROC, AUC-PR), not \
            counting ignore_index pixels (DRIVE: outside the field of view), pooled over the split \
            and as the per-image mean ± std. Prints the result block and writes OUT/eval.json and \
            OUT/eval.txt (OUT defaults to the run folder). The model and data come from the run's \
            config.yaml, two folders above the checkpoint unless --config names it.

            Several checkpoints (--checkpoint A B C) are scored as an ensemble, the mean of their class \
            probabilities, on the first one's data (cross-validation folds on --split test: no fold \
            trained on those images); OUT then defaults to the current folder. \
            --labels 2nd_manual scores DRIVE's test images against the second observer's annotations; \
            --observer EXP.yaml (no checkpoint) scores the second observer against the first, the human \
            baseline papers quote (OUT defaults to the current folder then).

            Examples:
              runexp eval --checkpoint results/drive_unet/run@91148df8/checkpoints/best.safetensors
              runexp eval --observer experiments/drive_unet.yaml --set data.root=/data/DRIVE
              runexp eval --split test --out cv_ensemble --checkpoint results/drive_unet_cv/fold=*/checkpoints/best.safetensors
            """)

    @Option(parsing: .upToNextOption,
            help: ArgumentHelp("The model weights, e.g. RUN_DIR/checkpoints/best.safetensors; several are scored as an "
                               + "ensemble.", valueName: "file"))
    var checkpoint: [String] = []
    @Option(help: ArgumentHelp("Score DRIVE's labels: 1st_manual (the default) or 2nd_manual (the second observer's).",
                               valueName: "name"))
    var labels = "1st_manual"
    @Option(help: ArgumentHelp("No model: score DRIVE's second observer against the first, with this experiment's "
                               + "data (the human baseline papers quote).", valueName: "file.yaml"))
    var observer: String?
    @Option(help: ArgumentHelp("The run's config (default: RUN_DIR/config.yaml, two folders above --checkpoint).",
                               valueName: "file"))
    var config: String?
    @Option(help: ArgumentHelp("The split to score: val (DRIVE: the test images), train, or test (DRIVE's test/, "
                               + "even when data.val_fraction holds validation images out of training/).",
                               valueName: "split"))
    var split: Evaluation.Split = .val
    @Option(help: ArgumentHelp("A setting of the config to change, e.g. data.root=/data/DRIVE (repeatable).",
                               valueName: "key=value"))
    var set: [String] = []
    @Option(help: ArgumentHelp("Folder for eval.json and eval.txt (default: the run folder).", valueName: "dir"))
    var out: String?
    @Option(help: "Threads (default: the config's `threads`, else OMP_NUM_THREADS, else all cores).") var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if checkpoint.isEmpty == (observer == nil) { throw ValidationError("give --checkpoint or --observer (one of them)") }
        if checkpoint.count > 1 && config != nil {
            throw ValidationError("--config names one run's config; with several checkpoints each is read from its own run folder")
        }
        if !["1st_manual", "2nd_manual"].contains(labels) {
            throw ValidationError("--labels must be 1st_manual or 2nd_manual, got '\(labels)'")
        }
    }

    func run() throws {
        if let observer { return try scoreObserver(observer) }
        if checkpoint.count > 1 { return try scoreEnsemble() }
        let checkpoint = checkpoint[0]
        let source = try CheckpointRun(checkpoint: checkpoint, config: config, overrides: set, checkPaths: true,
                                       threads: threads)
        let run = source.run
        let scores = try source.loading {
            try Evaluation.checkpoint(checkpoint, config: run.config, at: run.locations, split: split,
                                      splits: source.splits, secondObserver: labels == "2nd_manual")
        }
        // The labels are named only when they are not the data's own.
        let second = labels == "2nd_manual"
        let inference = run.config.eval.inference.description
        try write(scores, title: "\(checkpoint), \(split.rawValue) split" + (second ? ", 2nd_manual labels" : "") + ", \(inference)",
                  classNames: run.config.data.effectiveClassNames,
                  fields: ["\"checkpoint\":\(JSONText.quoted(checkpoint))", "\"split\":\"\(split.rawValue)\"",
                           "\"inference\":\(JSONText.quoted(inference))"]
                      + (second ? ["\"labels\":\"2nd_manual\""] : []),
                  to: out ?? CheckpointRun.directory(of: checkpoint))
    }

    /// Several checkpoints: their mean probabilities, on the first one's data.
    private func scoreEnsemble() throws {
        let (first, ensemble) = try CheckpointRun.ensemble(checkpoint, config: nil, overrides: set, checkPaths: true,
                                                           threads: threads)
        let second = labels == "2nd_manual"
        let scores = try first.loading {
            try Evaluation.ensemble(ensemble, at: first.run.locations, split: split, splits: first.splits, secondObserver: second)
        }
        let inference = ensemble.members.map(\.config.eval.inference.description)
        try write(scores, title: "ensemble of \(checkpoint.count) checkpoints, \(split.rawValue) split" + (second ? ", 2nd_manual labels" : "")
                      + ", " + Set(inference).sorted().joined(separator: " / "),
                  classNames: first.run.config.data.effectiveClassNames,
                  fields: ["\"checkpoints\":[" + checkpoint.map(JSONText.quoted).joined(separator: ",") + "]",
                           "\"split\":\"\(split.rawValue)\"",
                           "\"inference\":[" + inference.map(JSONText.quoted).joined(separator: ",") + "]"]
                      + (second ? ["\"labels\":\"2nd_manual\""] : []),
                  to: out ?? ".")
    }

    /// `--observer`: the second annotation of each image as the prediction, the first as the truth.
    private func scoreObserver(_ file: String) throws {
        let experiment = try CommandErrors.loadingConfig { try Experiment.load(file, overrides: set) }
        let run = experiment.runs[0]
        let scores = try CommandErrors.failing { try Evaluation.observer(config: run.config, at: run.locations, split: split) }
        try write(scores, title: "second observer vs first, \(split.rawValue) split",
                  classNames: run.config.data.effectiveClassNames,
                  fields: ["\"observer\":\"2nd_manual\"", "\"split\":\"\(split.rawValue)\""], to: out ?? ".")
    }

    /// Prints the result block, its per-class values labelled with `classNames`, and writes it
    /// (eval.txt) and the scores (eval.json) to `folder`.
    private func write(_ scores: SegmentationScores, title: String, classNames: [String]?, fields: [String],
                       to folder: String) throws {
        let text = "[eval: \(title)]\n" + ResultFile.scoreLines(scores, classNames: classNames)
        print(text, terminator: "")
        let json = "{" + (fields + MetricsLog.scoreFields(scores)).joined(separator: ",") + "}\n"
        try CommandErrors.failing {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try AtomicFile.write(json, to: folder + "/eval.json")
            try AtomicFile.write(text, to: folder + "/eval.txt")
        }
    }
}

extension Evaluation.Split: ExpressibleByArgument {}
