import ChainTypes
import PBFT

/// The safety properties checked after every step, and the liveness property checked
/// after faults heal (TigerBeetle's VOPR, FoundationDB's simulation).
struct Checkers {
    /// First honest commit per height.
    var decided: [UInt64: Hash] = [:]
    /// What each honest validator signed per slot: (node, kind, view, height) → hash.
    var signed: [SlotKey: Hash] = [:]
    /// For heights not yet decided: per block hash, each honest validator's clock when it
    /// first sent a prepare for it. At most window × blocks × n entries; a height's go when
    /// it is decided.
    var prepareClocks: [UInt64: [Hash: [Int: UInt64]]] = [:]
    var failures: [String] = []

    struct SlotKey: Hashable {
        let node: Int
        let kind: String
        let view: UInt64
        let height: UInt64
    }

    /// Agreement, validity and certificate validity for one honest commit.
    mutating func checkCommit(node: Int, block: Block, certificate: CommitCertificate, repeated: [Hash],
                              submitted: SubmittedTransactions, quorum: Int, n: Int, verifier: any ConsensusCrypto) {
        let h = block.header.height
        if let first = decided[h] {
            if first != block.hash {
                failures.append("agreement: node \(node) committed \(block.hash) at height \(h), another honest node committed \(first)")
            }
        } else {
            decided[h] = block.hash
        }
        for tx in block.transactions where !submitted.contains(tx.hash) {
            failures.append("validity: node \(node) committed transaction \(tx.hash) that no client submitted (height \(h))")
        }
        for hash in repeated {
            failures.append("validity: node \(node) committed transaction \(hash) twice (again at height \(h))")
        }
        if certificate.height != h || certificate.blockHash != block.hash {
            failures.append("certificate: node \(node) committed height \(h) with a certificate for another block")
        }
        do {
            try certificate.verify(quorum: quorum, setSize: n) { i, body, sig in verifier.verify(.commit, body, sig, signer: i) }
        } catch {
            failures.append("certificate: node \(node) height \(h): \(error)")
        }
    }

    /// Authenticity (§4.2: only the primary of a view orders requests in it), at every honest
    /// commit: the header names the primary of its view as proposer, and when that primary is
    /// honest it signed a pre-prepare for this block in that view. A re-proposal keeps the
    /// header of the view it was first proposed in, so this holds for it too; a block that
    /// commits without any such pre-prepare was ordered by someone else.
    mutating func checkAuthenticity(node: Int, block: Block, validators: ValidatorSet, honest: (Int) -> Bool) {
        let h = block.header
        let primary = Int(h.view % UInt64(validators.count))
        guard validators.validators[primary].address == h.proposer else {
            failures.append("authenticity: node \(node) committed height \(h.height) whose header names a proposer that is not the primary of view \(h.view)")
            return
        }
        guard honest(primary) else { return }
        if signed[SlotKey(node: primary, kind: "pre-prepare", view: h.view, height: h.height)] != block.hash {
            failures.append("authenticity: node \(node) committed height \(h.height), view \(h.view) block \(block.hash), which the primary of that view, honest node \(primary), never proposed")
        }
    }

    /// Notes an honest prepare: it vouches for its block's time as the sender's clock read
    /// then (the clock its replica judged the proposal by).
    mutating func notePrepare(node: Int, height: UInt64, hash: Hash, clockMillis: UInt64) {
        guard decided[height] == nil, prepareClocks[height]?[hash]?[node] == nil else { return }
        prepareClocks[height, default: [:]][hash, default: [:]][node] = clockMillis
    }

