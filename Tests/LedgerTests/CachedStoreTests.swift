import ChainTypes
import HansaTestSupport
import Testing
@testable import Ledger

/// A store that counts reads and can be made to fail its next write.
final class CountingStore: KeyValueStore {
    let inner = MemoryStore()
    var reads = 0
    var failNextWrite = false

    func get(_ key: [UInt8]) throws(StoreError) -> [UInt8]? {
        reads += 1
        return try inner.get(key)
    }

    func write(_ batch: StoreBatch, sync: Bool) throws(StoreError) {
        if failNextWrite {
            failNextWrite = false
            // Half of the batch lands: the cache must not trust either half.
            var half = StoreBatch()
            for op in batch.operations.prefix(batch.operations.count / 2) {
                switch op {
                case .put(let k, let v): half.put(k, v)
                case .delete(let k): half.delete(k)
                }
            }
            try inner.write(half, sync: sync)
            throw StoreError(operation: "write", message: "injected failure")
        }
        try inner.write(batch, sync: sync)
    }

    func scan(prefix: [UInt8], from start: [UInt8]?, _ body: ([UInt8], [UInt8]) -> Bool) throws(StoreError) {
        try inner.scan(prefix: prefix, from: start, body)
    }
}

@Suite("CachedStore")
struct CachedStoreTests {
    static let v = Array("v/".utf8)

    /// Seeded model test: random puts, deletes and reads over keys of 0…60 bytes (inline and
    /// long, keys differing only in length or only past byte 40), with a generation small
    /// enough to rotate every few operations and failed writes now and then. Every read
    /// answers what the store holds.
    @Test("reads always answer what the store holds", arguments: [1, 2, 3] as [UInt64])
    func model(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let inner = CountingStore()
        let cache = CachedStore(inner, capacityBytes: 2_000)
        var keys: [[UInt8]] = [[], [1], [1, 0], [1, 0, 0]]
        let long = (0..<41).map { UInt8($0) }
        keys += [long, long + [1], long + [2], Array(long.prefix(40)) + [9]]
        keys += (0..<40).map { _ in (0..<Int(rng.next() % 61)).map { _ in UInt8(truncatingIfNeeded: rng.next()) } }
        for step in 0..<3_000 {
            let key = keys[Int(rng.next() % UInt64(keys.count))]
            switch rng.next() % 10 {
            case 0..<4:
                var batch = StoreBatch()
                for _ in 0..<Int(1 + rng.next() % 4) {
                    let k = keys[Int(rng.next() % UInt64(keys.count))]
                    if rng.next() % 4 == 0 { batch.delete(k) } else { batch.put(k, (0..<Int(rng.next() % 300)).map { _ in UInt8(step & 0xff) }) }
                }
                if rng.next() % 20 == 0 {
                    inner.failNextWrite = true
                    #expect(throws: StoreError.self) { try cache.write(batch, sync: false) }
                } else {
                    try cache.write(batch, sync: false)
                }
            default:
                let got = try cache.get(key)
                try #require(got == (try inner.inner.get(key)), "seed \(seed), step \(step), key of \(key.count) bytes")
            }
        }
    }

    /// Keys outside the cached prefixes are never held: each read goes to the store.
    @Test func uncachedPrefixesGoToTheStore() throws {
        let inner = CountingStore()
        let cache = CachedStore(inner, cachedPrefixes: [Self.v])
        var batch = StoreBatch()
        batch.put(Self.v + [1], [1])
        batch.put(Array("b/1".utf8), [2])
        try cache.write(batch, sync: false)
        #expect(cache.entryCount == 1, "only the v/ key was taken in")
        for _ in 0..<3 {
            #expect(try cache.get(Self.v + [1]) == [1])
            #expect(try cache.get(Array("b/1".utf8)) == [2])
        }
        #expect(inner.reads == 3, "three reads of b/1 reached the store, none of v/1")
        // "v" alone is not under "v/".
        _ = try cache.get(Array("v".utf8))
        _ = try cache.get(Array("v".utf8))
        #expect(inner.reads == 5)
    }

    /// Memory is bounded by bytes whatever the values weigh: two generations of at most
    /// `capacityBytes` each (plus the last entry that filled one).
    @Test func boundedByBytes() throws {
        let cache = CachedStore(CountingStore(), capacityBytes: 20_000)
        for i in 0..<2_000 {
            var batch = StoreBatch()
            batch.put(Self.v + [UInt8(i & 0xff), UInt8(i >> 8)], [UInt8](repeating: 7, count: 1_000))
            try cache.write(batch, sync: false)
        }
        let perEntry = 4 + 1_000 + CachedStore.entryOverheadBytes
        #expect(cache.entryCount <= 2 * (20_000 / perEntry + 1), "\(cache.entryCount) entries")
        #expect(cache.entryCount >= 20_000 / perEntry, "the newest entries are still held")
    }
}
