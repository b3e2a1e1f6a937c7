import Foundation
import Nets

/// Batches of a dataset, assembled on background threads while the engine computes.
///
/// Each epoch's order is a permutation drawn from (seed, epoch) (or the dataset order without
/// `shuffle`), and each sample's augmentation comes from (seed, epoch, dataset index), so the
/// batches are the same bit for bit whatever the number of workers and however the threads are
/// scheduled. Decoding and augmenting compete with oneDNN for the cores, hence one worker by
/// default. Like `torch.utils.data.DataLoader`, the last batch may be smaller unless `dropLast`;
/// the recipe passes `drop_last=True` for training so that every step sees a full batch for
/// BatchNorm. Here `dropLast` never drops the only batch: a dataset smaller than one batch would
/// otherwise train on nothing.
///
/// Images of different sizes in one batch are padded to the largest (see `Batch`); evaluation
/// usually uses batches of one, as the recipe does, so no image is padded for another's sake.
public final class DataLoader: Sendable {
    public let dataset: any Dataset
    public let transform: SampleTransform
    public let seed: UInt64
    public let batchSize: Int
    public let shuffle: Bool
    public let dropLast: Bool
    /// Background threads that decode and augment; each builds whole batches.
    public let workers: Int
    /// Batches built ahead of the consumer (at least one per worker).
    public let prefetch: Int
    private let cache: SampleCache?

    /// Checks the settings. `cache` keeps every decoded sample (before augmentation) in memory
    /// after its first use, as Float32: about 4 MB per DRIVE image.
    public init(dataset: any Dataset, transform: SampleTransform, seed: UInt64, batchSize: Int, shuffle: Bool,
                dropLast: Bool = false, workers: Int = 1, prefetch: Int = 2, cache: Bool = false) throws {
        guard dataset.count >= 1 else { throw DataPipelineError("the dataset has no samples") }
        guard batchSize >= 1 else { throw DataPipelineError("batch size \(batchSize) must be at least 1") }
        guard workers >= 1 else { throw DataPipelineError("loader workers \(workers) must be at least 1") }
        guard prefetch >= 1 else { throw DataPipelineError("prefetch \(prefetch) must be at least 1") }
        self.dataset = dataset
        self.transform = transform
        self.seed = seed
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.dropLast = dropLast
        self.workers = workers
        self.prefetch = prefetch
        self.cache = cache ? SampleCache(count: dataset.count) : nil
    }

    /// The same batches, built by `workers` threads up to `prefetch` ahead (`runexp bench --data`
    /// compares settings with it); the cache, if any, starts empty.
    public func with(workers: Int, prefetch: Int) throws -> DataLoader {
        try DataLoader(dataset: dataset, transform: transform, seed: seed, batchSize: batchSize, shuffle: shuffle,
                       dropLast: dropLast, workers: workers, prefetch: prefetch, cache: cache != nil)
    }

    /// Batches in one epoch.
    public var batchCount: Int {
        let n = dataset.count
        return dropLast && n >= batchSize ? n / batchSize : (n + batchSize - 1) / batchSize
    }

    /// The dataset indices of epoch `epoch`'s batches, in order.
    public func batchIndices(epoch: Int) -> [[Int]] {
        var order = Array(0..<dataset.count)
        if shuffle {
            var rng = DataSeeds.shuffle(seed: seed, epoch: epoch)
            order = DataSeeds.permutation(dataset.count, &rng)
        }
        return (0..<batchCount).map { b in Array(order[b * batchSize..<min(order.count, (b + 1) * batchSize)]) }
    }

    /// Starts building epoch `epoch`'s batches in the background; read them with `next()`.
    public func epoch(_ epoch: Int, startingAt firstBatch: Int = 0) -> EpochLoader {
        EpochLoader(loader: self, epoch: epoch, firstBatch: firstBatch)
    }

    /// Builds one batch on the calling thread (the background workers call this too).
    public func batch(_ indices: [Int], epoch: Int) throws -> Batch {
        var samples = [Sample]()
        samples.reserveCapacity(indices.count)
        for i in indices {
            let raw = try cache?.sample(i, from: dataset) ?? dataset.sample(i)
            samples.append(try transform.apply(raw, seed: seed, epoch: epoch, index: i))
        }
        return try Batch(collating: samples, indices: indices, padMultiple: transform.padMultiple,
                         ignoreIndex: transform.ignoreIndex)
    }
}

