// "Did you mean" hints for misspelt keys, enum values and paths.

/// The closest of `candidates` to `word`: a candidate that abbreviates the word or that the
/// word abbreviates (`base_channels` → `base_c`, `lr` → `lr_min`... whichever shares the
/// longest start), else the nearest by edit distance if it is close enough to be a
/// plausible typo (at most a third of the word's length, and at least 1 edit allowed).
func closestMatch(to word: String, in candidates: [String]) -> String? {
    let w = word.lowercased()
    var abbreviation: (String, Int)?
    for candidate in candidates {
        let c = candidate.lowercased()
        guard c.count >= 3, w.count >= 3, w.hasPrefix(c) || c.hasPrefix(w) else { continue }
        let shared = min(c.count, w.count)
        if shared > (abbreviation?.1 ?? 0) { abbreviation = (candidate, shared) }
    }
    if let abbreviation { return abbreviation.0 }
    let limit = max(1, (word.count + 2) / 3)
    var best: (String, Int)?
    for candidate in candidates {
        let d = editDistance(w, candidate.lowercased())
        if d <= limit, d < (best?.1 ?? Int.max) { best = (candidate, d) }
    }
    return best?.0
}

/// ` did you mean 'x'?` when there is a close match, else the empty string.
func didYouMean(_ word: String, in candidates: [String]) -> String {
    closestMatch(to: word, in: candidates).map { "; did you mean '\($0)'?" } ?? ""
}

/// Levenshtein distance (insertions, deletions and substitutions each cost 1).
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    var previous = Array(0...b.count)
    var current = previous
    for i in 1...a.count {
        current[0] = i
        for j in stride(from: 1, through: b.count, by: 1) {
            let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
            current[j] = min(substitution, previous[j] + 1, current[j - 1] + 1)
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
