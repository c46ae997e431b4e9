/// A store that can hand out consistent read-only views of itself. Readers beside the one
/// writer (RPC queries, sync serving) read such a view and never block it (docs/LEDGER.md
/// "Concurrency model").
public protocol SnapshotProviding: KeyValueStore {
    /// What the store holds now; later writes are invisible to it.
    func readSnapshot() -> any KeyValueStore & Sendable
}

/// What a read-only store answers to a write.
public enum ReadOnlyStore {
    public static let refusal = StoreError(operation: "write",
                                           message: "the store is read-only (a snapshot, or a data directory opened read-only); nothing was written")
}

/// A frozen copy of a `MemoryStore`: the in-memory snapshot.
final class FrozenStore: KeyValueStore, Sendable {
    let entries: [[UInt8]: [UInt8]]
    init(_ entries: [[UInt8]: [UInt8]]) { self.entries = entries }

    func get(_ key: [UInt8]) throws(StoreError) -> [UInt8]? { entries[key] }
    func write(_ batch: StoreBatch, sync: Bool) throws(StoreError) { throw ReadOnlyStore.refusal }
    func scan(prefix: [UInt8], from start: [UInt8]?, _ body: ([UInt8], [UInt8]) -> Bool) throws(StoreError) {
        MemoryStore.scan(entries, prefix: prefix, from: start, body)
    }
}

extension MemoryStore: SnapshotProviding {
    /// A copy of the entries (O(n): for tests and tools; a node uses LevelDB's snapshots).
    public func readSnapshot() -> any KeyValueStore & Sendable { FrozenStore(entries) }
}
