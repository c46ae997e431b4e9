/// A read cache in front of a `KeyValueStore`: recently read or written keys (absent ones
/// too) answer from memory. Writes go through to the store first, then update the cache,
/// so the cache never holds what the store does not.
///
/// Invariant: at most 2 × `capacity` entries (two generations; the older is dropped when
/// the newer fills), so memory stays flat however long the chain grows.
public final class CachedStore: KeyValueStore {
    public let inner: any KeyValueStore
    public let capacity: Int
    private var current: [[UInt8]: [UInt8]?] = [:]
    private var previous: [[UInt8]: [UInt8]?] = [:]

    public init(_ inner: any KeyValueStore, capacity: Int = 100_000) {
        self.inner = inner
        self.capacity = capacity
    }

    public func get(_ key: [UInt8]) throws(StoreError) -> [UInt8]? {
        if let hit = current[key] { return hit }
        if let hit = previous[key] {
            remember(key, hit)
            return hit
        }
        let value = try inner.get(key)
        remember(key, value)
        return value
    }

    private func remember(_ key: [UInt8], _ value: [UInt8]?) {
        if current.count >= capacity {
            previous = current
            current.removeAll(keepingCapacity: true)
        }
        current[key] = .some(value)
    }

    public func write(_ batch: StoreBatch, sync: Bool) throws(StoreError) {
        do {
            try inner.write(batch, sync: sync)
        } catch {
            // The store may hold all or none of the batch: forget everything it touched.
            for op in batch.operations {
                switch op {
                case .put(let k, _), .delete(let k): current.removeValue(forKey: k); previous.removeValue(forKey: k)
                }
            }
            throw error
        }
        for op in batch.operations {
            switch op {
            case .put(let k, let v): previous.removeValue(forKey: k); remember(k, v)
            case .delete(let k): previous.removeValue(forKey: k); remember(k, nil)
            }
        }
    }

    public func scan(prefix: [UInt8], from start: [UInt8]?, _ body: ([UInt8], [UInt8]) -> Bool) throws(StoreError) {
        try inner.scan(prefix: prefix, from: start, body)
    }
}
