/// An optimiser's per-element update, written once for any vector width: `apply` runs it
/// sixteen floats at a time and the tail one float at a time.
///
/// An update reads and writes every weight, gradient and state float, so it runs at memory
/// speed only when vectorised, and the compiler does not vectorise the plain loop (the
/// pointers may alias). Every element goes through the same operations in the same order
/// whatever its lane, so results do not depend on where a thread's chunk starts.
protocol ElementwiseUpdate {
    func update<V: SIMD>(_ at: Lanes<V>) where V.Scalar == Float
}

/// Loads and stores `V.scalarCount` floats at one index (one float in lane 0 in the tail).
struct Lanes<V: SIMD> where V.Scalar == Float {
    let index: Int
    let tail: Bool

    @inline(__always) func load(_ p: UnsafeMutablePointer<Float>) -> V {
        if tail {
            var v = V()
            v[0] = p[index]
            return v
        }
        return UnsafeRawPointer(p + index).loadUnaligned(as: V.self)
    }

    @inline(__always) func store(_ v: V, _ p: UnsafeMutablePointer<Float>) {
        if tail { p[index] = v[0] } else { UnsafeMutableRawPointer(p + index).storeBytes(of: v, as: V.self) }
    }
}

extension ElementwiseUpdate {
    /// Applies the update to every element of `0..<count`, in parallel chunks.
    func apply(count: Int) {
        parallelChunks(count) { lo, hi in
            var i = lo
            while i + 16 <= hi {
                update(Lanes<SIMD16<Float>>(index: i, tail: false))
                i += 16
            }
            while i < hi {
                update(Lanes<SIMD2<Float>>(index: i, tail: true))
                i += 1
            }
        }
    }
}
