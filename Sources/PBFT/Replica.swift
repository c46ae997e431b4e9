import ChainTypes

/// PBFT (Castro & Liskov, OSDI 1999; ACM TOCS 2002) as a pure state machine:
/// `step(input) -> [action]`, no I/O, no clock, no randomness. The simulator and the node
/// drive the same code.
///
/// Adaptations, each documented in docs/PROTOCOL.md part 2:
/// - one block per height, one height in flight: the primary proposes height h + 1 only
///   after committing h (no pipelining);
/// - every replica, the primary included, sends a prepare, and a quorum q = ⌈(n + f + 1)/2⌉
///   of matching prepares makes a block prepared; q matching commits make a commit
///   certificate, which is stored with the block and proves the commit to anyone;
/// - a view change carries the commit certificate of the replica's highest block instead of
///   a checkpoint proof, plus its prepared certificate for the next height.
///
/// Invariant: an honest replica never signs two different messages for the same
/// (view, height, phase) — `guardedSign` enforces it from the durable `lastSigned`.
public struct PBFTReplica {
    public let config: ReplicaConfig
    let crypto: any ConsensusCrypto
    let validator: any BlockValidator

    /// Survives crashes; the shell persists it on `.persist`.
    public internal(set) var durable: DurableState
    var durableDirty = false
    /// The last committed block (from the ledger on restart).
    public internal(set) var tip: ChainTip

    // Volatile state, rebuilt from messages after a restart.
    var nowMillis: UInt64 = 0
    var tickCount: UInt64 = 0
    var hasPendingWork = false
    // Replay rule (docs/PROTOCOL.md §14): dictionaries here are only looked up, filtered or
    // counted, never iterated into an action; what is iterated is kept per validator, in index
    // order (`ValidatorSlots`).
    /// Prepare votes by height, then validator: the latest view each validator voted in.
    var prepares: [UInt64: ValidatorSlots<Vote>] = [:]
    /// Commit votes by height, then validator (the highest view per validator).
    var commits: [UInt64: ValidatorSlots<Vote>] = [:]
    /// Proposals for heights above tip + 1, at most `limits.maxBufferedProposals`.
    var bufferedProposals: [UInt64: BufferedProposal] = [:]
    /// The latest view-change message of each validator.
    var viewChanges: ValidatorSlots<ViewChange>
    /// The latest checkpoint message of each validator.
    var checkpoints: ValidatorSlots<Checkpoint>
    public internal(set) var stableCheckpoint: UInt64 = 0
    /// The new-view message that started the current view (nil in view 0). Durable, so a
    /// restarted replica — the primary above all — still answers new-view requests for it.
    public var lastNewView: NewView? { durable.newView }
    /// Per peer: the tick this replica last answered it with a new-view.
    var newViewAnswered: [Int: UInt64] = [:]
    /// Per peer: the view and tick of this replica's last new-view request to it.
    var lastNewViewRequest: [Int: (view: UInt64, tick: UInt64)] = [:]
    /// The tick of an unanswered `.buildProposal`; it is asked again after a retransmit interval.
    var proposalRequestedAt: UInt64?
    /// Ticks without progress (normal case) or waiting for a new view (view change).
    var idleTicks: UInt64 = 0
    /// The request timer: the transaction the shell has held longest, and the normal-case
    /// ticks of this view this replica has waited for it.
    var awaitedTransaction: Hash?
    var awaitedTicks: UInt64 = 0
    var ticksSinceRetransmit: UInt64 = 0
    /// The current view-change timeout; doubles per failed view change, capped.
    public internal(set) var timeoutTicks: UInt64
    var syncTarget: UInt64 = 0
    var syncPeers: [Int] = []
    var lastSyncRequestTick: UInt64?
    /// Sync requests since a synced block last committed: each retry starts its peer list
    /// this many places further on, so a peer that withholds or lies is not asked first forever.
    var syncAttempts = 0
    /// Set by a commit when a proposal for the next height is buffered: it is judged at the
    /// next step, once the shell has applied the commit (`takeUpBufferedProposal`).
    var bufferedProposalDue = false
    /// Set on the new primary while it syncs up to the base of the view it is starting.
    var pendingNewViewBase: UInt64?
    var outbox: [ReplicaAction] = []
    public internal(set) var stats = ReplicaStats()

