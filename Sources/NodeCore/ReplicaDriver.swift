import ChainTypes
import Ledger
import PBFT

/// Why the driver stopped. Every case is a local fault or a broken invariant, not bad input:
/// the node stops and restarts from its durable state (docs/LEDGER.md "Concurrency model").
public enum DriverError: Error, CustomStringConvertible, Sendable {
    /// The ledger failed (a store fault, or a committed block it refuses — which means a
    /// byzantine quorum or a non-deterministic execution).
    case ledger(LedgerError)
    /// The durable consensus state could not be written or read back.
    case durableState(String)

    public var description: String {
        switch self {
        case .ledger(let e): "ledger: \(e)"
        case .durableState(let why): "consensus state: \(why)"
        }
    }
}

/// What the driver asks the network to do.
public enum Outbound: Equatable, Sendable {
    case send(ConsensusMessage, to: Int)
    case broadcast(ConsensusMessage)
    /// Fetch committed blocks `fromHeight...toHeight` from `peers` (`ReplicaDriver.syncRange`
    /// on their side) and feed them back with `step(.synced(block, certificate))`, in order.
    case sync(fromHeight: UInt64, toHeight: UInt64, peers: [Int])
}

/// The one code that performs `ReplicaAction`s: it owns the ledger, the mempool and the PBFT
/// replica (the single writer of the concurrency model) and turns the replica's actions into
/// ledger work, durable writes and messages for the network.
///
/// - Blocks are validated by executing them on the ledger (`Ledger.rejection`), proposals are
///   built with `Ledger.propose` from `Mempool.select` within the genesis limits, and a
///   commit applies the block and prunes the mempool.
/// - Pending work — transactions in the mempool or a scheduled call that is due — is what
///   makes a primary propose.
/// - Persist before send: `.persist` writes the durable state under `DurableStateStore.key`
///   with a synced write before any message of the same step is returned.
///
/// Invariant: messages returned by `step` are safe to send — everything they promise is durable.
public final class ReplicaDriver {
    public let ledger: Ledger
    public let mempool: Mempool
    public private(set) var replica: PBFTReplica
    let durable: DurableStateStore
    /// The local clock as of the last tick (proposal timestamps, mempool expiry).
    public private(set) var nowMillis: UInt64 = 0
    /// The snapshot readers use (RPC, sync serving); replaced after every commit.
    public private(set) var snapshot: LedgerSnapshot?

    /// Starts (or restarts) a replica on `ledger`, from the durable state stored with it.
    public init(ledger: Ledger, mempool: Mempool, config: ReplicaConfig, crypto: any ConsensusCrypto) throws(DriverError) {
        self.ledger = ledger
        self.mempool = mempool
        durable = DurableStateStore(store: ledger.store)
        let state = try durable.load()
        replica = PBFTReplica(config: config, crypto: crypto, validator: LedgerBlockValidator(ledger: ledger), tip: ledger.head,
                              durable: state ?? DurableState())
        snapshot = try? ledger.snapshot()
    }

    /// Whether a block is wanted: transactions a block could take wait (not those parked above
    /// a nonce gap), or a scheduled call is due.
    public func hasPendingWork(nowMillis: UInt64) -> Bool {
        mempool.readyCount > 0 || ((try? ledger.pendingScheduledCalls(limit: 1))?.first.map { $0.atMillis <= nowMillis } ?? false)
    }

    /// One tick of the local clock, with the pending-work report and the mempool's oldest
    /// ready transaction, which PBFT's request timer waits for (a primary that commits blocks
    /// without it is changed).
    public func tick(nowMillis: UInt64) throws(DriverError) -> [Outbound] {
        self.nowMillis = nowMillis
        return try step(.tick(nowMillis: nowMillis, hasPendingWork: hasPendingWork(nowMillis: nowMillis),
                              oldestPending: mempool.oldestReady(nextNonce: nextNonce)))
    }

    /// Admits a client's transaction to the mempool (checked against the committed state),
    /// stamped with the shell's clock — not the last tick's, which is 0 before the first tick
    /// and would make the transaction expire at the next commit.
    public func submit(_ tx: Transaction, nowMillis: UInt64) throws(TransactionError) {
        try mempool.add(tx, state: ledger.store, nowMillis: nowMillis)
    }

    /// Steps the replica and performs its actions in order, feeding back what the shell
    /// produces (proposals), until nothing is left; returns the messages to send.
    public func step(_ input: ReplicaInput) throws(DriverError) -> [Outbound] {
        var pending = [input]
        var out: [Outbound] = []
        while !pending.isEmpty {
            let actions = replica.step(pending.removeFirst())
            for action in actions {
                if let next = try perform(action, into: &out) { pending.append(next) }
            }
        }
        return out
    }

    private func perform(_ action: ReplicaAction, into out: inout [Outbound]) throws(DriverError) -> ReplicaInput? {
        switch action {
        case .persist(let state):
            try durable.save(state)
        case .send(let message, let to):
            out.append(.send(message, to: to))
        case .broadcast(let message):
            out.append(.broadcast(message))
        case .buildProposal(let height, let view, let parent):
            return .proposal(try buildProposal(height: height, view: view, parent: parent))
        case .commit(let block, let certificate):
            do { try ledger.apply(block, certificate: certificate) } catch { throw .ledger(error) }
            mempool.prune(nextNonce: nextNonce, nowMillis: nowMillis)
            snapshot = try? ledger.snapshot()
        case .requestSync(let from, let to, let peers):
            out.append(.sync(fromHeight: from, toHeight: to, peers: peers))
        }
        return nil
    }

    func nextNonce(_ a: Address) -> UInt64 { (try? ledger.account(a)?.nonce) ?? 0 }

    /// A block for (height, view) on `parent`: the mempool's candidates fitted to the genesis
    /// limits by `Ledger.propose`, stamped with the local clock (after the parent's time).
    func buildProposal(height: UInt64, view: UInt64, parent: ChainTip) throws(DriverError) -> Block {
        let limits = ledger.genesis.consensus
        let candidates = mempool.select(maxCount: Int(limits.maxBlockTransactions),
                                        maxBytes: Int(limits.maxBlockBytes) - Executor.headerAllowanceBytes,
                                        maxGas: limits.maxBlockGas, nextNonce: nextNonce)
        let proposer = replica.config.validators.validators[replica.config.selfIndex].address
        let header = BlockHeader(height: height, previousHash: parent.hash, timestampMillis: max(nowMillis, parent.timestampMillis + 1),
                                 transactionsRoot: .zero, stateRoot: .zero, receiptsRoot: .zero, proposer: proposer, view: view)
        do { return try ledger.propose(candidates, header: header) } catch { throw .ledger(error) }
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

/// The ledger as PBFT's block validator: a block must extend the ledger's head and execute
/// to the roots its header claims. PBFT's validator protocol speaks sentences, so the ledger's
/// typed `BlockRejection` becomes its description; a ledger that cannot read its state refuses
/// too — a replica must not prepare what it could not check.
struct LedgerBlockValidator: BlockValidator {
    let ledger: Ledger
    func rejection(of block: Block, parent: ChainTip) -> String? {
        guard parent.hash == ledger.head.hash else { return "parent \(parent.height) is not the ledger's head \(ledger.head.height)" }
        do { return try ledger.rejection(of: block)?.description } catch { return "the ledger cannot check the block: \(error)" }
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
