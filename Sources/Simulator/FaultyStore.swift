import ChainTypes
import Ledger
import PBFT

/// The faults one node's storage injects, drawn from the seed: a write that fails with a
/// `StoreError` (nothing is written; the node stops and is restarted), and a crash at the
/// k-th write from now (that batch lands whole or not at all, then the node is down and
/// every later write is refused until it restarts). Both applications route every write
/// through here — the fast one's durable state and blocks, the real ledger's store batches.
///
/// Invariant: a write either happens whole or not at all; after a crash nothing more is written.
final class StoreFaults {
    enum Armed: Equatable {
        /// Crash at the `atWrite`-th write from now (1 = the next); `lands` says whether that
        /// batch reaches the store before the node dies.
        case crash(atWrite: Int, lands: Bool)
        /// The next write fails.
        case fail
    }

    /// How the node's last write went wrong.
    enum Outcome: Equatable {
        case failed
        case crashed(landed: Bool)
    }

    var armed: Armed?
    /// Set by the last write that failed or crashed; cleared on restart.
    private(set) var outcome: Outcome?
    /// True once a crash fired: the node is down, nothing more is written.
    var isDown: Bool { if case .crashed = outcome { return true } else { return false } }
    /// Whether the write that crashed the node reached the store.
    var landedLastWrite: Bool { outcome == .crashed(landed: true) }

    static let refusedAfterCrash = StoreError(operation: "write", message: "the node has crashed; nothing more is written")

    /// Runs `body` — one whole write — unless a fault is due.
    func write(_ body: () throws(StoreError) -> Void) throws(StoreError) {
        guard !isDown else { throw Self.refusedAfterCrash }
        switch armed {
        case nil:
            try body()
        case .fail:
            armed = nil
            outcome = .failed
            throw StoreError(operation: "write", message: "injected failure (nothing was written)")
        case .crash(let k, let lands):
            guard k <= 1 else {
                armed = .crash(atWrite: k - 1, lands: lands)
                try body()
                return
            }
            armed = nil
            if lands { try body() }
            outcome = .crashed(landed: lands)
            throw StoreError(operation: "write", message: "the node crashed during this write (injected; the batch \(lands ? "landed" : "did not land"))")
        }
    }

    /// A new incarnation starts: what went wrong is history, nothing is armed.
    func restarted() {
        outcome = nil
        armed = nil
    }
}

/// What a simulated node keeps across crashes besides its chain: the durable consensus state
/// (fast mode), the store (real-ledger mode) and the store's injected faults.
final class SimDisk {
    let faults = StoreFaults()
    /// The fast application's durable consensus state (nil before the first persist).
    var durable: DurableState?
    /// The real-ledger mode's store (an in-memory store behind the fault injection).
    var store: FaultyStore?
}

/// The in-memory store of a real-ledger replica behind fault injection: every batch goes
/// whole to a `MemoryStore` or not at all (`StoreFaults`). Test seams (`LedgerSeam`, internal)
/// can corrupt what it keeps, to show the real-ledger checkers fail.
final class FaultyStore: KeyValueStore {
    let inner = MemoryStore()
    let faults: StoreFaults
    /// A deliberate corruption of this store, for the checkers' own tests; nil in every run.
    var seam: LedgerSeam?
    let index: Int
    /// With `seam == .forgetLastBatchOnCrash`: how to undo the last ledger batch.
    private var undo: [([UInt8], [UInt8]?)] = []

    init(index: Int, faults: StoreFaults) {
        self.index = index
        self.faults = faults
    }

    func get(_ key: [UInt8]) throws(StoreError) -> [UInt8]? { try inner.get(key) }

    func scan(prefix: [UInt8], from start: [UInt8]?, _ body: ([UInt8], [UInt8]) -> Bool) throws(StoreError) {
        try inner.scan(prefix: prefix, from: start, body)
    }

    func write(_ batch: StoreBatch, sync: Bool) throws(StoreError) {
        let batch = corrupted(batch)
        try faults.write { () throws(StoreError) in
            if seam == .forgetLastBatchOnCrash, let h = Self.ledgerHeight(of: batch), h > 0 {
                var before: [([UInt8], [UInt8]?)] = []
                for op in batch.operations {
                    switch op {
                    case .put(let k, _), .delete(let k): before.append((k, try inner.get(k)))
                    }
                }
                undo = before
            }
            try inner.write(batch, sync: sync)
        }
    }

    /// The node died: with the lying-fsync seam, its last ledger batch is lost.
    func crashed() {
        guard seam == .forgetLastBatchOnCrash, !undo.isEmpty else { return }
        var batch = StoreBatch()
        for (k, v) in undo.reversed() {
            if let v { batch.put(k, v) } else { batch.delete(k) }
        }
        try? inner.write(batch, sync: true)
        undo = []
    }

    /// The height a ledger batch commits (it moves the head pointer), or nil for other writes.
    static func ledgerHeight(of batch: StoreBatch) -> UInt64? {
        for case .put(let k, let v) in batch.operations where k == Ledger.Keys.head && v.count >= 8 {
            return v[0..<8].reduce(0) { $0 << 8 | UInt64($1) }
        }
        return nil
    }

    /// The state tree's root page: prefix ‖ depth 0 (docs/LEDGER.md, state-tree pages).
    static let rootNodeKey = Ledger.Keys.stateNodePrefix + [0]

    private func corrupted(_ batch: StoreBatch) -> StoreBatch {
        guard case .perturbStateRoot(let node, let height)? = seam, node == index, Self.ledgerHeight(of: batch) == height else {
            return batch
        }
        var out = StoreBatch()
        for op in batch.operations {
            switch op {
            case .put(let k, var v) where k == Self.rootNodeKey && !v.isEmpty:
                v[v.count - 1] ^= 1
                out.put(k, v)
            case .put(let k, let v): out.put(k, v)
            case .delete(let k): out.delete(k)
            }
        }
        return out
    }
}

/// Deliberate corruptions of a real-ledger replica or of the client, each breaking what one
/// real-ledger checker guards; only the Simulator's tests set one (`SimConfig.seam`).
enum LedgerSeam: Sendable, Equatable {
    /// Node `node`'s store flips a bit of the state tree's root node in the batch of `height`:
    /// its state after applying that block is not the one every other replica has.
    case perturbStateRoot(node: Int, height: UInt64)
    /// Every replica's store forgets its last ledger batch when the replica crashes (an fsync
    /// that said durable and was not): receipts it gave are gone after the restart.
    case forgetLastBatchOnCrash
    /// The exporter's presentation is insured for 105 % of the invoice only, a discrepancy
    /// (UCP 600 Art. 28(f)(ii)) that nobody waives: the credit is never paid.
    case discrepantPresentation
}
