import ChainTypes

/// The chain as it stood at one head: a Sendable, read-only view that RPC queries and sync
/// serving read on any thread while the one writer goes on committing (docs/LEDGER.md
/// "Concurrency model"). It answers every `LedgerReader` query — blocks, receipts, accounts
/// with proofs, contract storage, read-only calls — from a store snapshot taken with it, so
/// its answers agree with its `head` and `stateRoot` whatever the writer does meanwhile.
public struct LedgerSnapshot: LedgerReader, Sendable {
    let snapshotStore: any KeyValueStore & Sendable
    public let genesis: Genesis
    public let head: ChainTip
    public let stateRoot: Hash
    public let executor: Executor

    public var store: any KeyValueStore { snapshotStore }
}

extension Ledger {
    /// A snapshot of the chain at the current head. The writer calls it (between blocks, as
    /// the one owner of the ledger) and hands the value to readers. Throws when the store
    /// cannot take snapshots.
    public func snapshot() throws(LedgerError) -> LedgerSnapshot {
        let base = (store as? CachedStore)?.inner ?? store
        guard let provider = base as? SnapshotProviding else {
            throw .store(StoreError(operation: "snapshot", message: "this store cannot take snapshots"))
        }
        // The cache writes through before it remembers, so the base store holds the head block.
        return LedgerSnapshot(snapshotStore: provider.readSnapshot(), genesis: genesis, head: head, stateRoot: stateRoot, executor: executor)
    }
}