    struct BufferedProposal {
        let prePrepare: PrePrepare
        let isReproposal: Bool
    }

    /// A replica starting (or restarting) at `tip` with the durable state it last persisted.
    public init(config: ReplicaConfig, crypto: any ConsensusCrypto, validator: any BlockValidator,
                tip: ChainTip, durable: DurableState = DurableState()) {
        self.config = config
        self.crypto = crypto
        self.validator = validator
        self.tip = tip
        self.durable = durable
        self.timeoutTicks = config.parameters.requestTimeoutTicks
        viewChanges = ValidatorSlots(n: config.n)
        checkpoints = ValidatorSlots(n: config.n)
        if durable.viewChanging, let own = durable.viewChange, own.newView == durable.view {
            viewChanges[config.selfIndex] = own
        }
        if restoreOwnVotes() {
            // Re-send them at the first tick instead of after a full retransmit interval.
            ticksSinceRetransmit = config.limits.retransmitIntervalTicks
        }
    }

    /// After a restart: this replica's prepare and commit for the height in flight, which
    /// its peers may still need (they may have been lost, or the crash came between persist
    /// and send). They are signed again through the guard, which lets a replica sign exactly
    /// the hash its durable slot already holds and nothing else — the same statement, so no
    /// equivocation (TOCS 2002 §4.5: a recovering replica re-sends its messages). Returns
    /// whether any was restored; `retransmit` then sends them.
    mutating func restoreOwnVotes() -> Bool {
        guard !durable.viewChanging, let pp = durable.accepted, pp.view == view, pp.height == tip.height + 1 else { return false }
        var restored = false
        for (phase, kind) in [(VotePhase.prepare, SignedSlot.Kind.prepare), (.commit, .commit)] {
            guard let slot = durable.lastSigned.first(where: { $0.kind == kind }),
                  slot.view == pp.view, slot.height == pp.height, slot.hash == pp.blockHash else { continue }
            let body = Vote.signingBody(phase: phase, view: slot.view, height: slot.height, blockHash: slot.hash,
                                        validatorIndex: selfIndex16)
            guard let signature = guardedSign(kind, view: slot.view, height: slot.height, hash: slot.hash,
                                              domain: phase.domain, body: body) else { continue }
            record(Vote(phase: phase, view: slot.view, height: slot.height, blockHash: slot.hash,
                        validatorIndex: selfIndex16, signature: signature))
            restored = true
        }
        return restored
    }

    public var view: UInt64 { durable.view }

    /// Messages held in volatile buffers — bounded by n × watermark window per vote kind,
    /// plus n view-changes, n checkpoints and `maxBufferedProposals` proposals.
    public var bufferedMessageCount: Int {
        prepares.values.reduce(0) { $0 + $1.count } + commits.values.reduce(0) { $0 + $1.count }
            + bufferedProposals.count + viewChanges.count + checkpoints.count
    }
    /// The view each validator last asked for (index → view), for traces.
    public var viewChangeViews: [UInt64] {
        (0..<config.n).map { viewChanges[$0]?.newView ?? 0 }
    }
    public var isViewChanging: Bool { durable.viewChanging }
    public var index: Int { config.selfIndex }
    var selfIndex16: UInt16 { UInt16(config.selfIndex) }
    public var isPrimary: Bool { config.primary(of: view) == index }

