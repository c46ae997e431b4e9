import ChainTypes
import PBFT

/// What the view-change adversary remembers of the traffic it sees (its own messages and
/// what it receives): view-changes per view, prepare votes, the prepared certificates it can
/// assemble from them, and blocks. Everything is bounded: heights more than `keptHeights`
/// below the highest seen and views more than `keptViews` below the highest are dropped.
/// Only looked up and filtered; what reaches a message is taken in validator or arrival
/// order (replay rule, docs/PROTOCOL.md §14).
struct ViewChangeAdversary {
    static let keptHeights: UInt64 = 4
    static let keptViews: UInt64 = 8

    /// View-changes seen, by new view: one slot per validator, the latest.
    var viewChanges: [UInt64: [ViewChange?]] = [:]
    /// Prepare votes seen, by (view, height, hash): one slot per validator.
    var prepares: [CertificateKey: [Vote?]] = [:]
    /// Prepared certificates assembled from those votes, by height, in the order they formed.
    var certificates: [UInt64: [PreparedCertificate]] = [:]
    /// Blocks seen in proposals, view-changes and new-views, by height, in arrival order.
    var blocks: [UInt64: [Block]] = [:]
    /// New-views already crafted, per view: what each recipient gets (nil: nothing).
    var craftedNewViews: [UInt64: [NewView?]] = [:]
    /// View-changes already forged, per new view: what each recipient gets.
    var forgedViewChanges: [UInt64: [ViewChange]] = [:]
    /// Heights at which a premature new-view went out (one attempt per height).
    var prematureHeights: Set<UInt64> = []
    /// Views for which a premature view-change went out.
    var prematureViews: Set<UInt64> = []
    /// Blocks of the stale certificates it reported, latest last (at most 16): it votes for
    /// them everywhere, should they be re-proposed.
    var pushed: [Hash] = []
    var highestHeight: UInt64 = 0
    var highestView: UInt64 = 0
    /// What it did, for tests: new-views crafted, view-changes forged (per new view), stale
    /// certificates reported, premature new-views and view-changes sent.
    var craftedCount = 0, forgedCount = 0, staleCount = 0, prematureNewViewCount = 0, prematureViewChangeCount = 0

    struct CertificateKey: Hashable {
        let view: UInt64
        let height: UInt64
        let hash: Hash
    }

    /// Remembers what `message` reveals; `n` is the cluster size.
    mutating func note(_ message: ConsensusMessage, n: Int) {
        switch message {
        case .prePrepare(let pp):
            remember(pp.block)
        case .vote(let v) where v.phase == .prepare:
            notePrepare(v, n: n)
        case .viewChange(let vc):
            guard Int(vc.validatorIndex) < n else { return }
            highestView = max(highestView, vc.newView)
            guard vc.newView + Self.keptViews >= highestView else { return }
            var slots = viewChanges[vc.newView] ?? Array(repeating: nil, count: n)
            slots[Int(vc.validatorIndex)] = vc
            viewChanges[vc.newView] = slots
            if let b = vc.preparedBlock { remember(b) }
            viewChanges = viewChanges.filter { $0.key + Self.keptViews >= highestView }
        case .newView(let nv):
            if let pp = nv.reproposal { remember(pp.block) }
        default:
            return
        }
    }

    mutating func remember(_ block: Block) {
        let h = block.header.height
        highestHeight = max(highestHeight, h)
        guard h + Self.keptHeights >= highestHeight else { return }
        if blocks[h]?.contains(where: { $0.hash == block.hash }) == true { return }
        if (blocks[h]?.count ?? 0) >= 8 { return }
        blocks[h, default: []].append(block)
        prune()
    }

