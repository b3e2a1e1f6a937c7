extension SweepSpec {
    /// The cross-validation fold, the one path a sweep may give as `all`.
    static let foldPath = "data.fold"

    /// Gives the axis of `sweep: {data.fold: all}` the values 0, 1, ..., K-1 for the
    /// `data.folds` K of `config` (the merged file without its sweep). Without a fold count
    /// there is nothing to sweep: an error at `all`.
    mutating func expandAllFolds(in config: YAMLNode, _ diagnostics: Diagnostics) {
        guard let location = allFolds, let axis = axes.firstIndex(where: { $0.paths == [Self.foldPath] }) else { return }
        allFolds = nil
        func fail(_ message: String) {
            diagnostics.error("sweep: data.fold: all " + message, at: location)
            axes.remove(at: axis)
        }
        if keyLocations["data.folds"] != nil {
            return fail("needs one data.folds for every run, but data.folds is swept; list the folds instead")
        }
        guard let folds = config["data"]?["folds"], !folds.isNull else {
            return fail("sweeps the folds of a cross-validation, but data.folds (how many) is not set; add it, "
                        + "e.g. data: {folds: 5}")
        }
        // A count that is no integer >= 2 is the config's error, at data.folds; one run reports it.
        guard case .int(let k) = folds.scalar?.value, (2...SweepSpec.maxRuns).contains(k) else {
            axes[axis].values = [[.plain("0", at: location)]]
            return
        }
        axes[axis].values = [(0..<k).map { .plain("\($0)", at: location) }]
    }
}
