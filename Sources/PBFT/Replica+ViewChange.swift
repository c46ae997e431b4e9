import ChainTypes

// View changes (Castro & Liskov 1999, §4.4; liveness rules §4.5.2).
extension PBFTReplica {
    /// Moves to view `newView` (> current) and announces it with a signed view-change.
    mutating func startViewChange(to newView: UInt64) {
        precondition(newView > view || (newView == view && !isViewChanging), "view numbers only grow")
        if isViewChanging {
            // The previous view change did not complete in time: back off, up to the cap.
            #if HANSA_FLAWS
            if !config.has(.noViewChangeBackoff) {
                timeoutTicks = min(timeoutTicks * 2, config.parameters.maxViewChangeTimeoutTicks)
            }
            #else
            timeoutTicks = min(timeoutTicks * 2, config.parameters.maxViewChangeTimeoutTicks)
            #endif
        }
        durable.view = newView
        durable.viewChanging = true
        markDurableChanged()
        stats.viewChangesStarted += 1
        idleTicks = 0
        awaitedTicks = 0
        ticksSinceRetransmit = 0
        proposalRequestedAt = nil
        pendingNewViewBase = nil
        prepares.removeAll()

        let prepared = durable.prepared.flatMap { $0.height == tip.height + 1 ? $0 : nil }
        let body = ViewChange.signingBody(newView: newView, validatorIndex: selfIndex16, highestCommit: tip.certificate,
                                          prepared: prepared)
        guard let signature = guardedSign(.viewChange, view: newView, height: 0, hash: SHA256.hash(body),
                                          domain: .viewChange, body: body) else { return }
        let vc = ViewChange(newView: newView, validatorIndex: selfIndex16, highestCommit: tip.certificate,
                            prepared: prepared, signature: signature, preparedBlock: prepared == nil ? nil : durable.preparedBlock)
        viewChanges[index] = vc
        durable.viewChange = vc
        broadcast(.viewChange(vc))
        tryAssembleNewView()
    }

    /// Whether a view-change message is well formed and correctly signed, with valid certificates.
    func isValid(_ vc: ViewChange, requireBlock: Bool) -> Bool {
        let from = Int(vc.validatorIndex)
        guard from < config.n, crypto.verify(.viewChange, vc.signingBody, vc.signature, signer: from) else { return false }
        if let c = vc.highestCommit, !isValid(c) { return false }
        if let p = vc.prepared {
            #if HANSA_FLAWS
            let checkPrepared = !config.has(.viewChangeCertificateUnchecked)
            #else
            let checkPrepared = true
            #endif
            if checkPrepared { guard p.view < vc.newView, p.height == vc.committedHeight + 1, isValid(p) else { return false } }
            if requireBlock {
                guard let b = vc.preparedBlock, b.hash == p.blockHash, b.header.height == p.height,
                      Block.transactionsRoot(b.transactions) == b.header.transactionsRoot else { return false }
            }
        } else if vc.preparedBlock != nil {
            return false
        }
        return true
    }

    func isValid(_ c: CommitCertificate) -> Bool {
        do {
            try c.verify(quorum: config.quorum, setSize: config.n) { i, body, sig in crypto.verify(.commit, body, sig, signer: i) }
            return true
        } catch { return false }
    }

    func isValid(_ p: PreparedCertificate) -> Bool {
        do {
            try CommitCertificate.verifyVotes(phase: .prepare, view: p.view, height: p.height, blockHash: p.blockHash,
                                              signers: p.signers, quorum: config.quorum, setSize: config.n) { i, body, sig in
                crypto.verify(.prepare, body, sig, signer: i)
            }
            return true
        } catch { return false }
    }