    mutating func notePrepare(_ v: Vote, n: Int) {
        guard Int(v.validatorIndex) < n else { return }
        highestHeight = max(highestHeight, v.height)
        guard v.height + Self.keptHeights >= highestHeight else { return }
        let key = CertificateKey(view: v.view, height: v.height, hash: v.blockHash)
        var slots = prepares[key] ?? Array(repeating: nil, count: n)
        guard slots[Int(v.validatorIndex)] == nil else { return }
        slots[Int(v.validatorIndex)] = v
        prepares[key] = slots
        let votes = slots.compactMap { $0 }
        if votes.count == Self.quorum(n) {
            let cert = PreparedCertificate(view: v.view, height: v.height, blockHash: v.blockHash,
                                           signers: votes.map { CommitCertificate.Signer(validatorIndex: $0.validatorIndex, signature: $0.signature) })
            certificates[v.height, default: []].append(cert)
        }
        prune()
    }

    mutating func prune() {
        let floor = highestHeight > Self.keptHeights ? highestHeight - Self.keptHeights : 0
        blocks = blocks.filter { $0.key >= floor }
        prepares = prepares.filter { $0.key.height >= floor }
        certificates = certificates.filter { $0.key >= floor }
        prematureHeights = prematureHeights.filter { $0 >= floor }
        let viewFloor = highestView > Self.keptViews ? highestView - Self.keptViews : 0
        craftedNewViews = craftedNewViews.filter { $0.key >= viewFloor }
        forgedViewChanges = forgedViewChanges.filter { $0.key >= viewFloor }
        prematureViews = prematureViews.filter { $0 >= viewFloor }
    }

    static func quorum(_ n: Int) -> Int { (n + (n - 1) / 3 + 2) / 2 }

    func block(height: UInt64, hash: Hash) -> Block? { blocks[height]?.first { $0.hash == hash } }

    /// Whether it holds a prepared certificate at `height` for a block other than `hash`.
    func holdsCertificate(height: UInt64, otherThan hash: Hash) -> Bool {
        certificates[height]?.contains { $0.blockHash != hash } == true
    }

    mutating func push(_ hash: Hash) {
        guard !pushed.contains(hash) else { return }
        pushed.append(hash)
        if pushed.count > 16 { pushed.removeFirst() }
    }

    /// A certificate for `height` of a lower view than the highest one known there, naming
    /// another block, whose block is known: what a stale view-change reports.
    func staleCertificate(height: UInt64) -> (PreparedCertificate, Block)? {
        guard let certs = certificates[height], let top = certs.max(by: { $0.view < $1.view }) else { return nil }
        let older = certs.filter { $0.view < top.view && $0.blockHash != top.blockHash }.min { $0.view < $1.view }
        guard let cert = older, let b = block(height: height, hash: cert.blockHash) else { return nil }
        return (cert, b)
    }

    /// What a new view must re-propose for `vcs`, as every replica computes it (§4.4).
    static func decide(_ vcs: [ViewChange]) -> (base: UInt64, chosen: PreparedCertificate?) {
        let base = vcs.map(\.committedHeight).max() ?? 0
        return (base, vcs.compactMap(\.prepared).filter { $0.height == base + 1 }.max { $0.view < $1.view })
    }
}

// The view-change adversary: a byzantine new primary, forged view-change contents and
// premature view-changes (docs/PROTOCOL.md §14). It runs an honest core and rewrites what
// that core sends; it signs only with its own key.
extension ByzantineRewriter {
    var isViewChangeAdversary: Bool {
        behaviour == .byzantineNewPrimary || behaviour == .forgedViewChange || behaviour == .prematureViewChange
    }

