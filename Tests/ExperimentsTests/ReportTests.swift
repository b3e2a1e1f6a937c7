import Foundation
import XCTest
@testable import Experiments

/// `runexp report`'s ablation table (Markdown, CSV, LaTeX) and report.html, from run entries
/// whose scores are known; the command on a real sweep: RunnerTests.testGridSweepWritesFourRunsAndASummary.
final class ReportTests: XCTestCase {
    func scores(_ dice: Double, pixel: Bool = false) -> SegmentationScores {
        SegmentationScores(dice: dice, recipeDice: dice, globalAccuracy: 0.95, classAccuracy: [0.97, 0.8],
                           classIoU: [0.94, dice - 0.1], meanIoU: (0.94 + dice - 0.1) / 2)
    }

    /// A run with two epochs, the second its best (the Dice given).
    func run(_ id: String, _ dice: Double, _ status: RunStatus = .done) -> LedgerEntry {
        let records = [EpochRecord(epoch: 0, trainLoss: 1, lr: 0.01, scores: scores(dice - 0.05), imagesPerSecond: 1, seconds: 1),
                       EpochRecord(epoch: 1, trainLoss: 0.5, lr: 0.001, scores: scores(dice), imagesPerSecond: 1, seconds: 1)]
        return LedgerEntry(id: id, state: RunState(status: status, detail: "", wallSeconds: 10), records: records, config: nil)
    }

    /// base_c 16 and 8 (written in that order) × bilinear/transposed × seeds 0-2; one run of
    /// (8, transposed) is still running.
    var runs: [LedgerEntry] {
        let dice: [String: [Double]] = ["16,bilinear": [0.80, 0.81, 0.82], "16,transposed": [0.79, 0.80, 0.78],
                                        "8,bilinear": [0.70, 0.72, 0.71], "8,transposed": [0.75, 0.74, 0.50]]
        return ["16", "8"].flatMap { c in ["bilinear", "transposed"].flatMap { u in (0..<3).map { s in
            run("base_c=\(c),upsample=\(u),seed=\(s)", dice["\(c),\(u)"]![s], c == "8" && u == "transposed" && s == 2 ? .running : .done)
        } } }
    }

    func testPivotTableMeansAndBest() throws {
        let table = try AblationTable.make(runs, metric: .dice, rows: nil, column: nil, baseline: nil)
        XCTAssertEqual(table.rowKeys, ["base_c"])
        XCTAssertEqual(table.columnKey, "upsample")
        XCTAssertEqual(table.rowLabels, [["8"], ["16"]], "numbers in numeric order")
        XCTAssertEqual(table.columnLabels, ["bilinear", "transposed"])
        XCTAssertEqual(table.cells[1][0].mean, 0.81, accuracy: 1e-12)
        XCTAssertEqual(table.cells[1][0].std, 0.01, accuracy: 1e-12)
        XCTAssertEqual(table.cells[0][1].n, 2, "the running run is left out")
        XCTAssertEqual(table.cells[0][1].mean, 0.745, accuracy: 1e-12)
        XCTAssertEqual(table.bestRows, [1, 1])
        XCTAssertEqual(table.markdown, """
            dice at each run's best epoch (by dice), mean ± sample std over the done runs of each cell (seeds, folds); best of each column in bold.

            | base_c |       upsample=bilinear |     upsample=transposed |
            | ------ | ----------------------: | ----------------------: |
            | 8      |     0.710 ± 0.010 (n=3) |     0.745 ± 0.007 (n=2) |
            | 16     | **0.810 ± 0.010** (n=3) | **0.790 ± 0.010** (n=3) |

            """)
    }

