import ChainTypes
import PBFT

/// One simulated validator: a replica, its durable state and ledger (which survive crashes),
/// its mempool, and — for a byzantine validator — the rewriting of its output.
final class SimNode {
    let index: Int
    let address: Address
    let crypto: any ConsensusCrypto
    let ledger: SimLedger
    var replica: PBFTReplica?
    /// What the replica last persisted: all that survives a crash besides the ledger.
    var durable = DurableState()
    var mempool: [Hash: (order: Int, tx: Transaction)] = [:]
    var byzantine: ByzantineRewriter?
    /// When set, the node crashes after this many more actions (a crash mid-batch).
    var crashAfterActions: Int?
    var committedAfterHeal: Int?
    /// The clock its replica last ticked with (0 before the first tick of an incarnation):
    /// the `nowMillis` the replica judges proposals by.
    var clockMillis: UInt64 = 0

    init(index: Int, address: Address, crypto: any ConsensusCrypto, ledger: SimLedger) {
        self.index = index
        self.address = address
        self.crypto = crypto
        self.ledger = ledger
    }

    var isUp: Bool { replica != nil }
    var isHonest: Bool { byzantine == nil }

    func start(config: ReplicaConfig, validator: any BlockValidator) {
        replica = PBFTReplica(config: config, crypto: crypto, validator: validator, tip: ledger.tip, durable: durable)
        clockMillis = 0
    }

    func crash() {
        replica = nil
        mempool.removeAll()
        crashAfterActions = nil
    }

    /// Mempool transactions not yet in the chain, in submission order, at most `limit`.
    func pendingTransactions(limit: Int) -> [Transaction] {
        mempool.values.filter { !ledger.committedTransactions.contains($0.tx.hash) }
            .sorted { $0.order < $1.order }.prefix(limit).map(\.tx)
    }

    /// The pending transaction submitted first: the request the replica's timer waits for.
    var oldestPending: Hash? {
        mempool.values.filter { !ledger.committedTransactions.contains($0.tx.hash) }.min { $0.order < $1.order }?.tx.hash
    }

    var hasPendingWork: Bool {
        mempool.values.contains { !ledger.committedTransactions.contains($0.tx.hash) }
    }
}