    /// The rewriting for the view-change behaviours.
    mutating func rewriteViewChange(_ message: ConsensusMessage, to: Int?, ledger: SimLedger) -> [(Int?, ConsensusMessage)] {
        adversary.note(message, n: n)
        switch (behaviour, message) {
        case (.byzantineNewPrimary, .newView(let nv)) where Int(nv.primaryIndex) == index:
            return deliver(crafted(nv), to: to)
        case (.byzantineNewPrimary, .vote(let v)) where v.phase == .commit:
            return withheldCommit(v, to: to) + prematureNewView(v, ledger: ledger)
        case (.forgedViewChange, .viewChange(let vc)) where Int(vc.validatorIndex) == index:
            let plan = forgedPlan(vc)
            return others.filter { to == nil || to == $0 }.map { ($0, .viewChange(plan[$0])) }
        case (.forgedViewChange, .newView(let nv)) where Int(nv.primaryIndex) == index:
            return deliver(withoutOwnCertificate(nv), to: to)
        case (.forgedViewChange, .vote(let v)) where adversary.pushed.contains(v.blockHash):
            return [(to, message)]
        case (.forgedViewChange, .vote(let v)) where v.phase == .prepare:
            // Its first prepare at a height stays private: with one honest replica cut off the
            // others cannot prepare without it, and it alone assembles that certificate — a
            // stale one once another block prepares at the height in a later view.
            return adversary.holdsCertificate(height: v.height, otherThan: v.blockHash) ? [(to, message)] : []
        case (.forgedViewChange, .vote(let v)):
            return withheldCommit(v, to: to)
        case (.prematureViewChange, .vote(let v)):
            return [(to, message)] + prematureViewChange(after: v.view, ledger: ledger)
        case (.prematureViewChange, .prePrepare(let pp)) where Int(pp.proposerIndex) == index:
            return [] // it leads nothing
        case (.prematureViewChange, .newView(let nv)) where Int(nv.primaryIndex) == index:
            return []
        default:
            return [(to, message)]
        }
    }

    var others: [Int] { (0..<n).filter { $0 != index } }

    /// The smallest view above `view` that this replica leads.
    func nextLedView(after view: UInt64) -> UInt64 {
        let n64 = UInt64(n)
        var w = view - view % n64 + UInt64(index)
        if w <= view { w += n64 }
        return w
    }

    func deliver(_ plan: [NewView?], to: Int?) -> [(Int?, ConsensusMessage)] {
        others.filter { to == nil || to == $0 }.compactMap { r in plan[r].map { (r, .newView($0)) } }
    }

    /// Its commit for a height goes to one replica only, so that one can commit while the
    /// others still need every honest commit.
    func withheldCommit(_ v: Vote, to: Int?) -> [(Int?, ConsensusMessage)] {
        let favoured = favouredPeer(view: v.view, height: v.height, hash: v.blockHash)
        return to == nil || to == favoured ? [(favoured, .vote(v))] : []
    }

    /// The replica its commit goes to: the first other one it saw prepare the block (one it
    /// can reach), else one chosen by height.
    func favouredPeer(view: UInt64, height: UInt64, hash: Hash) -> Int {
        let key = ViewChangeAdversary.CertificateKey(view: view, height: height, hash: hash)
        let slots = adversary.prepares[key] ?? []
        return others.first { $0 < slots.count && slots[$0] != nil } ?? others[Int(height % UInt64(others.count))]
    }

    // MARK: Signing with its own key

    func signedViewChange(newView: UInt64, highestCommit: CommitCertificate?, prepared: PreparedCertificate?,
                          block: Block?) -> ViewChange {
        let body = ViewChange.signingBody(newView: newView, validatorIndex: UInt16(index), highestCommit: highestCommit,
                                          prepared: prepared)
        return ViewChange(newView: newView, validatorIndex: UInt16(index), highestCommit: highestCommit, prepared: prepared,
                          signature: crypto.sign(.viewChange, body), preparedBlock: block)
    }

    func signedPrePrepare(view: UInt64, _ block: Block) -> PrePrepare {
        signedPrePrepare(view: view, height: block.header.height, block: block)
    }

    func signedNewView(view: UInt64, _ vcs: [ViewChange], _ reproposal: PrePrepare?) -> NewView {
        let summaries = vcs.map(\.summary).sorted { $0.validatorIndex < $1.validatorIndex }
        let body = NewView.signingBody(view: view, primaryIndex: UInt16(index), viewChanges: summaries, reproposal: reproposal)
        return NewView(view: view, primaryIndex: UInt16(index), viewChanges: summaries, reproposal: reproposal,
                       signature: crypto.sign(.newView, body))
    }