    /// Advances the state machine by one input; returns what the shell must do, in order.
    public mutating func step(_ input: ReplicaInput) -> [ReplicaAction] {
        takeUpBufferedProposal()
        switch input {
        case .message(let message, let from):
            guard from >= 0, from < config.n, from != index else { stats.dropped += 1; break }
            handle(message, from: from)
        case .tick(let now, let pending, let oldest):
            onTick(now: now, hasPendingWork: pending, oldestPending: oldest)
        case .proposal(let block):
            onProposal(block)
        case .synced(let block, let certificate):
            onSynced(block, certificate)
        }
        flushPersist()
        defer { outbox.removeAll(keepingCapacity: true) }
        return outbox
    }

    mutating func handle(_ message: ConsensusMessage, from: Int) {
        switch message {
        case .prePrepare(let m): onPrePrepare(m, from: from)
        case .vote(let m): onVote(m, from: from)
        case .checkpoint(let m): onCheckpoint(m, from: from)
        case .viewChange(let m): onViewChange(m, from: from)
        case .newView(let m): onNewView(m, from: from)
        case .newViewRequest(let m): onNewViewRequest(m, from: from)
        }
    }

    // MARK: Output, with persist before send

    mutating func markDurableChanged() { durableDirty = true }

    mutating func flushPersist() {
        guard durableDirty else { return }
        outbox.append(.persist(durable))
        durableDirty = false
    }

    /// Sends go out only after the durable state they depend on (habit 2: persist before send).
    mutating func broadcast(_ message: ConsensusMessage) {
        flushPersist()
        outbox.append(.broadcast(message))
        stats.sent += 1
    }

    mutating func send(_ message: ConsensusMessage, to peer: Int) {
        flushPersist()
        outbox.append(.send(message, to: peer))
        stats.sent += 1
    }

    /// Signs unless that would sign something different for a slot already signed, or a
    /// slot older than the last one of its kind (CometBFT privval's monotonic guard).
    mutating func guardedSign(_ kind: SignedSlot.Kind, view: UInt64, height: UInt64, hash: Hash,
                              domain: SigningDomain, body: [UInt8]) -> Signature? {
        if let i = durable.lastSigned.firstIndex(where: { $0.kind == kind }) {
            let last = durable.lastSigned[i]
            if (view, height) < (last.view, last.height) || ((view, height) == (last.view, last.height) && hash != last.hash) {
                stats.refusedToSign += 1
                return nil
            }
            durable.lastSigned[i] = SignedSlot(kind: kind, view: view, height: height, hash: hash)
        } else {
            durable.lastSigned.append(SignedSlot(kind: kind, view: view, height: height, hash: hash))
        }
        markDurableChanged()
        return crypto.sign(domain, body)
    }

    /// Signs and broadcasts this replica's prepare or commit for (view, height, hash).
    @discardableResult
    mutating func castVote(_ phase: VotePhase, view: UInt64, height: UInt64, hash: Hash) -> Vote? {
        let body = Vote.signingBody(phase: phase, view: view, height: height, blockHash: hash, validatorIndex: selfIndex16)
        let kind: SignedSlot.Kind = phase == .prepare ? .prepare : .commit
        guard let signature = guardedSign(kind, view: view, height: height, hash: hash, domain: phase.domain, body: body) else {
            return nil
        }
        let vote = Vote(phase: phase, view: view, height: height, blockHash: hash, validatorIndex: selfIndex16, signature: signature)
        record(vote)
        broadcast(.vote(vote))
        return vote
    }

    /// Heights this replica keeps messages for: (tip, tip + watermark window] (§4.3's
    /// watermarks, with the low mark at the last committed height).
    func inWindow(_ height: UInt64) -> Bool {
        height > tip.height && height <= tip.height + config.parameters.watermarkWindow
    }
}

/// Counters for tests, the simulator and metrics.
public struct ReplicaStats: Sendable, Equatable {
    public var sent = 0
    public var dropped = 0
    public var invalidSignatures = 0
    public var rejectedProposals = 0
    public var refusedToSign = 0
    public var viewChangesStarted = 0
    public var newViewsInstalled = 0
    public var syncRequests = 0
    public var committed = 0
    public init() {}
}
