import ChainTypes
import PBFT

/// How a byzantine replica misbehaves. It runs an honest core for plausibility, then
/// rewrites what that core sends.
public enum ByzantineBehaviour: String, CaseIterable, Sendable {
    /// As primary, sends twin blocks to overlapping sets of replicas (some get one, some the
    /// other, some both in either order) and votes for both (Byzantine+Normal.swift).
    case equivocatingPrimary = "equivocating-primary"
    /// Colludes with the byzantine primary: every prepare and commit it sends goes out beside
    /// prepares and commits for every twin of that slot, and for random hashes.
    case conflictingVotes = "conflicting-votes"
    /// Sends messages whose signatures are forged.
    case invalidSignatures = "invalid-signatures"
    /// Replays old messages: ones it received and its own old signed ones, from old views
    /// and heights.
    case replay
    /// Sends nothing at all.
    case silent
    /// Floods far-ahead heights, future views and new-view requests.
    case flood
    /// As primary, proposes blocks with transactions nobody submitted.
    case invalidProposals = "invalid-proposals"
    /// As primary, stamps its blocks an hour before its clock, or just after the parent's
    /// if that is later (review finding 9): on a chain it leads for a while, block time
    /// stands still while the clocks move on.
    case backDatingPrimary = "back-dating-primary"
    /// As primary, leaves one chosen transaction (the oldest pending one, chosen anew once
    /// that one commits) out of every block it builds, and otherwise behaves: blocks keep
    /// committing while that transaction waits.
    case censoringPrimary = "censoring-primary"
    /// As a backup, proposes: correctly signed pre-prepares of its own, for the next height
    /// on top of each proposal it sees, with votes for them (Byzantine+Normal.swift).
    case rogueProposer = "rogue-proposer"
    /// Sends its proposals and votes only to f + 1 replicas chosen once.
    case selectiveSender = "selective-sender"
    /// As primary, holds each proposal until just under the request timeout.
    case slowPrimary = "slow-primary"
    /// Behaves, but answers sync requests with forged certificates, wrong blocks, or nothing.
    case lyingSyncServer = "lying-sync-server"
    /// As primary, sends its proposal for h + 1 with the one for h, repeating h's transactions.
    case hastyPrimary = "hasty-primary"
    /// As primary of a new view (Byzantine+ViewChange.swift): omits the highest prepared
    /// certificate (a quorum of view-changes that lacks it, or no re-proposal), includes a
    /// stale or invalid view-change, re-proposes a different block, or sends two different
    /// new-views to two halves; in the normal case it sends a premature new-view for the next
    /// view it leads to all but one honest replica, and its commits go to that one only.
    case byzantineNewPrimary = "byzantine-new-primary"
    /// Sends view-changes under its own valid signature with forged contents: a stale
    /// prepared certificate from an older view, a fake one (signatures nobody made) of a view
    /// above every real one, a re-labelled higher-view certificate, or a prepared block that
    /// does not match its certificate. Its first prepare at a height stays private (it alone
    /// holds that certificate), and its commits go to one honest replica only.
    case forgedViewChange = "forged-view-change"
    /// Asks, with correctly signed view-changes, for the next view it leads while the view
    /// works, and leads nothing when it is primary.
    case prematureViewChange = "premature-view-change"
}

/// The rewriting of a byzantine replica's output.
struct ByzantineRewriter {
    let behaviour: ByzantineBehaviour
    let index: Int
    let n: Int
    let crypto: any ConsensusCrypto
    var rng: SimRandom
    var heard: [ConsensusMessage] = []
    /// The transaction a censoring primary leaves out.
    var censored: Hash?
    /// The normal-case, sync and timer adversary's state (Byzantine+Normal.swift).
    var normal = NormalAdversary()
    /// What the view-change behaviours remember (Byzantine+ViewChange.swift).
    var adversary = ViewChangeAdversary()

    mutating func observe(_ message: ConsensusMessage) {
        if behaviour == .rogueProposer { observeAsRogue(message) }
        if isViewChangeAdversary { adversary.note(message, n: n) }
        guard behaviour == .replay else { return }
        if heard.count < 512 { heard.append(message) } else { heard[Int.random(in: 0..<512, using: &rng)] = message }
    }

    /// How far back a back-dating primary stamps its blocks (saturating at just after the parent's).
    static let backDateMillis: UInt64 = 3_600_000

