/// The training curves of an experiment's replicate groups overlaid, one colour a group: each
/// epoch's mean over the group's runs, and a band of ± one sample std where two or more runs
/// have a value (`runexp report`'s report.html).
enum GroupCurves {
    /// One panel per quantity: training loss, learning rate, and every validation score some run
    /// recorded (Dice, mean IoU, pixel accuracy; the paper metrics when computed).
    static func panels(_ groups: [ReplicateGroup<LedgerEntry>]) -> [ChartPanel] {
        let records = groups.flatMap { $0.members.flatMap(\.records) }
        let quantities: [(title: String, value: (EpochRecord) -> Double?)] =
            [("Training loss", { $0.trainLoss }), ("Learning rate", { $0.lr })] + validationQuantities(records)
        let epochs = records.map(\.epoch)
        let range = epochs.min().flatMap { lo in epochs.max().map { hi in lo < hi ? Double(lo)...Double(hi) : nil } } ?? nil
        return quantities.map { q in
            ChartPanel(title: q.title, xLabel: "epoch", yLabel: "", logY: false,
                       series: groups.enumerated().map { i, g in series(g, colour: i, q.value) }, xRange: range)
        }
    }

    /// Every validation score of one run in one panel (Dice, mean IoU, pixel accuracy, and the
    /// paper metrics when computed): what the run's progress chart leaves out.
    static func allScoresPanel(_ run: LedgerEntry) -> ChartPanel {
        let group = ReplicateGroup(pieces: [], members: [run])
        let series = validationQuantities(run.records).enumerated().map { i, q in
            var s = Self.series(group, colour: i, q.value)
            s.label = q.title.replacingOccurrences(of: "Validation ", with: "")
            return s
        }
        return ChartPanel(title: "Every validation score", xLabel: "epoch", yLabel: "score", series: series)
    }

    /// The validation scores some record holds, with how to read each.
    static func validationQuantities(_ records: [EpochRecord]) -> [(title: String, value: (EpochRecord) -> Double?)] {
        var quantities: [(title: String, value: (EpochRecord) -> Double?)] = [
            ("Validation Dice", { $0.scores?.dice }),
            ("Validation mean IoU", { $0.scores?.meanIoU }),
            ("Validation pixel accuracy", { $0.scores?.globalAccuracy }),
        ]
        if records.contains(where: { $0.scores?.pixel != nil }) {
            quantities += SweepSummary.paperMetrics.map { m in
                ("Validation \(m.rawValue)", { r in r.scores.map(m.score).flatMap { $0.isNaN ? nil : $0 } })
            }
        }
        return quantities
    }

    static func series(_ group: ReplicateGroup<LedgerEntry>, colour: Int, _ value: (EpochRecord) -> Double?) -> ChartSeries {
        var byEpoch: [Int: [Double]] = [:]
        for run in group.members {
            for r in run.records { if let v = value(r), v.isFinite { byEpoch[r.epoch, default: []].append(v) } }
        }
        let stats = byEpoch.keys.sorted().map { (epoch: Double($0), stats: SampleStatistics(byEpoch[$0]!)) }
        return ChartSeries(group.label + " (n=\(group.members.count))",
                           points: stats.map { ChartPoint($0.epoch, $0.stats.mean) },
                           band: stats.filter { $0.stats.n > 1 }.map {
                               ChartBandPoint(x: $0.epoch, lo: $0.stats.mean - $0.stats.std, hi: $0.stats.mean + $0.stats.std)
                           },
                           colorIndex: colour)
    }
}
