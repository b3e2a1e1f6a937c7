import Foundation
import XCTest
import Nets
@testable import Experiments

/// A small in-memory dataset whose sample `i` is recognisable (every value depends on `i`), which
/// counts its reads, can fail at one index and can be slow.
final class ProbeDataset: Dataset, @unchecked Sendable {
    struct Failure: Error, Equatable { let index: Int }

    let count: Int
    let failAt: Int?
    let delay: TimeInterval
    let sizes: (Int) -> ImageSize
    private let lock = NSLock()
    private var reads = 0

    init(count: Int, failAt: Int? = nil, delay: TimeInterval = 0,
         sizes: @escaping (Int) -> ImageSize = { _ in ImageSize(height: 9, width: 11) }) {
        self.count = count
        self.failAt = failAt
        self.delay = delay
        self.sizes = sizes
    }

    var readCount: Int { lock.lock(); defer { lock.unlock() }; return reads }

    func sample(_ index: Int) throws -> Sample {
        lock.lock(); reads += 1; lock.unlock()
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }
        if index == failAt { throw Failure(index: index) }
        let size = sizes(index), n = size.height * size.width
        let image = (0..<n * 2).map { Float(index) + Float($0) / Float(2 * n) }
        let label = (0..<n).map { Int32(($0 + index) % 3) }
        return Sample(height: size.height, width: size.width, channels: 2, image: image, label: label, name: "probe\(index)")
    }
}

final class DataLoaderTests: XCTestCase {
    static func augment() throws -> SampleTransform {
        .train(try TrainTransform(scaleRange: 0.5...2, crop: ImageSize(height: 8, width: 8), hflip: 0.5, vflip: 0.5,
                                  mean: [0.2, 0.4], std: [0.5, 2]))
    }

    /// Every batch of an epoch: (indices, image bits, labels, names).
    static func drain(_ epoch: EpochLoader) throws -> [([Int], [UInt32], [Int32], [String?])] {
        var out: [([Int], [UInt32], [Int32], [String?])] = []
        while let b = try epoch.next() {
            out.append((b.indices, b.images.array.map(\.bitPattern), b.labels.values, b.names))
        }
        return out
    }

    func testBatchesAreBitIdenticalForAnyWorkerCount() throws {
        let data = ProbeDataset(count: 13)
        var runs: [[([Int], [UInt32], [Int32], [String?])]] = []
        for (workers, prefetch) in [(1, 2), (2, 2), (2, 1), (3, 5)] {
            let loader = try DataLoader(dataset: data, transform: Self.augment(), seed: 77, batchSize: 3, shuffle: true,
                                        workers: workers, prefetch: prefetch)
            runs.append(try Self.drain(loader.epoch(4)))
        }
        // The loader's output equals building the same batches on this thread.
        let loader = try DataLoader(dataset: data, transform: Self.augment(), seed: 77, batchSize: 3, shuffle: true)
        let direct = try loader.batchIndices(epoch: 4).map { try loader.batch($0, epoch: 4) }
        XCTAssertEqual(runs[0].count, 5)
        for run in runs {
            XCTAssertEqual(run.count, direct.count)
            for (a, b) in zip(run, direct) {
                XCTAssertEqual(a.0, b.indices)
                XCTAssertEqual(a.1, b.images.array.map(\.bitPattern))
                XCTAssertEqual(a.2, b.labels.values)
                XCTAssertEqual(a.3, b.names)
            }
        }
        XCTAssertEqual(direct[0].images.shape, [3, 2, 8, 8])
        XCTAssertEqual(direct[4].images.shape, [1, 2, 8, 8], "13 = 4 × 3 + 1: the last batch is short")
        // Another epoch augments differently even for the same sample.
        let other = try loader.batch(direct[0].indices, epoch: 5)
        XCTAssertNotEqual(other.images.array, direct[0].images.array)
    }

    func testEpochsShuffleDifferentlyAndCoverEverySampleOnce() throws {
        let data = ProbeDataset(count: 10)
        let loader = try DataLoader(dataset: data, transform: .eval(EvalTransform(padMultiple: 1)), seed: 3,
                                    batchSize: 4, shuffle: true)
        let orders = try (0..<3).map { e in try Self.drain(loader.epoch(e)).flatMap(\.0) }
        for order in orders { XCTAssertEqual(order.sorted(), Array(0..<10)) }
        XCTAssertNotEqual(orders[0], orders[1])
        XCTAssertNotEqual(orders[1], orders[2])
        XCTAssertEqual(loader.batchIndices(epoch: 1).flatMap { $0 }, orders[1])
        // A new loader with the same seed repeats the order.
        let again = try DataLoader(dataset: data, transform: .eval(EvalTransform()), seed: 3, batchSize: 4, shuffle: true)
        XCTAssertEqual(again.batchIndices(epoch: 2).flatMap { $0 }, orders[2])
        // Without shuffle: dataset order. dropLast drops the short batch, never the only one.
        let ordered = try DataLoader(dataset: data, transform: .eval(EvalTransform()), seed: 3, batchSize: 4,
                                     shuffle: false, dropLast: true)
        XCTAssertEqual(ordered.batchIndices(epoch: 7), [[0, 1, 2, 3], [4, 5, 6, 7]])
        let tiny = try DataLoader(dataset: ProbeDataset(count: 2), transform: .eval(EvalTransform()), seed: 3,
                                  batchSize: 4, shuffle: true, dropLast: true)
        XCTAssertEqual(tiny.batchCount, 1)
    }

