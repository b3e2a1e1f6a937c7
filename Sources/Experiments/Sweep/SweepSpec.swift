/// The `sweep:` section, parsed and checked against the config schema.
///
/// ```yaml
/// sweep:
///   model.base_c: [32, 64]             # grid axis: every value ...
///   model.upsample: [bilinear, transposed]   # ... times every value (last key fastest)
///   zip:                               # groups whose lists vary together, one axis each
///     - {optimizer.lr: [0.01, 0.001], schedule.epochs: [100, 200]}
///   seeds: 3                           # replicates: seed 0, 1, 2 (or a list, [0, 1, 2])
///   random:                            # n draws, crossed with the grid (draws vary fastest)
///     n: 20
///     seed: 1                          # draws depend on this seed only (default 0)
///     params:
///       optimizer.weight_decay: {loguniform: [1.0e-5, 1.0e-3]}
///       optimizer.momentum: {uniform: [0.8, 0.99]}
///       schedule.batch_size: {int: [2, 8]}           # both ends included
///       data.hflip: {choice: [0.0, 0.5]}
/// ```
/// Axes (grid keys and zip groups) take the order they are written in; a path is swept
/// at most once. Uniform and log-uniform draws are rounded to 4 significant digits so
/// run ids stay readable.
struct SweepSpec {
    /// One axis of the grid: a single path, or a zip group of paths with equally many values.
    struct Axis {
        var paths: [String]
        /// `values[p][i]`: the i-th value of `paths[p]`.
        var values: [[YAMLNode]]
        var count: Int { values.first?.count ?? 0 }
    }

    enum Distribution {
        case choice([YAMLNode])
        case uniform(Double, Double)
        case loguniform(Double, Double)
        case int(Int, Int)
    }

    struct RandomParam {
        var path: String
        var distribution: Distribution
        /// Where the distribution is written; sampled values are reported there.
        var location: SourceLocation
    }

    var axes: [Axis] = []
    var samples = 1
    var seed: UInt64 = 0
    var params: [RandomParam] = []
    /// Where each swept path is written (the key), for errors about the path itself.
    var keyLocations: [String: SourceLocation] = [:]
    /// Where `data.fold: all` is written, until `expandAllFolds` gives its axis the folds.
    var allFolds: SourceLocation?

    /// Every swept path, in run-id order.
    var paths: [String] { axes.flatMap(\.paths) + params.map(\.path) }

    /// Paths that cannot be swept: the experiment's folder and the file structure.
    static let fixedKeys: Set<String> = ["name", "base", "sweep"]

    init() {}

    /// Parses `node` (absent or null: no sweep), recording problems in `diagnostics`.
    init(_ node: YAMLNode?, diagnostics: Diagnostics) {
        guard let node, !node.isNull else { return }
        guard let entries = node.mapping else {
            diagnostics.error("sweep must be a mapping of dotted paths to lists of values, got \(node.summary)", at: node.location)
            return
        }
        for e in entries {
            switch e.key {
            case "zip": readZip(e.value, diagnostics)
            case "random": readRandom(e.value, diagnostics)
            case "seeds": readSeeds(e, diagnostics)
            default:
                guard claim(e.key, at: e.keyLocation, diagnostics) else { continue }
                if e.key == Self.foldPath && e.value.scalar?.text == "all" {
                    // Every fold: the axis takes its place now and its values once data.folds is known.
                    allFolds = e.value.location
                    axes.append(Axis(paths: [e.key], values: [[]]))
                    continue
                }
                guard let values = valueList(e.key, e.value, diagnostics) else { continue }
                axes.append(Axis(paths: [e.key], values: [values]))
            }
        }
    }

    /// Checks a swept path against the schema and against paths already swept.
    private mutating func claim(_ path: String, at location: SourceLocation, _ diagnostics: Diagnostics) -> Bool {
        let parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if let first = parts.first, Self.fixedKeys.contains(first) {
            diagnostics.error("sweep: '\(path)' cannot be swept", at: location)
            return false
        }
        if case .failure(let e) = ConfigSchema.root.lookup(parts) {
            diagnostics.error("sweep: \(e.message)", at: location)
            return false
        }
        for (other, otherLocation) in keyLocations where other == path || other.hasPrefix(path + ".") || path.hasPrefix(other + ".") {
            let how = other == path ? "is swept twice" : "overlaps '\(other)'"
            diagnostics.error("sweep: '\(path)' \(how) (see line \(otherLocation.line))", at: location)
            return false
        }
        keyLocations[path] = location
        return true
    }

    private func valueList(_ path: String, _ node: YAMLNode, _ diagnostics: Diagnostics) -> [YAMLNode]? {
        guard let items = node.sequence, !items.isEmpty else {
            diagnostics.error("sweep: '\(path)' needs a non-empty list of values, as in [\(node.flowText), ...]; got \(node.summary)", at: node.location)
            return nil
        }
        return items
    }

    private mutating func readZip(_ node: YAMLNode, _ diagnostics: Diagnostics) {
        for group in node.sequence ?? [node] {
            guard let entries = group.mapping, !entries.isEmpty else {
                diagnostics.error("sweep.zip takes a list of groups like {path: [values], path2: [values]}, got \(group.summary)", at: group.location)
                continue
            }
            var axis = Axis(paths: [], values: [])
            for e in entries {
                guard claim(e.key, at: e.keyLocation, diagnostics), let values = valueList(e.key, e.value, diagnostics) else { continue }
                if let first = axis.paths.first, values.count != axis.count {
                    diagnostics.error("sweep.zip: '\(e.key)' has \(values.count) values but '\(first)' has \(axis.count); a zip group's lists vary together and need equal lengths", at: e.value.location)
                    continue
                }
                axis.paths.append(e.key)
                axis.values.append(values)
            }
            if !axis.paths.isEmpty { axes.append(axis) }
        }
    }

