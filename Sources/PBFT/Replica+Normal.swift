import ChainTypes

// The normal case: pre-prepare, prepare, commit (Castro & Liskov 1999, §4.2).
extension PBFTReplica {
    /// The primary asks its shell for a block when it has work and nothing in flight.
    mutating func maybePropose() {
        guard !isViewChanging, isPrimary, hasPendingWork, pendingNewViewBase == nil,
              syncTarget <= tip.height, acceptedForNextHeight == nil else { return }
        if let asked = proposalRequestedAt, tickCount < asked + config.limits.retransmitIntervalTicks { return }
        proposalRequestedAt = tickCount
        outbox.append(.buildProposal(height: tip.height + 1, view: view, parent: tip))
    }

    /// The proposal accepted for tip + 1 in the current view, if any.
    var acceptedForNextHeight: PrePrepare? {
        guard let a = durable.accepted, a.view == view, a.height == tip.height + 1 else { return nil }
        return a
    }

    mutating func onProposal(_ block: Block) {
        guard proposalRequestedAt != nil else { stats.dropped += 1; return }
        proposalRequestedAt = nil
        // The shell had nothing left but what this block does (e.g. a due scheduled call): its
        // pending-work report is used up until the next tick, or every commit would ask for
        // another empty block at once.
        if block.transactions.isEmpty { hasPendingWork = false }
        guard !isViewChanging, isPrimary, block.header.height == tip.height + 1, acceptedForNextHeight == nil else {
            stats.dropped += 1
            return
        }
        if proposalRejection(block, view: view, reproposal: false) != nil {
            // The shell built a block this replica would refuse from anyone else: drop it.
            stats.rejectedProposals += 1
            return
        }
        let body = PrePrepare.signingBody(view: view, height: block.header.height, blockHash: block.hash, proposerIndex: selfIndex16)
        guard let signature = guardedSign(.prePrepare, view: view, height: block.header.height, hash: block.hash,
                                          domain: .prePrepare, body: body) else { return }
        accept(PrePrepare(view: view, height: block.header.height, block: block, proposerIndex: selfIndex16,
                          signature: signature), announce: true)
    }

    /// Records `pp` as the proposal for tip + 1, then prepares it (every replica, the primary
    /// included, sends a prepare).
    mutating func accept(_ pp: PrePrepare, announce: Bool) {
        durable.accepted = pp
        markDurableChanged()
        if announce { broadcast(.prePrepare(pp)) }
        castVote(.prepare, view: pp.view, height: pp.height, hash: pp.blockHash)
        tryPrepared()
    }

    mutating func onPrePrepare(_ pp: PrePrepare, from: Int) {
        // §4.2: accepted only from the primary of its view, correctly signed.
        #if HANSA_FLAWS
        let fromPrimary = config.primary(of: pp.view) == from || config.has(.prePrepareFromNonPrimary)
        #else
        let fromPrimary = config.primary(of: pp.view) == from
        #endif
        guard Int(pp.proposerIndex) == from, fromPrimary else { stats.dropped += 1; return }
        guard crypto.verify(.prePrepare, pp.signingBody, pp.signature, signer: from) else {
            stats.invalidSignatures += 1
            return
        }
        if pp.view > view || (pp.view == view && isViewChanging) {
            requestNewView(pp.view, from: from)
            return
        }
        guard pp.view == view, inWindow(pp.height) else { stats.dropped += 1; return }
        if pp.height > tip.height + 1 {
            buffer(pp, isReproposal: false)
            return
        }
        if let current = acceptedForNextHeight {
            // A second, different proposal for the same (view, height) is equivocation: keep the first.
            if current.blockHash != pp.blockHash { stats.dropped += 1 }
            return
        }
        guard pp.height == pp.block.header.height, proposalRejection(pp.block, view: pp.view, reproposal: false) == nil else {
            stats.rejectedProposals += 1
            return
        }
        accept(pp, announce: false)
    }

    /// The buffered proposal for tip + 1, taken up at the first step after the commit that
    /// made it the next height (`continueAfterCommit`): checked as any proposal, then accepted.
    mutating func takeUpBufferedProposal() {
        guard bufferedProposalDue else { return }
        bufferedProposalDue = false
        guard !isViewChanging, let buffered = bufferedProposals.removeValue(forKey: tip.height + 1),
              buffered.prePrepare.view == view, acceptedForNextHeight == nil else { return }
        let pp = buffered.prePrepare
        guard pp.height == pp.block.header.height,
              proposalRejection(pp.block, view: pp.view, reproposal: buffered.isReproposal) == nil else {
            stats.rejectedProposals += 1
            return
        }
        accept(pp, announce: false)
        tryCommit(height: pp.height)
    }

