import Foundation
import Nets

/// The pivot table of `runexp report`: one swept key (or several) down the rows, another across
/// the columns, and in each cell the mean ± sample std of a metric over the done runs that share
/// those values (replicates: seeds, folds), the best cell of each column marked, and the change
/// from a baseline row or column. Rendered as Markdown, tidy CSV and LaTeX (booktabs).
public struct AblationTable: Sendable {
    /// The keys whose values label the rows (joined with `, `) and the one across the columns.
    public var rowKeys: [String]
    public var columnKey: String?
    public var rowLabels: [[String]]
    public var columnLabels: [String]
    /// `cells[r][c]`: the statistics of the runs of row r and column c (n = 0: none done).
    public var cells: [[SampleStatistics]]
    public var metric: EvalMetric
    /// What the value of each run is: "dice at each run's best epoch (by dice)".
    public var caption: String
    /// The baseline: which key, and which row or column holds it.
    public var baseline: (key: String, value: String)?

    /// Percentages are shown for the metrics result.txt shows in percent.
    var inPercent: Bool { [.miou, .accuracy, .iou].contains(metric.kind) }

    /// The table of `runs`, each run's value being `metric` at its best epoch.
    ///
    /// Errors (a key no run varies, a baseline value no run has) are messages for the user.
    public static func make(_ runs: [LedgerEntry], metric: EvalMetric, rows: [String]?, column: String?,
                            baseline: (key: String, value: String)?) throws -> AblationTable {
        let pieces = runs.map { RunSpec.pieces(ofID: $0.id) }
        var keys: [String] = []
        for p in pieces { for (key, _) in ReplicateGroup<LedgerEntry>.treatment(p) where !keys.contains(key) { keys.append(key) } }
        // A key every run gives the same value (ablation_loss's zipped `ce: 1.0`) splits nothing.
        keys = keys.filter { key in Set(pieces.map { p in p.first { $0.key == key }?.value ?? "" }).count > 1 }
        func resolve(_ key: String, _ option: String) throws -> String {
            if keys.contains(key) { return key }
            // A dotted path names the same key as its last component (model.upsample → upsample).
            if let last = key.split(separator: ".").last.map(String.init), keys.contains(last) { return last }
            let found = keys.isEmpty ? "no run varies any key but seed or fold" : "the runs vary " + keys.joined(separator: ", ")
            throw ReportError("\(option) \(key): \(found)\(didYouMean(key, in: keys))")
        }
        let givenRows = try rows.map { try $0.map { try resolve($0, "--rows") } }
        // Without --cols the columns take the last key the rows leave (with no --rows either, only
        // when there are two keys or more: one key goes down the rows).
        let free = keys.filter { !(givenRows ?? []).contains($0) }
        let columnKey = try column.map { try resolve($0, "--cols") } ?? (givenRows != nil || free.count >= 2 ? free.last : nil)
        let rowKeys = givenRows ?? keys.filter { $0 != columnKey }
        if let columnKey, rowKeys.contains(columnKey) {
            throw ReportError("--rows and --cols both name '\(columnKey)'")
        }
        let others = keys.filter { !rowKeys.contains($0) && $0 != columnKey }
        if !others.isEmpty {
            throw ReportError("the runs also vary \(others.joined(separator: ", ")), which neither --rows nor --cols names; "
                              + "add them to --rows (--rows \((rowKeys + others).joined(separator: ",")))")
        }
        func value(_ p: [(key: String, value: String)], _ key: String) -> String { p.first { $0.key == key }?.value ?? "" }
        let rowOf = pieces.map { p in rowKeys.map { value(p, $0) } }
        let columnOf = pieces.map { p in columnKey.map { value(p, $0) } ?? "" }
        let rowLabels = ordered(rowOf.map { $0.joined(separator: "\u{1}") }).map { $0.components(separatedBy: "\u{1}") }
        let columnLabels = ordered(columnOf)

        let done = runs.filter { $0.state.status == .done }
        if done.isEmpty { throw ReportError("no run is done yet (runexp status lists where each stands)") }
        if metric.needsPixelScores, !done.contains(where: { $0.best?.scores?.pixel != nil }) {
            throw ReportError("\(metric.rawValue) is one of the paper metrics, which no run computed (eval.metrics: true)")
        }
        var values = Array(repeating: Array(repeating: [Double](), count: columnLabels.count), count: rowLabels.count)
        for (i, run) in runs.enumerated() where run.state.status == .done {
            guard let r = rowLabels.firstIndex(of: rowOf[i]), let c = columnLabels.firstIndex(of: columnOf[i]),
                  let scores = run.best?.scores else { continue }
            values[r][c].append(metric.score(scores))
        }
        var resolvedBaseline: (key: String, value: String)?
        if let baseline {
            let key = try resolve(baseline.key, "--baseline")
            guard key == columnKey || (rowKeys == [key]) else {
                throw ReportError("--baseline \(baseline.key)=\(baseline.value): the baseline must be the key of the columns "
                                  + "(\(columnKey ?? "none")) or of the rows (\(rowKeys.joined(separator: ",")))")
            }
            let found = key == columnKey ? columnLabels : rowLabels.map { $0[0] }
            guard found.contains(baseline.value) else {
                throw ReportError("--baseline \(baseline.key)=\(baseline.value): no run has \(key)=\(baseline.value); "
                                  + "its values are \(found.joined(separator: ", "))")
            }
            resolvedBaseline = (key, baseline.value)
        }
        let selection = Set(runs.map(\.metric.rawValue))
        let by = selection.count == 1 ? selection.first ?? "" : "each run's eval.metric"
        return AblationTable(rowKeys: rowKeys, columnKey: columnKey, rowLabels: rowLabels, columnLabels: columnLabels,
                             cells: values.map { $0.map(SampleStatistics.init) }, metric: metric,
                             caption: "\(metric.rawValue) at each run's best epoch (by \(by)), mean ± sample std over "
                                 + "the done runs of each cell (seeds, folds)",
                             baseline: resolvedBaseline)
    }

