import ChainTypes
import Ledger

/// The real-ledger mode's own safety checks, beside agreement on blocks (`Checkers`):
/// - **state roots**: every honest replica holds the same state at every height it committed
///   — the root of the state tree its store holds after applying the block, not only the
///   header's claim — and that root is the header's;
/// - **no receipt lost**: a transaction that got a receipt at an honest replica keeps it, at
///   that height, with that content — after crashes and restarts (checked each time the
///   replica reopens its ledger) and at the end of the run (at every honest replica whose
///   chain reaches that height).
struct LedgerCheckers {
    /// The first honest replica's stored state root per height, with that replica.
    var roots: [UInt64: (node: Int, root: Hash)] = [:]
    /// Every receipt an honest replica gave, in the order given (what the end check walks).
    var receipts: [Given] = []
    /// The (replica, transaction) pairs in `receipts`: a repeat is not remembered twice.
    var given: Set<GivenKey> = []
    var failures: [String] = []

    struct Given {
        let node: Int
        let transaction: Hash
        let height: UInt64
        /// Its place in the block (and among the block's transaction receipts).
        let index: Int
        let receipt: Receipt
    }

    struct GivenKey: Hashable {
        let node: Int
        let transaction: Hash
    }

    /// At most this many receipts are remembered (a run commits far fewer).
    static let maxReceiptsRemembered = 1 << 20

    /// Node `node` cannot read back what it just applied at `height`.
    mutating func unreadable(node: Int, height: UInt64, _ what: String, _ error: any Error) {
        failures.append("\(what): node \(node) cannot read back what it applied at height \(height): \(error)")
    }

    /// `root` is the root of the state tree node `node`'s store holds after applying `block`.
    mutating func checkStateRoot(node: Int, block: Block, stored root: Hash) {
        let h = block.header.height
        if root != block.header.stateRoot {
            failures.append("state root: after applying height \(h) node \(node)'s store holds state root \(root), the header says \(block.header.stateRoot)")
        }
        if let first = roots[h] {
            if first.root != root {
                failures.append("state root: node \(node) holds state root \(root) at height \(h), node \(first.node) holds \(first.root)")
            }
        } else {
            roots[h] = (node, root)
        }
    }

    /// `list` is what node `node`'s ledger gives back as the receipts of `block`'s transactions.
    mutating func noteReceipts(node: Int, block: Block, receipts list: [Receipt]) {
        let h = block.header.height
        guard list.count == block.transactions.count else {
            failures.append("receipts: node \(node) applied height \(h) but cannot read one receipt per transaction back")
            return
        }
        for (i, (tx, receipt)) in zip(block.transactions, list).enumerated() where receipts.count < Self.maxReceiptsRemembered {
            guard given.insert(GivenKey(node: node, transaction: tx.hash)).inserted else { continue }
            receipts.append(Given(node: node, transaction: tx.hash, height: h, index: i, receipt: receipt))
        }
    }

    /// Every receipt node `node` gave is still in `ledger`, at its height (after a restart).
    mutating func checkKept(node: Int, ledger: Ledger, when: String) {
        var reader = HeightReader(ledger: ledger)
        for g in receipts where g.node == node {
            if let lost = reader.loss(of: g) {
                failures.append("receipt lost: transaction \(g.transaction) got a receipt at height \(g.height) at node \(node); \(when) \(lost)")
                return
            }
        }
    }

    /// Every receipt any honest replica gave is in each honest `ledger` that reaches its height.
    mutating func checkEverywhere(_ ledgers: [(node: Int, ledger: Ledger)]) {
        for (node, ledger) in ledgers {
            var reader = HeightReader(ledger: ledger)
            for g in receipts where g.height <= ledger.head.height {
                if let lost = reader.loss(of: g) {
                    failures.append("receipt lost: transaction \(g.transaction) got a receipt at height \(g.height) at node \(g.node); at the end node \(node) \(lost)")
                    return
                }
            }
        }
    }
}

/// A ledger's blocks and transaction receipts, read once per height (the checks walk many
/// receipts of few heights).
struct HeightReader {
    let ledger: Ledger
    var read: [UInt64: (block: Block, receipts: [Receipt])?] = [:]

    init(ledger: Ledger) { self.ledger = ledger }

    /// How the ledger fails to keep the receipt `g` — the transaction at its index of the
    /// block at its height, with that receipt — or nil when it keeps it.
    mutating func loss(of g: LedgerCheckers.Given) -> String? {
        if read[g.height] == nil {
            do {
                let block = try ledger.block(at: g.height)
                let receipts = try ledger.blockReceipts(at: g.height)?.transactions
                read[g.height] = block.flatMap { b in receipts.map { (b, $0) } }
            } catch {
                return "cannot read height \(g.height): \(error)"
            }
        }
        guard let (block, receipts) = read[g.height] ?? nil else { return "has no block at height \(g.height) (head \(ledger.head.height))" }
        guard g.index < block.transactions.count, block.transactions[g.index].hash == g.transaction, g.index < receipts.count else {
            return "has another block at height \(g.height)"
        }
        return receipts[g.index] == g.receipt ? nil : "has another receipt for it"
    }
}