    /// `seeds: N` sweeps `seed` over 0..<N, `seeds: [a, b]` over the list: the replicates the
    /// summary averages over. It is the `seed` axis, in the place it is written.
    private mutating func readSeeds(_ entry: YAMLEntry, _ diagnostics: Diagnostics) {
        guard claim("seed", at: entry.keyLocation, diagnostics) else { return }
        let node = entry.value
        if case .int(let n) = node.scalar?.value {
            guard n >= 1, n <= 1000 else {
                diagnostics.error("sweep.seeds must be a count from 1 to 1000 or a list of seeds, got \(node.summary)", at: node.location)
                return
            }
            axes.append(Axis(paths: ["seed"], values: [(0..<n).map { YAMLNode.plain("\($0)", at: node.location) }]))
            return
        }
        guard let values = node.sequence, !values.isEmpty else {
            diagnostics.error("sweep.seeds must be a count (3: seeds 0, 1, 2) or a non-empty list of seeds, got \(node.summary)",
                              at: node.location)
            return
        }
        axes.append(Axis(paths: ["seed"], values: [values]))
    }

    private mutating func readRandom(_ node: YAMLNode, _ diagnostics: Diagnostics) {
        guard let entries = node.mapping else {
            diagnostics.error("sweep.random takes {n: COUNT, seed: SEED, params: {path: {uniform: [lo, hi]}, ...}}, got \(node.summary)", at: node.location)
            return
        }
        for e in entries where !["n", "seed", "params"].contains(e.key) {
            diagnostics.error(unknownKeyMessage(e.key, in: "sweep.random", candidates: ["n", "seed", "params"]), at: e.keyLocation)
        }
        guard let nNode = node["n"], case .int(let n) = nNode.scalar?.value, n >= 1 else {
            diagnostics.error("sweep.random.n (the number of draws) must be an integer >= 1", at: node["n"]?.location ?? node.location)
            return
        }
        samples = n
        if let s = node["seed"] {
            guard case .int(let value) = s.scalar?.value, value >= 0 else {
                diagnostics.error("sweep.random.seed must be an integer >= 0, got \(s.summary)", at: s.location)
                return
            }
            seed = UInt64(value)
        }
        guard let params = node["params"]?.mapping, !params.isEmpty else {
            diagnostics.error("sweep.random.params must map dotted paths to {choice|uniform|loguniform|int: [...]}", at: node["params"]?.location ?? node.location)
            return
        }
        for p in params where claim(p.key, at: p.keyLocation, diagnostics) {
            if let d = Self.distribution(p.key, p.value, diagnostics) {
                self.params.append(RandomParam(path: p.key, distribution: d, location: p.value.location))
            }
        }
    }

    private static func distribution(_ path: String, _ node: YAMLNode, _ diagnostics: Diagnostics) -> Distribution? {
        let kinds = ["choice", "uniform", "loguniform", "int"]
        guard let entries = node.mapping, entries.count == 1, let e = entries.first, kinds.contains(e.key) else {
            let hint = node.mapping?.first.map { didYouMean($0.key, in: kinds) } ?? ""
            diagnostics.error("sweep.random.params.\(path) must be one of {choice: [...]}, {uniform: [lo, hi]}, {loguniform: [lo, hi]}, {int: [lo, hi]}\(hint)", at: node.location)
            return nil
        }
        let items = e.value.sequence ?? []
        if e.key == "choice" {
            guard !items.isEmpty else {
                diagnostics.error("sweep.random.params.\(path).choice needs a non-empty list of values", at: e.value.location)
                return nil
            }
            return .choice(items)
        }
        if e.key == "int" {
            let ints: [Int] = items.compactMap { if case .int(let i) = $0.scalar?.value { return i } else { return nil } }
            // The span must fit an Int so drawing lo + (r mod span) cannot overflow.
            guard ints.count == 2, items.count == 2, ints[0] <= ints[1], !ints[1].subtractingReportingOverflow(ints[0]).overflow else {
                diagnostics.error("sweep.random.params.\(path).int must be [lo, hi], two integers with lo <= hi, got \(e.value.flowText)", at: e.value.location)
                return nil
            }
            return .int(ints[0], ints[1])
        }
        let numbers: [Double] = items.compactMap {
            switch $0.scalar?.value {
            case .int(let i): return Double(i)
            case .double(let d) where d.isFinite: return d
            default: return nil
            }
        }
        guard numbers.count == 2, items.count == 2, numbers[0] <= numbers[1], e.key != "loguniform" || numbers[0] > 0 else {
            let what = e.key == "loguniform" ? "two numbers > 0" : "two numbers"
            diagnostics.error("sweep.random.params.\(path).\(e.key) must be [lo, hi], \(what) with lo <= hi, got \(e.value.flowText)", at: e.value.location)
            return nil
        }
        return e.key == "uniform" ? .uniform(numbers[0], numbers[1]) : .loguniform(numbers[0], numbers[1])
    }
}
