import XCTest
@testable import Nets

/// One-pass channel statistics (bf16 BatchNorm's, C kernel) against two-pass Double.
final class ChannelStatisticsTests: XCTestCase {
    /// Channels far from zero relative to their spread and channels of one value, over more
    /// pixels than one kernel sub-block and several blocks, against two passes in Double over the
    /// same bf16 values; the same bits on 1 and 3 threads.
    func testMatchesTwoPassDoubleWithoutCancellation() throws {
        try XCTSkipUnless(VectorKernels.enabled, "this CPU runs oneDNN's BatchNorm for bf16")
        var rng = SeededRandom(seed: 5)
        let fp32 = Tensor(shape: [3, 20, 61, 67], layout: .nhwc)
        for i in 0..<fp32.count {
            let c = i % 20
            fp32.data[i] = Float(c) * 25 - 250 + (c == 3 ? 1000 : 0) + rng.uniform(-1, 1) * (c == 7 ? 0.001 : 1)
        }
        let x = fp32.converted(to: .bf16), values = x.converted(to: .fp32)
        let (mean, variance) = channelStatistics(x)
        let C = 20, pixels = x.count / C
        for c in 0..<C {
            let column = (0..<pixels).map { Double(values.data[$0 * C + c]) }
            let m = column.reduce(0, +) / Double(pixels)
            let v = column.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(pixels)
            XCTAssertEqual(Double(mean.data[c]), m, accuracy: 1e-6 * max(1, abs(m)), "mean \(c)")
            XCTAssertEqual(Double(variance.data[c]), v, accuracy: 1e-5 * max(v, 1e-12), "variance \(c)")
        }
        let threads = Threads.count
        defer { Threads.set(threads) }
        Threads.set(1)
        let one = channelStatistics(x)
        Threads.set(3)
        let three = channelStatistics(x)
        XCTAssertEqual(one.mean.array + one.variance.array, three.mean.array + three.variance.array)
    }
}

/// The masked gradient sum's C kernel against the portable Swift loop it replaces where the CPU
/// lacks it: the same bits, with NaN, infinities, signed zeros and outputs at ReLU's kink.
final class MaskedSumTests: XCTestCase {
    func testCKernelMatchesTheSwiftLoopBitForBit() throws {
        try XCTSkipUnless(VectorKernels.enabled, "this CPU has no AVX-512 bf16 conversions: only the Swift loop runs")
        defer { VectorKernels.enabled = true }
        func bf16(_ seed: UInt64) -> Tensor {
            var rng = SeededRandom(seed: seed)
            let t = Tensor(shape: [2, 21, 5, 7], layout: .nhwc)
            let special: [Float] = [.nan, .infinity, -.infinity, 0, -0, 1e-40, -1e-40, 3e38]
            for i in 0..<t.count { t.data[i] = i % 97 < special.count ? special[(i + Int(seed)) % special.count] : rng.uniform(-2, 2) }
            return t.converted(to: .bf16)
        }
        let output = bf16(1), g = bf16(2), h = bf16(3)
        var results: [[UInt16]] = []
        for enabled in [true, false] {
            VectorKernels.enabled = enabled
            let summed = maskedSum([g.copy(), h], where: output), masked = maskedSum([g.copy()], where: output)
            results.append([summed, masked].flatMap { t in (0..<t.count).map { t.bf16[$0] } })
        }
        XCTAssertEqual(results[0], results[1])
        XCTAssertTrue(results[0].contains(0) && results[0].contains { $0 != 0 })
    }
}
