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
        for (tx, receipt) in zip(block.transactions, list) where receipts.count < Self.maxReceiptsRemembered {
            guard given.insert(GivenKey(node: node, transaction: tx.hash)).inserted else { continue }
            receipts.append(Given(node: node, transaction: tx.hash, height: h, receipt: receipt))
        }
    }

    /// Every receipt node `node` gave is still in `ledger`, at its height (after a restart).
    mutating func checkKept(node: Int, ledger: Ledger, when: String) {
        for g in receipts where g.node == node {
            if let lost = Self.loss(of: g, in: ledger) {
                failures.append("receipt lost: transaction \(g.transaction) got a receipt at height \(g.height) at node \(node); \(when) \(lost)")
                return
            }
        }
    }

    /// Every receipt any honest replica gave is in each honest `ledger` that reaches its height.
    mutating func checkEverywhere(_ ledgers: [(node: Int, ledger: Ledger)]) {
        for (node, ledger) in ledgers {
            for g in receipts where g.height <= ledger.head.height {
                if let lost = Self.loss(of: g, in: ledger) {
                    failures.append("receipt lost: transaction \(g.transaction) got a receipt at height \(g.height) at node \(g.node); at the end node \(node) \(lost)")
                    return
                }
            }
        }
    }

    /// How `ledger` fails to keep the receipt, or nil when it keeps it.
    static func loss(of g: Given, in ledger: Ledger) -> String? {
        let found: (transaction: Transaction, height: UInt64, index: Int, receipt: Receipt)?
        do { found = try ledger.transaction(g.transaction) } catch { return "cannot read it: \(error)" }
        guard let found else { return "has no receipt for it (head \(ledger.head.height))" }
        guard found.height == g.height else { return "has it at height \(found.height)" }
        guard found.receipt == g.receipt else { return "has another receipt for it" }
        return nil
    }
}
