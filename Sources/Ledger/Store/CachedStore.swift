/// A read cache in front of a `KeyValueStore`: recently read or written keys (absent ones
/// too) answer from memory. Writes go through to the store first, then update the cache,
/// so the cache never holds what the store does not.
///
/// Invariant: each generation holds at most `capacityBytes` of keys and values (plus
/// `entryOverheadBytes` per entry); the older is dropped when the newer fills. So memory stays
/// flat however long the chain grows, whatever the size of the values (a state-tree page is
/// up to 1 KiB, an account ~100 bytes). A key in `current`
/// holds its latest value; `previous` is read only for keys not in `current`, so a stale
/// entry there is shadowed, and it is dropped whole when `current` next fills.
///
/// Only keys under `cachedPrefixes` (nil: all keys) pass through the cache; the others —
/// written once and rarely read again, like blocks and indexes — go straight to the store on
/// reads and writes, so they never occupy the cache nor cost a lookup.
public final class CachedStore: KeyValueStore {
    public let inner: any KeyValueStore
    public let capacityBytes: Int
    public let cachedPrefixes: [[UInt8]]?
    /// What an entry costs besides its key and value: the table slot, the inline key and the
    /// value's array header, roughly.
    public static let entryOverheadBytes = 96
    private var current: [StoreKey: [UInt8]?] = [:]
    private var previous: [StoreKey: [UInt8]?] = [:]
    private var currentBytes = 0

    public init(_ inner: any KeyValueStore, capacityBytes: Int = 32 << 20, cachedPrefixes: [[UInt8]]? = nil) {
        self.inner = inner
        self.capacityBytes = capacityBytes
        self.cachedPrefixes = cachedPrefixes
    }

    /// Entries held in both generations (tests: the memory bound).
    var entryCount: Int { current.count + previous.count }

    private func isCached(_ key: [UInt8]) -> Bool {
        guard let cachedPrefixes else { return true }
        return cachedPrefixes.contains { key.starts(with: $0) }
    }

    public func get(_ bytes: [UInt8]) throws(StoreError) -> [UInt8]? {
        guard isCached(bytes) else { return try inner.get(bytes) }
        let key = StoreKey(bytes)
        if let hit = current[key] { return hit }
        if let hit = previous[key] {
            remember(key, hit)
            return hit
        }
        let value = try inner.get(bytes)
        remember(key, value)
        return value
    }

    private func remember(_ key: StoreKey, _ value: [UInt8]?) {
        if currentBytes >= capacityBytes {
            previous = current
            current.removeAll(keepingCapacity: true)
            currentBytes = 0
        }
        // A replaced value's bytes stay counted until the generation rotates (a bound, not a tally).
        current[key] = .some(value)
        currentBytes += key.byteCount + (value?.count ?? 0) + Self.entryOverheadBytes
    }

    public func write(_ batch: StoreBatch, sync: Bool) throws(StoreError) {
        do {
            try inner.write(batch, sync: sync)
        } catch {
            // The store may hold all or none of the batch: forget everything it touched.
            for op in batch.operations {
                switch op {
                case .put(let k, _), .delete(let k):
                    current.removeValue(forKey: StoreKey(k))
                    previous.removeValue(forKey: StoreKey(k))
                }
            }
            throw error
        }
        for op in batch.operations {
            switch op {
            case .put(let k, let v): if isCached(k) { remember(StoreKey(k), v) }
            case .delete(let k): if isCached(k) { remember(StoreKey(k), nil) }
            }
        }
    }

    public func scan(prefix: [UInt8], from start: [UInt8]?, _ body: ([UInt8], [UInt8]) -> Bool) throws(StoreError) {
        try inner.scan(prefix: prefix, from: start, body)
    }
}

/// A store key as a dictionary key. Keys of up to 40 bytes — every state-value and tree-page
/// key — are held inline as five words, so a lookup hashes five words and compares them
/// without following a pointer to the key's bytes (on a table of 100 000 entries, those
/// pointer chases and `[UInt8]`'s byte-by-byte hashing were most of the cache's cost).
struct StoreKey: Hashable {
    static let inlineBytes = 40

    private let w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64, w4: UInt64
    private let count: Int
    /// Keys longer than `inlineBytes`, whole (nil for inline keys).
    private let long: [UInt8]?

    var byteCount: Int { count }

    init(_ bytes: [UInt8]) {
        count = bytes.count
        guard bytes.count <= Self.inlineBytes else {
            (w0, w1, w2, w3, w4) = (0, 0, 0, 0, 0)
            long = bytes
            return
        }
        var w: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)
        for (i, b) in bytes.enumerated() {
            let v = UInt64(b) << UInt64(56 - 8 * (i & 7))
            switch i >> 3 {
            case 0: w.0 |= v
            case 1: w.1 |= v
            case 2: w.2 |= v
            case 3: w.3 |= v
            default: w.4 |= v
            }
        }
        (w0, w1, w2, w3, w4) = w
        long = nil
    }
}
