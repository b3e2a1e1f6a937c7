import ArgumentParser
import Experiments
import Foundation
import Nets

/// `runexp report RESULTS/EXPERIMENT`: the ablation table of an experiment's runs.
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tabulate an experiment's runs: mean ± std over seeds (and folds) per setting.",
        discussion: """
            Prints a Markdown pivot table of an experiment's runs: one swept key
            down the rows, another across, each cell the metric at every run's
            best epoch as the mean ± sample std over the done runs that differ
            only in seed or fold; the best of each column in bold; with
            --baseline the change from that setting. Writes report.md,
            report.csv (one line per cell), report.tex (booktabs) and
            report.html (the table, each group's curves with ± std bands,
            every run's state, config differences, curves and previews; one
            file that opens from disk) beside the runs.
            Examples:
              runexp report results/ablation_upsample
              runexp report results/drive_unet_sweep --rows base_c --metric miou
              runexp report results/ablation_width --baseline base_c=32
            """)

    @Argument(help: "The experiment's results folder (results/<experiment>).") var folder: String
    @Option(help: ArgumentHelp("Swept key(s) down the rows, comma-separated (default: all but --cols).", valueName: "key"))
    var rows: String?
    @Option(help: ArgumentHelp("Swept key across the columns (default: the last swept key, when there are two or more).",
                               valueName: "key"))
    var cols: String?
    @Option(help: "The metric (dice, miou, accuracy, iou.1, precision, recall, specificity, f1, mcc, auc_roc, auc_pr).")
    var metric = "dice"
    @Option(help: ArgumentHelp("The setting the others are compared with, e.g. upsample=bilinear.", valueName: "key=value"))
    var baseline: String?
    @Option(help: "Where to write the report files (default: the results folder).") var out: String?

    func run() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("\(folder): no such results folder")
        }
        let runs = RunLedger.entries(inFolder: folder)
        guard !runs.isEmpty else { throw ValidationError("\(folder): no run folder (with a config.yaml) in it") }
        let chosen: EvalMetric
        do {
            chosen = try EvalMetric.named(metric, classNames: runs.compactMap { $0.config?.data.effectiveClassNames }.first)
        } catch let error as ReportError {
            throw ValidationError("--metric \(error.description)")
        }
        var base: (key: String, value: String)?
        if let baseline {
            guard let eq = baseline.firstIndex(of: "="), eq != baseline.startIndex else {
                throw ValidationError("--baseline takes key=value, e.g. --baseline upsample=bilinear (got '\(baseline)')")
            }
            base = (String(baseline[..<eq]), String(baseline[baseline.index(after: eq)...]))
        }
        let title = URL(fileURLWithPath: folder).standardized.lastPathComponent
        let outDir = out ?? folder
        try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true)
        // Until a run is done there is no table, but the page still shows where each run stands.
        var table: AblationTable?
        var problem: String?
        if runs.contains(where: { $0.state.status == .done }) {
            do {
                table = try AblationTable.make(runs, metric: chosen, rows: rows.map { $0.split(separator: ",").map(String.init) },
                                               column: cols, baseline: base)
            } catch let error as ReportError {
                throw ValidationError(error.description)
            }
        } else {
            problem = "No run is done yet, so there is no table: \(title): \(RunLedger.counts(runs))."
        }
        let sameFolder = URL(fileURLWithPath: outDir).standardized.path == URL(fileURLWithPath: folder).standardized.path
        let html = try HTMLReport.render(title: title, runs: runs, table: table, tableProblem: problem) { run in
            sameFolder ? URL(fileURLWithPath: run.directory).lastPathComponent + "/"
                : URL(fileURLWithPath: run.directory).standardized.absoluteString
        }
        if let table {
            print(table.markdown(title: title), terminator: "")
            try table.write(title: title, to: outDir)
        } else {
            print(problem ?? "")
        }
        try AtomicFile.write(html, to: outDir + "/report.html")
        print("\nwritten: \(outDir)/" + (table == nil ? "report.html" : "report.md, report.csv, report.tex, report.html"))
    }
}
