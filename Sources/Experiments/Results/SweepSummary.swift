import Nets

/// Where a run of a sweep stands. `interrupted`: it began, and no process is training it now
/// (stopped by a signal, killed, or a full disk); the same command resumes it.
public enum RunStatus: String, Sendable, CaseIterable {
    case done, running, failed, interrupted, pending
}

/// One run's line in a sweep summary.
public struct SummaryRow: Sendable {
    /// The run's id (its folder name under the experiment's results).
    public var runID: String
    public var status: RunStatus
    /// Why a run failed or stopped (e.g. `diverged (loss NaN at epoch 3)`); empty otherwise.
    public var note: String
    /// The run's swept values as `(key, value)` in sweep order; each key becomes a column.
    public var swept: [(key: String, value: String)]
    /// The best evaluated epoch by the experiment's selection metric, and its scores.
    public var bestEpoch: Int?
    public var best: SegmentationScores?
    /// The scores of the last evaluated epoch.
    public var final: SegmentationScores?
    /// Wall-clock seconds the run has taken so far.
    public var wallSeconds: Double?
    /// The names of the run's classes (`data.class_names`, else the dataset's own); nil when
    /// they have none or the run's config cannot be read.
    public var classNames: [String]?

    public init(runID: String, status: RunStatus, note: String = "", swept: [(key: String, value: String)],
                bestEpoch: Int? = nil, best: SegmentationScores? = nil, final: SegmentationScores? = nil,
                wallSeconds: Double? = nil, classNames: [String]? = nil) {
        self.runID = runID
        self.status = status
        self.note = note
        self.swept = swept
        self.bestEpoch = bestEpoch
        self.best = best
        self.final = final
        self.wallSeconds = wallSeconds
        self.classNames = classNames
    }

    /// The row of a run from its epoch records, the best epoch picked by `score`.
    public init(runID: String, status: RunStatus, note: String = "", swept: [(key: String, value: String)],
                records: [EpochRecord], score: (SegmentationScores) -> Double, wallSeconds: Double?,
                classNames: [String]? = nil) {
        let best = EpochRecord.best(in: records, by: score)
        self.init(runID: runID, status: status, note: note, swept: swept, bestEpoch: best?.epoch,
                  best: best?.scores, final: EpochRecord.lastEvaluated(in: records)?.scores,
                  wallSeconds: wallSeconds, classNames: classNames)
    }
}

/// A sweep's `summary.csv` and `summary.md`: one row per run, the swept values as columns
/// (the union of the runs' keys, in order of first appearance), then the best epoch and the
/// Dice and mean IoU at it, the final Dice and mean IoU, when some run has them the paper
/// metrics at its best epoch (`eval.metrics`: the foreground's, pooled), the IoU of each
/// foreground class at the best epoch (`best_iou_vessel`; see `perClassColumns`), the wall time
/// and a note.
///
/// When runs are replicates (their ids name a `seed` or `fold`), each group of runs that differ
/// only in those follows: the number of done runs `n`, and for every score its mean, sample std
/// and 95% t-interval over them (`SampleStatistics`). In the CSV these are extra columns (`n`,
/// `best_dice_mean`, `best_dice_std`, `best_dice_ci95`, ...) filled only on the group rows, whose
/// status is `group`; in the Markdown a second table. Without replicates both files are as before.
///
/// Dice is a fraction and mean IoU a percentage, as in `result.txt`. The CSV (RFC 4180, CRLF
/// line ends) keeps 4 and 2 decimals and the wall time in seconds, for spreadsheets and pandas;
/// the Markdown table rounds like `result.txt` (3 and 1) and shows `1h02m13s`, with its columns
/// padded to line up and numbers right-aligned. A missing value is an empty cell.
public enum SweepSummary {
    /// The paper metrics the summary shows (`EvalMetric` names), in column order.
    static let paperMetrics: [EvalMetric] = [.init(.sensitivity), .init(.specificity), .init(.f1), .init(.mcc),
                                             .init(.auc_roc), .init(.auc_pr)]

    /// A score column: its CSV name, Markdown title and digits, and its value in a row.
    struct Column {
        var csv: String
        var title: String
        var csvDigits: Int
        var markdownDigits: Int
        /// Shown as `1h02m13s` in Markdown.
        var isDuration = false
        var value: (SummaryRow) -> Double?