/// One epoch of a `DataLoader`: `next()` returns its batches in order, then nil.
///
/// An error thrown while building a batch (a corrupt file, say) is thrown by `next()` when that
/// batch is due, after the batches before it; the epoch then ends. Dropping the loader or calling
/// `cancel()` stops the workers once their current batch is done; they never outlive it spinning.
/// Use from one thread.
public final class EpochLoader {
    let state: EpochState
    private var nextBatch = 0
    private var finished = false

    init(loader: DataLoader, epoch: Int, firstBatch: Int = 0) {
        // A resumed epoch starts after the batches already trained; the order is the same,
        // since it depends only on (seed, epoch).
        let batches = Array(loader.batchIndices(epoch: epoch).dropFirst(firstBatch))
        let workers = min(loader.workers, batches.count)
        state = EpochState(batchCount: batches.count, window: max(loader.prefetch, workers), workers: workers)
        for k in 0..<workers {
            let thread = Thread { [state] in
                state.work(first: k, stride: workers) { b in try loader.batch(batches[b], epoch: epoch) }
            }
            thread.name = "runexp-loader-\(k)"
            thread.start()
        }
    }

    deinit { cancel() }

    /// The next batch, nil after the last; waits while the workers are still building it.
    public func next() throws -> Batch? {
        guard !finished else { return nil }
        guard nextBatch < state.batchCount else {
            finished = true
            return nil
        }
        let result = state.take(nextBatch)
        nextBatch += 1
        switch result {
        case .success(let batch):
            return batch
        case .failure(let error):
            cancel()
            throw error
        }
    }

    /// Stops the workers and drops the batches built ahead; `next()` returns nil afterwards.
    public func cancel() {
        finished = true
        state.cancel()
    }
}

/// What an epoch's workers and its consumer share, guarded by one condition variable.
final class EpochState: @unchecked Sendable {
    let batchCount: Int
    private let window: Int
    private let condition = NSCondition()
    private var ready: [Int: Result<Batch, Error>] = [:]
    private var consumed = 0
    private var cancelled = false
    private var running: Int

    init(batchCount: Int, window: Int, workers: Int) {
        self.batchCount = batchCount
        self.window = window
        self.running = workers
    }

    /// A worker's loop: batches `first`, `first + stride`, … each built once the consumer is
    /// within `window` batches of it, until the end, a failure, or cancellation.
    func work(first: Int, stride: Int, _ build: (Int) throws -> Batch) {
        defer {
            condition.lock()
            running -= 1
            condition.broadcast()
            condition.unlock()
        }
        var b = first
        while b < batchCount {
            condition.lock()
            while !cancelled && b >= consumed + window { condition.wait() }
            let stop = cancelled
            condition.unlock()
            if stop { return }
            let result = Result { try build(b) }
            condition.lock()
            if !cancelled { ready[b] = result }
            condition.broadcast()
            condition.unlock()
            // Batches after a failure are never asked for: the consumer stops at the failure.
            if case .failure = result { return }
            b += stride
        }
    }

    /// Batch `b`'s result, waiting until a worker has stored it.
    func take(_ b: Int) -> Result<Batch, Error> {
        condition.lock()
        defer { condition.unlock() }
        while ready[b] == nil { condition.wait() }
        let result = ready.removeValue(forKey: b)!
        consumed = b + 1
        condition.broadcast()
        return result
    }

    func cancel() {
        condition.lock()
        cancelled = true
        ready.removeAll()
        condition.broadcast()
        condition.unlock()
    }

    /// Workers still running.
    var runningWorkers: Int {
        condition.lock()
        defer { condition.unlock() }
        return running
    }

    /// Waits until every worker has exited; false if they have not within `timeout` seconds.
    func waitForWorkers(timeout: TimeInterval) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while running > 0 {
            if !condition.wait(until: deadline) { return running == 0 }
        }
        return true
    }
}

/// Decoded samples kept after their first use, shared by a loader's epochs and workers.
final class SampleCache: @unchecked Sendable {
    private let lock = NSLock()
    private var samples: [Sample?]

    init(count: Int) { samples = Array(repeating: nil, count: count) }

    func sample(_ index: Int, from dataset: any Dataset) throws -> Sample {
        lock.lock()
        let cached = samples[index]
        lock.unlock()
        if let cached { return cached }
        // Decode outside the lock so that several workers decode at once; a sample decoded twice
        // by a race is identical, so either copy may stay.
        let sample = try dataset.sample(index)
        lock.lock()
        samples[index] = sample
        lock.unlock()
        return sample
    }
}
