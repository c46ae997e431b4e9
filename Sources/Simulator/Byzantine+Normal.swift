import ChainTypes
import PBFT

// The normal-case, sync and timer adversary (issue 10, part 1): real equivocation with
// colluding votes, proposals from non-primaries, selective sending, a slow primary, replay
// of its own old messages and a lying sync server. Each is a `ByzantineBehaviour`; its code
// is here, `ByzantineRewriter.rewrite` only dispatches. Byzantine replicas sign with their
// own keys only: what they send that names an honest replica's signature is forged and fails.

/// What colluding byzantine replicas share, one per cluster (Cluster owns it): the twin
/// blocks an equivocating primary made, the validators' addresses, and the cluster's tick.
///
/// Replay rule (docs/PROTOCOL.md §14): its dictionaries are only looked up; what comes out
/// of them is an array in the order it was registered.
final class ByzantineCollusion {
    /// The cluster's current tick, set at the start of every step.
    var tick = 0
    /// Validator addresses by index: a rogue block names the primary of its view.
    var addresses: [Address] = []
    /// Twin blocks per (view, height), in the order registered.
    private var bySlot: [Slot: [Block]] = [:]
    /// Twin blocks per height, for the lying sync server.
    private var byHeight: [UInt64: [Block]] = [:]
    /// Slots kept before the oldest are dropped.
    static let maxSlots = 256

    struct Slot: Hashable {
        let view: UInt64
        let height: UInt64
    }

    /// Records `block` as proposed for (`view`, `height`), once.
    func register(_ block: Block, view: UInt64, height: UInt64) {
        let slot = Slot(view: view, height: height)
        guard !(bySlot[slot] ?? []).contains(where: { $0.hash == block.hash }) else { return }
        if bySlot.count >= Self.maxSlots {
            bySlot = bySlot.filter { $0.key.height + 32 > height }
            byHeight = byHeight.filter { $0.key + 32 > height }
        }
        bySlot[slot, default: []].append(block)
        byHeight[height, default: []].append(block)
    }

    func twins(view: UInt64, height: UInt64) -> [Block] { bySlot[Slot(view: view, height: height)] ?? [] }

    func twins(height: UInt64) -> [Block] { byHeight[height] ?? [] }
}

/// The state of the normal-case adversary inside one byzantine replica's rewriter.
struct NormalAdversary {
    /// Shared with the other byzantine replicas of the cluster (Cluster sets it).
    var collusion = ByzantineCollusion()
    /// Messages held back, with the tick they go out at (slow primary, rogue proposals);
    /// `Cluster.releaseHeld` sends them, in this order.
    var held: [(due: Int, to: Int?, message: ConsensusMessage)] = []
    /// Own signed messages sent, for replay: at most `maxOwn`.
    var own: [ConsensusMessage] = []
    static let maxOwn = 256
    /// The f + 1 replicas a selective sender talks to, chosen at its first proposal or vote.
    var chosen: [Int]?
    /// Slots a slow primary holds or has released its proposal for, with the release tick.
    var slowRelease: [ByzantineCollusion.Slot: Int] = [:]
    /// Slots a rogue proposer already proposed for.
    var rogueSlots: Set<ByzantineCollusion.Slot> = []
    /// Sync answers a lying sync server gave that were not the truth (withheld or wrong).
    var liesServed = 0
    /// How long before the honest replicas' progress timer expires a slow primary's proposal
    /// goes out: enough for the three message rounds of the normal case at the healed delay.
    static let slowMarginTicks = 8
}

extension ByzantineRewriter {
    var collusion: ByzantineCollusion { normal.collusion }
    var f: Int { (n - 1) / 3 }
    var peers: [Int] { (0..<n).filter { $0 != index } }

    // MARK: Signing with its own key