    func testSampleErrorIsThrownAtItsBatch() throws {
        for workers in [1, 2] {
            let data = ProbeDataset(count: 9, failAt: 3)
            let loader = try DataLoader(dataset: data, transform: Self.augment(), seed: 1, batchSize: 2, shuffle: true,
                                        workers: workers)
            let failing = loader.batchIndices(epoch: 0).firstIndex { $0.contains(3) }!
            let epoch = loader.epoch(0)
            for _ in 0..<failing { XCTAssertNotNil(try epoch.next()) }
            XCTAssertThrowsError(try epoch.next()) { XCTAssertEqual($0 as? ProbeDataset.Failure, .init(index: 3)) }
            XCTAssertNil(try epoch.next(), "the epoch ends after an error")
            XCTAssertTrue(epoch.state.waitForWorkers(timeout: 10))
        }
    }

    func testAbandonedEpochStopsItsWorkers() throws {
        let data = ProbeDataset(count: 200, delay: 0.002)
        let loader = try DataLoader(dataset: data, transform: Self.augment(), seed: 1, batchSize: 2, shuffle: true,
                                    workers: 2, prefetch: 2)
        var epoch: EpochLoader? = loader.epoch(0)
        XCTAssertNotNil(try epoch!.next())
        let state = epoch!.state
        epoch = nil
        XCTAssertTrue(state.waitForWorkers(timeout: 10), "workers still running after the epoch was dropped")
        XCTAssertEqual(state.runningWorkers, 0)
        // Nothing reads on: at most the prefetch window (2 batches of 2) beyond the batch taken.
        let reads = data.readCount
        XCTAssertLessThanOrEqual(reads, 2 + 2 * 2 + 2)
        Thread.sleep(forTimeInterval: 0.05)
        XCTAssertEqual(data.readCount, reads)

        // cancel() does the same for an epoch still held, and a finished epoch has no workers left.
        let held = loader.epoch(1)
        held.cancel()
        XCTAssertNil(try held.next())
        XCTAssertTrue(held.state.waitForWorkers(timeout: 10))
        let small = try DataLoader(dataset: ProbeDataset(count: 5), transform: Self.augment(), seed: 1, batchSize: 2,
                                   shuffle: false)
        let done = small.epoch(0)
        XCTAssertEqual(try Self.drain(done).count, 3)
        XCTAssertTrue(done.state.waitForWorkers(timeout: 10))
    }

    func testWorkersStayAheadOfTheConsumer() throws {
        // While the consumer "computes", the next batches are built: their reads happen before they are asked for.
        let data = ProbeDataset(count: 12)
        let loader = try DataLoader(dataset: data, transform: Self.augment(), seed: 1, batchSize: 2, shuffle: false,
                                    prefetch: 3)
        let epoch = loader.epoch(0)
        _ = try epoch.next()
        let deadline = Date(timeIntervalSinceNow: 10)
        while data.readCount < 8 && Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
        XCTAssertEqual(data.readCount, 8, "batch 0 taken, batches 1–3 built ahead")
        epoch.cancel()
    }

    func testCacheDecodesEachSampleOnce() throws {
        let data = ProbeDataset(count: 6)
        let loader = try DataLoader(dataset: data, transform: Self.augment(), seed: 1, batchSize: 4, shuffle: true,
                                    workers: 2, cache: true)
        let first = try Self.drain(loader.epoch(0)), second = try Self.drain(loader.epoch(1))
        XCTAssertEqual(data.readCount, 6)
        // Cached samples still get each epoch's own augmentation, identical to an uncached loader's.
        let uncached = try DataLoader(dataset: data, transform: Self.augment(), seed: 1, batchSize: 4, shuffle: true)
        XCTAssertEqual(try Self.drain(uncached.epoch(1)).map(\.1), second.map(\.1))
        XCTAssertNotEqual(first.map(\.0), second.map(\.0))
    }

    func testEvalLoaderPadsEachBatchAndKeepsSizes() throws {
        let data = ProbeDataset(count: 3) { i in ImageSize(height: 10 + 7 * i, width: 17 - 3 * i) }
        let loader = try DataLoader(dataset: data, transform: .eval(EvalTransform(padMultiple: 8)), seed: 0,
                                    batchSize: 1, shuffle: false)
        let epoch = loader.epoch(0)
        var shapes: [[Int]] = []
        while let b = try epoch.next() {
            shapes.append(b.images.shape)
            let s = try data.sample(b.indices[0])
            XCTAssertEqual(b.sizes, [s.size])
            XCTAssertEqual(b.unpadded(b.labels, item: 0).values, s.label)
            XCTAssertEqual(b.unpadded(b.images, item: 0), s.image)
        }
        XCTAssertEqual(shapes, [[1, 2, 16, 24], [1, 2, 24, 16], [1, 2, 24, 16]])
    }

    func testInvalidSettingsThrow() throws {
        let t = try Self.augment()
        XCTAssertThrowsError(try DataLoader(dataset: ProbeDataset(count: 0), transform: t, seed: 0, batchSize: 1, shuffle: false))
        XCTAssertThrowsError(try DataLoader(dataset: ProbeDataset(count: 3), transform: t, seed: 0, batchSize: 0, shuffle: false))
        XCTAssertThrowsError(try DataLoader(dataset: ProbeDataset(count: 3), transform: t, seed: 0, batchSize: 1, shuffle: false,
                                            workers: 0))
    }
}
