import ChainTypes

/// Checks what the consensus core cannot: the transactions of a block and the roots that
/// executing them yields. The ledger provides it in the node; the simulator has its own.
public protocol BlockValidator {
    /// nil when `block` is valid on top of `parent`, else the reason it is not.
    func rejection(of block: Block, parent: ChainTip) -> String?
}

/// What drives a replica. Time arrives only as `tick`; nothing else reads a clock.
public enum ReplicaInput: Sendable {
    /// A message from validator `from` (as authenticated by the transport).
    case message(ConsensusMessage, from: Int)
    /// One logical tick. `nowMillis` is the local clock, used only to bound proposal
    /// timestamps; `hasPendingWork` says whether the shell has work for a block: transactions
    /// in the mempool, or a scheduled contract call that is due. It holds until the next tick,
    /// except that an empty proposal from the shell clears it.
    ///
    /// `oldestPending` is the hash of the transaction that has waited longest in the shell's
    /// mempool (by arrival) among those a block could include now — for an account-nonce
    /// mempool, the head of a sender's run from its next nonce, not one parked above a gap —
    /// or nil when there is none. The replica runs its request timer on it (Castro & Liskov
    /// 1999, §4.4: a backup waiting for a request): the timer restarts whenever the hash
    /// changes — the transaction committed or left the mempool — and a commit that leaves it
    /// out does not restart it. A shell that cannot tell passes nil (no request timer).
    case tick(nowMillis: UInt64, hasPendingWork: Bool, oldestPending: Hash? = nil)
    /// The shell's block for a `.buildProposal` request.
    case proposal(Block)
    /// A committed block fetched during sync, with its certificate.
    case synced(Block, CommitCertificate)
}

/// What a replica asks its shell to do.
///
/// Contract: perform the actions **in order**; a `.persist` must be durable (fsync'd)
/// before any later action of the same batch runs — that is how a vote is never sent
/// before it is on disk (persist before send). Finish a batch before stepping the replica
/// again: a later `.persist` in the batch would otherwise overwrite newer state.
public enum ReplicaAction: Sendable, Equatable {
    /// Durably store the replica's consensus state, replacing the previous one.
    case persist(DurableState)
    case send(ConsensusMessage, to: Int)
    /// Send to every other validator.
    case broadcast(ConsensusMessage)
    /// Build a block for (`height`, `view`) on `parent` from the mempool and hand it back
    /// as `.proposal`; its timestamp must exceed the parent's.
    case buildProposal(height: UInt64, view: UInt64, parent: ChainTip)
    /// Apply and store `block` with its certificate; heights arrive in order, one each.
    case commit(Block, CommitCertificate)
    /// Fetch committed blocks `fromHeight...toHeight` with their certificates from `peers`
    /// and feed them back as `.synced`, in order.
    case requestSync(fromHeight: UInt64, toHeight: UInt64, peers: [Int])
}

/// The part of a replica's state that must survive a crash (Castro & Liskov 2002, §4.6
/// durability; CometBFT's privval guard): the view, the last thing signed per phase,
/// and the block and certificate prepared for the next height.
///
/// Invariant: after a restart from this state the replica never signs two different
/// messages for the same (view, height, phase).
public struct DurableState: Hashable, Sendable {
    public var view: UInt64
    /// True while the replica waits for the new view `view` to start.
    public var viewChanging: Bool
    /// Highest (view, height) signed per vote kind, with the hash signed.
    public var lastSigned: [SignedSlot]
    /// The proposal this replica accepted (or made) for the next height, in its latest view.
    public var accepted: PrePrepare?
    /// The highest-view prepared certificate for the next height, with its block.
    public var prepared: PreparedCertificate?
    public var preparedBlock: Block?
    /// This replica's view-change for `view` while `viewChanging`: after a restart it is
    /// re-sent as it was, since signing a second, different one is refused.
    public var viewChange: ViewChange?
    /// The new-view that started the latest view this replica installed (nil before the
    /// first): after a restart it answers new-view requests with it, as it was — the primary
    /// cannot sign a second one for its view (TOCS 2002 §4.5: a recovering replica keeps the
    /// messages it must be able to re-send).
    public var newView: NewView?