    func signedVote(_ phase: VotePhase, view: UInt64, height: UInt64, hash: Hash) -> Vote {
        let body = Vote.signingBody(phase: phase, view: view, height: height, blockHash: hash, validatorIndex: UInt16(index))
        return Vote(phase: phase, view: view, height: height, blockHash: hash, validatorIndex: UInt16(index),
                    signature: crypto.sign(phase.domain, body))
    }

    func signedPrePrepare(view: UInt64, height: UInt64, block: Block) -> PrePrepare {
        let body = PrePrepare.signingBody(view: view, height: height, blockHash: block.hash, proposerIndex: UInt16(index))
        return PrePrepare(view: view, height: height, block: block, proposerIndex: UInt16(index),
                          signature: crypto.sign(.prePrepare, body))
    }

    /// A second block for the same slot that the simulated application accepts just as well:
    /// `block` without its last transaction (or, when empty, stamped a millisecond later),
    /// with its roots recomputed. A function of `block` alone, so a retransmission carries
    /// the same twin.
    static func twin(of block: Block) -> Block {
        var other = block
        if other.transactions.isEmpty { other.header.timestampMillis += 1 } else { other.transactions.removeLast() }
        other.header.transactionsRoot = Block.transactionsRoot(other.transactions)
        other.header.stateRoot = SimApplication.stateRoot(parent: other.header.previousHash,
                                                          transactionsRoot: other.header.transactionsRoot)
        other.header.receiptsRoot = SimApplication.receiptsRoot(other.transactions)
        return other
    }

    // MARK: Equivocation with collusion

    /// An equivocating primary's proposal: twins A and B of the slot, registered with the
    /// colluders, delivered over a random order of the peers — a third get A, a third B, a
    /// third both, in either order (whichever arrives first is what a replica accepts). Its
    /// votes go out for both twins (`colludingVotes`).
    mutating func twinProposals(_ message: ConsensusMessage, to: Int?) -> [(Int?, ConsensusMessage)] {
        if case .vote = message { return colludingVotes(message, to: to) }
        guard case .prePrepare(let pp) = message, Int(pp.proposerIndex) == index, pp.height == pp.block.header.height else {
            return [(to, message)]
        }
        let twin = signedPrePrepare(view: pp.view, height: pp.height, block: Self.twin(of: pp.block))
        collusion.register(pp.block, view: pp.view, height: pp.height)
        collusion.register(twin.block, view: pp.view, height: pp.height)
        let a = message, b = ConsensusMessage.prePrepare(twin)
        var out: [(Int?, ConsensusMessage)] = []
        for (k, p) in (to.map { [$0] } ?? peers).shuffled(using: &rng).enumerated() {
            switch k % 3 {
            case 0: out.append((p, a))
            case 1: out.append((p, b))
            default: out += rng.chance(0.5) ? [(p, a), (p, b)] : [(p, b), (p, a)]
            }
        }
        return out
    }

    /// A colluder's vote: its core's own, a commit for the same block at once (it need not
    /// wait to be prepared), a prepare and a commit for every other twin of the slot, and —
    /// to a random half of the peers — votes for random hashes no block has.
    mutating func colludingVotes(_ message: ConsensusMessage, to: Int?) -> [(Int?, ConsensusMessage)] {
        guard case .vote(let v) = message else { return [(to, message)] }
        var out: [(Int?, ConsensusMessage)] = [(to, message)]
        if v.phase == .prepare {
            out.append((to, .vote(signedVote(.commit, view: v.view, height: v.height, hash: v.blockHash))))
        }
        for block in collusion.twins(view: v.view, height: v.height) where block.hash != v.blockHash {
            for phase in [VotePhase.prepare, .commit] {
                out.append((to, .vote(signedVote(phase, view: v.view, height: v.height, hash: block.hash))))
            }
        }
        for peer in peers where rng.chance(0.5) {
            let hash = SHA256.hash(utf8: "conflict \(rng.next())")
            out.append((peer, .vote(signedVote(v.phase, view: v.view, height: v.height, hash: hash))))
        }
        return out
    }