    /// A certificate of a quorum of signatures nobody made.
    mutating func fakeCertificate(view: UInt64, height: UInt64, hash: Hash) -> PreparedCertificate {
        let signers = (0..<ViewChangeAdversary.quorum(n)).map { i in
            CommitCertificate.Signer(validatorIndex: UInt16(i), signature: StandInCrypto.signature(secret: rng.next(), .prepare, [UInt8(i)]))
        }
        return PreparedCertificate(view: view, height: height, blockHash: hash, signers: signers)
    }

    /// The equivocating primary's twin of `block` (`twin(of:)`: its header fields, one
    /// transaction fewer, consistent roots), or nil for an empty block: the view-change
    /// forgeries only twin blocks that carry transactions.
    static func nonEmptyTwin(of block: Block) -> Block? {
        block.transactions.isEmpty ? nil : twin(of: block)
    }
}

// MARK: The byzantine new primary (Castro & Liskov 1999, §4.4: what a NEW-VIEW must prove)
extension ByzantineRewriter {
    /// What each recipient gets instead of the honest new-view `nv` its core assembled:
    /// chosen once per view (retransmissions repeat it), from the new-views below.
    mutating func crafted(_ nv: NewView) -> [NewView?] {
        if let plan = adversary.craftedNewViews[nv.view] { return plan }
        let chosen = ViewChangeAdversary.decide(nv.viewChanges).chosen
        let omitting = omittingHighest(nv), different = differentBlock(nv), invalid = staleOrInvalid(nv)
        var plan = [NewView?](repeating: nil, count: n)
        // With a prepared certificate at stake, lean to what would lose it.
        let mode = chosen != nil ? [0, 1, 3].randomElement(using: &rng)! : Int.random(in: 1...3, using: &rng)
        for r in others {
            switch mode {
            case 0: plan[r] = omitting ?? invalid
            case 1: plan[r] = different ?? invalid
            case 2: plan[r] = invalid
            default: plan[r] = r % 2 == 0 ? nv : (different ?? omitting ?? invalid) // two halves, two new-views
            }
        }
        adversary.craftedNewViews[nv.view] = plan
        adversary.craftedCount += 1
        return plan
    }

    /// All valid view-changes it saw for `view`, in validator order.
    func viewChangePool(_ view: UInt64) -> [ViewChange] {
        (adversary.viewChanges[view] ?? []).compactMap { $0 }.filter { vc in
            vc.newView == view && crypto.verify(.viewChange, vc.signingBody, vc.signature, signer: Int(vc.validatorIndex))
        }
    }

    /// A new-view without the highest prepared certificate: a quorum of view-changes that
    /// lacks it when one exists — valid, and safe, when that block did not commit — or else
    /// the same set with the re-proposal dropped (invalid). Nil when nothing is at stake.
    func omittingHighest(_ nv: NewView) -> NewView? {
        let pool = viewChangePool(nv.view)
        guard let top = ViewChangeAdversary.decide(pool).chosen ?? ViewChangeAdversary.decide(nv.viewChanges).chosen else { return nil }
        let lacking = pool.filter { p in !(p.prepared?.view == top.view && p.prepared?.height == top.height) }
        if lacking.count >= ViewChangeAdversary.quorum(n) {
            let set = Array(lacking.prefix(ViewChangeAdversary.quorum(n)))
            let d = ViewChangeAdversary.decide(set)
            var reproposal: PrePrepare? = nil
            if let c = d.chosen {
                guard let b = adversary.block(height: c.height, hash: c.blockHash) else { return nil }
                reproposal = signedPrePrepare(view: nv.view, b)
            }
            return signedNewView(view: nv.view, set, reproposal)
        }
        return signedNewView(view: nv.view, nv.viewChanges, nil)
    }

    /// The same view-changes, but another block re-proposed: a twin of the chosen one, or
    /// a twin of a block seen at base + 1 where nothing may be re-proposed.
    func differentBlock(_ nv: NewView) -> NewView? {
        let base = ViewChangeAdversary.decide(nv.viewChanges).base
        guard let original = nv.reproposal?.block ?? adversary.blocks[base + 1]?.last,
              let twin = Self.nonEmptyTwin(of: original) else { return nil }
        return signedNewView(view: nv.view, nv.viewChanges, signedPrePrepare(view: nv.view, twin))
    }