        func csvText(_ x: Double?) -> String { x.map { NumberFormat.fixed($0, csvDigits) } ?? "" }
        func markdownText(_ x: Double?) -> String {
            guard let x else { return "" }
            return isDuration ? NumberFormat.duration(x) : NumberFormat.fixed(x, markdownDigits)
        }
    }

    /// The score columns of `rows`: the paper metrics only when some row has them.
    static func columns(_ rows: [SummaryRow]) -> [Column] {
        var columns = [
            Column(csv: "best_dice", title: "best dice", csvDigits: 4, markdownDigits: 3) { $0.best?.dice },
            Column(csv: "best_miou", title: "best mIoU", csvDigits: 2, markdownDigits: 1) { $0.best.map { $0.meanIoU * 100 } },
            Column(csv: "final_dice", title: "final dice", csvDigits: 4, markdownDigits: 3) { $0.final?.dice },
            Column(csv: "final_miou", title: "final mIoU", csvDigits: 2, markdownDigits: 1) { $0.final.map { $0.meanIoU * 100 } },
        ]
        columns += perClassColumns(rows)
        if rows.contains(where: { $0.best?.pixel != nil }) {
            columns += paperMetrics.map { m in
                Column(csv: "best_" + m.rawValue, title: "best " + m.rawValue, csvDigits: 4, markdownDigits: 3) {
                    $0.best.map(m.score)
                }
            }
        }
        columns.append(Column(csv: "wall_s", title: "wall time", csvDigits: 1, markdownDigits: 1, isDuration: true) {
            $0.wallSeconds
        })
        return columns
    }

    /// The most foreground classes whose IoU the summary lists; more would make it too wide to
    /// read (VOC's 20), and the per-class values stay in each run's result.txt.
    static let maxPerClassColumns = 8

    /// The IoU at the best epoch of each class but background (class 0; for two classes, the
    /// foreground), when the runs' scores agree on the number of classes and it has at most
    /// `maxPerClassColumns` of them. Columns are named by class name when every run with scores
    /// gives the same names (`best_iou_vessel`, `best IoU vessel`), else by class id
    /// (`best_iou_1`), so that a column never mixes two classes.
    static func perClassColumns(_ rows: [SummaryRow]) -> [Column] {
        let scored = rows.filter { $0.best != nil }
        let counts = Set(scored.compactMap { $0.best?.classIoU.count })
        guard counts.count == 1, let classes = counts.first, (2...maxPerClassColumns + 1).contains(classes) else {
            return []
        }
        let names = Set(scored.map { $0.classNames ?? [] })
        let shared = names.count == 1 && names.first?.count == classes ? names.first : nil
        return (1..<classes).map { c in
            let name = shared?[c] ?? "\(c)"
            return Column(csv: "best_iou_" + name.replacingOccurrences(of: " ", with: "_"), title: "best IoU " + name,
                          csvDigits: 2, markdownDigits: 1) { row in
                row.best.flatMap { c < $0.classIoU.count ? $0.classIoU[c] * 100 : nil }
            }
        }
    }

    /// The replicate groups of `rows`, or none when no run is a replicate.
    static func groups(_ rows: [SummaryRow]) -> [ReplicateGroup<SummaryRow>] {
        guard ReplicateGroup<SummaryRow>.hasReplicates(rows.map(\.swept)) else { return [] }
        return ReplicateGroup.groups(rows) { $0.swept }
    }

    /// The statistics of each column over a group's done runs.
    static func statistics(_ group: ReplicateGroup<SummaryRow>, _ columns: [Column])
        -> (done: Int, stats: [SampleStatistics]) {
        let done = group.members.filter { $0.status == .done }
        return (done.count, columns.map { c in SampleStatistics(done.map { c.value($0) ?? .nan }) })
    }

    /// What a group row's note says: how many of its runs are not done yet.
    static func groupNote(_ group: ReplicateGroup<SummaryRow>, done: Int) -> String {
        done == group.members.count ? "" : "\(done) of \(group.members.count) runs done"
    }