    /// A hasty primary sends, with each proposal for h, its proposal for h + 1 on top of it,
    /// repeating h's transactions (a function of the first, so retransmissions match). Honest
    /// replicas buffer it and must judge it only once h is applied — before that, the
    /// application would see those transactions as new.
    func hastyProposals(_ message: ConsensusMessage, to: Int?) -> [(Int?, ConsensusMessage)] {
        guard case .prePrepare(let pp) = message, Int(pp.proposerIndex) == index else { return [(to, message)] }
        let parent = ChainTip(height: pp.height, hash: pp.blockHash, timestampMillis: pp.block.header.timestampMillis,
                              certificate: nil)
        let next = SimApplication.build(height: pp.height + 1, view: pp.view, parent: parent, proposer: pp.block.header.proposer,
                                        now: parent.timestampMillis + 1, transactions: pp.block.transactions)
        return [(to, message), (to, .prePrepare(signedPrePrepare(view: pp.view, height: pp.height + 1, block: next)))]
    }

    // MARK: Proposals from a non-primary

    /// A rogue proposer, on seeing a proposal for (view, h): its own block for h + 1 on top of
    /// it — empty, stamped just after it, naming the view's primary in the header as an
    /// honest block would — in a pre-prepare signed with its own key, to every peer at once
    /// (it arrives before the primary can propose h + 1, so a replica that took pre-prepares
    /// from anyone would buffer it and accept it on committing h), with its prepare and commit.
    mutating func observeAsRogue(_ message: ConsensusMessage) {
        guard case .prePrepare(let pp) = message, Int(pp.proposerIndex) != index,
              pp.height == pp.block.header.height else { return }
        let primary = Int(pp.view % UInt64(n))
        let slot = ByzantineCollusion.Slot(view: pp.view, height: pp.height + 1)
        guard primary != index, primary < collusion.addresses.count, !normal.rogueSlots.contains(slot) else { return }
        if normal.rogueSlots.count >= ByzantineCollusion.maxSlots { normal.rogueSlots.removeAll() }
        normal.rogueSlots.insert(slot)
        let parent = ChainTip(height: pp.height, hash: pp.blockHash, timestampMillis: pp.block.header.timestampMillis,
                              certificate: nil)
        let block = SimApplication.build(height: pp.height + 1, view: pp.view, parent: parent, proposer: collusion.addresses[primary],
                                         now: parent.timestampMillis + 1, transactions: [])
        let rogue = signedPrePrepare(view: pp.view, height: pp.height + 1, block: block)
        let now = collusion.tick
        normal.held.append((now, nil, .prePrepare(rogue)))
        for phase in [VotePhase.prepare, .commit] {
            normal.held.append((now, nil, .vote(signedVote(phase, view: pp.view, height: pp.height + 1, hash: block.hash))))
        }
    }

    // MARK: Selective sending, the slow primary, replay of its own messages

    /// Proposals and votes go only to f + 1 peers, chosen once; everything else as usual.
    mutating func selective(_ message: ConsensusMessage, to: Int?) -> [(Int?, ConsensusMessage)] {
        switch message {
        case .prePrepare, .vote: break
        default: return [(to, message)]
        }
        if normal.chosen == nil { normal.chosen = Array(peers.shuffled(using: &rng).prefix(f + 1)) }
        let chosen = normal.chosen!
        if let to { return chosen.contains(to) ? [(to, message)] : [] }
        return chosen.map { ($0, message) }
    }