    /// Values in order of first appearance, or numerically when all are numbers (`base_c` 8 < 16).
    static func ordered(_ values: [String]) -> [String] {
        var seen: [String] = []
        for v in values where !seen.contains(v) { seen.append(v) }
        let numbers = seen.compactMap { Double($0) }
        guard numbers.count == seen.count else { return seen }
        return zip(seen, numbers).sorted { $0.1 < $1.1 }.map(\.0)
    }

    /// The baseline cell's mean for the cell at (r, c), or nil.
    func baselineMean(_ r: Int, _ c: Int) -> Double? {
        guard let baseline else { return nil }
        if baseline.key == columnKey, let bc = columnLabels.firstIndex(of: baseline.value) {
            return bc == c ? nil : finite(cells[r][bc].mean)
        }
        if let br = rowLabels.firstIndex(where: { $0.first == baseline.value }) {
            return br == r ? nil : finite(cells[br][c].mean)
        }
        return nil
    }

    /// The row of each column's highest mean (ties: the first).
    var bestRows: [Int?] {
        columnLabels.indices.map { c in
            var best: (row: Int, mean: Double)?
            for r in rowLabels.indices where cells[r][c].mean.isFinite {
                if best.map({ cells[r][c].mean > $0.mean }) ?? true { best = (r, cells[r][c].mean) }
            }
            return best?.row
        }
    }

    /// How many runs each cell holds, when all cells hold the same number.
    var commonCount: Int? {
        let counts = Set(cells.flatMap { $0.map(\.n) }.filter { $0 > 0 })
        return counts.count == 1 ? counts.first : nil
    }

    func number(_ x: Double) -> String { inPercent ? NumberFormat.fixed(x * 100, 1) : NumberFormat.fixed(x, 3) }
    func signed(_ x: Double) -> String { (x >= 0 ? "+" : "−") + number(abs(x)) }

    /// A cell's text parts: mean ± std (the mean alone for one run), the run count when cells
    /// differ in it, and the change from the baseline.
    func parts(_ r: Int, _ c: Int) -> (value: String, count: String, delta: String)? {
        let s = cells[r][c]
        guard s.n > 0 else { return nil }
        let value = s.n > 1 ? number(s.mean) + " ± " + number(s.std) : number(s.mean)
        let count = commonCount == nil ? "n=\(s.n)" : ""
        let delta = baselineMean(r, c).map { signed(s.mean - $0) } ?? ""
        return (value, count, delta)
    }

    var columnTitles: [String] {
        guard let columnKey else { return [metric.rawValue] }
        return columnLabels.map { "\(columnKey)=\($0)" }
    }

    /// The Markdown: a `# title` line, a caption line, then the table, the best of each column in bold.
    public func markdown(title: String) -> String { "# \(title)\n\n" + markdown }