    /// One view-change of another validator replaced by its view-change for an older view
    /// (stale) or, if it sent none it saw, by one with a broken signature (invalid).
    mutating func staleOrInvalid(_ nv: NewView) -> NewView {
        var vcs = nv.viewChanges
        let candidates = vcs.indices.filter { Int(vcs[$0].validatorIndex) != index }
        guard let k = candidates.randomElement(using: &rng) else { return nv }
        let who = Int(vcs[k].validatorIndex)
        let older = adversary.viewChanges.filter { $0.key < nv.view }.keys.sorted().last { adversary.viewChanges[$0]?[who] != nil }
        if let v = older, let stale = adversary.viewChanges[v]?[who] {
            vcs[k] = stale.summary
        } else {
            vcs[k].signature = StandInCrypto.signature(secret: rng.next(), .viewChange, [9])
        }
        return signedNewView(view: nv.view, vcs, nv.reproposal)
    }

    /// In the normal case, with its commit for height h: a NEW-VIEW for the next view it
    /// leads, which nobody asked for, to every honest replica but the one its commit goes
    /// to. Its only view-change is its own, claiming a prepared certificate (of signatures
    /// nobody made) for a twin of the block in flight; it re-proposes that twin and sends its
    /// own prepare and commit for it. Valid replicas refuse it (fewer than q view-changes,
    /// a fake certificate); one that took it would split height h.
    mutating func prematureNewView(_ v: Vote, ledger: SimLedger) -> [(Int?, ConsensusMessage)] {
        guard ledger.height + 1 == v.height, adversary.prematureHeights.insert(v.height).inserted,
              let b = adversary.block(height: v.height, hash: v.blockHash), let twin = Self.nonEmptyTwin(of: b) else { return [] }
        let target = nextLedView(after: v.view)
        let fake = fakeCertificate(view: v.view, height: v.height, hash: twin.hash)
        let vc = signedViewChange(newView: target, highestCommit: ledger.tip.certificate, prepared: fake, block: nil)
        let nv = signedNewView(view: target, [vc], signedPrePrepare(view: target, twin))
        let prepare = signedVote(.prepare, view: target, height: v.height, hash: twin.hash)
        let commit = signedVote(.commit, view: target, height: v.height, hash: twin.hash)
        let favoured = favouredPeer(view: v.view, height: v.height, hash: v.blockHash)
        adversary.prematureNewViewCount += 1
        return others.filter { $0 != favoured }.flatMap { r in
            [(r, ConsensusMessage.newView(nv)), (r, .vote(prepare)), (r, .vote(commit))] as [(Int?, ConsensusMessage)]
        }
    }
}