    /// A slow primary holds each of its new proposals until `slowMarginTicks` before the
    /// honest replicas' progress timer (the request timeout) would expire, counted from when
    /// its core made it — right after its last commit, when their timers restarted too.
    /// Retransmissions before the release are held back too.
    mutating func slowed(_ message: ConsensusMessage, to: Int?) -> [(Int?, ConsensusMessage)] {
        guard case .prePrepare(let pp) = message, Int(pp.proposerIndex) == index else { return [(to, message)] }
        let slot = ByzantineCollusion.Slot(view: pp.view, height: pp.height)
        let now = collusion.tick
        if let release = normal.slowRelease[slot] { return now >= release ? [(to, message)] : [] }
        if normal.slowRelease.count >= ByzantineCollusion.maxSlots { normal.slowRelease.removeAll() }
        let release = now + max(1, Int(SimConfig.parameters.requestTimeoutTicks) - NormalAdversary.slowMarginTicks)
        normal.slowRelease[slot] = release
        normal.held.append((release, to, message))
        return []
    }

    /// Every message goes out, beside an old one it received (to a random replica) and one
    /// of its own old signed messages (to everyone): a replica must take neither for new.
    mutating func replayingOwn(_ message: ConsensusMessage, to: Int?) -> [(Int?, ConsensusMessage)] {
        var out: [(Int?, ConsensusMessage)] = [(to, message)]
        if !heard.isEmpty { out.append((Int.random(in: 0..<n, using: &rng), heard.randomElement(using: &rng)!)) }
        if !normal.own.isEmpty { out.append((nil, normal.own.randomElement(using: &rng)!)) }
        if case .newViewRequest = message { return out }
        if normal.own.count < NormalAdversary.maxOwn {
            normal.own.append(message)
        } else {
            normal.own[Int.random(in: 0..<NormalAdversary.maxOwn, using: &rng)] = message
        }
        return out
    }

    /// The held messages due by `tick`, in the order they were held; they leave the queue.
    mutating func takeDue(_ tick: Int) -> [(Int?, ConsensusMessage)] {
        guard normal.held.contains(where: { $0.due <= tick }) else { return [] }
        let due = normal.held.filter { $0.due <= tick }
        normal.held.removeAll { $0.due <= tick }
        return due.map { ($0.to, $0.message) }
    }

    // MARK: The lying sync server

    /// A lying sync server's answer to a request for `from...to` (nil when this replica is no
    /// lying sync server: it answers honestly). Drawn per request: nothing at all (a withheld
    /// range); a twin of block `from` with a forged certificate (the twin's hash, the real
    /// signers, only its own signature real); the real block with a certificate whose other
    /// signatures are forged; the real header and certificate with a transaction no client
    /// submitted added to the body; a twin with the real block's certificate; or only block
    /// `from` (a truncated range, the one honest answer).
    mutating func lyingSyncAnswer(from: UInt64, ledger: SimLedger) -> [(Block, CommitCertificate)]? {
        guard behaviour == .lyingSyncServer else { return nil }
        guard let (block, cert) = ledger.block(at: from) else { return [] }
        let twin = collusion.twins(height: from).first { $0.hash != block.hash } ?? Self.twin(of: block)
        let mode = Int.random(in: 0..<6, using: &rng)
        if mode < 5 { normal.liesServed += 1 }
        switch mode {
        case 0:
            return []
        case 1:
            return [(twin, forgedCertificate(cert, for: twin.hash))]
        case 2:
            return [(block, forgedCertificate(cert, for: block.hash))]
        case 3:
            var wrong = block
            let fake = TransactionBody(chain: Cluster.chain, sender: ProtocolKeys.clientKey.publicKey, nonce: rng.next(),
                                       kind: .transfer, payload: Array("never submitted".utf8), gasLimit: 0)
            wrong.transactions.append(Transaction(body: fake, signature: ProtocolKeys.dummySignature))
            return [(wrong, cert)]
        case 4:
            return [(twin, cert)]
        default:
            return [(block, cert)]
        }
    }