    func testBaselineDeltasCSVAndLaTeX() throws {
        let table = try AblationTable.make(runs, metric: .dice, rows: ["model.base_c"], column: "upsample",
                                           baseline: (key: "upsample", value: "bilinear"))
        let lines = table.markdown.split(separator: "\n")
        XCTAssertTrue(lines[0].hasSuffix("(±x): change from upsample=bilinear; best of each column in bold."), String(lines[0]))
        XCTAssertTrue(lines[3].hasSuffix(" 0.745 ± 0.007 (n=2) (+0.035) |"), String(lines[3]))
        XCTAssertTrue(lines[4].hasSuffix(" **0.790 ± 0.010** (n=3) (−0.020) |"), String(lines[4]))
        XCTAssertEqual(table.csv.components(separatedBy: "\r\n").prefix(3), [
            "base_c,upsample,metric,n,mean,std,ci95,delta",
            "8,bilinear,dice,3,0.710000,0.010000,0.024841,",
            "8,transposed,dice,2,0.745000,0.007071,0.063531,0.035000",
        ])
        let latex = table.latex
        XCTAssertTrue(latex.contains("\\begin{tabular}{lcc}\n\\toprule\nbase\\_c & upsample=bilinear & upsample=transposed \\\\\n\\midrule\n"), latex)
        XCTAssertTrue(latex.contains("16 & $\\mathbf{0.810 \\pm 0.010}$ {\\small (n=3)} & $\\mathbf{0.790 \\pm 0.010}$ {\\small (n=3)} {\\small ($-0.020$)} \\\\"), latex)
        XCTAssertTrue(latex.hasSuffix("\\bottomrule\n\\end{tabular}\n\\end{table}\n"))
        XCTAssertEqual(AblationTable.latexEscaped("a_b & 5% #1 {x} ~ ^ \\"), "a\\_b \\& 5\\% \\#1 \\{x\\} \\textasciitilde{} \\textasciicircum{} \\textbackslash{}")
    }

    /// A key that is in every id with one value (a zipped constant) is no axis.
    func testConstantKeysAreNoAxis() throws {
        let withConstant = runs.map { r -> LedgerEntry in
            var r = r
            r.id = "ce=1.0," + r.id
            return r
        }
        let table = try AblationTable.make(withConstant, metric: .dice, rows: nil, column: nil, baseline: nil)
        XCTAssertEqual(table.rowKeys, ["base_c"])
        XCTAssertEqual(table.columnKey, "upsample")
    }

    func testOneKeyMakesOneColumnAndPercentMetrics() throws {
        let one = runs.filter { $0.id.hasPrefix("base_c=16") }.map { r -> LedgerEntry in
            var r = r
            r.id = r.id.replacingOccurrences(of: "base_c=16,", with: "")
            return r
        }
        let table = try AblationTable.make(one, metric: .miou, rows: nil, column: nil, baseline: nil)
        XCTAssertEqual(table.rowKeys, ["upsample"])
        XCTAssertNil(table.columnKey)
        XCTAssertEqual(table.columnTitles, ["miou"])
        XCTAssertTrue(table.markdown.contains("; n = 3 each; in percent;"), table.markdown)
        XCTAssertTrue(table.markdown.contains("| bilinear   | **82.5 ± 0.5** |"), table.markdown)
    }

    func testErrorsSayWhatToDo() {
        func message(rows: [String]? = nil, column: String? = nil, metric: EvalMetric = .dice,
                     baseline: (key: String, value: String)? = nil, _ entries: [LedgerEntry]? = nil) -> String {
            do {
                _ = try AblationTable.make(entries ?? runs, metric: metric, rows: rows, column: column, baseline: baseline)
                return ""
            } catch { return "\(error)" }
        }
        XCTAssertEqual(message(rows: ["upsampl"]), "--rows upsampl: the runs vary base_c, upsample; did you mean 'upsample'?")
        XCTAssertEqual(message(rows: ["upsample"], column: "upsample"), "--rows and --cols both name 'upsample'")
        XCTAssertEqual(message(column: "base_c", baseline: ("upsample", "nearest")),
                       "--baseline upsample=nearest: no run has upsample=nearest; its values are bilinear, transposed")
        XCTAssertEqual(message(rows: [], column: "upsample"),
                       "the runs also vary base_c, which neither --rows nor --cols names; add them to --rows (--rows base_c)")
        XCTAssertEqual(try AblationTable.make(runs, metric: .dice, rows: ["upsample"], column: nil, baseline: nil).columnKey,
                       "base_c", "the key --rows leaves goes across")
        XCTAssertEqual(message(metric: EvalMetric(.f1)), "f1 is one of the paper metrics, which no run computed (eval.metrics: true)")
        XCTAssertEqual(message(runs.map { r in var r = r; r.state.status = .running; return r }),
                       "no run is done yet (runexp status lists where each stands)")
        XCTAssertThrowsError(try EvalMetric.named("f1.vesel", classNames: ["background", "vessel"])) { error in
            XCTAssertEqual("\(error)", "'f1.vesel': no class is named 'vesel'; the classes are background, vessel; did you mean 'vessel'?")
        }
        XCTAssertEqual(try EvalMetric.named("f1.vessel", classNames: ["background", "vessel"]).classIndex, 1)
    }