    mutating func onViewChange(_ vc: ViewChange, from: Int) {
        guard Int(vc.validatorIndex) == from else { stats.dropped += 1; return }
        if vc.newView < view || (vc.newView == view && !isViewChanging) {
            // The sender is behind: it missed the new view this replica is in.
            if vc.newView == view { answerWithNewView(to: from) }
            return
        }
        if vc.newView - view > config.limits.viewChangeWindowViews {
            // Beyond the window: not kept and not counted (for the join rule or the timer), so
            // a byzantine replica's view-change for a huge view costs nothing. An honest sender
            // that far ahead has installed views this replica missed: ask it for its new-view.
            stats.dropped += 1
            requestNewView(view + 1, from: from)
            return
        }
        if let old = viewChanges[from], old.newView >= vc.newView { return }
        guard isValid(vc, requireBlock: true) else { stats.invalidSignatures += 1; return }
        viewChanges[from] = vc
        // §4.5.2: f + 1 replicas ahead of us cannot all be faulty; join the smallest such view.
        let current = view
        let ahead = viewChanges.values.filter { $0.newView > current }
        var joinAt = config.f + 1
        #if HANSA_FLAWS
        if config.has(.joinOnF) { joinAt = config.f }
        #endif
        if ahead.count >= joinAt, let smallest = ahead.map(\.newView).min() {
            startViewChange(to: smallest)
            return
        }
        if isViewChanging && vc.newView == view { tryAssembleNewView() }
    }

    /// What a new view must re-propose, computed from a quorum of view-changes: the highest
    /// committed height among them (`base`) and, at base + 1, the prepared certificate of
    /// the highest view (§4.4: "the pre-prepare … with the highest view number").
    struct NewViewDecision: Equatable {
        let base: UInt64
        let basePeers: [Int]
        let chosen: PreparedCertificate?
    }

    func decide(_ viewChanges: [ViewChange]) -> NewViewDecision {
        let base = viewChanges.map(\.committedHeight).max() ?? 0
        let peers = viewChanges.filter { $0.committedHeight == base }.map { Int($0.validatorIndex) }
        var chosen = viewChanges.compactMap(\.prepared).filter { $0.height == base + 1 }.max { $0.view < $1.view }
        #if HANSA_FLAWS
        if config.has(.ignorePreparedCertificates) { chosen = nil }
        if config.has(.lowestViewPreparedCertificate) {
            chosen = viewChanges.compactMap(\.prepared).filter { $0.height == base + 1 }.min { $0.view < $1.view }
        }
        #endif
        return NewViewDecision(base: base, basePeers: peers, chosen: chosen)
    }

    /// The new primary: once a quorum of view-changes for its view is in, announce the view.
    mutating func tryAssembleNewView() {
        guard isViewChanging, isPrimary else { return }
        let forView = viewChanges.values.filter { $0.newView == view } // ascending by validator index
        guard forView.count >= config.quorum else { return }
        let decision = decide(forView)
        if tip.height < decision.base {
            // It must hold the base block before it can build on it.
            pendingNewViewBase = decision.base
            startSync(to: decision.base, peers: decision.basePeers)
            return
        }
        pendingNewViewBase = nil
        var reproposal: PrePrepare? = nil
        if let chosen = decision.chosen {
            guard let block = forView.first(where: { $0.prepared?.blockHash == chosen.blockHash })?.preparedBlock else { return }
            let body = PrePrepare.signingBody(view: view, height: chosen.height, blockHash: chosen.blockHash, proposerIndex: selfIndex16)
            guard let sig = guardedSign(.prePrepare, view: view, height: chosen.height, hash: chosen.blockHash,
                                        domain: .prePrepare, body: body) else { return }
            reproposal = PrePrepare(view: view, height: chosen.height, block: block, proposerIndex: selfIndex16, signature: sig)
        }
        let summaries = forView.map(\.summary)
        let body = NewView.signingBody(view: view, primaryIndex: selfIndex16, viewChanges: summaries, reproposal: reproposal)
        // One new-view per view, even across a restart: a second one could differ.
        guard let signature = guardedSign(.newView, view: view, height: 0, hash: SHA256.hash(body), domain: .newView, body: body) else {
            return
        }
        let nv = NewView(view: view, primaryIndex: selfIndex16, viewChanges: summaries, reproposal: reproposal, signature: signature)
        broadcast(.newView(nv))
        install(nv, decision: decision)
    }

    /// A new-view proves itself — the primary of its view signed it over a quorum of signed
    /// view-changes — so it is taken from any sender (a backup answering a new-view request
    /// forwards it) and checked exactly as if the primary had sent it (§4.4).
    mutating func onNewView(_ nv: NewView, from: Int) {
        guard config.primary(of: nv.view) == Int(nv.primaryIndex) else { stats.dropped += 1; return }
        guard nv.view > view || (nv.view == view && isViewChanging) else { return }
        guard let decision = verifiedDecision(nv) else { stats.invalidSignatures += 1; return }
        install(nv, decision: decision)
    }

