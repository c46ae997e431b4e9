import ChainTypes
import Ledger
import PBFT

/// The real application: the `Ledger` and the `Mempool`, with the replica's durable state in
/// the ledger's own store. What the node runs, and the simulator in its real-ledger mode.
///
/// - Blocks are validated by executing them on the ledger (`Ledger.rejection`), proposals are
///   built with `Ledger.propose` from `Mempool.select` within the genesis limits, and a
///   commit applies the block and prunes the mempool.
/// - Pending work — transactions in the mempool a block could take (not those parked above a
///   nonce gap) or a scheduled call that is due — is what makes a primary propose.
/// - The durable state is written under `DurableStateStore.key` with a synced batch of its own.
public final class LedgerApplication: ReplicaApplication {
    public let ledger: Ledger
    public let mempool: Mempool
    let durable: DurableStateStore
    /// The snapshot readers use (RPC, sync serving); replaced after every commit. nil when
    /// the store cannot take snapshots (the simulator's): then sync is served by the writer.
    public private(set) var snapshot: LedgerSnapshot?
    /// Accounts' next nonces as of the head, read once per head: the mempool asks for every
    /// sender's on each tick (`oldestReady`) and each proposal. Emptied by every commit.
    private var nonces: [Address: UInt64] = [:]
    /// The earliest pending scheduled call's time as of the head (nil inside: none), read
    /// once per head; nil until read. Emptied by every commit.
    private var earliestScheduledMillis: UInt64??

    public init(ledger: Ledger, mempool: Mempool) {
        self.ledger = ledger
        self.mempool = mempool
        durable = DurableStateStore(store: ledger.store)
        snapshot = try? ledger.snapshot()
    }

    public var head: ChainTip { ledger.head }

    /// Admits a client's transaction to the mempool (checked against the committed state),
    /// stamped with the shell's clock — not the last tick's, which is 0 before the first tick
    /// and would make the transaction expire at the next commit.
    public func submit(_ tx: Transaction, nowMillis: UInt64) throws(TransactionError) {
        try mempool.add(tx, state: ledger.store, nowMillis: nowMillis)
    }

    /// A block must extend the ledger's head and execute to the roots its header claims.
    /// PBFT's validator protocol speaks sentences, so the ledger's typed `BlockRejection`
    /// becomes its description; a ledger that cannot read its state refuses too — a replica
    /// must not prepare what it could not check.
    public func rejection(of block: Block, parent: ChainTip) -> String? {
        guard parent.hash == ledger.head.hash else { return "parent \(parent.height) is not the ledger's head \(ledger.head.height)" }
        do { return try ledger.rejection(of: block)?.description } catch { return "the ledger cannot check the block: \(error)" }
    }

    public func hasPendingWork(nowMillis: UInt64) -> Bool {
        if mempool.readyCount > 0 { return true }
        if earliestScheduledMillis == nil {
            guard let calls = try? ledger.pendingScheduledCalls(limit: 1) else { return false }
            earliestScheduledMillis = .some(calls.first?.atMillis)
        }
        return (earliestScheduledMillis ?? nil).map { $0 <= nowMillis } ?? false
    }

    public func oldestPending() -> Hash? { mempool.oldestReady(nextNonce: nextNonce) }

    func nextNonce(_ a: Address) -> UInt64 {
        if let n = nonces[a] { return n }
        guard let n = try? ledger.account(a)?.nonce ?? 0 else { return 0 }
        nonces[a] = n
        return n
    }

    /// The mempool's candidates for the next block, within the genesis limits' count, bytes
    /// and gas (`Mempool.select`), before the ledger fits them exactly.
    public func proposalCandidates() -> [Transaction] {
        let limits = ledger.genesis.consensus
        return mempool.select(maxCount: Int(limits.maxBlockTransactions),
                              maxBytes: Int(limits.maxBlockBytes) - Executor.headerAllowanceBytes,
                              maxGas: limits.maxBlockGas, nextNonce: nextNonce)
    }