    /// `cert`'s view, height and signers, for `hash`: its own signature real (a valid commit
    /// vote for `hash`), every other one forged — it cannot make an honest replica's.
    mutating func forgedCertificate(_ cert: CommitCertificate, for hash: Hash) -> CommitCertificate {
        let own = signedVote(.commit, view: cert.view, height: cert.height, hash: hash).signature
        let signers = cert.signers.map { s in
            CommitCertificate.Signer(validatorIndex: s.validatorIndex,
                                     signature: Int(s.validatorIndex) == index ? own : StandInCrypto.signature(secret: rng.next(), .commit, [7]))
        }
        return CommitCertificate(view: cert.view, height: cert.height, blockHash: hash, signers: signers)
    }
}

// MARK: The cluster's hooks

extension Cluster {
    /// Gives every byzantine replica the one shared `ByzantineCollusion` (called once, at start).
    func shareCollusion() {
        let shared = ByzantineCollusion()
        shared.addresses = validators.validators.map(\.address)
        for node in nodes where node.byzantine != nil { node.byzantine!.normal.collusion = shared }
    }

    /// At the start of a step: the shared tick, the held byzantine messages that are due, the
    /// long outage's cut-off primaries, and the timeout statistic.
    func adversaryStep() {
        for node in nodes where node.byzantine != nil {
            node.byzantine!.normal.collusion.tick = tick
            guard node.isUp else { continue }
            for (to, message) in node.byzantine!.takeDue(tick) { sendAsIs(from: node, message, to: to) }
        }
        cutOffPrimary()
        cutOffLoneCommitter()
        for node in nodes where node.isHonest { maxTimeoutTicks = max(maxTimeoutTicks, node.replica?.timeoutTicks ?? 0) }
    }

    /// Sends a byzantine replica's message past its rewriter (it was rewritten when held).
    func sendAsIs(from node: SimNode, _ message: ConsensusMessage, to: Int?) {
        let (m, digest) = wire(message, bytes: message.canonicalBytes)
        for peer in to.map({ [$0] }) ?? Array(0..<config.nodes) where peer != node.index {
            transmit(from: node.index, to: peer, m, digest: digest)
        }
    }

    /// The lone-commit scenario (`SimConfig.Scenario.loneCommit`): an honest validator whose
    /// committed height no other honest validator has reached yet is cut off from everyone
    /// (a partition of it alone) for 30–60 ticks; the next cut may start 0–40 ticks after.
    func cutOffLoneCommitter() {
        guard config.scenario == .loneCommit, tick < config.faultTicks else { return }
        if let cut = loneCut {
            guard tick >= cut.until else { return }
            loneCut = nil
            partition = nil
            trace.heal(tick: tick)
            nextLoneCut = tick + Int.random(in: 0...40, using: &rng)
            return
        }
        guard tick >= nextLoneCut else { return }
        let honest = nodes.filter { $0.isHonest && $0.isUp }
        guard let top = honest.map(\.height).max(), top > 0,
              let leader = honest.first(where: { $0.height == top }),
              honest.filter({ $0.height == top }).count == 1 else { return }
        let groups = [Set([leader.index]), Set((0..<config.nodes).filter { $0 != leader.index })]
        partition = groups
        trace.partition(tick: tick, groups)
        loneCut = (leader.index, tick + Int.random(in: 30...60, using: &rng))
    }

    /// The long outage's second phase (`SimConfig.Scenario.longOutage`): from the restart of
    /// the crashed validators until the heal, the primary of the highest view an honest
    /// replica is in is cut off from everyone (a partition of it alone) when it is honest —
    /// a byzantine primary fails or not on its own. Every view change then fails, one after
    /// another, and the view-change timeout doubles up to its cap.
    func cutOffPrimary() {
        guard config.scenario == .longOutage, tick >= config.outageRestartTick, tick < config.faultTicks,
              let view = nodes.filter(\.isHonest).compactMap({ $0.replica?.view }).max() else { return }
        let primary = Int(view % UInt64(config.nodes))
        guard nodes[primary].isHonest else { return }
        let groups = [Set([primary]), Set((0..<config.nodes).filter { $0 != primary })]
        guard partition != groups else { return }
        partition = groups
        trace.partition(tick: tick, groups)
    }
}
