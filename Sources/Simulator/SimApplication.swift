import ChainTypes
import NodeCore
import PBFT

/// The transactions clients submitted, the oracle for the validity checker: only these may
/// ever commit.
final class SubmittedTransactions {
    private(set) var byHash: [Hash: Transaction] = [:]
    private(set) var order: [Hash] = []

    func add(_ tx: Transaction) {
        guard byHash.updateValue(tx, forKey: tx.hash) == nil else { return }
        order.append(tx.hash)
    }

    func contains(_ hash: Hash) -> Bool { byHash[hash] != nil }
}

/// One node's committed chain: what survives its crashes. In the fast mode it is the
/// application's ledger; in the real-ledger mode a record of what the real ledger committed
/// (read by the byzantine rewriting, the client and the status line).
final class SimLedger {
    private(set) var blocks: [(Block, CommitCertificate)] = []
    private(set) var committedTransactions: Set<Hash> = []
    let genesis: ChainTip

    init(genesis: ChainTip) { self.genesis = genesis }

    var tip: ChainTip {
        guard let (block, cert) = blocks.last else { return genesis }
        return ChainTip(height: block.header.height, hash: block.hash, timestampMillis: block.header.timestampMillis,
                        certificate: cert)
    }

    var height: UInt64 { UInt64(blocks.count) }

    /// Appends the next block; returns the hashes of transactions it had already committed.
    func append(_ block: Block, _ cert: CommitCertificate) -> [Hash] {
        precondition(block.header.height == height + 1, "ledger append out of order")
        blocks.append((block, cert))
        var repeated: [Hash] = []
        for tx in block.transactions where !committedTransactions.insert(tx.hash).inserted { repeated.append(tx.hash) }
        return repeated
    }

    /// Drops the blocks above `height` (a real ledger reopened lower than the record).
    func truncate(to height: UInt64) {
        guard height < self.height else { return }
        blocks.removeLast(Int(self.height - height))
        committedTransactions = Set(blocks.flatMap { $0.0.transactions.map(\.hash) })
    }

    func block(at height: UInt64) -> (Block, CommitCertificate)? {
        guard height >= 1, height <= self.height else { return nil }
        return blocks[Int(height - 1)]
    }
}

/// What the cluster asks of a node's application besides what the driver does: the client
/// side (offering transactions) and what the checkers read. Both of the simulator's
/// applications — the fast stand-in and the real ledger — provide it.
protocol SimApp: ReplicaApplication {
    /// Offers a client's transaction; false when the application refuses it (the client
    /// offers it again later).
    func offer(_ tx: Transaction, order: Int, nowMillis: UInt64) -> Bool
    /// Whether the transaction waits in this incarnation's mempool.
    func holds(_ hash: Hash) -> Bool
}

/// The driver as the cluster sees it, whatever application it runs.
protocol SimDriver: AnyObject {
    var replica: PBFTReplica { get }
    func tickInput(nowMillis: UInt64) -> ReplicaInput
    func step(_ input: ReplicaInput) throws(DriverError) -> [Outbound]
    func syncRange(fromHeight: UInt64, toHeight: UInt64) -> [(Block, CommitCertificate)]
}

extension ReplicaDriver: SimDriver {}

/// The fast stand-in application: roots are deterministic functions of the block's content,
/// and a transaction is valid when a client submitted it, it is not yet in the chain, and
/// (with real crypto) its signature verifies. Its chain (`SimNode.chain`) and durable state
/// (`SimDisk`) survive crashes; its mempool is this incarnation's. Both its writes — the
/// durable state and each committed block — go through the node's `StoreFaults`, so a crash
/// can land at either.
final class SimApplication: SimApp {
    unowned let node: SimNode
    unowned let cluster: Cluster
    let checkTransactionSignatures: Bool
    var mempool: [Hash: (order: Int, tx: Transaction)] = [:]

    init(node: SimNode, cluster: Cluster, checkTransactionSignatures: Bool) {
        self.node = node
        self.cluster = cluster
        self.checkTransactionSignatures = checkTransactionSignatures
    }

    var ledger: SimLedger { node.chain }
    var head: ChainTip { ledger.tip }

    static func stateRoot(parent: Hash, transactionsRoot: Hash) -> Hash {
        SHA256.hash(parent.bytes + transactionsRoot.bytes)
    }

    static func receiptsRoot(_ txs: [Transaction]) -> Hash {
        MerkleTree.root(leaves: txs.map { SHA256.hash([0x72] + $0.hash.bytes) })
    }

