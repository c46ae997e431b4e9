import ChainTypes
import Ledger
import Testing

/// `Ledger.apply` is the one place a block becomes part of the chain — from consensus, from
/// sync, from an archive — and the auditor and observers trust what it stored. So it checks
/// the commit certificate itself (docs/LEDGER.md "Commit certificates"): a quorum of distinct
/// validators of the genesis set, each with a commit signature over this block's (view,
/// height, hash), bound to this chain. Each case below breaks exactly one of those rules on
/// an otherwise valid block, and must be refused with nothing written.
@Suite("Ledger: commit certificates")
struct CertificateRuleTests {
    /// One way to break a certificate for `block` (certified in view 0 by validators 0, 1, 2).
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        /// The broken certificate, from the block, its valid certificate and the dev chain.
        let make: @Sendable (Block, CommitCertificate, DevChain) -> CommitCertificate
        /// The refusal `apply` must throw, given the block.
        let refusal: @Sendable (Block) -> BlockRejection
        var testDescription: String { name }
    }

    static let outsider = DevChain.key("not a validator")

    /// A commit signature by `key`, as validator `index`, for (view, height, hash) on `chain`.
    static func signer(_ index: UInt16, view: UInt64 = 0, height: UInt64, hash: Hash, chain: ChainBinding,
                       key: PrivateKey, phase: VotePhase = .commit) -> CommitCertificate.Signer {
        let v = Vote.make(phase: phase, view: view, height: height, blockHash: hash, validatorIndex: index, chain: chain, key: key)
        return CommitCertificate.Signer(validatorIndex: index, signature: v.signature)
    }

    /// A certificate signed correctly by validators 0, 1, 2 — but for what the arguments say.
    static func signed(_ dev: DevChain, view: UInt64 = 0, height: UInt64, hash: Hash, chain: ChainBinding? = nil) -> CommitCertificate {
        CommitCertificate(view: view, height: height, blockHash: hash, signers: (0..<3).map {
            signer(UInt16($0), view: view, height: height, hash: hash, chain: chain ?? dev.binding, key: dev.validatorKeys[$0])
        })
    }

    static let cases: [Case] = [
        Case(name: "a signer missing: below the quorum", make: { _, c, _ in
            var c = c; c.signers.removeLast(); return c
        }, refusal: { _ in .certificate(.tooFewSigners(have: 2, need: 3)) }),
        Case(name: "a duplicate signer (validator 0 twice in place of validator 2)", make: { _, c, _ in
            var c = c; c.signers[2] = c.signers[0]; c.signers.sort { $0.validatorIndex < $1.validatorIndex }; return c
        }, refusal: { _ in .certificate(.duplicateOrUnsortedSigner(0)) }),
        Case(name: "a signer index outside the validator set", make: { b, c, dev in
            var c = c
            c.signers[2] = signer(4, height: b.header.height, hash: b.hash, chain: dev.binding, key: outsider)
            return c
        }, refusal: { _ in .certificate(.unknownValidator(4, setSize: 4)) }),
        Case(name: "a non-validator's key signing as validator 2", make: { b, c, dev in
            var c = c
            c.signers[2] = signer(2, height: b.header.height, hash: b.hash, chain: dev.binding, key: outsider)
            return c
        }, refusal: { _ in .certificate(.badSignature(validator: 2)) }),
        Case(name: "a quorum's signatures for another block hash", make: { b, _, dev in
            signed(dev, height: b.header.height, hash: SHA256.hash(utf8: "a sibling block"))
        }, refusal: { b in .certificateForAnotherBlock(certificateHeight: b.header.height, certificateHash: SHA256.hash(utf8: "a sibling block"),
                                                       blockHeight: b.header.height) }),
        Case(name: "a quorum's signatures for this hash at another height", make: { b, _, dev in
            signed(dev, height: b.header.height + 1, hash: b.hash)
        }, refusal: { b in .certificateForAnotherBlock(certificateHeight: b.header.height + 1, certificateHash: b.hash,
                                                       blockHeight: b.header.height) }),
        Case(name: "the view field altered (votes signed in view 0, certificate says 1)", make: { _, c, _ in
            var c = c; c.view = 1; return c
        }, refusal: { _ in .certificate(.badSignature(validator: 0)) }),
        Case(name: "a bad signature (validator 1's signature replaced by validator 0's)", make: { _, c, _ in
            var c = c; c.signers[1].signature = c.signers[0].signature; return c
        }, refusal: { _ in .certificate(.badSignature(validator: 1)) }),
        Case(name: "prepare signatures in place of commit signatures", make: { b, _, dev in
            CommitCertificate(view: 0, height: b.header.height, blockHash: b.hash, signers: (0..<3).map {
                signer(UInt16($0), height: b.header.height, hash: b.hash, chain: dev.binding, key: dev.validatorKeys[$0], phase: .prepare)
            })
        }, refusal: { _ in .certificate(.badSignature(validator: 0)) }),
        Case(name: "signed for another chain id with the same genesis hash", make: { b, _, dev in
            signed(dev, height: b.header.height, hash: b.hash,
                   chain: ChainBinding(id: try! ChainID("hansa-other"), genesisHash: dev.binding.genesisHash))
        }, refusal: { _ in .certificate(.badSignature(validator: 0)) }),
        Case(name: "signed for this chain id with another genesis hash", make: { b, _, dev in
            signed(dev, height: b.header.height, hash: b.hash,
                   chain: ChainBinding(id: dev.binding.id, genesisHash: SHA256.hash(utf8: "another genesis")))
        }, refusal: { _ in .certificate(.badSignature(validator: 0)) }),
    ]

    /// How the block reaches `apply`: straight from sync (never executed here), after
    /// consensus validated it (`rejection(of:)` keeps its execution), or built by this ledger
    /// (`propose` keeps its execution) — the kept execution must not skip the certificate.
    enum Route: String, CaseIterable, Sendable {
        case synced, validated, proposed
    }

    /// The next block on `f`'s ledger (one transfer) and a valid certificate, delivered by `route`.
    func block(_ f: Fixture, _ route: Route) throws -> (Block, CommitCertificate) {
        let tx = try f.transfer(f.user(0), to: f.address(f.user(1)), 25)
        switch route {
        case .synced:
            return try f.dev.nextBlock(on: f.ledger, [tx])
        case .validated:
            let (block, certificate) = try f.dev.nextBlock(on: f.ledger, [tx])
            #expect(try f.ledger.rejection(of: block) == nil)
            return (block, certificate)
        case .proposed:
            let head = f.ledger.head
            let header = BlockHeader(height: head.height + 1, previousHash: head.hash, timestampMillis: head.timestampMillis + 1_000,
                                     transactionsRoot: .zero, stateRoot: .zero, receiptsRoot: .zero,
                                     proposer: f.address(f.bank(0)), view: 0)
            let block = try f.ledger.propose([tx], header: header)
            #expect(block.transactions == [tx])
            return (block, f.dev.certificate(for: block))
        }
    }

    @Test("apply refuses a bad certificate and writes nothing", arguments: cases, Route.allCases)
    func refused(_ bad: Case, route: Route) throws {
        let f = try Fixture()
        try f.commit([])
        let (block, good) = try block(f, route)
        let certificate = bad.make(block, good, f.dev)
        #expect(certificate != good)
        let head = f.ledger.head, root = f.ledger.stateRoot, writes = f.store.writes, entries = f.store.entries

        #expect(throws: LedgerError.invalidBlock(bad.refusal(block)), "applied block \(block.header.height) with \(bad.name)") {
            try f.ledger.apply(block, certificate: certificate)
        }
        #expect(f.ledger.head == head)
        #expect(f.ledger.stateRoot == root)
        #expect(f.store.writes == writes)
        #expect(f.store.entries == entries)

        // The control: the same block with its valid certificate applies, so the refusal was the certificate's.
        try f.ledger.apply(block, certificate: good)
        #expect(f.ledger.head.hash == block.hash)
        #expect(try f.ledger.certificate(at: block.header.height) == good)
    }

    @Test("a certificate from a later view than the block's header is accepted: a block can commit after a view change")
    func laterViewThanHeader() throws {
        let f = try Fixture()
        let (block, _) = try f.dev.nextBlock(on: f.ledger, [])
        #expect(block.header.view == 0)
        try f.ledger.apply(block, certificate: f.dev.certificate(for: block, view: 3))
        #expect(try f.ledger.certificate(at: 1)?.view == 3)
    }
}
