import Nets

/// Where a run of a sweep stands.
public enum RunStatus: String, Sendable, CaseIterable {
    case done, running, failed, pending
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

    public init(runID: String, status: RunStatus, note: String = "", swept: [(key: String, value: String)],
                bestEpoch: Int? = nil, best: SegmentationScores? = nil, final: SegmentationScores? = nil,
                wallSeconds: Double? = nil) {
        self.runID = runID
        self.status = status
        self.note = note
        self.swept = swept
        self.bestEpoch = bestEpoch
        self.best = best
        self.final = final
        self.wallSeconds = wallSeconds
    }

    /// The row of a run from its epoch records, the best epoch picked by `score`.
    public init(runID: String, status: RunStatus, note: String = "", swept: [(key: String, value: String)],
                records: [EpochRecord], score: (SegmentationScores) -> Double, wallSeconds: Double?) {
        let best = EpochRecord.best(in: records, by: score)
        self.init(runID: runID, status: status, note: note, swept: swept, bestEpoch: best?.epoch,
                  best: best?.scores, final: EpochRecord.lastEvaluated(in: records)?.scores,
                  wallSeconds: wallSeconds)
    }
}

/// A sweep's `summary.csv` and `summary.md`: one row per run, the swept values as columns
/// (the union of the runs' keys, in order of first appearance), then the best epoch and the
/// Dice and mean IoU at it, the final Dice and mean IoU, when some run has them the paper
/// metrics at its best epoch (`eval.metrics`: the foreground's, pooled), the wall time and a note.
///
/// Dice is a fraction and mean IoU a percentage, as in `result.txt`. The CSV (RFC 4180, CRLF
/// line ends) keeps 4 and 2 decimals and the wall time in seconds, for spreadsheets and pandas;
/// the Markdown table rounds like `result.txt` (3 and 1) and shows `1h02m13s`, with its columns
/// padded to line up and numbers right-aligned. A missing value is an empty cell.
public enum SweepSummary {
    /// The paper metrics the summary shows (`EvalMetric` names), in column order.
    static let paperMetrics: [EvalMetric] = [.init(.sensitivity), .init(.specificity), .init(.f1), .init(.mcc),
                                             .init(.auc_roc), .init(.auc_pr)]

    /// The paper metrics of each row's best epoch, or none when no row has them.
    private static func paper(_ rows: [SummaryRow], digits: Int) -> (header: [String], cells: [[String]]) {
        guard rows.contains(where: { $0.best?.pixel != nil }) else { return ([], rows.map { _ in [] }) }
        return (paperMetrics.map(\.rawValue),
                rows.map { row in paperMetrics.map { m in decimal(row.best.map(m.score), digits) } })
    }

    /// The CSV text.
    public static func csv(_ rows: [SummaryRow]) -> String {
        let keys = sweptKeys(rows)
        let paper = paper(rows, digits: 4)
        let header = ["run", "status"] + keys
            + ["best_epoch", "best_dice", "best_miou", "final_dice", "final_miou"] + paper.header.map { "best_" + $0 }
            + ["wall_s", "note"]
        var lines = [header]
        for (i, row) in rows.enumerated() {
            lines.append([row.runID, row.status.rawValue] + values(row, keys) + [
                row.bestEpoch.map { "\($0)" } ?? "",
                decimal(row.best?.dice, 4), decimal(row.best.map { $0.meanIoU * 100 }, 2),
                decimal(row.final?.dice, 4), decimal(row.final.map { $0.meanIoU * 100 }, 2),
            ] + paper.cells[i] + [decimal(row.wallSeconds, 1), row.note])
        }
        return lines.map { $0.map(csvField).joined(separator: ",") + "\r\n" }.joined()
    }

    /// The Markdown text: an optional `# title` line, then the table.
    public static func markdown(_ rows: [SummaryRow], title: String? = nil) -> String {
        let keys = sweptKeys(rows)
        let paper = paper(rows, digits: 3)
        let header = ["run", "status"] + keys
            + ["best epoch", "best dice", "best mIoU", "final dice", "final mIoU"] + paper.header.map { "best " + $0 }
            + ["wall time", "note"]
        let numeric = Array(repeating: false, count: 2 + keys.count)
            + Array(repeating: true, count: 5 + paper.header.count + 1) + [false]
        var table = [header]
        for (i, row) in rows.enumerated() {
            table.append([row.runID, row.status.rawValue] + values(row, keys) + [
                row.bestEpoch.map { "\($0)" } ?? "",
                decimal(row.best?.dice, 3), decimal(row.best.map { $0.meanIoU * 100 }, 1),
                decimal(row.final?.dice, 3), decimal(row.final.map { $0.meanIoU * 100 }, 1),
            ] + paper.cells[i] + [row.wallSeconds.map(NumberFormat.duration) ?? "", row.note])
        }
        table = table.map { $0.map(markdownCell) }
        let widths = header.indices.map { c in max(3, table.map { $0[c].count }.max()!) }
        func line(_ cells: [String]) -> String {
            let padded = cells.indices.map { c in
                let pad = String(repeating: " ", count: widths[c] - cells[c].count)
                return numeric[c] ? pad + cells[c] : cells[c] + pad
            }
            return "| " + padded.joined(separator: " | ") + " |\n"
        }
        let rule = "|" + widths.indices.map { c in
            " " + String(repeating: "-", count: widths[c] - 1) + (numeric[c] ? ":" : "-") + " "
        }.joined(separator: "|") + "|\n"
        var text = title.map { "# \($0)\n\n" } ?? ""
        text += line(table[0]) + rule
        for row in table.dropFirst() { text += line(row) }
        return text
    }

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

    private static func values(_ row: SummaryRow, _ keys: [String]) -> [String] {
        keys.map { key in row.swept.first { $0.key == key }?.value ?? "" }
    }

    private static func decimal(_ x: Double?, _ digits: Int) -> String {
        x.map { NumberFormat.fixed($0, digits) } ?? ""
    }

    /// RFC 4180: a field holding a comma, quote, CR or LF is quoted, quotes doubled.
    static func csvField(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else { return s }
        return "\"" + s.map { $0 == "\"" ? "\"\"" : String($0) }.joined() + "\""
    }

    /// A table cell: pipes escaped, line breaks flattened to spaces.
    static func markdownCell(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "|": out += "\\|"
            case "\n", "\r", "\r\n": out += " "
            default: out.append(ch)
            }
        }
        return out
    }
}
