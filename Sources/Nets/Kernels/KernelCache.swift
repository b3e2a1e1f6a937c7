/// The most recently used `capacity` values by key, for compiled kernels: a key seen again
/// reuses its value, and past the capacity the least recently used is dropped (its value is
/// freed once nobody holds it). Without a bound, every new image size (VOC's, say) would keep
/// its JIT-compiled kernels for the life of the process. Not thread-safe: callers lock.
struct KernelCache<Key: Hashable, Value: AnyObject> {
    let capacity: Int
    private var entries: [Key: (value: Value, used: UInt64)] = [:]
    private var clock: UInt64 = 0

    init(capacity: Int) {
        precondition(capacity >= 1)
        self.capacity = capacity
    }

    var count: Int { entries.count }

    /// The value for `key`, marked as just used.
    mutating func value(_ key: Key) -> Value? {
        guard let entry = entries[key] else { return nil }
        clock += 1
        entries[key] = (entry.value, clock)
        return entry.value
    }

    /// Stores `value` for `key`; past the capacity, drops the least recently used quarter at once,
    /// so that the sort this takes is paid once per many insertions.
    mutating func insert(_ value: Value, for key: Key) {
        clock += 1
        entries[key] = (value, clock)
        guard entries.count > capacity else { return }
        let oldest = entries.sorted { $0.value.used < $1.value.used }.prefix(max(1, capacity / 4))
        for (key, _) in oldest { entries[key] = nil }
    }
}
