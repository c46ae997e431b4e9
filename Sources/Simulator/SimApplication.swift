import ChainTypes
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

/// One node's committed chain: what survives its crashes, like the LevelDB ledger will.
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

    func block(at height: UInt64) -> (Block, CommitCertificate)? {
        guard height >= 1, height <= self.height else { return nil }
        return blocks[Int(height - 1)]
    }
}

/// The simulated application: roots are deterministic functions of the block's content, and
/// a transaction is valid when a client submitted it, it is not yet in the chain, and (with
/// real crypto) its signature verifies.
struct SimApplication: BlockValidator {
    let ledger: SimLedger
    let submitted: SubmittedTransactions
    let checkTransactionSignatures: Bool

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
            guard submitted.contains(h) else { return "transaction \(h) was never submitted" }
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
}
