import ChainTypes

/// Transactions waiting for a block: deduplicated, ordered by nonce per sender, bounded by
/// count and bytes, expiring after a while.
///
/// A sender with a nonce gap holds back only its own later transactions; others still flow.
/// Each signature is verified once, on admission (the executor's `SignatureCache` remembers
/// it, so neither the proposer nor a validating replica verifies it again).
public final class Mempool {
    public struct Limits: Sendable {
        public var maxTransactions = 20_000
        public var maxBytes = 64 * 1024 * 1024
        public var maxPerSender = 256
        /// How long a transaction may wait before it is dropped.
        public var ttlMillis: UInt64 = 10 * 60 * 1000
        public init() {}
    }

    struct Entry {
        let tx: Transaction
        let bytes: Int
        let arrivedMillis: UInt64
        let sequence: UInt64
    }

    public let limits: Limits
    let executor: Executor
    private var bySender: [Address: [UInt64: Entry]] = [:]
    private var byHash: [Hash: (Address, UInt64)] = [:]
    private var sequence: UInt64 = 0
    public private(set) var byteCount = 0

    public init(executor: Executor, limits: Limits = Limits()) {
        self.executor = executor
        self.limits = limits
    }

    public var count: Int { byHash.count }
    public func contains(_ hash: Hash) -> Bool { byHash[hash] != nil }

    /// Admits `tx` or says why not. `state` is the committed state the checks read.
    public func add(_ tx: Transaction, state: any KeyValueStore, nowMillis: UInt64) throws(TransactionError) {
        let encoded = tx.canonicalBytes
        let hash = SHA256.hash(encoded)
        guard byHash[hash] == nil else { throw .duplicate }
        try executor.checkStateless(tx, bytes: encoded, hash: hash)
        let overlay = StateOverlay(store: state)
        let account: Account?
        do { account = try executor.senderAccount(tx, overlay) } catch { throw .mempoolFull("state unreadable: \(error)") }
        guard let account else { throw .unknownSender(tx.sender) }
        let nonce = tx.body.nonce
        guard nonce >= account.nonce else { throw .nonceReused(expected: account.nonce, got: nonce) }
        guard nonce <= account.nonce + executor.rules.maxNonceGap else {
            throw .nonceTooFarAhead(expected: account.nonce, got: nonce, maxGap: executor.rules.maxNonceGap)
        }
        if bySender[tx.sender]?[nonce] != nil { throw .nonceAlreadyPending(nonce) }
        if nonce == account.nonce { try dryRun(tx, overlay: overlay) }
        let bytes = encoded.count
        guard count < limits.maxTransactions else { throw .mempoolFull("\(limits.maxTransactions) transactions") }
        guard byteCount + bytes <= limits.maxBytes else { throw .mempoolFull("\(limits.maxBytes) bytes") }
        guard (bySender[tx.sender]?.count ?? 0) < limits.maxPerSender else {
            throw .mempoolFull("\(limits.maxPerSender) pending transactions from this sender")
        }
        sequence += 1
        bySender[tx.sender, default: [:]][nonce] = Entry(tx: tx, bytes: bytes, arrivedMillis: nowMillis, sequence: sequence)
        byHash[hash] = (tx.sender, nonce)
        byteCount += bytes
    }

    /// Executes a next-in-line transaction on a scratch overlay so that a client hears now
    /// that it would fail (funds, role, currency…), instead of finding a failed receipt later.
    func dryRun(_ tx: Transaction, overlay: StateOverlay) throws(TransactionError) {
        let header = BlockHeader(height: 0, previousHash: .zero, timestampMillis: 0, transactionsRoot: .zero, stateRoot: .zero,
                                 receiptsRoot: .zero, proposer: tx.sender, view: 0)
        do {
            _ = try executor.run(tx, state: overlay, header: header)
        } catch let failure as Executor.ExecutionFailure {
            // A contract's own failure depends on the block it lands in; only ledger rules refuse here.
            if case .contract = failure.error { return }
            throw failure.error
        } catch {
            throw .mempoolFull("state unreadable: \(error)")
        }
    }

    /// Up to `maxCount` transactions, `maxBytes` bytes and `maxGas` of gas limits for a block:
    /// per sender the run of consecutive nonces from its next nonce, senders interleaved in
    /// arrival order. (`Ledger.propose` then fits them to the block's limits exactly.)
    public func select(maxCount: Int, maxBytes: Int, maxGas: UInt64, nextNonce: (Address) -> UInt64) -> [Transaction] {
        var runs: [(sender: Address, entries: [Entry])] = []
        for (sender, entries) in bySender {
            var n = nextNonce(sender)
            var run: [Entry] = []
            while let e = entries[n] { run.append(e); n += 1 }
            if !run.isEmpty { runs.append((sender, run)) }
        }
        runs.sort { $0.entries[0].sequence < $1.entries[0].sequence }
        var out: [Transaction] = []
        var bytes = 0
        var gas: UInt64 = 0
        var cursor = Array(repeating: 0, count: runs.count)
        var progressed = true
        while progressed && out.count < maxCount {
            progressed = false
            for i in runs.indices where cursor[i] < runs[i].entries.count && out.count < maxCount {
                let e = runs[i].entries[cursor[i]]
                guard bytes + e.bytes <= maxBytes, e.tx.body.gasLimit <= maxGas - gas else { cursor[i] = runs[i].entries.count; continue }
                out.append(e.tx)
                bytes += e.bytes
                gas += e.tx.body.gasLimit
                cursor[i] += 1
                progressed = true
            }
        }
        return out
    }

    /// Drops what a committed block included, what its senders' nonces passed, and what expired.
    public func prune(nextNonce: (Address) -> UInt64, nowMillis: UInt64) {
        for (sender, entries) in bySender {
            let next = nextNonce(sender)
            for (nonce, e) in entries where nonce < next || e.arrivedMillis + limits.ttlMillis < nowMillis {
                remove(sender, nonce)
            }
        }
    }

    private func remove(_ sender: Address, _ nonce: UInt64) {
        guard let e = bySender[sender]?.removeValue(forKey: nonce) else { return }
        if bySender[sender]?.isEmpty == true { bySender.removeValue(forKey: sender) }
        byHash.removeValue(forKey: e.tx.hash)
        byteCount -= e.bytes
    }
}