    /// Checks a new-view completely — signature, a quorum of distinct valid view-changes for
    /// its view, and a re-proposal equal to the one they dictate — and returns the decision.
    func verifiedDecision(_ nv: NewView) -> NewViewDecision? {
        guard crypto.verify(.newView, nv.signingBody, nv.signature, signer: Int(nv.primaryIndex)) else { return nil }
        #if HANSA_FLAWS
        let checkSet = !config.has(.newViewSetUnchecked)
        #else
        let checkSet = true
        #endif
        var signers = Set<UInt16>()
        for vc in nv.viewChanges where checkSet {
            guard vc.newView == nv.view, signers.insert(vc.validatorIndex).inserted, isValid(vc, requireBlock: false) else { return nil }
        }
        guard !checkSet || signers.count >= config.quorum else { return nil }
        let decision = decide(nv.viewChanges)
        switch (decision.chosen, nv.reproposal) {
        case (nil, nil):
            return decision
        case (let chosen?, let pp?):
            #if HANSA_FLAWS
            let sameBlock = pp.blockHash == chosen.blockHash || config.has(.newViewReproposalUnchecked)
            #else
            let sameBlock = pp.blockHash == chosen.blockHash
            #endif
            guard pp.view == nv.view, pp.height == chosen.height, sameBlock,
                  pp.proposerIndex == nv.primaryIndex, pp.height == pp.block.header.height,
                  crypto.verify(.prePrepare, pp.signingBody, pp.signature, signer: Int(nv.primaryIndex)) else { return nil }
            return decision
        default:
            return nil
        }
    }

    /// Enters the view announced by `nv` and takes up its re-proposal.
    mutating func install(_ nv: NewView, decision: NewViewDecision) {
        durable.view = nv.view
        durable.viewChanging = false
        durable.viewChange = nil
        durable.newView = nv
        markDurableChanged()
        stats.newViewsInstalled += 1
        idleTicks = 0
        awaitedTicks = 0
        proposalRequestedAt = nil
        prepares = prepares.filter { $0.key > tip.height }.mapValues { slots in
            var kept = slots
            kept.removeAll { $0.view < nv.view }
            return kept
        }
        bufferedProposals.removeAll()
        viewChanges.removeAll { $0.newView <= nv.view }
        if tip.height < decision.base { startSync(to: decision.base, peers: decision.basePeers) }
        if let pp = nv.reproposal {
            if pp.height == tip.height + 1 {
                if proposalRejection(pp.block, view: pp.view, reproposal: true) == nil {
                    accept(pp, announce: false)
                } else {
                    stats.rejectedProposals += 1
                }
            } else if pp.height == tip.height && pp.blockHash == tip.hash {
                // This replica already committed the re-proposed block; it helps the others
                // reach a certificate in the new view without applying it again.
                castVote(.prepare, view: nv.view, height: pp.height, hash: pp.blockHash)
                castVote(.commit, view: nv.view, height: pp.height, hash: pp.blockHash)
            } else if pp.height > tip.height + 1 {
                bufferedProposals[pp.height] = BufferedProposal(prePrepare: pp, isReproposal: true)
            }
        }
        tryCommit(height: tip.height + 1)
        maybePropose()
    }

    /// Asks `peer` for the new-view of a view this replica has not seen start, rate-limited
    /// per peer: a request to a peer that cannot answer must not hold back one to a peer that can.
    mutating func requestNewView(_ newView: UInt64, from peer: Int) {
        if let last = lastNewViewRequest[peer], last.view >= newView,
           tickCount < last.tick + config.limits.newViewAnswerIntervalTicks { return }
        lastNewViewRequest[peer] = (newView, tickCount)
        send(.newViewRequest(NewViewRequest(view: newView)), to: peer)
    }

    mutating func onNewViewRequest(_ request: NewViewRequest, from: Int) {
        guard let nv = lastNewView, nv.view >= request.view, !isViewChanging || nv.view >= request.view else { return }
        answerWithNewView(to: from)
    }

    /// Sends the new-view of the current view to a peer that lacks it, at most once per interval.
    mutating func answerWithNewView(to peer: Int) {
        guard let nv = lastNewView else { return }
        if let last = newViewAnswered[peer], tickCount < last + config.limits.newViewAnswerIntervalTicks { return }
        newViewAnswered[peer] = tickCount
        send(.newView(nv), to: peer)
    }
}