    /// Writes report.md, report.csv and report.tex into `directory`, each atomically.
    public func write(title: String, to directory: String) throws {
        try AtomicFile.write(markdown(title: title), to: directory + "/report.md")
        try AtomicFile.write(csv, to: directory + "/report.csv")
        try AtomicFile.write(latex, to: directory + "/report.tex")
    }

    /// The caption line and the table, the best of each column in bold.
    var markdown: String {
        var table = MarkdownTable(header: [rowKeys.isEmpty ? "runs" : rowKeys.joined(separator: ", ")] + columnTitles,
                                  numeric: [false] + columnLabels.map { _ in true })
        let best = bestRows
        for r in rowLabels.indices {
            table.rows.append([rowKeys.isEmpty ? "all" : rowLabels[r].joined(separator: ", ")] + columnLabels.indices.map { c in
                guard let p = parts(r, c) else { return "–" }
                let value = best[c] == r ? "**\(p.value)**" : p.value
                return ([value] + [p.count, p.delta].filter { !$0.isEmpty }.map { "(\($0))" }).joined(separator: " ")
            })
        }
        return captionLine + "\n\n" + table.text
    }

    var captionLine: String {
        caption + (commonCount.map { "; n = \($0) each" } ?? "") + (inPercent ? "; in percent" : "")
            + (baseline.map { "; (±x): change from \($0.key)=\($0.value)" } ?? "") + "; best of each column in bold."
    }

    /// Tidy CSV: one line per cell, for pandas and spreadsheets.
    public var csv: String {
        var lines = [rowKeys + (columnKey.map { [$0] } ?? []) + ["metric", "n", "mean", "std", "ci95", "delta"]]
        for r in rowLabels.indices {
            for c in columnLabels.indices {
                let s = cells[r][c]
                func text(_ x: Double?) -> String { x.flatMap { $0.isFinite ? NumberFormat.fixed($0, 6) : nil } ?? "" }
                lines.append(rowLabels[r] + (columnKey == nil ? [] : [columnLabels[c]])
                             + [metric.rawValue, "\(s.n)", text(s.mean), text(s.std), text(s.ci95),
                                text(baselineMean(r, c).map { s.mean - $0 })])
            }
        }
        return CSV.text(lines)
    }

    /// A LaTeX `table` with booktabs rules (`\usepackage{booktabs}`), the best of each column in bold.
    public var latex: String {
        let best = bestRows
        var text = "\\begin{table}[t]\n\\centering\n\\caption{\(Self.latexEscaped(captionLine))}\n"
        text += "\\begin{tabular}{l" + String(repeating: "c", count: columnLabels.count) + "}\n\\toprule\n"
        text += ([rowKeys.isEmpty ? "runs" : rowKeys.joined(separator: ", ")] + columnTitles).map(Self.latexEscaped)
            .joined(separator: " & ") + " \\\\\n\\midrule\n"
        for r in rowLabels.indices {
            let cellsText = columnLabels.indices.map { c -> String in
                guard let p = parts(r, c) else { return "--" }
                let value = p.value.replacingOccurrences(of: " ± ", with: " \\pm ").replacingOccurrences(of: "−", with: "-")
                var cell = best[c] == r ? "$\\mathbf{\(value)}$" : "$\(value)$"
                if !p.count.isEmpty { cell += " {\\small (\(p.count))}" }
                if !p.delta.isEmpty { cell += " {\\small ($\(p.delta.replacingOccurrences(of: "−", with: "-"))$)}" }
                return cell
            }
            text += ([Self.latexEscaped(rowKeys.isEmpty ? "all" : rowLabels[r].joined(separator: ", "))] + cellsText)
                .joined(separator: " & ") + " \\\\\n"
        }
        return text + "\\bottomrule\n\\end{tabular}\n\\end{table}\n"
    }

    /// Text with LaTeX's special characters escaped.
    static func latexEscaped(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "\\": out += "\\textbackslash{}"
            case "&", "%", "$", "#", "_", "{", "}": out += "\\" + String(ch)
            case "~": out += "\\textasciitilde{}"
            case "^": out += "\\textasciicircum{}"
            case "±": out += "$\\pm$"
            case "−": out += "-"
            default: out.append(ch)
            }
        }
        return out
    }

    private func finite(_ x: Double) -> Double? { x.isFinite ? x : nil }
}

/// A problem with `runexp report`'s arguments or folder, said in one line.
public struct ReportError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
