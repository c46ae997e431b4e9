import Testing
import ChainTypes
import HansaCrypto

/// Validator sets and commit certificates (Castro & Liskov 1999, §2 and §4.2).
@Suite("Validator sets and commit certificates")
struct CertificateTests {
    // MARK: Quorum arithmetic

    /// n, f = ⌊(n − 1) / 3⌋, quorum = ⌈(n + f + 1) / 2⌉.
    @Test("f and quorum", arguments: [
        (1, 0, 1),
        (4, 1, 3),
        (5, 1, 4),
        (6, 1, 4),
        (7, 2, 5),
        (10, 3, 7),
    ])
    func quorum(_ n: Int, _ f: Int, _ q: Int) {
        let set = Fixture.validatorSet(count: n)
        #expect(set.count == n)
        #expect(set.maxFaulty == f)
        #expect(set.quorum == q)
    }

    /// For every allowed n: two quorums share f + 1 validators (so one honest), and the n − f
    /// honest validators can form a quorum on their own (liveness).
    @Test func quorumIntersectionAndAvailability() {
        for n in 1...Limits.maxValidators {
            let f = (n - 1) / 3
            let q = (n + f + 2) / 2   // ⌈(n + f + 1) / 2⌉
            #expect(3 * f + 1 <= n)
            #expect(2 * q - n >= f + 1, "n = \(n)")
            #expect(q <= n - f, "n = \(n)")
            #expect(2 * q >= n + f + 1 && 2 * (q - 1) < n + f + 1, "n = \(n): q is the smallest such")
        }
        // Spot-check the real type at the largest size too.
        let big = try! ValidatorSet((0..<Limits.maxValidators).map { Fixture.validator($0) })
        #expect(big.maxFaulty == 85 && big.quorum == 171)
    }

    @Test func validatorSetIsOrderedByAddressAndRefusesDuplicates() throws {
        let vs = (0..<5).map { Fixture.validator($0) }
        let set = try ValidatorSet(vs.reversed())
        #expect(set.validators.map(\.address) == vs.map(\.address).sorted())
        for (i, v) in set.validators.enumerated() { #expect(set.index(of: v.address) == i) }
        #expect(set.index(of: Fixture.key(99).publicKey.address) == nil)

        var twin = vs[0]
        twin.name = "bank-twin"
        #expect { try ValidatorSet(vs + [twin]) } throws: { ($0 as? ValueError)?.message.contains("share the public key") ?? false }
        #expect { try ValidatorSet([]) } throws: { ($0 as? ValueError)?.message.contains("got 0") ?? false }
        let tooMany = (0..<(Limits.maxValidators + 1)).map { Fixture.validator($0) }
        #expect { try ValidatorSet(tooMany) } throws: { ($0 as? ValueError)?.message.contains("got 257") ?? false }
    }

    // MARK: CommitCertificate.verify

    static let set = Fixture.validatorSet(count: 4)
    static let block = Fixture.hash("block 7")

    @Test("valid with a quorum or more", arguments: [[0, 1, 2], [1, 2, 3], [0, 2, 3], [0, 1, 2, 3]])
    func validCertificate(_ indices: [Int]) throws {
        let cert = Fixture.certificate(indices: indices, in: Self.set)
        try cert.verify(in: Self.set, chain: Fixture.chainA)
    }

    @Test("too few signers", arguments: [[], [0], [2, 3]])
    func tooFew(_ indices: [Int]) {
        let cert = indices.isEmpty
            ? CommitCertificate(view: 2, height: 7, blockHash: Self.block, signers: [])
            : Fixture.certificate(indices: indices, in: Self.set)
        #expect(throws: CertificateError.tooFewSigners(have: indices.count, need: 3)) {
            try cert.verify(in: Self.set, chain: Fixture.chainA)
        }
    }

    @Test func unknownValidatorIndex() {
        var cert = Fixture.certificate(indices: [0, 1, 2], in: Self.set)
        // A signature from a fifth validator, outside this four-validator set.
        let five = Fixture.validatorSet(count: 5)
        let extra = Fixture.vote(phase: .commit, index: 4, in: five)
        cert.signers.append(.init(validatorIndex: 4, signature: extra.signature))
        #expect(throws: CertificateError.unknownValidator(4, setSize: 4)) { try cert.verify(in: Self.set, chain: Fixture.chainA) }
    }