    public init(view: UInt64 = 0, viewChanging: Bool = false, lastSigned: [SignedSlot] = [],
                accepted: PrePrepare? = nil, prepared: PreparedCertificate? = nil, preparedBlock: Block? = nil,
                viewChange: ViewChange? = nil, newView: NewView? = nil) {
        self.view = view; self.viewChanging = viewChanging; self.lastSigned = lastSigned
        self.accepted = accepted; self.prepared = prepared; self.preparedBlock = preparedBlock
        self.viewChange = viewChange; self.newView = newView
    }
}

/// One entry of the double-sign guard.
public struct SignedSlot: Hashable, Sendable {
    public enum Kind: UInt8, Sendable { case prePrepare, prepare, commit, viewChange, newView, checkpoint }
    public var kind: Kind
    public var view: UInt64
    public var height: UInt64
    public var hash: Hash

    public init(kind: Kind, view: UInt64, height: UInt64, hash: Hash) {
        self.kind = kind; self.view = view; self.height = height; self.hash = hash
    }
}

/// Bounds on everything a replica buffers, so that no peer can exhaust its memory.
public struct ReplicaLimits: Sendable {
    /// Proposals buffered for heights above the next one (each can be a whole block).
    public var maxBufferedProposals = 4
    /// Ticks between answers to one peer's new-view requests.
    public var newViewAnswerIntervalTicks: UInt64 = 10
    /// Ticks between retransmissions of this replica's own messages while stuck.
    public var retransmitIntervalTicks: UInt64 = 5
    /// Ticks before a sync request is repeated when no synced block arrived.
    public var syncRetryTicks: UInt64 = 20
    /// View-changes for views more than this above the replica's view are dropped: they are
    /// not kept and count neither toward the f + 1 that make it join a view change nor toward
    /// the quorum that runs its view-change timer (§4.5.2). Honest replicas advance one view
    /// per timeout and only with a quorum's support, so an honest view-change this far ahead
    /// means views were installed that this replica missed; it catches up by new-view request.
    public var viewChangeWindowViews: UInt64 = 64

    public init() {}
}

/// Everything fixed for a replica's lifetime.
public struct ReplicaConfig: Sendable {
    /// The chain id and genesis hash the replica's signatures are bound to.
    public var chain: ChainBinding
    public var validators: ValidatorSet
    /// This replica's index in `validators`.
    public var selfIndex: Int
    public var parameters: ConsensusParameters
    public var limits: ReplicaLimits
    #if HANSA_FLAWS
    /// A deliberate bug, for the mutation build only (`scripts/mutate`): normal builds have
    /// neither this field nor `ProtocolFlaw`.
    public var flaw: ProtocolFlaw?
    #endif

    public init(chain: ChainBinding, validators: ValidatorSet, selfIndex: Int, parameters: ConsensusParameters,
                limits: ReplicaLimits = ReplicaLimits()) {
        precondition(selfIndex >= 0 && selfIndex < validators.count, "selfIndex outside the validator set")
        self.chain = chain; self.validators = validators; self.selfIndex = selfIndex
        self.parameters = parameters; self.limits = limits
    }

    public var n: Int { validators.count }
    public var f: Int { validators.maxFaulty }
    public var quorum: Int { validators.quorum }

    /// The primary of `view` (Castro & Liskov 1999, §4.1: p = v mod |R|).
    public func primary(of view: UInt64) -> Int { Int(view % UInt64(n)) }
}

