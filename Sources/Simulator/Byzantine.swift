import ChainTypes
import PBFT

/// How a byzantine replica misbehaves. It runs an honest core for plausibility, then
/// rewrites what that core sends.
public enum ByzantineBehaviour: String, CaseIterable, Sendable {
    /// As primary, sends different blocks to different replicas.
    case equivocatingPrimary = "equivocating-primary"
    /// Votes for conflicting digests: each vote goes out beside votes for random hashes.
    case conflictingVotes = "conflicting-votes"
    /// Sends messages whose signatures are forged.
    case invalidSignatures = "invalid-signatures"
    /// Replays old messages it received, from old views and heights.
    case replay
    /// Sends nothing at all.
    case silent
    /// Floods far-ahead heights, future views and new-view requests.
    case flood
    /// As primary, proposes blocks with transactions nobody submitted.
    case invalidProposals = "invalid-proposals"
}

/// The rewriting of a byzantine replica's output.
struct ByzantineRewriter {
    let behaviour: ByzantineBehaviour
    let index: Int
    let n: Int
    let crypto: any ConsensusCrypto
    var rng: SimRandom
    var heard: [ConsensusMessage] = []

    mutating func observe(_ message: ConsensusMessage) {
        guard behaviour == .replay else { return }
        if heard.count < 512 { heard.append(message) } else { heard[Int.random(in: 0..<512, using: &rng)] = message }
    }

    /// (recipient or nil for all, message) pairs to send instead of `message`.
    mutating func rewrite(_ message: ConsensusMessage, to: Int?) -> [(Int?, ConsensusMessage)] {
        switch behaviour {
        case .silent:
            return []
        case .equivocatingPrimary:
            guard case .prePrepare(let pp) = message, pp.block.transactions.count > 0 else { return [(to, message)] }
            var other = pp.block
            other.transactions.removeLast()
            other.header.transactionsRoot = Block.transactionsRoot(other.transactions)
            other.header.stateRoot = SimApplication.stateRoot(parent: other.header.previousHash,
                                                              transactionsRoot: other.header.transactionsRoot)
            other.header.receiptsRoot = SimApplication.receiptsRoot(other.transactions)
            let body = PrePrepare.signingBody(view: pp.view, height: pp.height, blockHash: other.hash, proposerIndex: pp.proposerIndex)
            let twin = PrePrepare(view: pp.view, height: pp.height, block: other, proposerIndex: pp.proposerIndex,
                                  signature: crypto.sign(.prePrepare, body))
            return (0..<n).filter { $0 != index }.map { ($0, $0 % 2 == 0 ? message : .prePrepare(twin)) }
        case .conflictingVotes:
            guard case .vote(let v) = message else { return [(to, message)] }
            var out: [(Int?, ConsensusMessage)] = [(to, message)]
            for peer in (0..<n) where peer != index && rng.chance(0.5) {
                let hash = SHA256.hash(utf8: "conflict \(rng.next())")
                let body = Vote.signingBody(phase: v.phase, view: v.view, height: v.height, blockHash: hash, validatorIndex: v.validatorIndex)
                out.append((peer, .vote(Vote(phase: v.phase, view: v.view, height: v.height, blockHash: hash,
                                             validatorIndex: v.validatorIndex, signature: crypto.sign(v.phase.domain, body)))))
            }
            return out
        case .invalidSignatures:
            return [(to, forged(message))]
        case .replay:
            var out: [(Int?, ConsensusMessage)] = [(to, message)]
            if !heard.isEmpty {
                for _ in 0..<2 { out.append((Int.random(in: 0..<n, using: &rng), heard.randomElement(using: &rng)!)) }
            }
            return out
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
        }
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
