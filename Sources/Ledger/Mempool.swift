import ChainTypes

/// Transactions waiting for a block: deduplicated, ordered by nonce per sender, bounded by
/// count and bytes, expiring after a while.
///
/// A sender with a nonce gap holds back only its own later transactions; others still flow.
/// Transactions above a gap are **parked**: they cannot go into a block until the gap fills,
/// so they are bounded apart — per sender (`maxParkedPerSender`, `maxParkedBytesPerSender`)
/// and in all (`maxParkedBytes`) — and they are the first to go when the pool is full
/// (hardening finding 7). Eviction policy: to admit a *ready* transaction (one that extends
/// its sender's run from the account's next nonce) into a full pool, the mempool drops
/// parked transactions — of the sender with the most parked bytes, highest nonce first —
/// until it fits; a parked transaction never evicts anything. Every bound is checked
/// before any execution work (the dry run), so a refused transaction costs no contract run.
///
/// Each signature is verified once, on admission (the executor's `SignatureCache` remembers
/// it, so neither the proposer nor a validating replica verifies it again).
public final class Mempool {
    public struct Limits: Sendable {
        public var maxTransactions = 20_000
        public var maxBytes = 64 * 1024 * 1024
        public var maxPerSender = 256
        /// Parked transactions (above a nonce gap) one sender may have waiting.
        public var maxParkedPerSender = 16
        public var maxParkedBytesPerSender = 256 * 1024
        /// Parked bytes of all senders together.
        public var maxParkedBytes = 8 * 1024 * 1024
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

    /// One sender's waiting transactions, and which of them are parked.
    struct Queue {
        var entries: [UInt64: Entry] = [:]
        /// The account's next nonce as last seen (on admission or pruning).
        var nextNonce: UInt64 = 0
        var parkedCount = 0
        var parkedBytes = 0

        /// The nonces of parked entries: those not on the run from `nextNonce`.
        func parkedNonces() -> [UInt64] {
            var n = nextNonce
            while entries[n] != nil { n += 1 }
            return entries.keys.filter { $0 > n }
        }

        mutating func recount() {
            let parked = parkedNonces()
            parkedCount = parked.count
            parkedBytes = parked.reduce(0) { $0 + entries[$1]!.bytes }
        }

        /// Whether a transaction with `nonce` would be on the run from `nextNonce`.
        func isReady(_ nonce: UInt64) -> Bool {
            var n = nextNonce
            while n < nonce, entries[n] != nil { n += 1 }
            return n == nonce
        }
    }

    public let limits: Limits
    let executor: Executor
    private var bySender: [Address: Queue] = [:]
    private var byHash: [Hash: (Address, UInt64)] = [:]
    private var sequence: UInt64 = 0
    public private(set) var byteCount = 0
    /// Bytes of parked transactions, all senders.
    public private(set) var parkedByteCount = 0

    public init(executor: Executor, limits: Limits = Limits()) {
        self.executor = executor
        self.limits = limits
    }

    public var count: Int { byHash.count }
    /// Transactions parked above a nonce gap, all senders.
    public private(set) var parkedCount = 0
    /// Transactions a block could take now (on their sender's run from its next nonce): what
    /// counts as pending work — parked ones are not, or one of them would make the primary
    /// propose empty blocks until it expires.
    public var readyCount: Int { count - parkedCount }
    public func contains(_ hash: Hash) -> Bool { byHash[hash] != nil }

    /// Admits `tx` or says why not. `state` is the committed state the checks read.
    public func add(_ tx: Transaction, state: any KeyValueStore, nowMillis: UInt64) throws(TransactionError) {
        let encoded = tx.encoded
        let hash = tx.hash
        guard byHash[hash] == nil else { throw .duplicate }
        try executor.checkStateless(tx, bytes: encoded, hash: hash)
        let overlay = StateOverlay(store: state)
        let account: Account?
        do { account = try executor.senderAccount(tx, overlay) } catch { throw .storeUnreadable("\(error)") }
        guard let account else { throw .unknownSender(tx.sender) }
        let nonce = tx.body.nonce
        guard nonce >= account.nonce else { throw .nonceReused(expected: account.nonce, got: nonce) }
        guard nonce <= account.nonce + executor.rules.maxNonceGap else {
            throw .nonceTooFarAhead(expected: account.nonce, got: nonce, maxGap: executor.rules.maxNonceGap)
        }
        var queue = bySender[tx.sender] ?? Queue()
        if queue.entries[nonce] != nil { throw .nonceAlreadyPending(nonce) }
        queue.nextNonce = account.nonce
        let bytes = encoded.count
        let ready = queue.isReady(nonce)
        // Every bound before any work: a refused transaction runs no contract.
        let evictions = try room(for: bytes, ready: ready, sender: tx.sender, queue: queue)
        if nonce == account.nonce { try dryRun(tx, overlay: overlay) }
        for (sender, n) in evictions { remove(sender, n) }
        queue = bySender[tx.sender] ?? queue
        queue.nextNonce = account.nonce
        sequence += 1
        queue.entries[nonce] = Entry(tx: tx, bytes: bytes, arrivedMillis: nowMillis, sequence: sequence)
        byHash[hash] = (tx.sender, nonce)
        byteCount += bytes
        store(queue, for: tx.sender)
    }