    func rejection(of block: Block, parent: ChainTip) -> String? {
        var seen = Set<Hash>()
        for tx in block.transactions {
            let h = tx.hash
            guard cluster.submitted.contains(h) else { return "transaction \(h) was never submitted" }
            guard !ledger.committedTransactions.contains(h), seen.insert(h).inserted else { return "transaction \(h) repeats" }
            if checkTransactionSignatures && !tx.verifySignature() { return "transaction \(h) has a bad signature" }
        }
        let header = block.header
        guard header.stateRoot == Self.stateRoot(parent: parent.hash, transactionsRoot: header.transactionsRoot) else {
            return "state root does not match"
        }
        guard header.receiptsRoot == Self.receiptsRoot(block.transactions) else { return "receipts root does not match" }
        return nil
    }

    static func build(height: UInt64, view: UInt64, parent: ChainTip, proposer: Address, now: UInt64,
                      transactions: [Transaction]) -> Block {
        let txRoot = Block.transactionsRoot(transactions)
        let header = BlockHeader(height: height, previousHash: parent.hash, timestampMillis: max(now, parent.timestampMillis + 1),
                                 transactionsRoot: txRoot,
                                 stateRoot: stateRoot(parent: parent.hash, transactionsRoot: txRoot),
                                 receiptsRoot: receiptsRoot(transactions), proposer: proposer, view: view)
        return Block(header: header, transactions: transactions)
    }

    func buildProposal(height: UInt64, view: UInt64, parent: ChainTip, proposer: Address, nowMillis: UInt64) throws(DriverError) -> Block {
        cluster.traceAction(node, .buildProposal(height: height, view: view, parent: parent))
        var transactions = pending(limit: Int(SimConfig.parameters.maxBlockTransactions))
        if node.byzantine?.behaviour == .censoringPrimary { transactions = node.byzantine!.censor(transactions, ledger: ledger) }
        let block = Self.build(height: height, view: view, parent: parent, proposer: proposer, now: nowMillis, transactions: transactions)
        cluster.traceProposal(node, block)
        return block
    }

    func commit(_ block: Block, certificate: CommitCertificate, nowMillis: UInt64) throws(DriverError) {
        cluster.traceAction(node, .commit(block, certificate))
        var repeated: [Hash] = []
        do {
            try node.disk.faults.write { repeated = ledger.append(block, certificate) }
        } catch {
            if node.disk.faults.landedLastWrite { cluster.committed(node, block, certificate, repeated: repeated) }
            throw .ledger(.store(error))
        }
        cluster.committed(node, block, certificate, repeated: repeated)
        for tx in block.transactions { mempool.removeValue(forKey: tx.hash) }
    }

    /// Mempool transactions not yet in the chain, in submission order, at most `limit`.
    func pending(limit: Int) -> [Transaction] {
        mempool.values.filter { !ledger.committedTransactions.contains($0.tx.hash) }
            .sorted { $0.order < $1.order }.prefix(limit).map(\.tx)
    }

    func hasPendingWork(nowMillis: UInt64) -> Bool {
        mempool.values.contains { !ledger.committedTransactions.contains($0.tx.hash) }
    }

    /// The pending transaction submitted first: the request the replica's timer waits for. A
    /// censoring primary's own core is not told what it waits for: it never times itself out,
    /// the honest replicas must.
    func oldestPending() -> Hash? {
        guard node.byzantine?.behaviour != .censoringPrimary else { return nil }
        return mempool.values.filter { !ledger.committedTransactions.contains($0.tx.hash) }.min { $0.order < $1.order }?.tx.hash
    }

    func saveDurableState(_ state: DurableState) throws(DriverError) {
        cluster.traceAction(node, .persist(state))
        let disk = node.disk
        do { try disk.faults.write { disk.durable = state } } catch { throw .durableState("could not write it: \(error)") }
    }

    func loadDurableState() throws(DriverError) -> DurableState? { node.disk.durable }

    /// Up to 64 blocks from `fromHeight` (the real driver's bound).
    func syncRange(fromHeight: UInt64, toHeight: UInt64) -> [(Block, CommitCertificate)] {
        guard fromHeight >= 1, fromHeight <= toHeight, ledger.height >= fromHeight else { return [] }
        let last = min(toHeight, ledger.height, fromHeight + UInt64(LedgerApplication.maxSyncBlocks) - 1)
        return (fromHeight...last).compactMap { ledger.block(at: $0) }
    }

    func offer(_ tx: Transaction, order: Int, nowMillis: UInt64) -> Bool {
        if mempool[tx.hash] == nil { mempool[tx.hash] = (order, tx) }
        return true
    }

    func holds(_ hash: Hash) -> Bool { mempool[hash] != nil }
}