    mutating func buffer(_ pp: PrePrepare, isReproposal: Bool) {
        guard bufferedProposals[pp.height] == nil else { return }
        guard bufferedProposals.count < config.limits.maxBufferedProposals else { stats.dropped += 1; return }
        bufferedProposals[pp.height] = BufferedProposal(prePrepare: pp, isReproposal: isReproposal)
    }

    /// Why `block`, proposed in `view`, may not be accepted at tip + 1, or nil. A re-proposal
    /// (from a new-view) keeps the header of the view it was first proposed in.
    ///
    /// Block time: the timestamp must be after the parent's, at most `max_clock_drift_ms`
    /// ahead of this replica's clock and — for a new proposal — at most
    /// `maxProposalLagMillis` (drift + request timeout) behind it, so that a primary cannot
    /// back-date a block on a quiet chain (review finding 9).
    func proposalRejection(_ block: Block, view: UInt64, reproposal: Bool) -> String? {
        let h = block.header
        let p = config.parameters
        if h.height != tip.height + 1 { return "height \(h.height) is not \(tip.height + 1)" }
        if h.previousHash != tip.hash { return "previous hash does not name the last committed block" }
        if reproposal {
            guard h.view <= view, h.proposer == config.validators.validators[config.primary(of: h.view)].address else {
                return "re-proposed header names a proposer that was not the primary of its view"
            }
        } else if h.view != view || h.proposer != config.validators.validators[config.primary(of: view)].address {
            return "header view or proposer does not match the pre-prepare"
        }
        if h.timestampMillis <= tip.timestampMillis { return "timestamp is not after the parent's" }
        if h.timestampMillis > nowMillis &+ p.maxClockDriftMillis { return "timestamp is too far ahead of this replica's clock" }
        // The lag bound is for new proposals only. A re-proposal carries a block that a quorum
        // prepared in an earlier view — so at least f + 1 honest replicas found its time fresh
        // when it was new — and that may already have committed at some replica: §4.4 lets
        // no new view replace it, so every honest replica must still take it up however long
        // the view changes took. Refusing it for its age would stall the height for good
        // (each later new-view re-proposes the same, ever older, block).
        #if HANSA_FLAWS
        let lagBound = !config.has(.noProposalLagBound)
        #else
        let lagBound = true
        #endif
        if !reproposal, lagBound, nowMillis > h.timestampMillis,
           nowMillis - h.timestampMillis > p.maxProposalLagMillis {
            return "timestamp lags this replica's clock by more than max_clock_drift_ms + the request timeout"
        }
        if UInt64(block.transactions.count) > p.maxBlockTransactions { return "too many transactions" }
        if Block.transactionsRoot(block.transactions) != h.transactionsRoot { return "transactions root does not match" }
        if UInt64(block.canonicalBytes.count) > p.maxBlockBytes { return "block exceeds max_block_bytes" }
        return validator.rejection(of: block, parent: tip)
    }

    mutating func onVote(_ vote: Vote, from: Int) {
        guard Int(vote.validatorIndex) == from else { stats.dropped += 1; return }
        guard inWindow(vote.height) || (vote.phase == .commit && vote.height == tip.height) else {
            stats.dropped += 1
            return
        }
        guard crypto.verify(vote.phase.domain, vote.signingBody, vote.signature, signer: from) else {
            stats.invalidSignatures += 1
            return
        }
        if vote.view > view || (vote.view == view && isViewChanging) {
            requestNewView(vote.view, from: from)
            // A commit vote from a later view is still evidence toward a certificate.
            guard vote.phase == .commit else { return }
        } else if vote.phase == .prepare && vote.view < view {
            stats.dropped += 1
            return
        }
        record(vote)
        if vote.phase == .prepare {
            if vote.height == tip.height + 1 { tryPrepared() }
        } else {
            tryCommit(height: vote.height)
        }
    }

    /// Keeps, per validator and height, its vote of the highest view.
    mutating func record(_ vote: Vote) {
        let i = Int(vote.validatorIndex), n = config.n
        if vote.phase == .prepare {
            if let old = prepares[vote.height]?[i], old.view >= vote.view { return }
            prepares[vote.height, default: ValidatorSlots(n: n)][i] = vote
        } else {
            if let old = commits[vote.height]?[i], old.view >= vote.view { return }
            commits[vote.height, default: ValidatorSlots(n: n)][i] = vote
        }
    }

