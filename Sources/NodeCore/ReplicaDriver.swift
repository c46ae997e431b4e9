import ChainTypes
import Ledger
import PBFT

/// What the driver asks the network to do.
public enum Outbound: Equatable, Sendable {
    case send(ConsensusMessage, to: Int)
    case broadcast(ConsensusMessage)
    /// Fetch committed blocks `fromHeight...toHeight` from `peers` (`ReplicaDriver.syncRange`
    /// on their side) and feed them back with `step(.synced(block, certificate))`, in order.
    case sync(fromHeight: UInt64, toHeight: UInt64, peers: [Int])
}

/// The one code that performs `ReplicaAction`s: it owns the PBFT replica and its application
/// (the single writer of the concurrency model) and turns the replica's actions into
/// application work, durable writes and messages for the network. The node and the
/// integration tests run it over the real ledger (`LedgerReplicaDriver`); the simulator runs
/// the same driver over its fast stand-in application and, in its real-ledger mode, over the
/// real ledger too.
///
/// - Blocks are validated by the application (`ReplicaApplication.rejection`), proposals are
///   built by it within the genesis limits, and a commit applies the block and settles the
///   pending work it included.
/// - Pending work is what makes a primary propose; the oldest pending transaction runs the
///   replica's request timer.
/// - Persist before send: `.persist` is written with `saveDurableState` (synced) before any
///   message of the same step is returned.
///
/// Invariant: messages returned by `step` are safe to send — everything they promise is
/// durable. When `step` throws, nothing it produced may be sent: the node stops and restarts
/// from what its store holds.
public final class ReplicaDriver<App: ReplicaApplication> {
    /// The application the replica runs over.
    public let app: App
    public private(set) var replica: PBFTReplica
    /// The local clock as of the last tick (proposal timestamps, mempool expiry).
    public private(set) var nowMillis: UInt64 = 0
    #if HANSA_FLAWS
    /// The mutation build's `send-before-persist`: the last step's state, written only when
    /// the next step begins — after that step's messages have left.
    var deferredPersist: DurableState?
    #endif

    /// Starts (or restarts) a replica on `app`, from the durable state the application holds.
    public init(app: App, config: ReplicaConfig, crypto: any ConsensusCrypto) throws(DriverError) {
        self.app = app
        let state = try app.loadDurableState()
        replica = PBFTReplica(config: config, crypto: crypto, validator: ApplicationValidator(app: app), tip: app.head,
                              durable: state ?? DurableState())
    }

    /// The tick input for `nowMillis`: the application's pending-work report and its oldest
    /// pending transaction, which PBFT's request timer waits for (a primary that commits
    /// blocks without it is changed).
    public func tickInput(nowMillis: UInt64) -> ReplicaInput {
        .tick(nowMillis: nowMillis, hasPendingWork: app.hasPendingWork(nowMillis: nowMillis), oldestPending: app.oldestPending())
    }

    /// One tick of the local clock (`tickInput`, stepped).
    public func tick(nowMillis: UInt64) throws(DriverError) -> [Outbound] {
        try step(tickInput(nowMillis: nowMillis))
    }

    /// Steps the replica and performs its actions in order, feeding back what the
    /// application produces (proposals) once the batch that asked for it is done, until
    /// nothing is left; returns the messages to send. A `.tick` input sets the driver's clock.
    public func step(_ input: ReplicaInput) throws(DriverError) -> [Outbound] {
        if case .tick(let now, _, _) = input { nowMillis = now }
        #if HANSA_FLAWS
        if let state = deferredPersist {
            deferredPersist = nil
            try app.saveDurableState(state)
        }
        #endif
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
            #if HANSA_FLAWS
            if replica.config.flaw == .sendBeforePersist { deferredPersist = state; return nil }
            #endif
            try app.saveDurableState(state)
        case .send(let message, let to):
            out.append(.send(message, to: to))
        case .broadcast(let message):
            out.append(.broadcast(message))
        case .buildProposal(let height, let view, let parent):
            let proposer = replica.config.validators.validators[replica.config.selfIndex].address
            return .proposal(try app.buildProposal(height: height, view: view, parent: parent, proposer: proposer, nowMillis: nowMillis))
        case .commit(let block, let certificate):
            try app.commit(block, certificate: certificate, nowMillis: nowMillis)
        case .requestSync(let from, let to, let peers):
            out.append(.sync(fromHeight: from, toHeight: to, peers: peers))
        }
        return nil
    }

    /// Committed blocks `fromHeight...toHeight` for a peer's `.sync` (the application's
    /// `syncRange`: bounded, in order).
    public func syncRange(fromHeight: UInt64, toHeight: UInt64) -> [(Block, CommitCertificate)] {
        app.syncRange(fromHeight: fromHeight, toHeight: toHeight)
    }
}

/// The driver over the real ledger and mempool: what the node runs.
public typealias LedgerReplicaDriver = ReplicaDriver<LedgerApplication>

extension ReplicaDriver where App == LedgerApplication {
    /// Starts (or restarts) a replica on `ledger`, from the durable state stored with it.
    public convenience init(ledger: Ledger, mempool: Mempool, config: ReplicaConfig, crypto: any ConsensusCrypto) throws(DriverError) {
        try self.init(app: LedgerApplication(ledger: ledger, mempool: mempool), config: config, crypto: crypto)
    }

    public var ledger: Ledger { app.ledger }
    public var mempool: Mempool { app.mempool }
    /// The snapshot readers use (RPC, sync serving); replaced after every commit.
    public var snapshot: LedgerSnapshot? { app.snapshot }

    /// Admits a client's transaction to the mempool (`LedgerApplication.submit`).
    public func submit(_ tx: Transaction, nowMillis: UInt64) throws(TransactionError) {
        try app.submit(tx, nowMillis: nowMillis)
    }

    /// Whether a block is wanted (`LedgerApplication.hasPendingWork`).
    public func hasPendingWork(nowMillis: UInt64) -> Bool { app.hasPendingWork(nowMillis: nowMillis) }

    /// Most blocks one sync answer carries, and most bytes.
    public static var maxSyncBlocks: Int { LedgerApplication.maxSyncBlocks }
    public static var maxSyncBytes: Int { LedgerApplication.maxSyncBytes }

    /// Committed blocks from `reader` (`LedgerApplication.syncRange(from:fromHeight:toHeight:)`).
    public static func syncRange(from reader: some LedgerReader, fromHeight: UInt64, toHeight: UInt64) throws(LedgerError)
        -> [(Block, CommitCertificate)] {
        try LedgerApplication.syncRange(from: reader, fromHeight: fromHeight, toHeight: toHeight)
    }
}
