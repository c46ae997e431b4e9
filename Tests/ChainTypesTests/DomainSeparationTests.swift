import Testing
import ChainTypes
import HansaCrypto

/// A signature is bound to its purpose and its chain (docs/PROTOCOL.md §4): the signed digest
/// is SHA-256(string("hansa/sign/v2") ‖ string(tag) ‖ string(chain id) ‖ genesis hash ‖ body).
@Suite("Domain separation")
struct DomainSeparationTests {
    static let key = Fixture.key(1)

    @Test func digestIsTheDocumentedConstruction() {
        let body: [UInt8] = [0x01, 0x02, 0x03]
        var expected: [UInt8] = [13] + Array("hansa/sign/v2".utf8)
        expected += [11] + Array("transaction".utf8)
        expected += [7] + Array("hansa-a".utf8)
        expected += SHA256.hash(utf8: "genesis of hansa-a, launch 1").bytes
        expected += body
        #expect(SigningDomain.transaction.digest(chain: Fixture.chainA, body: body) == SHA256.hash(expected))
    }

    @Test func tagsAreDistinct() {
        let tags = SigningDomain.allCases.map(\.rawValue)
        #expect(Set(tags).count == tags.count)
        let digests = SigningDomain.allCases.map { $0.digest(chain: Fixture.chainA, body: [1, 2, 3]) }
        #expect(Set(digests).count == digests.count)
    }

    /// A transaction signature verifies only in the transaction domain.
    @Test("a transaction signature is refused in every other domain",
          arguments: SigningDomain.allCases.filter { $0 != .transaction })
    func transactionSignatureInOtherDomain(_ domain: SigningDomain) {
        let tx = Fixture.transaction()
        let body = tx.body.canonicalBytes
        #expect(SigningDomain.transaction.verify(tx.signature, over: body, chain: Fixture.chainA, by: tx.body.sender))
        #expect(!domain.verify(tx.signature, over: body, chain: Fixture.chainA, by: tx.body.sender))
    }

