import Nets

/// The random streams of the data pipeline, each derived from the run's seed alone.
///
/// A sample's augmentation depends on (seed, epoch, dataset index) and an epoch's order on
/// (seed, epoch), never on which thread did the work or in which order, so a run's batches are the
/// same bit for bit with any number of loader workers. Each stream has its own domain constant so
/// the shuffle never shares draws with an augmentation.
enum DataSeeds {
    static func augmentation(seed: UInt64, epoch: Int, index: Int) -> SeededRandom {
        let e = PortableMath.mix(seed ^ 0x6A09_E667_F3BC_C908) ^ UInt64(bitPattern: Int64(epoch))
        return SeededRandom(seed: PortableMath.mix(PortableMath.mix(e) ^ UInt64(bitPattern: Int64(index))))
    }

    static func shuffle(seed: UInt64, epoch: Int) -> SeededRandom {
        let e = PortableMath.mix(seed ^ 0xBB67_AE85_84CA_A73B) ^ UInt64(bitPattern: Int64(epoch))
        return SeededRandom(seed: PortableMath.mix(e))
    }

    /// A permutation of `0..<count` by Fisher–Yates with our own bounded draw: the standard
    /// library's `shuffle(using:)` does not promise the same order across Swift versions.
    static func permutation(_ count: Int, _ rng: inout SeededRandom) -> [Int] {
        var order = Array(0..<count)
        var i = count - 1
        while i > 0 {
            order.swapAt(i, rng.below(i + 1))
            i -= 1
        }
        return order
    }
}

extension SeededRandom {
    /// Uniform in `0..<bound` (Lemire's multiply-high, whose bias is below 2^-40 for any bound we use).
    @inline(__always)
    mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0)
        return Int(next().multipliedFullWidth(by: UInt64(bound)).high)
    }
}
