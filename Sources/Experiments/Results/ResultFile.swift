import Nets

/// A run's `result.txt`: one block per evaluated epoch in the format of the PyTorch DRIVE UNet
/// recipe (WZMIAOMIAO, `train.py`), then, once the run has ended, a summary of its best epoch.
///
/// ```
/// [epoch: 199]
/// train_loss: 0.3214
/// lr: 0.000000
/// dice coefficient: 0.813
/// global correct: 95.2
/// classes: ['background', 'vessel']
/// average row correct: ['97.2', '81.5']
/// IoU: ['94.7', '68.6']
/// mean IoU: 81.6
///
/// [best: epoch 187 by dice]
/// ...the same lines for that epoch...
///
/// stopped: diverged (loss NaN at epoch 3)     (only for a run that ended early)
/// wall time: 1h02m13s
/// ```
/// As in the recipe each block ends with an empty line; loss 4 decimals, lr 6, Dice 3 (a
/// fraction: the per-image mean, see `SegmentationMetrics`), the confusion-matrix scores in
/// percent with 1 decimal, NaN as `nan`. Mean IoU skips NaN classes.
///
/// The `classes:` line is runexp's own: the class names (`data.class_names`, else the dataset's
/// own) in the order of the lists under it, so that a reader can match each value to its class.
/// It is left out when the classes have no names. Every line of the recipe is kept as it is, so
/// tools that read the recipe's files by their line prefixes read these too.
public enum ResultFile {
    /// How a finished (or stopped) run ended: the closing section of the file.
    public struct Summary: Sendable, Equatable {
        /// The name of the metric that picked `best` (`dice`, `miou`), printed in its header.
        public var metric: String
        /// The best evaluated epoch, nil when none was evaluated.
        public var best: EpochRecord?
        /// Total wall-clock seconds of the run (all sessions, when resumed).
        public var wallSeconds: Double
        /// Why the run ended early (e.g. `diverged (loss NaN at epoch 3)`), nil when it completed.
        public var stopped: String?

        public init(metric: String, best: EpochRecord?, wallSeconds: Double, stopped: String? = nil) {
            self.metric = metric
            self.best = best
            self.wallSeconds = wallSeconds
            self.stopped = stopped
        }

        /// The summary of `records`, picking the best epoch by `score` (see `EpochRecord.best`).
        public init(records: [EpochRecord], metric: String, score: (SegmentationScores) -> Double,
                    wallSeconds: Double, stopped: String? = nil) {
            self.init(metric: metric, best: EpochRecord.best(in: records, by: score),
                      wallSeconds: wallSeconds, stopped: stopped)
        }
    }

    /// The file's text: a block for each evaluated record, in order, then `summary` if given;
    /// `classNames` label the per-class values.
    public static func render(_ records: [EpochRecord], summary: Summary? = nil, classNames: [String]? = nil) -> String {
        var text = ""
        for record in records where record.scores != nil {
            text += "[epoch: \(record.epoch)]\n" + lines(record, classNames) + "\n"
        }
        if let summary {
            if let best = summary.best {
                text += "[best: epoch \(best.epoch) by \(summary.metric)]\n" + lines(best, classNames) + "\n"
            } else {
                text += "[best: none (no evaluated epoch)]\n\n"
            }
            if let stopped = summary.stopped { text += "stopped: \(stopped)\n" }
            text += "wall time: \(NumberFormat.duration(summary.wallSeconds))\n"
        }
        return text
    }

    /// Rewrites `path` atomically with `render(records, summary:, classNames:)`; call after every evaluation.
    public static func write(_ records: [EpochRecord], summary: Summary? = nil, classNames: [String]? = nil,
                             to path: String) throws {
        try AtomicFile.write(render(records, summary: summary, classNames: classNames), to: path)
    }

    /// The lines under a block header, each ending in a newline, then the paper metrics'
    /// lines when the run computed them.
    private static func lines(_ r: EpochRecord, _ classNames: [String]?) -> String {
        """
        train_loss: \(NumberFormat.fixed(r.trainLoss, 4))
        lr: \(NumberFormat.fixed(r.lr, 6))

        """ + scoreLines(r.scores!, classNames: classNames)
    }

    /// The score lines of a block (`runexp eval` prints them alone); `classNames` label the
    /// per-class values when there is one for each class.
    public static func scoreLines(_ s: SegmentationScores, classNames: [String]? = nil) -> String {
        let names = classNames.flatMap { $0.count == s.classIoU.count ? $0 : nil }
        return """
            dice coefficient: \(NumberFormat.fixed(s.dice, 3))
            global correct: \(NumberFormat.percent(s.globalAccuracy))

            """
            + (names.map { "classes: \(NumberFormat.pythonList($0))\n" } ?? "")
            + """
            average row correct: \(NumberFormat.percentList(s.classAccuracy))
            IoU: \(NumberFormat.percentList(s.classIoU))
            mean IoU: \(NumberFormat.percent(s.meanIoU))

            """
            + (s.pixel.map { pixelLines($0, names) } ?? "")
    }

    /// The paper metrics of the foreground (binary: class 1; more classes: the mean over classes
    /// 1…), each pooled and as the per-image mean ± std, with their scope stated, by name where
    /// the classes have names (`vessel`; `mean of classes 1-20, all but background`):
    ///
    /// ```
    /// pixel scores (vessel, argmax; ignore_index pixels excluded; pooled over 20 images | image mean ± std):
    /// sensitivity: 0.7670 | 0.7611 ± 0.0420
    /// ...
    /// AUC-PR: 0.9012 | 0.8987 ± 0.0213
    /// ```
    private static func pixelLines(_ p: PixelScores, _ names: [String]?) -> String {
        let classes = p.precision.pooled.count
        let classNames = names.flatMap { $0.count == classes ? $0 : nil }
        let foreground = classes == 2 ? classNames?[1] ?? "class 1"
            : "mean of classes 1-\(classes - 1)" + (classNames.map { ", all but \($0[0])" } ?? "")
        func value(_ xs: [Double]) -> Double { classes == 2 ? xs[1] : nanMean(Array(xs.dropFirst())) }
        let names = [("sensitivity", p.recall), ("specificity", p.specificity), ("precision", p.precision),
                     ("F1", p.f1), ("MCC", p.mcc), ("AUC-ROC", p.rocAUC), ("AUC-PR", p.prAUC)]
        var text = "pixel scores (\(foreground), argmax; ignore_index pixels excluded; pooled over \(p.images) "
            + "image\(p.images == 1 ? "" : "s") | image mean ± std):\n"
        for (name, s) in names {
            text += "\(name): \(NumberFormat.fixed(value(s.pooled), 4)) | \(NumberFormat.fixed(value(s.mean), 4)) ± "
                + "\(NumberFormat.fixed(value(s.std), 4))\n"
        }
        return text
    }
}