    /// Validator 1's signature is a real commit, but for another block.
    @Test func signatureOfAnotherBlock() {
        var cert = Fixture.certificate(indices: [0, 1, 2], in: Self.set)
        let other = Fixture.vote(phase: .commit, block: Fixture.hash("block 7'"), index: 1, in: Self.set)
        cert.signers[1] = .init(validatorIndex: 1, signature: other.signature)
        #expect(throws: CertificateError.badSignature(validator: 1)) { try cert.verify(in: Self.set, chain: Fixture.chainA) }
    }

    @Test func signatureOfAnotherValidator() {
        var cert = Fixture.certificate(indices: [0, 1, 2], in: Self.set)
        cert.signers[2] = .init(validatorIndex: 2, signature: cert.signers[0].signature)
        #expect(throws: CertificateError.badSignature(validator: 2)) { try cert.verify(in: Self.set, chain: Fixture.chainA) }
    }

    @Test func prepareSignaturesDoNotMakeACertificate() {
        let prepares = [0, 1, 2].map { Fixture.vote(phase: .prepare, index: UInt16($0), in: Self.set) }
        let cert = CommitCertificate(view: 2, height: 7, blockHash: Self.block,
                                     signers: prepares.map { .init(validatorIndex: $0.validatorIndex, signature: $0.signature) })
        #expect(throws: CertificateError.badSignature(validator: 0)) { try cert.verify(in: Self.set, chain: Fixture.chainA) }
    }

    @Test func wrongChain() {
        let cert = Fixture.certificate(indices: [0, 1, 2], in: Self.set, chain: Fixture.chainA)
        #expect(throws: CertificateError.badSignature(validator: 0)) { try cert.verify(in: Self.set, chain: Fixture.chainB) }
    }

    @Test("view, height and block are bound by the signatures", arguments: ["view", "height", "block"])
    func certificateFieldsAreSigned(_ field: String) {
        var cert = Fixture.certificate(indices: [0, 1, 2], in: Self.set)
        switch field {
        case "view": cert.view += 1
        case "height": cert.height += 1
        default: cert.blockHash = Fixture.hash("block 8")
        }
        #expect(throws: CertificateError.badSignature(validator: 0)) { try cert.verify(in: Self.set, chain: Fixture.chainA) }
    }

    /// The same valid signature counted twice must not make up a quorum.
    @Test func duplicateSignerDoesNotCount() {
        let cert = Fixture.certificate(indices: [0, 1], in: Self.set)
        let padded = CommitCertificate(view: cert.view, height: cert.height, blockHash: cert.blockHash,
                                       signers: cert.signers + [cert.signers[1]])
        #expect(padded.signers.map(\.validatorIndex) == [0, 1, 1])
        #expect(throws: CertificateError.duplicateOrUnsortedSigner(1)) { try padded.verify(in: Self.set, chain: Fixture.chainA) }
    }

    @Test func unsortedSignersAreRefused() {
        var cert = Fixture.certificate(indices: [0, 1, 2], in: Self.set)
        cert.signers.swapAt(0, 1)
        #expect(throws: CertificateError.duplicateOrUnsortedSigner(0)) { try cert.verify(in: Self.set, chain: Fixture.chainA) }
    }

    @Test func fromVotesSortsAndDropsDuplicates() throws {
        let votes = [2, 0, 2, 1].map { Fixture.vote(phase: .commit, index: UInt16($0), in: Self.set) }
        let cert = CommitCertificate(votes: votes)
        #expect(cert.signers.map(\.validatorIndex) == [0, 1, 2])
        #expect(cert.view == 2 && cert.height == 7 && cert.blockHash == Self.block)
        try cert.verify(in: Self.set, chain: Fixture.chainA)
        #expect(try CommitCertificate(canonicalBytes: cert.canonicalBytes) == cert)
    }

    @Test func voteOutsideTheSetDoesNotVerify() {
        let five = Fixture.validatorSet(count: 5)
        let vote = Fixture.vote(index: 4, in: five)
        #expect(vote.verify(in: five, chain: Fixture.chainA))
        #expect(!vote.verify(in: Self.set, chain: Fixture.chainA))
    }

    @Test("error descriptions are sentences", arguments: [
        (CertificateError.tooFewSigners(have: 2, need: 3), "2 commit signatures; a quorum is 3"),
        (.duplicateOrUnsortedSigner(4), "validator 4 twice or out of order"),
        (.unknownValidator(9, setSize: 4), "validator 9 but the set has 4"),
        (.badSignature(validator: 1), "validator 1 does not verify"),
    ] as [(CertificateError, String)])
    func descriptions(_ error: CertificateError, _ phrase: String) {
        #expect(error.description.contains(phrase))
    }
}