    /// The CSV text.
    public static func csv(_ rows: [SummaryRow]) -> String {
        let keys = sweptKeys(rows)
        let columns = columns(rows)
        let groups = groups(rows)
        let statHeader = groups.isEmpty ? [] : ["n"] + columns.flatMap { [$0.csv + "_mean", $0.csv + "_std", $0.csv + "_ci95"] }
        var lines = [["run", "status"] + keys + ["best_epoch"] + columns.map(\.csv) + ["note"] + statHeader]
        let noStats = Array(repeating: "", count: statHeader.count)
        for row in rows {
            lines.append([row.runID, row.status.rawValue] + values(row.swept, keys) + [row.bestEpoch.map { "\($0)" } ?? ""]
                         + columns.map { $0.csvText($0.value(row)) } + [row.note] + noStats)
        }
        for group in groups {
            let (done, stats) = statistics(group, columns)
            let cells = zip(columns, stats).flatMap { c, s in [c.csvText(finite(s.mean)), c.csvText(finite(s.std)),
                                                               c.csvText(finite(s.ci95))] }
            lines.append([group.label, "group"] + values(group.pieces, keys) + [""] + columns.map { _ in "" }
                         + [groupNote(group, done: done), "\(done)"] + cells)
        }
        return CSV.text(lines)
    }

    /// The Markdown text: an optional `# title` line, the runs' table, then the groups' table
    /// when there are replicates.
    public static func markdown(_ rows: [SummaryRow], title: String? = nil) -> String {
        let keys = sweptKeys(rows)
        let columns = columns(rows)
        var runs = MarkdownTable(header: ["run", "status"] + keys + ["best epoch"] + columns.map(\.title) + ["note"],
                                 numeric: Array(repeating: false, count: 2 + keys.count)
                                     + Array(repeating: true, count: 1 + columns.count) + [false])
        for row in rows {
            runs.rows.append([row.runID, row.status.rawValue] + values(row.swept, keys) + [row.bestEpoch.map { "\($0)" } ?? ""]
                             + columns.map { $0.markdownText($0.value(row)) } + [row.note])
        }
        var text = title.map { "# \($0)\n\n" } ?? ""
        text += runs.text
        let groups = groups(rows)
        guard !groups.isEmpty else { return text }
        let groupKeys = keys.filter { !ReplicateGroup<SummaryRow>.replicateKeys.contains($0) }
        var table = MarkdownTable(header: ["group"] + groupKeys + ["n"] + columns.map(\.title) + ["note"],
                                  numeric: Array(repeating: false, count: 1 + groupKeys.count)
                                      + Array(repeating: true, count: 1 + columns.count) + [false])
        for group in groups {
            let (done, stats) = statistics(group, columns)
            table.rows.append([group.label] + values(group.pieces, groupKeys) + ["\(done)"]
                              + zip(columns, stats).map { c, s in spread(c, s) } + [groupNote(group, done: done)])
        }
        text += "\nReplicate groups (runs that differ only in seed or fold): mean ± sample std [95% t-interval] "
            + "over each group's n done runs.\n\n" + table.text
        return text
    }

    /// `0.812 ± 0.003 [0.805, 0.819]`; the mean alone for one run; a duration without its interval.
    static func spread(_ column: Column, _ s: SampleStatistics) -> String {
        guard s.n > 0, s.mean.isFinite else { return "" }
        guard s.n > 1 else { return column.markdownText(s.mean) }
        let text = column.markdownText(s.mean) + " ± " + column.markdownText(s.std)
        if column.isDuration { return text }
        return text + " [" + column.markdownText(s.mean - s.ci95) + ", " + column.markdownText(s.mean + s.ci95) + "]"
    }

    private static func finite(_ x: Double) -> Double? { x.isFinite ? x : nil }

    /// Rewrites `directory/summary.csv` and `directory/summary.md` atomically.
    public static func write(_ rows: [SummaryRow], title: String? = nil, to directory: String) throws {
        try AtomicFile.write(csv(rows), to: directory + "/summary.csv")
        try AtomicFile.write(markdown(rows, title: title), to: directory + "/summary.md")
    }

    /// Every swept key, in order of first appearance.
    static func sweptKeys(_ rows: [SummaryRow]) -> [String] {
        var keys: [String] = []
        for row in rows {
            for (key, _) in row.swept where !keys.contains(key) { keys.append(key) }
        }
        return keys
    }

    private static func values(_ pieces: [(key: String, value: String)], _ keys: [String]) -> [String] {
        keys.map { key in pieces.first { $0.key == key }?.value ?? "" }
    }
}