#if HANSA_FLAWS
/// Deliberate protocol bugs that the mutation script (`scripts/mutate`) switches on one at a
/// time, to show that the simulator's checkers catch each (docs/PROTOCOL.md §14, Mutation testing). Compiled
/// only into the mutation build (`-DHANSA_FLAWS`, `.build-flaws`), never into a node.
public enum ProtocolFlaw: String, Sendable, CaseIterable {
    /// New views ignore prepared certificates (breaks §4.4): a block that committed at some
    /// replicas can be replaced at others.
    case ignorePreparedCertificates = "ignore-prepared-certificates"
    /// New proposals are not checked against the lag bound (review finding 9): a back-dating
    /// primary's blocks commit with times far behind every honest clock.
    case noProposalLagBound = "no-proposal-lag-bound"
    /// No per-transaction request timer: only the progress timer runs, and every commit
    /// restarts it, so a primary that keeps committing blocks can leave a transaction out
    /// forever (the per-transaction liveness checker catches it).
    case commitResetsRequestTimer = "commit-resets-request-timer"
    /// `tryPrepared` counts q − 1 matching prepares as prepared (breaks §4.2's prepared
    /// predicate, whose quorum intersection makes one block per view and height prepared).
    /// The prepared certificate then has q − 1 signers; others refuse the view-changes that
    /// carry it, so a view change after such a prepare cannot gather a quorum (liveness).
    case preparedQuorumOneShort = "prepared-quorum-one-short"
    /// `tryCommit` takes q − 1 matching commits for a certificate (breaks §4.2's
    /// committed-local: two such quorums need not share an honest replica). Twin blocks
    /// with byzantine votes for both commit at different replicas (agreement), and the
    /// certificates do not verify (certificate validity).
    case commitQuorumOneShort = "commit-quorum-one-short"
    /// `onPrePrepare` takes a correctly signed pre-prepare from any validator, not only the
    /// primary of its view (breaks §4.2: only the primary assigns sequence numbers): a
    /// byzantine backup's blocks commit in an honest primary's name (authenticity).
    case prePrepareFromNonPrimary = "pre-prepare-from-non-primary"
    /// `onSynced` does not check the synced block's commit certificate (breaks §4.3/§4.4:
    /// state is taken from others only with a proof of commit): a lying sync server's twin
    /// block with a forged certificate is committed (agreement, certificate validity).
    case syncedCertificateUnchecked = "synced-certificate-unchecked"
    /// `onSynced` does not check a synced block's transactions against its header's
    /// transactions root: the certificate covers only the header hash, so a lying sync
    /// server's real header with another body is committed (validity).
    case syncedBodyUnchecked = "synced-body-unchecked"
    /// `startViewChange` never doubles the view-change timeout (breaks §4.5.2's backoff):
    /// when a view change takes longer than the base timeout — message delays above it — the
    /// timer expires before every new view arrives and no view is ever installed (liveness).
    case noViewChangeBackoff = "no-view-change-backoff"
    /// The new primary (and every backup checking its new-view) takes the prepared
    /// certificate of the **lowest** view at base + 1 instead of the highest (breaks §4.4:
    /// "the pre-prepare … with the highest view number"; the proof that a committed block is
    /// re-proposed rests on it): a stale certificate from an older view, for a block that was
    /// prepared but superseded, outranks the one for the block that committed.
    case lowestViewPreparedCertificate = "lowest-view-prepared-certificate"
    /// A backup accepts a new-view without checking its view-change set — count, distinct
    /// senders, view, validity (breaks §4.4: the new-view must prove that a quorum moved and
    /// what they prepared): a byzantine primary announces a view nobody asked for, over its
    /// own view-change alone, and re-proposes what it likes.
    case newViewSetUnchecked = "new-view-set-unchecked"
    /// A view-change's prepared certificate is not checked (`isValid(vc)`: its view below the
    /// new view, its height, its quorum of prepare signatures) (breaks §4.4, §4.5.1: view-
    /// change messages must carry valid prepared certificates): a fake certificate of a high
    /// view wins the new view's choice over the real one.
    case viewChangeCertificateUnchecked = "view-change-certificate-unchecked"
    /// A backup does not compare the new-view's re-proposal with the certificate its
    /// view-change set dictates (breaks §4.4: backups recompute the new-view's pre-prepares):
    /// a byzantine new primary re-proposes another block in place of one that committed.
    case newViewReproposalUnchecked = "new-view-reproposal-unchecked"
    /// The join rule counts f view-changes ahead instead of f + 1 (breaks §4.5.2: f + 1 cannot
    /// all be faulty, f can): f byzantine replicas drag every honest one into a view change —
    /// into a view they lead and leave idle — whenever they like, and no block commits.
    case joinOnF = "join-on-f"
    /// The replica driver (`NodeCore.ReplicaDriver`) writes a step's durable state only when
    /// the next step begins, after the step's messages have left (breaks persist before send,
    /// TOCS 2002 §4.6 / habit 2): a node that dies between the two has sent votes its store
    /// does not remember, and restarted it signs conflicting ones (double signing) or forgets
    /// a prepared certificate its view-change should carry.
    case sendBeforePersist = "send-before-persist"
}

extension ReplicaConfig {
    /// Whether this replica runs `flaw` (mutation build only).
    func has(_ flaw: ProtocolFlaw) -> Bool { self.flaw == flaw }
}
#endif
