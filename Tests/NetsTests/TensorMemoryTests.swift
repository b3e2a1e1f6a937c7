import XCTest
@testable import Nets

/// The block pool behind tensors of 1 MiB and more: a freed block serves the next request of
/// its size, and what is mapped (live and kept) never exceeds the most the tensors ever held
/// at once, however the sizes change.
final class TensorMemoryTests: XCTestCase {
    func testFreedBlockServesTheNextRequestOfItsSize() {
        let count = (3 << 18) + 5  // ~3 MiB, a size nothing else uses
        var first: UnsafeMutableRawPointer?
        do { first = Tensor.uninitialized(shape: [count]).storage }
        let second = Tensor.uninitialized(shape: [count])
        XCTAssertEqual(second.storage, first)
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
        // Sizes no kept block fits, a few live at a time: kept blocks go back to the system
        // instead of the mapping growing beyond the peak.
        var live: [Tensor] = []
        for size in [3, 5, 7, 9, 11, 13, 15, 17] {
            live.append(Tensor.uninitialized(shape: [(size << 18) + 1]))
            if live.count > 3 { live.removeFirst() }
            let u = TensorMemory.usage
            XCTAssertLessThanOrEqual(u.live + u.kept, u.peakLive, "after a \(size) MiB block: \(u)")
        }
    }
}