    /// The page stands alone: no script, stylesheet or image from elsewhere; every SVG id is
    /// unique on the page; the table, the group curves, a section per run and links to the folders.
    func testHTMLReportIsSelfContained() throws {
        var entries = runs
        entries[0].state.detail = "note <with> \"markup\""
        let table = try AblationTable.make(entries, metric: .dice, rows: nil, column: nil, baseline: nil)
        let html = try HTMLReport.render(title: "ablation & co", runs: entries, table: table, tableProblem: nil) { "./\($0.id)/" }
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
        XCTAssertTrue(html.contains("<title>ablation &amp; co — runexp report</title>"))
        for forbidden in ["<script", "<link", "src=\"http", "href=\"http", "@import", "url(http"] {
            XCTAssertFalse(html.contains(forbidden), forbidden)
        }
        XCTAssertTrue(html.contains("note &lt;with&gt; &quot;markup&quot;"))
        XCTAssertTrue(html.contains("<td class=\"num\"><b>0.810 ± 0.010</b> <span class=\"muted\">(n=3)</span></td>"), html)
        XCTAssertEqual(html.components(separatedBy: "<svg").count - 1, 1 + 2 * entries.count,
                       "the groups' figure, and each run's progress chart and its every-score panel")
        XCTAssertEqual(html.components(separatedBy: "<details>").count - 1, entries.count)
        XCTAssertTrue(html.contains("<a href=\"./base_c=16,upsample=bilinear,seed=0/\">base_c=16,upsample=bilinear,seed=0</a>"))
        func captures(_ pattern: String) throws -> [String] {
            try html.matches(of: Regex(pattern)).compactMap { $0.output[1].substring.map(String.init) }
        }
        let ids = try captures(#"id="([^"]+)""#)
        XCTAssertGreaterThan(ids.count, 50)
        XCTAssertEqual(Set(ids).count, ids.count, "ids repeat across the inlined charts")
        // Every reference points at an id of the page.
        let refs = Set(try captures(##"(?:href="#|url\(#)([^")]+)"##))
        XCTAssertTrue(refs.isSubset(of: Set(ids)), "\(refs.subtracting(ids).prefix(5))")
    }

    /// The group curves: the mean of each epoch over a group's runs and a band of ± one std.
    func testGroupCurvesMeanAndBand() throws {
        let groups = ReplicateGroup.groups(Array(runs.prefix(3))) { RunSpec.pieces(ofID: $0.id) }
        let panels = GroupCurves.panels(groups)
        XCTAssertEqual(panels.map(\.title), ["Training loss", "Learning rate", "Validation Dice", "Validation mean IoU",
                                             "Validation pixel accuracy"])
        let dice = panels[2].series[0]
        XCTAssertEqual(dice.label, "base_c=16,upsample=bilinear (n=3)")
        XCTAssertEqual(dice.points.map(\.x), [0, 1])
        XCTAssertEqual(dice.points[1].y, 0.81, accuracy: 1e-12)
        XCTAssertEqual(dice.band[1].lo, 0.80, accuracy: 1e-12)
        XCTAssertEqual(dice.band[1].hi, 0.82, accuracy: 1e-12)
        let scores = GroupCurves.allScoresPanel(runs[0])
        XCTAssertEqual(scores.series.map(\.label), ["Dice", "mean IoU", "pixel accuracy"])
        XCTAssertEqual(scores.series[0].points.map(\.y), [0.80 - 0.05, 0.80])
        XCTAssertEqual(scores.series[0].band, [], "one run has no spread")
    }

    func testConfigDifferences() throws {
        let a = try loadConfig("model: {base_c: 16}\n").runs[0].config
        let b = try loadConfig("model: {base_c: 32}\nseed: 4\n").runs[0].config
        let d = ConfigDifferences([a, b, nil])
        XCTAssertEqual(d.paths, ["seed", "model.base_c"])
        XCTAssertEqual(d.values, [["0", "16"], ["4", "32"], ["", ""]])
    }
}