    /// (recipient or nil for all, message) pairs to send instead of `message`; `ledger` is
    /// the byzantine node's own chain (where a proposal's parent is).
    mutating func rewrite(_ message: ConsensusMessage, to: Int?, ledger: SimLedger) -> [(Int?, ConsensusMessage)] {
        switch behaviour {
        case .silent:
            return []
        case .equivocatingPrimary:
            return twinProposals(message, to: to)
        case .conflictingVotes:
            return colludingVotes(message, to: to)
        case .invalidSignatures:
            return [(to, forged(message))]
        case .replay:
            return replayingOwn(message, to: to)
        case .flood:
            var out: [(Int?, ConsensusMessage)] = [(to, message)]
            if case .vote(let v) = message {
                for k in 1...4 {
                    let far = v.height + UInt64(k) * UInt64.random(in: 1...10_000, using: &rng)
                    let body = Vote.signingBody(phase: .commit, view: v.view + UInt64(k), height: far, blockHash: v.blockHash,
                                                validatorIndex: v.validatorIndex)
                    out.append((nil, .vote(Vote(phase: .commit, view: v.view + UInt64(k), height: far, blockHash: v.blockHash,
                                                validatorIndex: v.validatorIndex, signature: crypto.sign(.commit, body)))))
                }
                out.append((nil, .newViewRequest(NewViewRequest(view: UInt64.random(in: 0...1_000_000, using: &rng)))))
                let huge = v.view + UInt64.random(in: 1_000...1_000_000, using: &rng)
                let vcBody = ViewChange.signingBody(newView: huge, validatorIndex: v.validatorIndex, highestCommit: nil, prepared: nil)
                out.append((nil, .viewChange(ViewChange(newView: huge, validatorIndex: v.validatorIndex, highestCommit: nil,
                                                        prepared: nil, signature: crypto.sign(.viewChange, vcBody), preparedBlock: nil))))
            }
            return out
        case .invalidProposals:
            guard case .prePrepare(let pp) = message else { return [(to, message)] }
            var bad = pp.block
            let fake = TransactionBody(chain: Cluster.chain, sender: ProtocolKeys.clientKey.publicKey,
                                       nonce: rng.next(), kind: .transfer, payload: [1], gasLimit: 0)
            bad.transactions.append(Transaction(body: fake, signature: ProtocolKeys.dummySignature))
            bad.header.transactionsRoot = Block.transactionsRoot(bad.transactions)
            bad.header.stateRoot = SimApplication.stateRoot(parent: bad.header.previousHash, transactionsRoot: bad.header.transactionsRoot)
            bad.header.receiptsRoot = SimApplication.receiptsRoot(bad.transactions)
            let body = PrePrepare.signingBody(view: pp.view, height: pp.height, blockHash: bad.hash, proposerIndex: pp.proposerIndex)
            return [(to, .prePrepare(PrePrepare(view: pp.view, height: pp.height, block: bad, proposerIndex: pp.proposerIndex,
                                                signature: crypto.sign(.prePrepare, body))))]
        case .backDatingPrimary:
            guard case .prePrepare(let pp) = message, let back = backDated(pp, ledger: ledger) else { return [(to, message)] }
            return [(to, .prePrepare(back))]
        case .byzantineNewPrimary: return rewriteViewChange(message, to: to, ledger: ledger)
        case .forgedViewChange: return rewriteViewChange(message, to: to, ledger: ledger)
        case .prematureViewChange: return rewriteViewChange(message, to: to, ledger: ledger)
        case .censoringPrimary:
            // It censors when it builds its blocks (`censor`); its messages are honest.
            return [(to, message)]
        case .rogueProposer:
            // Its rogue proposals go out as it sees proposals (`observeAsRogue`); its core's
            // own messages are honest.
            return [(to, message)]
        case .selectiveSender:
            return selective(message, to: to)
        case .slowPrimary:
            return slowed(message, to: to)
        case .hastyPrimary:
            return hastyProposals(message, to: to)
        case .lyingSyncServer:
            // It lies when asked to sync (`lyingSyncAnswer`); its messages are honest.
            return [(to, message)]
        }
    }

    /// The transactions a censoring primary's block carries: `pending` without the chosen
    /// one — the first pending transaction, chosen while none is or once the last one has
    /// committed. Its own core proposes and signs that block, so nothing else looks amiss.
    mutating func censor(_ pending: [Transaction], ledger: SimLedger) -> [Transaction] {
        if censored == nil || ledger.committedTransactions.contains(censored!) { censored = pending.first?.hash }
        return pending.filter { $0.hash != censored }
    }

    /// `pp` with its block stamped `backDateMillis` earlier, but still after the parent's
    /// time (the rule the replicas checked before finding 9), re-signed; nil when the parent
    /// is not in `ledger`. The result depends only on `pp` and the chain, so a retransmission
    /// carries the same block (no equivocation).
    func backDated(_ pp: PrePrepare, ledger: SimLedger) -> PrePrepare? {
        guard pp.height >= 1, pp.height - 1 <= ledger.height else { return nil }
        let parentHeight = pp.height - 1
        let parentTime = parentHeight == 0 ? ledger.genesis.timestampMillis : ledger.block(at: parentHeight)!.0.header.timestampMillis
        var block = pp.block
        let honest = block.header.timestampMillis
        block.header.timestampMillis = max(parentTime + 1, honest > Self.backDateMillis ? honest - Self.backDateMillis : 0)
        let body = PrePrepare.signingBody(view: pp.view, height: pp.height, blockHash: block.hash, proposerIndex: pp.proposerIndex)
        return PrePrepare(view: pp.view, height: pp.height, block: block, proposerIndex: pp.proposerIndex,
                          signature: crypto.sign(.prePrepare, body))
    }

    /// The same message with a signature that its claimed signer never made.
    mutating func forged(_ message: ConsensusMessage) -> ConsensusMessage {
        let garbage = StandInCrypto.signature(secret: rng.next(), .commit, [1, 2, 3])
        switch message {
        case .prePrepare(var m): m.signature = garbage; return .prePrepare(m)
        case .vote(var m): m.signature = garbage; return .vote(m)
        case .checkpoint(var m): m.signature = garbage; return .checkpoint(m)
        case .viewChange(var m): m.signature = garbage; return .viewChange(m)
        case .newView(var m): m.signature = garbage; return .newView(m)
        case .newViewRequest: return message
        }
    }
}

/// Keys the simulator derives; never used for value.
enum ProtocolKeys {
    static let clientKey = try! PrivateKey(secret: SHA256.hash(utf8: "hansa sim client").bytes)
    /// A well-formed signature that verifies for nothing: r = s = 1.
    static let dummySignature = try! Signature(compact: [UInt8](repeating: 0, count: 31) + [1] + [UInt8](repeating: 0, count: 31) + [1])
}