    /// Timeliness (review finding 9), at the first honest commit of a height: some honest
    /// validator prepared the block while its clock read at most `maxLagMillis` after the
    /// block's timestamp and at most `maxLeadMillis` before it. Every committed block was
    /// first prepared, as a new proposal, by a quorum — so by at least one honest replica
    /// that judged its time fresh — even when it commits much later as a re-proposal, or at
    /// a replica that syncs it; so the check is on the prepares, not on the clocks at commit.
    mutating func checkTimeliness(node: Int, block: Block, maxLagMillis: UInt64, maxLeadMillis: UInt64) {
        let h = block.header.height
        guard decided[h] == nil else { return }
        let time = block.header.timestampMillis
        let clocks = prepareClocks[h]?[block.hash] ?? [:]
        let vouched = clocks.values.contains { c in
            time <= c &+ maxLeadMillis && (c <= time || c - time <= maxLagMillis)
        }
        if !vouched {
            let seen = clocks.sorted { $0.key < $1.key }.map { "node \($0.key) at \($0.value)" }.joined(separator: ", ")
            failures.append("timeliness: node \(node) committed height \(h) stamped \(time) ms, but no honest validator prepared it with its clock at most \(maxLagMillis) ms after (or \(maxLeadMillis) ms before) that time (honest prepares: \(seen.isEmpty ? "none" : seen))")
        }
        prepareClocks = prepareClocks.filter { $0.key > h }
    }

    /// No honest validator signs two different things for one (view, height, phase), even
    /// across crashes (persist before send).
    mutating func checkSigned(node: Int, _ message: ConsensusMessage) {
        let key: SlotKey
        let hash: Hash
        switch message {
        case .prePrepare(let m): key = SlotKey(node: node, kind: "pre-prepare", view: m.view, height: m.height); hash = m.blockHash
        case .vote(let m): key = SlotKey(node: node, kind: m.phase == .prepare ? "prepare" : "commit", view: m.view, height: m.height)
            hash = m.blockHash
        case .checkpoint(let m): key = SlotKey(node: node, kind: "checkpoint", view: 0, height: m.height); hash = m.blockHash
        case .viewChange(let m): key = SlotKey(node: node, kind: "view-change", view: m.newView, height: 0)
            hash = SHA256.hash(m.signingBody)
        case .newView(let m): key = SlotKey(node: node, kind: "new-view", view: m.view, height: 0); hash = SHA256.hash(m.signingBody)
        case .newViewRequest: return
        }
        if let previous = signed.updateValue(hash, forKey: key), previous != hash {
            failures.append("double signing: node \(node) signed two different \(key.kind) messages for view \(key.view) height \(key.height)")
        }
    }
}

/// Per-transaction liveness after the heal: every transaction that honest replicas hold —
/// in the mempool of an honest replica that is up at the heal, or submitted after it —
/// commits at some honest replica within `SimConfig.transactionLivenessBoundTicks` of the
/// later of the heal and its submission. The block liveness check alone misses a primary
/// that keeps committing blocks but leaves one transaction out (censorship).
struct TransactionLiveness {
    /// Transactions awaited, with the tick their bound counts from.
    private(set) var waiting: [Hash: Int] = [:]
    /// Transactions some honest replica committed (never awaited again).
    private var committed: Set<Hash> = []

    mutating func await(_ hash: Hash, since tick: Int) {
        guard !committed.contains(hash), waiting[hash] == nil else { return }
        waiting[hash] = tick
    }

    mutating func noteCommit(_ block: Block) {
        for tx in block.transactions {
            committed.insert(tx.hash)
            waiting.removeValue(forKey: tx.hash)
        }
    }

    /// Whether every transaction awaited since `tick` or earlier has committed.
    func settled(through tick: Int) -> Bool { !waiting.values.contains { $0 <= tick } }

    /// The failure for the longest-waiting transaction past its bound, if any.
    func overdue(now: Int, boundTicks: Int) -> String? {
        // Ties by hash, so the message does not depend on dictionary order.
        let oldest = waiting.min { a, b in a.value != b.value ? a.value < b.value : a.key.bytes.lexicographicallyPrecedes(b.key.bytes) }
        guard let (hash, since) = oldest, now > since + boundTicks else { return nil }
        return "liveness: transaction \(hash), held by honest replicas since tick \(since), did not commit within \(boundTicks) ticks (\(waiting.count) waiting)"
    }
}
