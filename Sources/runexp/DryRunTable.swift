import Experiments

/// The `--dry-run` listing: one row per run with its swept values, id and folder.
enum DryRunTable {
    static func render(experiment: Experiment, runs: [RunSpec], directory: String) -> String {
        let columns = ["#", "run id", "hash"] + experiment.sweptPaths
        let rows = runs.map { run in
            ["\(run.index)", run.id, run.hash] + experiment.sweptPaths.map { path in
                run.swept.first { $0.path == path }?.text ?? ""
            }
        }
        let widths = columns.indices.map { c in ([columns[c]] + rows.map { $0[c] }).map(\.count).max()! }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        var out = [line(columns), line(widths.map { String(repeating: "-", count: $0) })] + rows.map(line)
        out.append("\(runs.count) of \(experiment.runs.count) runs of '\(experiment.name)' → \(directory)/")
        return out.joined(separator: "\n")
    }
}
