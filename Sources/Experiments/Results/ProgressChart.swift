import Nets

/// A run's `progress.png`, after nnU-Net's: the training loss (total and each term), the
/// validation scores with the best epoch marked, and the learning rate, over epochs. The
/// trainer redraws it after every evaluation and when the run ends; `runexp report` draws the
/// same panels as SVG.
public enum ProgressChart {
    public static let fileName = "progress.png"

    /// The three panels for `records` (in epoch order): losses, validation scores, learning rate.
    /// `metric` is the run's `eval.metric`: plotted beside Dice and mean IoU when it is neither,
    /// and the one that picks the marked best epoch.
    public static func panels(_ records: [EpochRecord], metric: EvalMetric) -> [ChartPanel] {
        var panels = [lossPanel(records), validationPanel(records, metric: metric), learningRatePanel(records)]
        // One epoch axis for all three, though validation may start later (`eval.every`).
        if let first = records.first?.epoch, let last = records.last?.epoch, first < last {
            for i in panels.indices { panels[i].xRange = Double(first)...Double(last) }
        }
        return panels
    }

    /// `panels` stacked in one column, the size of nnU-Net's chart give or take.
    public static func figure(_ records: [EpochRecord], metric: EvalMetric) -> ChartFigure {
        ChartFigure(panels: panels(records, metric: metric), columns: 1, panelWidth: 720, panelHeight: 250)
    }

    /// Rewrites `directory/progress.png` atomically.
    public static func write(_ records: [EpochRecord], metric: EvalMetric, toRunDirectory directory: String) throws {
        try figure(records, metric: metric).writePNG(to: directory + "/" + fileName)
    }

    static func lossPanel(_ records: [EpochRecord]) -> ChartPanel {
        var series = [ChartSeries("loss", points: records.map { ChartPoint(Double($0.epoch), $0.trainLoss) })]
        // With one term the total is that term (times its weight): a second line would only repeat it.
        let terms = Set(records.flatMap(\.losses.keys)).sorted()
        if terms.count > 1 {
            series += terms.map { term in
                ChartSeries(term, points: records.map { ChartPoint(Double($0.epoch), $0.losses[term] ?? .nan) },
                            style: .dashed)
            }
        }
        return ChartPanel(title: "Training loss", xLabel: "epoch", yLabel: "loss", series: series)
    }

    static func validationPanel(_ records: [EpochRecord], metric: EvalMetric) -> ChartPanel {
        let evaluated = records.compactMap { r in r.scores.map { (epoch: Double(r.epoch), scores: $0) } }
        func series(_ label: String, _ value: (SegmentationScores) -> Double) -> ChartSeries {
            ChartSeries(label, points: evaluated.map { ChartPoint($0.epoch, value($0.scores)) })
        }
        var lines = [series("Dice", \.dice), series("mean IoU", \.meanIoU)]
        if metric.kind != .dice && metric.kind != .miou { lines.append(series(metric.rawValue, metric.score)) }
        var markers: [ChartMarker] = []
        if let best = EpochRecord.best(in: records, by: metric.score), let scores = best.scores {
            markers.append(ChartMarker(x: Double(best.epoch), label: "best: epoch \(best.epoch), \(metric.rawValue) "
                                       + NumberFormat.fixed(metric.score(scores), 3)))
        }
        return ChartPanel(title: "Validation", xLabel: "epoch", yLabel: "score", series: lines, markers: markers)
    }

    static func learningRatePanel(_ records: [EpochRecord]) -> ChartPanel {
        ChartPanel(title: "Learning rate", xLabel: "epoch", yLabel: "lr",
                   series: [ChartSeries("lr", points: records.map { ChartPoint(Double($0.epoch), $0.lr) })])
    }
}