    /// Every pair of distinct domains: a signature made in one fails in the other.
    @Test("no domain accepts another's signature", arguments: SigningDomain.allCases)
    func crossDomain(_ signedIn: SigningDomain) {
        let body = Array("the same bytes".utf8)
        let sig = signedIn.sign(body, chain: Fixture.chainA, with: Self.key)
        for other in SigningDomain.allCases {
            #expect(other.verify(sig, over: body, chain: Fixture.chainA, by: Self.key.publicKey) == (other == signedIn),
                    "signed as \(signedIn.rawValue), checked as \(other.rawValue)")
        }
    }

    @Test func transactionSignedForOneChainFailsOnAnother() {
        let tx = Fixture.transaction(chain: Fixture.chainA)
        #expect(tx.verifySignature())
        // The same body and signature, presented for hansa-b.
        var moved = tx.body
        moved.chain = Fixture.chainB
        #expect(!Transaction(body: moved, signature: tx.signature).verifySignature())
        // Even with the body bytes unchanged, the chain in the domain prefix differs.
        let body = tx.body.canonicalBytes
        #expect(!SigningDomain.transaction.verify(tx.signature, over: body, chain: Fixture.chainB, by: tx.body.sender))
    }

    @Test("hardening finding 4: a signature for one launch of a chain fails on a relaunch with the same id")
    func signaturesAreBoundToTheGenesisHash() {
        let relaunch = Fixture.chainARelaunched
        #expect(relaunch.id == Fixture.chainA.id && relaunch.genesisHash != Fixture.chainA.genesisHash)
        let tx = Fixture.transaction(chain: Fixture.chainA)
        var moved = tx.body
        moved.chain = relaunch
        #expect(!Transaction(body: moved, signature: tx.signature).verifySignature())
        let body = tx.body.canonicalBytes
        #expect(!SigningDomain.transaction.verify(tx.signature, over: body, chain: relaunch, by: tx.body.sender))
        let vote = Fixture.vote(chain: Fixture.chainA)
        #expect(!vote.verify(in: Fixture.validatorSet(count: 4), chain: relaunch))
        for domain in SigningDomain.allCases {
            #expect(domain.digest(chain: Fixture.chainA, body: body) != domain.digest(chain: relaunch, body: body))
        }
    }

    @Test func transactionSignatureDoesNotVerifyAsAVote() {
        let set = Fixture.validatorSet(count: 4)
        let voterKey = Fixture.signer(at: 0, in: set)
        // A vote's signing body, signed by the voter as if it were a transaction body.
        let body = Vote.signingBody(phase: .commit, view: 1, height: 1, blockHash: Fixture.hash("b"), validatorIndex: 0)
        let misused = SigningDomain.transaction.sign(body, chain: Fixture.chainA, with: voterKey)
        let vote = Vote(phase: .commit, view: 1, height: 1, blockHash: Fixture.hash("b"), validatorIndex: 0, signature: misused)
        #expect(!vote.verify(in: set, chain: Fixture.chainA))
        // Signed in the right domain, the same vote verifies.
        let proper = Vote.make(phase: .commit, view: 1, height: 1, blockHash: Fixture.hash("b"), validatorIndex: 0,
                               chain: Fixture.chainA, key: voterKey)
        #expect(proper.verify(in: set, chain: Fixture.chainA))
    }

    /// Castro & Liskov 1999, §4.2: a prepare is not a commit. A prepare signature moved into a
    /// commit vote (same view, height, block, voter) must not verify.
    @Test func prepareSignatureIsNotACommit() {
        let set = Fixture.validatorSet(count: 4)
        let prepare = Fixture.vote(phase: .prepare, in: set)
        #expect(prepare.verify(in: set, chain: Fixture.chainA))
        var asCommit = prepare
        asCommit.phase = .commit
        #expect(!asCommit.verify(in: set, chain: Fixture.chainA))
        // And the domains themselves separate, even over identical bytes.
        let body = prepare.signingBody
        let key = Fixture.signer(at: 1, in: set)
        let sig = SigningDomain.prepare.sign(body, chain: Fixture.chainA, with: key)
        #expect(!SigningDomain.commit.verify(sig, over: body, chain: Fixture.chainA, by: key.publicKey))
    }

    @Test func voteForOneChainFailsOnAnother() {
        let set = Fixture.validatorSet(count: 4)
        let vote = Fixture.vote(chain: Fixture.chainA)
        #expect(vote.verify(in: set, chain: Fixture.chainA))
        #expect(!vote.verify(in: set, chain: Fixture.chainB))
    }

    @Test("a vote fails when any signed field changes", arguments: ["view", "height", "block", "index"])
    func voteFieldsAreSigned(_ field: String) {
        let set = Fixture.validatorSet(count: 4)
        var vote = Fixture.vote(index: 1, in: set)
        switch field {
        case "view": vote.view += 1
        case "height": vote.height += 1
        case "block": vote.blockHash = Fixture.hash("another block")
        default: vote.validatorIndex = 2
        }
        #expect(!vote.verify(in: set, chain: Fixture.chainA))
    }

    @Test("a transaction fails when any signed field changes", arguments: ["nonce", "kind", "payload", "gas", "sender"])
    func transactionFieldsAreSigned(_ field: String) {
        let tx = Fixture.transaction()
        var body = tx.body
        switch field {
        case "nonce": body.nonce += 1
        case "kind": body.kind = .burn
        case "payload": body.payload.append(0)
        case "gas": body.gasLimit += 1
        default: body.sender = Fixture.key(2).publicKey
        }
        #expect(!Transaction(body: body, signature: tx.signature).verifySignature())
    }

    @Test func addressDerivationIsDomainSeparated() {
        let key = Fixture.key(1).publicKey
        var w = CanonicalWriter()
        w.string("hansa/address/v1")
        w.fixed(key.bytes)
        #expect(key.address.bytes == Array(SHA256.hash(w.bytes).bytes.prefix(20)))
        #expect(key.address.bytes != Array(SHA256.hash(key.bytes).bytes.prefix(20)))
        #expect(Address(text: key.address.text) == key.address)
        #expect(key.address.text.hasPrefix("hx") && key.address.text.count == 42)
    }
}
