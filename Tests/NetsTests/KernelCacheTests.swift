import XCTest
@testable import Nets

final class KernelCacheTests: XCTestCase {
    final class Box {
        let id: Int
        init(_ id: Int) { self.id = id }
    }

    func testKeepsTheMostRecentlyUsedWithinItsCapacity() {
        var cache = KernelCache<Int, Box>(capacity: 8)
        for i in 0..<8 { cache.insert(Box(i), for: i) }
        XCTAssertEqual(cache.count, 8)
        _ = cache.value(0)  // 0 is now the most recently used; 1 and 2 the least
        cache.insert(Box(8), for: 8)
        XCTAssertLessThanOrEqual(cache.count, 8)
        XCTAssertEqual(cache.value(0)?.id, 0)
        XCTAssertEqual(cache.value(8)?.id, 8)
        XCTAssertNil(cache.value(1))
        XCTAssertNil(cache.value(2))
        XCTAssertEqual(cache.value(3)?.id, 3)
    }

    func testADroppedValueIsFreedOnceNobodyHoldsIt() {
        var cache = KernelCache<Int, Box>(capacity: 4)
        weak var first: Box?
        do {
            let b = Box(0)
            first = b
            cache.insert(b, for: 0)
        }
        XCTAssertNotNil(first)
        for i in 1...4 { cache.insert(Box(i), for: i) }
        XCTAssertNil(first, "evicted and unreferenced, so freed")
    }

    /// A network run on more image sizes than the caches hold: the caches stay bounded, and the
    /// first size, its kernels evicted and rebuilt, gives the same numbers bit for bit.
    func testManyImageSizesKeepTheCachesBoundedAndResultsExact() {
        var rng = SeededRandom(seed: 1)
        let conv = Conv2d(3, 8, kernelSize: 3, padding: 1, rng: &rng)
        let bn = BatchNorm2d(8, fusedReLU: true)
        let pool = MaxPool2d(kernelSize: 2)
        func step(_ side: Int) -> [Float] {
            conv.zeroGrad()
            bn.zeroGrad()
            let x = GradCheck.randomTensor([2, 3, side, side + 1], layout: .nhwc, seed: UInt64(side))
            let tape = Tape()
            tape.watch(x)
            let y = tape.record { pool(bn(conv(x))) }
            tape.backward([(y, GradCheck.randomTensor(y.shape, layout: .nhwc, seed: 99))])
            return y.array + tape.gradient(of: x)!.array + conv.weight.grad!.array
        }
        let first = step(8)
        for side in 9..<(9 + 300) { _ = step(side) }
        XCTAssertLessThanOrEqual(ConvolutionKernel.cachedKernels, 256)
        XCTAssertLessThanOrEqual(DNNL.cachedPrimitives, 1024)
        XCTAssertEqual(step(8), first)
    }
}