    /// Checks every bound for a new transaction of `bytes` and returns the parked entries to
    /// evict to make room (only for a ready one), or says why it cannot be admitted.
    private func room(for bytes: Int, ready: Bool, sender: Address, queue: Queue) throws(TransactionError) -> [(Address, UInt64)] {
        guard queue.entries.count < limits.maxPerSender else {
            throw .mempoolFull("\(limits.maxPerSender) pending transactions from this sender")
        }
        if !ready {
            guard queue.parkedCount < limits.maxParkedPerSender, queue.parkedBytes + bytes <= limits.maxParkedBytesPerSender else {
                throw .mempoolFull("this sender's transactions waiting above a nonce gap reach \(limits.maxParkedPerSender) or \(limits.maxParkedBytesPerSender) bytes; send the missing nonce first")
            }
            guard parkedByteCount + bytes <= limits.maxParkedBytes else {
                throw .mempoolFull("\(limits.maxParkedBytes) bytes of transactions waiting above nonce gaps")
            }
        }
        func fits(_ freedCount: Int, _ freedBytes: Int) -> Bool {
            count - freedCount < limits.maxTransactions && byteCount - freedBytes + bytes <= limits.maxBytes
        }
        if fits(0, 0) { return [] }
        guard ready else { throw .mempoolFull(count >= limits.maxTransactions ? "\(limits.maxTransactions) transactions" : "\(limits.maxBytes) bytes") }
        var victims: [(Address, UInt64)] = []
        var freedBytes = 0
        // Senders by parked bytes, most first (ties by address, so every node evicts alike).
        let ranked = bySender.filter { $0.key != sender && $0.value.parkedCount > 0 }
            .sorted { ($0.value.parkedBytes, $1.key) > ($1.value.parkedBytes, $0.key) }
        for (other, q) in ranked {
            for n in q.parkedNonces().sorted(by: >) {
                victims.append((other, n))
                freedBytes += q.entries[n]!.bytes
                if fits(victims.count, freedBytes) { return victims }
            }
        }
        throw .mempoolFull(count >= limits.maxTransactions ? "\(limits.maxTransactions) transactions" : "\(limits.maxBytes) bytes")
    }

    /// Stores `queue` for `sender` with its parked counts brought up to date.
    private func store(_ queue: Queue, for sender: Address) {
        var q = queue
        let before = bySender[sender]
        q.recount()
        parkedByteCount += q.parkedBytes - (before?.parkedBytes ?? 0)
        parkedCount += q.parkedCount - (before?.parkedCount ?? 0)
        if q.entries.isEmpty { bySender.removeValue(forKey: sender) } else { bySender[sender] = q }
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
            throw .storeUnreadable("\(error)")
        }
    }

    /// Up to `maxCount` transactions, `maxBytes` bytes and `maxGas` of gas limits for a block:
    /// per sender the run of consecutive nonces from its next nonce, senders interleaved in
    /// arrival order. (`Ledger.propose` then fits them to the block's limits exactly.)
    public func select(maxCount: Int, maxBytes: Int, maxGas: UInt64, nextNonce: (Address) -> UInt64) -> [Transaction] {
        var runs: [(sender: Address, entries: [Entry])] = []
        for (sender, queue) in bySender {
            var n = nextNonce(sender)
            var run: [Entry] = []
            while let e = queue.entries[n] { run.append(e); n += 1 }
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

    /// The transaction that arrived first among those a block could include now — each
    /// sender's next nonce, not one parked above a gap — or nil: what PBFT's request timer
    /// waits for (`ReplicaInput.tick`'s `oldestPending`). O(senders).
    public func oldestReady(nextNonce: (Address) -> UInt64) -> Hash? {
        var oldest: Entry?
        for (sender, queue) in bySender {
            guard let head = queue.entries[nextNonce(sender)] else { continue }
            if oldest.map({ head.sequence < $0.sequence }) ?? true { oldest = head }
        }
        return oldest?.tx.hash
    }

    /// Drops what a committed block included, what its senders' nonces passed, and what expired.
    public func prune(nextNonce: (Address) -> UInt64, nowMillis: UInt64) {
        for (sender, queue) in bySender {
            let next = nextNonce(sender)
            for (nonce, e) in queue.entries where nonce < next || e.arrivedMillis + limits.ttlMillis < nowMillis {
                remove(sender, nonce)
            }
            if var q = bySender[sender] {
                q.nextNonce = next
                store(q, for: sender)
            }
        }
    }

    private func remove(_ sender: Address, _ nonce: UInt64) {
        guard var q = bySender[sender], let e = q.entries.removeValue(forKey: nonce) else { return }
        byHash.removeValue(forKey: e.tx.hash)
        byteCount -= e.bytes
        store(q, for: sender)
    }
}
