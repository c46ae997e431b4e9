import ChainTypes
import PBFT
import Simulator
import Testing

/// Castro & Liskov 1999, §4.2 — the normal-case operation.
@Suite("PBFT §4.2 normal case")
struct NormalCaseTests {
    @Test("§4.2: pre-prepare, prepare, commit — every replica commits the primary's block with a valid certificate")
    func happyPath() throws {
        var h = Harness()
        h.tickAll()
        h.deliverAll()
        #expect(h.heights == [1, 1, 1, 1])
        let (block, cert) = h.committed[0][0]
        for i in 1..<4 { #expect(h.committed[i][0].0.hash == block.hash) }
        #expect(block.header.proposer == h.validators.validators[0].address)
        try cert.verify(quorum: 3, setSize: 4) { i, body, sig in h.crypto(0).verify(.commit, body, sig, signer: i) }
    }

    @Test("§4.2: several heights in a row, one in flight at a time")
    func manyHeights() {
        var h = Harness()
        for _ in 0..<10 {
            h.tickAll()
            h.deliverAll()
        }
        #expect(h.heights == [10, 10, 10, 10])
        for i in 1..<4 { #expect(h.committed[i].map(\.0.hash) == h.committed[0].map(\.0.hash)) }
    }

    @Test("§4.2: a pre-prepare is accepted only from the primary of its view")
    func onlyThePrimaryProposes() {
        var h = Harness()
        let block = h.makeBlock(height: 1, view: 0, parent: Harness.genesis, proposer: 1)
        h.input(2, .message(.prePrepare(h.prePrepare(block, view: 0, proposer: 1)), from: 1))
        #expect(h.queue.isEmpty, "replica 2 must not prepare a proposal from a backup")
        #expect(h.replica(2).stats.dropped == 1)
    }

    @Test("§4.2: a pre-prepare whose signature does not verify is dropped")
    func forgedPrePrepare() {
        var h = Harness()
        let block = h.makeBlock(height: 1, view: 0, parent: Harness.genesis, proposer: 0)
        var pp = h.prePrepare(block, view: 0, proposer: 0)
        pp.signature = h.crypto(3).sign(.prePrepare, pp.signingBody) // signed by the wrong validator
        h.input(1, .message(.prePrepare(pp), from: 0))
        #expect(h.queue.isEmpty)
        #expect(h.replica(1).stats.invalidSignatures == 1)
    }

    /// Each case breaks one rule a replica checks before it prepares a proposal.
    static let badProposals: [(String, @Sendable (inout Block, Harness) -> Void)] = [
        ("header height differs from the pre-prepare's", { b, _ in b.header.height = 2 }),
        ("previous hash is not the tip", { b, _ in b.header.previousHash = SHA256.hash(utf8: "elsewhere") }),
        ("transactions root does not match", { b, _ in b.header.transactionsRoot = SHA256.hash(utf8: "x") }),
        ("timestamp not after the parent's", { b, _ in b.header.timestampMillis = Harness.genesis.timestampMillis }),
        ("timestamp beyond the clock + max drift", { b, h in b.header.timestampMillis = h.now + 2_001 }),
        ("header view differs from the pre-prepare's", { b, _ in b.header.view = 7 }),
        ("header proposer is not the primary", { b, h in b.header.proposer = h.validators.validators[2].address }),
        ("too many transactions", { b, _ in
            b.transactions = (0..<11).map { i in
                TransactionBody(chain: Harness.chain, sender: try! PrivateKey(secret: SHA256.hash(utf8: "c").bytes).publicKey,
                                nonce: UInt64(i), kind: .transfer, payload: [], gasLimit: 0)
                    .signed(with: try! PrivateKey(secret: SHA256.hash(utf8: "c").bytes))
            }
            b.header.transactionsRoot = Block.transactionsRoot(b.transactions)
        }),
    ]

    @Test("§4.2: a replica prepares only a valid proposal (structure, parent, height, timestamp bounds)", arguments: badProposals.map(\.0))
    func invalidProposalsAreNotPrepared(_ name: String) {
        var h = Harness()
        h.now += 100
        var block = h.makeBlock(height: 1, view: 0, parent: Harness.genesis, proposer: 0)
        Self.badProposals.first { $0.0 == name }!.1(&block, h)
        h.input(1, .tick(nowMillis: h.now, hasPendingWork: false))
        h.input(1, .message(.prePrepare(h.prePrepare(block, view: 0, proposer: 0, height: 1)), from: 0))
        #expect(h.queued("prepare").isEmpty, "prepared a block with: \(name)")
        #expect(h.replica(1).stats.rejectedProposals == 1)
    }

    @Test("§4.2: transaction validity comes from the injected validator")
    func applicationRejection() {
        var h = Harness()
        h.validator.reject = { _ in "bad transaction" }
        for i in 0..<4 { h.restart(i) }
        h.tickAll()
        h.deliverAll()
        #expect(h.heights == [0, 0, 0, 0])
        // The primary refuses its own shell's block just as a backup would.
        #expect(h.replica(0).stats.rejectedProposals >= 1)
        #expect(h.queued("pre-prepare").isEmpty)
    }

    @Test("§4.2: an equivocating primary — a replica keeps the first proposal for (view, height)")
    func equivocation() {
        var h = Harness()
        h.now += 100
        h.input(1, .tick(nowMillis: h.now, hasPendingWork: false))
        let a = h.makeBlock(height: 1, view: 0, parent: Harness.genesis, proposer: 0)
        let b = h.makeBlock(height: 1, view: 0, parent: Harness.genesis, proposer: 0, timestamp: h.now - 1)
        #expect(a.hash != b.hash)
        h.input(1, .message(.prePrepare(h.prePrepare(a, view: 0, proposer: 0)), from: 0))
        h.input(1, .message(.prePrepare(h.prePrepare(b, view: 0, proposer: 0)), from: 0))
        let prepares = h.queued("prepare").compactMap { e -> Hash? in if case .vote(let v) = e.message { v.blockHash } else { nil } }
        #expect(Set(prepares) == [a.hash])
    }

    @Test("§4.2 prepared: a commit is sent only after a quorum of matching prepares")
    func preparedNeedsQuorum() {
        var h = Harness()
        h.now += 100
        h.input(1, .tick(nowMillis: h.now, hasPendingWork: false))
        let a = h.makeBlock(height: 1, view: 0, parent: Harness.genesis, proposer: 0)
        h.input(1, .message(.prePrepare(h.prePrepare(a, view: 0, proposer: 0)), from: 0))
        // Own prepare + the primary's: 2 of q = 3.
        h.input(1, .message(.vote(h.vote(.prepare, view: 0, height: 1, hash: a.hash, by: 0)), from: 0))
        // A prepare for another digest does not count.
        h.input(1, .message(.vote(h.vote(.prepare, view: 0, height: 1, hash: SHA256.hash(utf8: "other"), by: 2)), from: 2))
        #expect(h.queued("commit").isEmpty)
        h.input(1, .message(.vote(h.vote(.prepare, view: 0, height: 1, hash: a.hash, by: 3)), from: 3))
        #expect(h.queued("commit").count == 3)
        #expect(h.replica(1).durable.prepared?.blockHash == a.hash)
    }

    @Test("§4.2 committed: a quorum of commits for one (view, height, digest) is a certificate")
    func commitNeedsQuorum() {
        var h = Harness()
        h.tickAll()
        // Deliver everything but commits to replica 3, then two commits, then the third.
        h.deliverAll { !($0.to == 3 && $0.message.kind == "commit") }
        #expect(h.committed[3].isEmpty)
        let a = h.committed[0][0].0
        // Replica 3 prepared and cast its own commit: with one more it has 2 of q = 3.
        h.input(3, .message(.vote(h.vote(.commit, view: 0, height: 1, hash: a.hash, by: 0)), from: 0))
        // A commit for another digest does not count toward this certificate.
        h.input(3, .message(.vote(h.vote(.commit, view: 0, height: 1, hash: SHA256.hash(utf8: "other"), by: 2)), from: 2))
        #expect(h.committed[3].isEmpty)
        h.input(3, .message(.vote(h.vote(.commit, view: 0, height: 1, hash: a.hash, by: 1)), from: 1))
        #expect(h.committed[3].count == 1)
        #expect(h.committed[3][0].1.signers.count >= 3)
    }

    @Test("Durability: every own vote leaves only after a persist that records it (persist before send)")
    func persistBeforeSend() {
        var h = Harness()
        for _ in 0..<5 {
            h.tickAll()
            h.deliverAll()
        }
        var checked = 0
        for batch in h.batches {
            var persisted: [SignedSlot] = []
            for action in batch {
                switch action {
                case .persist(let s): persisted = s.lastSigned
                case .broadcast(.vote(let v)), .send(.vote(let v), _):
                    let kind: SignedSlot.Kind = v.phase == .prepare ? .prepare : .commit
                    #expect(persisted.contains { $0.kind == kind && $0.view == v.view && $0.height >= v.height },
                            "vote (\(v.phase), \(v.view), \(v.height)) sent before its persist")
                    checked += 1
                default: break
                }
            }
        }
        #expect(checked >= 40)
    }

    @Test("Durability: a restarted replica never signs a second, different prepare for the same (view, height)")
    func noDoubleSignAfterRestart() {
        var h = Harness()
        h.now += 100
        h.input(1, .tick(nowMillis: h.now, hasPendingWork: false))
        let a = h.makeBlock(height: 1, view: 0, parent: Harness.genesis, proposer: 0)
        h.input(1, .message(.prePrepare(h.prePrepare(a, view: 0, proposer: 0)), from: 0))
        #expect(h.queued("prepare").count == 3)
        h.queue.removeAll()
        h.crash(1)
        h.restart(1)
        h.input(1, .tick(nowMillis: h.now, hasPendingWork: false))
        let b = h.makeBlock(height: 1, view: 0, parent: Harness.genesis, proposer: 0, timestamp: h.now - 5)
        h.input(1, .message(.prePrepare(h.prePrepare(b, view: 0, proposer: 0)), from: 0))
        let signed = h.queued("prepare").compactMap { e -> Hash? in if case .vote(let v) = e.message { v.blockHash } else { nil } }
        #expect(!signed.contains(b.hash))
        #expect(h.replica(1).durable.accepted?.blockHash == a.hash)
    }
}
