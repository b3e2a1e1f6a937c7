import Foundation
import Nets

/// `report.html`: one self-contained page about an experiment's runs that opens from disk with no
/// network (charts inline as SVG, preview images as data URIs): the ablation table, the training
/// curves of each replicate group overlaid with ± std bands, every run's state with the config
/// values that tell it from the others and a link to its folder, then each run's own curves (its
/// progress chart and every validation score) and first validation previews.
public enum HTMLReport {
    /// Previews shown per run (the run folder keeps them all).
    static let previewsPerRun = 2

    /// The page. `table` is nil when none could be made, `tableProblem` then says why;
    /// `runLink` gives each run folder's link from where the page will be.
    public static func render(title: String, runs: [LedgerEntry], table: AblationTable?, tableProblem: String?,
                              runLink: (LedgerEntry) -> String) throws -> String {
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(escape(title)) — runexp report</title>
            <style>
            body { font: 14px/1.45 "DejaVu Sans", system-ui, sans-serif; margin: 24px auto; max-width: 1320px; padding: 0 16px; color: #222; }
            table { border-collapse: collapse; margin: 8px 0 16px; }
            th, td { border-bottom: 1px solid #ddd; padding: 3px 10px; text-align: left; vertical-align: top; }
            th { border-bottom: 2px solid #888; }
            td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
            .caption, .muted { color: #666; }
            .done { color: #1a7f37; } .failed { color: #cf222e; } .running { color: #9a6700; } .interrupted { color: #bc4c00; }
            details { margin: 6px 0; } summary { cursor: pointer; font-weight: 600; }
            img.preview { max-width: 100%; border: 1px solid #ddd; margin: 4px 0; }
            svg { max-width: 100%; height: auto; }
            </style></head><body>
            <h1>\(escape(title))</h1>
            <p class="muted">runexp \(escape(runexpVersion)) report, \(escape(ISO8601DateFormatter().string(from: Date()))): \
            \(escape(RunLedger.counts(runs)))</p>

            """
        html += "<h2>Ablation table</h2>\n"
        if let table { html += tableHTML(table) } else { html += "<p class=\"muted\">\(escape(tableProblem ?? ""))</p>\n" }

        let groups = ReplicateGroup.groups(runs) { RunSpec.pieces(ofID: $0.id) }
        html += "<h2>Training curves by group</h2>\n<p class=\"caption\">Each line is a group's mean per epoch over "
            + "its runs (seeds, folds); the band is ± one sample std where two or more runs have a value.</p>\n"
        html += try ChartFigure(panels: GroupCurves.panels(groups), columns: 2, panelWidth: 640, panelHeight: 280)
            .svg(idPrefix: "groups-")

        html += "<h2>Runs</h2>\n" + runsTable(runs, runLink: runLink)
        html += "<h2>Each run</h2>\n"
        for (i, run) in runs.enumerated() {
            html += "<details><summary>\(escape(run.id)) <span class=\"\(run.state.status.rawValue)\">"
                + "\(run.state.status.rawValue)</span></summary>\n"
            html += "<p><a href=\"\(escape(runLink(run)))\">run folder</a></p>\n"
            if !run.records.isEmpty {
                html += try ProgressChart.figure(run.records, metric: run.metric).svg(idPrefix: "run\(i)-")
                html += try ChartFigure(panels: [GroupCurves.allScoresPanel(run)], columns: 1, panelWidth: 720, panelHeight: 280)
                    .svg(idPrefix: "scores\(i)-")
            }
            for image in previews(run.directory) {
                html += "<br><img class=\"preview\" alt=\"\(escape(image.name))\" src=\"data:image/png;base64,\(image.base64)\">\n"
            }
            html += "</details>\n"
        }
        return html + "</body></html>\n"
    }

    static func tableHTML(_ table: AblationTable) -> String {
        let rowHeader = table.rowKeys.isEmpty ? "runs" : table.rowKeys.joined(separator: ", ")
        var html = "<p class=\"caption\">\(escape(table.captionLine))</p>\n<table>\n<tr><th>\(escape(rowHeader))</th>"
            + table.columnTitles.map { "<th>\(escape($0))</th>" }.joined() + "</tr>\n"
        let best = table.bestRows
        for r in table.rowLabels.indices {
            html += "<tr><td>\(escape(table.rowKeys.isEmpty ? "all" : table.rowLabels[r].joined(separator: ", ")))</td>"
            for c in table.columnLabels.indices {
                guard let p = table.parts(r, c) else { html += "<td class=\"num\">–</td>"; continue }
                let value = best[c] == r ? "<b>\(escape(p.value))</b>" : escape(p.value)
                let extra = [p.count, p.delta].filter { !$0.isEmpty }.map { " <span class=\"muted\">(\(escape($0)))</span>" }
                html += "<td class=\"num\">\(value)\(extra.joined())</td>"
            }
            html += "</tr>\n"
        }
        return html + "</table>\n"
    }

    /// Every run with its state, best score, wall time, and the config values that differ between runs.
    static func runsTable(_ runs: [LedgerEntry], runLink: (LedgerEntry) -> String) -> String {
        let differences = ConfigDifferences(runs.map { $0.config })
        var html = "<p class=\"caption\">The config values that differ between runs (from each run's config.yaml); "
            + "every other setting is the same in all.</p>\n<table>\n<tr><th>run</th><th>status</th><th>best</th>"
            + "<th>wall time</th>" + differences.paths.map { "<th>\(escape($0))</th>" }.joined() + "<th>detail</th></tr>\n"
        for (i, run) in runs.enumerated() {
            html += "<tr><td><a href=\"\(escape(runLink(run)))\">\(escape(run.id))</a></td>"
                + "<td class=\"\(run.state.status.rawValue)\">\(run.state.status.rawValue)</td>"
                + "<td class=\"num\">\(escape(run.bestText ?? ""))</td>"
                + "<td class=\"num\">\(escape(run.state.wallSeconds.map(NumberFormat.duration) ?? ""))</td>"
                + differences.values[i].map { "<td>\(escape($0))</td>" }.joined()
                + "<td>\(escape(run.state.detail))</td></tr>\n"
        }
        return html + "</table>\n"
    }

    /// The first previews of a run, base64-encoded.
    static func previews(_ directory: String) -> [(name: String, base64: String)] {
        let folder = directory + "/" + ValidationPreviews.folder
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".png") }.sorted()
        return names.prefix(previewsPerRun).compactMap { name in
            FileManager.default.contents(atPath: folder + "/" + name).map { (name, $0.base64EncodedString()) }
        }
    }

    /// Text safe inside HTML elements and quoted attributes.
    static func escape(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(ch)
            }
        }
        return out
    }
}
