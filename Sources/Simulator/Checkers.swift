import ChainTypes
import PBFT

/// The safety properties checked after every step, and the liveness property checked
/// after faults heal (TigerBeetle's VOPR, FoundationDB's simulation).
struct Checkers {
    /// First honest commit per height.
    var decided: [UInt64: Hash] = [:]
    /// What each honest validator signed per slot: (node, kind, view, height) → hash.
    var signed: [SlotKey: Hash] = [:]
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