// MARK: Forged view-change contents under a valid outer signature (§4.4)
extension ByzantineRewriter {
    /// What each recipient gets instead of its core's view-change `vc`, chosen once per new
    /// view. Where it holds a stale certificate for the next height — of an older view than
    /// the highest it knows, for another block — everyone gets a view-change carrying it
    /// (valid, and harmless only if the new view takes the highest). Where it holds some
    /// certificate there, its view-change is valid but leaves that out. Otherwise, for every
    /// other new view, the new view's primary — whose choice it wants to sway — gets a fake
    /// certificate of a view above every real one, and the others get, by index, a
    /// higher-view (re-labelled) certificate, a prepared block that does not match its
    /// certificate, or a fake certificate; in the remaining views its view-change is valid
    /// but leaves out its own prepared certificate, so it still counts toward quorums and
    /// timers.
    mutating func forgedPlan(_ vc: ViewChange) -> [ViewChange] {
        if let plan = adversary.forgedViewChanges[vc.newView] { return plan }
        let h = vc.committedHeight + 1
        let staleCertificate = adversary.staleCertificate(height: h)
        let stale = staleCertificate.map { cert, b in
            signedViewChange(newView: vc.newView, highestCommit: vc.highestCommit, prepared: cert, block: b)
        }
        if let (cert, _) = staleCertificate { adversary.push(cert.blockHash); adversary.staleCount += 1 }
        let known = vc.prepared.map { ($0, vc.preparedBlock) }
            ?? adversary.certificates[h]?.last.map { ($0, adversary.block(height: h, hash: $0.blockHash)) }
        let seen = vc.preparedBlock ?? adversary.blocks[h]?.last
        var fake: ViewChange? = nil
        if let b = seen, let twin = Self.nonEmptyTwin(of: b) {
            // A view no real certificate can have: above the new view itself.
            let cert = fakeCertificate(view: vc.newView + 1, height: h, hash: twin.hash)
            fake = signedViewChange(newView: vc.newView, highestCommit: vc.highestCommit, prepared: cert, block: twin)
        }
        var higher: ViewChange? = nil, mismatched: ViewChange? = nil
        if let (cert, block) = known {
            var relabelled = cert
            relabelled.view = vc.newView + 1
            higher = signedViewChange(newView: vc.newView, highestCommit: vc.highestCommit, prepared: relabelled, block: block)
            if let b = block, let twin = Self.nonEmptyTwin(of: b) {
                mismatched = signedViewChange(newView: vc.newView, highestCommit: vc.highestCommit, prepared: cert, block: twin)
            }
        }
        let primary = Int(vc.newView % UInt64(n))
        // Its own prepared certificate it keeps to itself: a block it alone could prove prepared
        // is not re-proposed, so another one prepares at the height in the new view.
        let silent = signedViewChange(newView: vc.newView, highestCommit: vc.highestCommit, prepared: nil, block: nil)
        var plan = [ViewChange](repeating: stale ?? silent, count: n)
        if stale == nil && adversary.certificates[h] == nil && vc.newView % 2 == 0 {
            for r in others {
                plan[r] = r == primary ? (fake ?? higher ?? vc) : ([higher, mismatched, fake][r % 3] ?? fake ?? vc)
            }
        }
        adversary.forgedViewChanges[vc.newView] = plan
        adversary.forgedCount += 1
        return plan
    }
}

extension ByzantineRewriter {
    /// As primary, its core's new-view `nv` rebuilt over the same view-changes but with its
    /// own one stripped of its prepared certificate (what it sent everyone else), and the
    /// re-proposal those dictate: a block it alone proved prepared is not re-proposed.
    mutating func withoutOwnCertificate(_ nv: NewView) -> [NewView?] {
        if let plan = adversary.craftedNewViews[nv.view] { return plan }
        var vcs = nv.viewChanges
        if let k = vcs.firstIndex(where: { Int($0.validatorIndex) == index }), vcs[k].prepared != nil {
            vcs[k] = signedViewChange(newView: nv.view, highestCommit: vcs[k].highestCommit, prepared: nil, block: nil)
        }
        var rebuilt = nv
        if vcs != nv.viewChanges {
            let chosen = ViewChangeAdversary.decide(vcs).chosen
            var reproposal: PrePrepare? = nil
            if let c = chosen, let b = adversary.block(height: c.height, hash: c.blockHash) {
                reproposal = signedPrePrepare(view: nv.view, b)
            }
            rebuilt = signedNewView(view: nv.view, vcs, reproposal)
        }
        let plan = (0..<n).map { $0 == index ? nil : rebuilt }
        adversary.craftedNewViews[nv.view] = plan
        return plan
    }
}

// MARK: Premature view-changes (§4.5.2: f + 1 are needed to join)
extension ByzantineRewriter {
    /// With each of its votes in view `view`, a correctly signed view-change for the next
    /// view it leads (once per view), though nothing timed out; as primary it then proposes
    /// nothing. One replica's view-change (or f's) must move nobody.
    mutating func prematureViewChange(after view: UInt64, ledger: SimLedger) -> [(Int?, ConsensusMessage)] {
        guard adversary.prematureViews.insert(view).inserted else { return [] }
        adversary.highestView = max(adversary.highestView, view)
        let vc = signedViewChange(newView: nextLedView(after: view), highestCommit: ledger.tip.certificate, prepared: nil, block: nil)
        adversary.prematureViewChangeCount += 1
        return [(nil, .viewChange(vc))]
    }
}