    /// A block of `candidates` (in order, fitted to the genesis limits by `Ledger.propose`)
    /// for (height, view) on `parent`, stamped with `nowMillis` (after the parent's time).
    public func propose(_ candidates: [Transaction], height: UInt64, view: UInt64, parent: ChainTip, proposer: Address,
                        nowMillis: UInt64) throws(DriverError) -> Block {
        let header = BlockHeader(height: height, previousHash: parent.hash, timestampMillis: max(nowMillis, parent.timestampMillis + 1),
                                 transactionsRoot: .zero, stateRoot: .zero, receiptsRoot: .zero, proposer: proposer, view: view)
        do { return try ledger.propose(candidates, header: header) } catch { throw .ledger(error) }
    }

    public func buildProposal(height: UInt64, view: UInt64, parent: ChainTip, proposer: Address,
                              nowMillis: UInt64) throws(DriverError) -> Block {
        try propose(proposalCandidates(), height: height, view: view, parent: parent, proposer: proposer, nowMillis: nowMillis)
    }

    public func commit(_ block: Block, certificate: CommitCertificate, nowMillis: UInt64) throws(DriverError) {
        nonces.removeAll(keepingCapacity: true)
        earliestScheduledMillis = nil
        do { try ledger.apply(block, certificate: certificate) } catch { throw .ledger(error) }
        mempool.prune(nextNonce: nextNonce, nowMillis: nowMillis)
        snapshot = try? ledger.snapshot()
    }

    public func saveDurableState(_ state: DurableState) throws(DriverError) { try durable.save(state) }

    public func loadDurableState() throws(DriverError) -> DurableState? { try durable.load() }

    /// From the latest snapshot, or — when the store takes none — from the ledger itself
    /// (the caller is then the writer, between steps).
    public func syncRange(fromHeight: UInt64, toHeight: UInt64) -> [(Block, CommitCertificate)] {
        if let snapshot { return (try? Self.syncRange(from: snapshot, fromHeight: fromHeight, toHeight: toHeight)) ?? [] }
        return (try? Self.syncRange(from: ledger, fromHeight: fromHeight, toHeight: toHeight)) ?? []
    }

    /// Most blocks one sync answer carries, and most bytes.
    public static let maxSyncBlocks = 64
    public static let maxSyncBytes = 16 * 1024 * 1024

    /// Committed blocks `fromHeight...toHeight` with their certificates, from `reader` (a
    /// snapshot: serving sync never touches the writer), at most `maxSyncBlocks` and
    /// `maxSyncBytes` (always at least one block when there is one).
    public static func syncRange(from reader: some LedgerReader, fromHeight: UInt64, toHeight: UInt64) throws(LedgerError)
        -> [(Block, CommitCertificate)] {
        guard fromHeight >= 1, fromHeight <= toHeight else { return [] }
        var out: [(Block, CommitCertificate)] = []
        var bytes = 0
        var height = fromHeight
        while height <= min(toHeight, reader.head.height), out.count < maxSyncBlocks {
            guard let block = try reader.block(at: height), let certificate = try reader.certificate(at: height) else { break }
            bytes += block.canonicalBytes.count
            if !out.isEmpty && bytes > maxSyncBytes { break }
            out.append((block, certificate))
            height += 1
        }
        return out
    }
}

/// Where the replica's `DurableState` lives: one key in the ledger's own store, written with
/// a synced batch of its own (docs/LEDGER.md key layout: `m/pbft-durable`).
struct DurableStateStore {
    static let key = Array("m/pbft-durable".utf8)
    let store: any KeyValueStore

    func save(_ state: DurableState) throws(DriverError) {
        var batch = StoreBatch()
        batch.put(Self.key, state.canonicalBytes)
        do { try store.write(batch, sync: true) } catch { throw .durableState("could not write it: \(error)") }
    }

    func load() throws(DriverError) -> DurableState? {
        let bytes: [UInt8]?
        do { bytes = try store.get(Self.key) } catch { throw .durableState("could not read it: \(error)") }
        guard let bytes else { return nil }
        do { return try DurableState(canonicalBytes: bytes) } catch { throw .durableState("the stored state does not decode: \(error)") }
    }
}
