import XCTest
@testable import Nets

/// The block pool behind tensors of 1 MiB and more: a freed block serves the next request of
/// its size, a larger one is split for smaller requests and joined again when they are freed,
/// and what is mapped (live and kept) never exceeds the most the tensors ever held at once,
/// however the sizes change.
final class TensorMemoryTests: XCTestCase {
    func testFreedBlockServesTheNextRequestOfItsSize() {
        let count = (3 << 18) + 5  // ~3 MiB, a size nothing else uses
        var first: UnsafeMutableRawPointer?
        do { first = Tensor.uninitialized(shape: [count]).storage }
        let second = Tensor.uninitialized(shape: [count])
        XCTAssertEqual(second.storage, first)
    }

    func testKeptRangesAreSplitAndJoinedWithoutNewMappings() {
        // More than twice all kept ranges together: only a fresh mapping fits it, and only its
        // range fits either half of it.
        let kept = TensorMemory.usage.kept, floats = (2 * kept + (12 << 20)) / 4 + 3
        do { _ = Tensor.uninitialized(shape: [floats]) }
        let mappings = TensorMemory.usage.mappings
        do {
            let a = Tensor.uninitialized(shape: [floats / 2]), b = Tensor.uninitialized(shape: [floats / 2 - (1 << 15)])
            XCTAssertEqual(b.storage, a.storage + (floats / 2 * 4 + 0xFFFF) / 0x10000 * 0x10000, "pieces of one range")
        }
        // Both pieces back, joined: the whole size fits again.
        _ = Tensor.uninitialized(shape: [floats])
        XCTAssertEqual(TensorMemory.usage.mappings, mappings, "served from kept ranges")
    }

    func testMappedNeverExceedsThePeakOfLiveBlocks() {
        // A new peak of 8 MiB blocks (mapped, never touched: no physical memory), then all freed.
        var blocks: [Tensor] = []
        let start = TensorMemory.usage
        while TensorMemory.usage.live < start.peakLive + (64 << 20) {
            blocks.append(Tensor.uninitialized(shape: [2 << 20]))
        }
        blocks.removeAll()
        XCTAssertGreaterThan(TensorMemory.usage.kept, 0, "freed blocks are kept for reuse")
        // Sizes no kept range fits, a few live at a time: kept ranges go back to the system
        // instead of the mapping growing beyond the peak.
        var live: [Tensor] = []
        let kept = TensorMemory.usage.kept
        for size in [3, 5, 7, 9, 11, 13, 15, 17] {
            live.append(Tensor.uninitialized(shape: [(kept + (size << 20)) / 4]))
            if live.count > 3 { live.removeFirst() }
            let u = TensorMemory.usage
            XCTAssertLessThanOrEqual(u.live + u.kept, u.peakLive, "after a \(size) MiB block: \(u)")
        }
    }
}
