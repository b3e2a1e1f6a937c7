/// Runs that differ only in their replicate keys (`seed`, and `fold` for cross-validation):
/// the unit whose mean ± std the summary and `runexp report` show.
public struct ReplicateGroup<Member> {
    /// The id pieces the members share, replicate keys left out (`[("upsample", "bilinear")]`).
    public var pieces: [(key: String, value: String)]
    public var members: [Member]

    /// The group's name: its pieces as a run id would write them, or `all runs` when only
    /// replicate keys vary.
    public var label: String {
        pieces.isEmpty ? "all runs" : pieces.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    /// Id keys that name a replicate rather than a treatment. `data.fold` is the key a fold gets
    /// when another swept path also ends in `fold`.
    public static var replicateKeys: Set<String> { ["seed", "fold", "data.fold"] }

    /// `pieces` without the replicate keys.
    public static func treatment(_ pieces: [(key: String, value: String)]) -> [(key: String, value: String)] {
        pieces.filter { !replicateKeys.contains($0.key) }
    }

    /// Whether some member's pieces name a replicate, i.e. whether grouping says anything.
    public static func hasReplicates(_ pieces: [[(key: String, value: String)]]) -> Bool {
        pieces.contains { $0.contains { replicateKeys.contains($0.key) } }
    }

    /// `members` grouped by their treatment pieces, groups in order of first appearance.
    public static func groups(_ members: [Member], pieces: (Member) -> [(key: String, value: String)]) -> [ReplicateGroup] {
        var groups: [ReplicateGroup] = []
        var index: [String: Int] = [:]
        for member in members {
            let treatment = treatment(pieces(member))
            // Pieces keep sweep order, so equal treatments have equal keys in equal order.
            let key = treatment.map { "\($0.key)=\($0.value)" }.joined(separator: "\u{1}")
            if let i = index[key] {
                groups[i].members.append(member)
            } else {
                index[key] = groups.count
                groups.append(ReplicateGroup(pieces: treatment, members: [member]))
            }
        }
        return groups
    }
}