    /// §4.2 prepared(m, v, n, i): the accepted proposal and a quorum of matching prepares.
    mutating func tryPrepared() {
        guard !isViewChanging, let pp = acceptedForNextHeight else { return }
        if let p = durable.prepared, p.view == view, p.height == pp.height { return }
        let matching = (prepares[pp.height]?.values ?? []).filter { $0.view == view && $0.blockHash == pp.blockHash }
        #if HANSA_FLAWS
        let quorum = config.quorum - (config.has(.preparedQuorumOneShort) ? 1 : 0)
        #else
        let quorum = config.quorum
        #endif
        guard matching.count >= quorum else { return }
        durable.prepared = PreparedCertificate(
            view: view, height: pp.height, blockHash: pp.blockHash,
            signers: matching.map { CommitCertificate.Signer(validatorIndex: $0.validatorIndex, signature: $0.signature) })
        durable.preparedBlock = pp.block
        markDurableChanged()
        castVote(.commit, view: view, height: pp.height, hash: pp.blockHash)
        tryCommit(height: pp.height)
    }

    /// §4.2 committed: a quorum of commits for one (view, height, hash) is a certificate.
    /// Votes are grouped in validator order, so a group lists its signers (the sync peers
    /// below) in the same order in every process. At most one group holds a quorum: a
    /// validator has one vote per height here, and two quorums would need 2q > n of them.
    mutating func tryCommit(height: UInt64) {
        #if HANSA_FLAWS
        let quorumSize = config.quorum - (config.has(.commitQuorumOneShort) ? 1 : 0)
        #else
        let quorumSize = config.quorum
        #endif
        guard height > tip.height, let votes = commits[height], votes.count >= quorumSize else { return }
        var groups: [(key: CertKey, votes: [Vote])] = []
        for v in votes.values {
            let key = CertKey(view: v.view, hash: v.blockHash)
            if let g = groups.firstIndex(where: { $0.key == key }) { groups[g].votes.append(v) } else { groups.append((key, [v])) }
        }
        guard let (key, quorum) = groups.first(where: { $0.votes.count >= quorumSize }) else { return }
        let certificate = CommitCertificate(votes: quorum)
        if height == tip.height + 1, let block = knownBlock(height: height, hash: key.hash) {
            commit(block, certificate)
        } else {
            startSync(to: height, peers: quorum.map { Int($0.validatorIndex) })
        }
    }

    struct CertKey: Hashable {
        let view: UInt64
        let hash: Hash
    }

    /// A block this replica holds for (height, hash): accepted, prepared or buffered.
    func knownBlock(height: UInt64, hash: Hash) -> Block? {
        if let a = durable.accepted, a.height == height, a.blockHash == hash { return a.block }
        if let b = durable.preparedBlock, b.header.height == height, b.hash == hash { return b }
        if let p = bufferedProposals[height], p.prePrepare.blockHash == hash { return p.prePrepare.block }
        return nil
    }

    /// Hands `block` to the shell to apply, moves the tip, and collects garbage below it.
    mutating func commit(_ block: Block, _ certificate: CommitCertificate) {
        guard block.header.height == tip.height + 1, block.header.previousHash == tip.hash else {
            // Only possible with more than f faulty validators: never apply it; fetch the chain instead.
            stats.dropped += 1
            startSync(to: block.header.height, peers: certificate.signers.map { Int($0.validatorIndex) })
            return
        }
        outbox.append(.commit(block, certificate))
        stats.committed += 1
        tip = ChainTip(height: block.header.height, hash: block.hash, timestampMillis: block.header.timestampMillis,
                       certificate: certificate)
        // Garbage collection: nothing at or below the tip is needed any more.
        prepares = prepares.filter { $0.key > tip.height }
        commits = commits.filter { $0.key > tip.height }
        bufferedProposals = bufferedProposals.filter { $0.key > tip.height }
        if let a = durable.accepted, a.height <= tip.height { durable.accepted = nil; markDurableChanged() }
        if let p = durable.prepared, p.height <= tip.height {
            durable.prepared = nil
            durable.preparedBlock = nil
            markDurableChanged()
        }
        idleTicks = 0
        ticksSinceRetransmit = 0
        timeoutTicks = config.parameters.requestTimeoutTicks
        if tip.height % config.parameters.checkpointInterval == 0 { sendCheckpoint() }
        if pendingNewViewBase != nil { tryAssembleNewView() }
        continueAfterCommit()
    }

    /// After a commit: votes already gathered, a new proposal — and, at the next step, the
    /// next buffered proposal.
    ///
    /// A buffered proposal for the new tip + 1 is judged only at the next step: the shell
    /// applies the `.commit` just emitted after this step returns, and until then its
    /// `BlockValidator` still sees the chain without the new tip — the simulated application
    /// takes the tip's transactions for new (a hasty byzantine primary's block repeating them
    /// committed them twice), the ledger refuses the block as not built on its head (a valid
    /// proposal was lost).
    mutating func continueAfterCommit() {
        let next = tip.height + 1
        if bufferedProposals[next] != nil { bufferedProposalDue = true }
        tryPrepared()
        tryCommit(height: next)
        if syncTarget > tip.height { requestSyncIfDue(force: true) }
        maybePropose()
    }
}
