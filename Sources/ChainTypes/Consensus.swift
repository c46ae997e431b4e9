/// A validator in the set: its index is its position, which fixes PBFT's primary rotation.
public struct Validator: Hashable, Sendable, CanonicalCodable {
    public static let version: UInt8 = 1

    /// A label for logs, templates and the CLI, e.g. `bank-a`.
    public var name: String
    public var publicKey: PublicKey
    /// Where its peers reach it: `host:port`.
    public var p2pAddress: String
    /// The pin of its TLS key: SHA-256 of the whole DER SubjectPublicKeyInfo of its TLS
    /// certificate (`SPKIFingerprint` in PeerTransport; docs/TRANSPORT.md). Pinning the key, not
    /// the certificate, lets a node renew its certificate with the same key.
    ///
    /// Optional in the type because dev and simulated chains run without TLS; the node refuses
    /// to start a network in which any peer lacks a pin (`hansa node init` prints the value).
    public var tlsSPKISHA256: Hash?

    public init(name: String, publicKey: PublicKey, p2pAddress: String, tlsSPKISHA256: Hash?) {
        self.name = name; self.publicKey = publicKey
        self.p2pAddress = p2pAddress; self.tlsSPKISHA256 = tlsSPKISHA256
    }

    public var address: Address { publicKey.address }

    public func encode(to w: inout CanonicalWriter) {
        w.string(name)
        w.publicKey(publicKey)
        w.string(p2pAddress)
        w.optional(tlsSPKISHA256) { $0.hash($1) }
    }

    public init(from r: inout CanonicalReader) throws(DecodeError) {
        name = try r.string("name", limit: Limits.maxNameBytes)
        publicKey = try r.publicKey("public_key")
        p2pAddress = try r.string("p2p_address", limit: Limits.maxP2PAddressBytes)
        tlsSPKISHA256 = try r.optional("tls_spki_sha256") { (r: inout CanonicalReader) throws(DecodeError) in
            try r.hash("tls_spki_sha256")
        }
    }
}

/// The validators of a chain, ordered by address; n = |validators|, f = ⌊(n − 1) / 3⌋.
///
/// Invariant: 1 ≤ n ≤ `Limits.maxValidators`; addresses strictly ascending (so no duplicates).
public struct ValidatorSet: Hashable, Sendable {
    public let validators: [Validator]

    public init(_ validators: [Validator]) throws(ValueError) {
        guard !validators.isEmpty, validators.count <= Limits.maxValidators else {
            throw ValueError("a validator set holds 1 to \(Limits.maxValidators) validators, got \(validators.count)")
        }
        let sorted = validators.sorted { $0.address < $1.address }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.address == b.address {
            throw ValueError("validators \(a.name) and \(b.name) share the public key \(a.publicKey.hex)")
        }
        self.validators = sorted
    }

    public var count: Int { validators.count }
    /// The most byzantine validators the set tolerates (Castro & Liskov 1999, §2: n ≥ 3f + 1).
    public var maxFaulty: Int { (count - 1) / 3 }
    /// Votes needed so that any two quorums share at least f + 1 validators, hence one
    /// honest one: ⌈(n + f + 1) / 2⌉, which is 2f + 1 when n = 3f + 1.
    public var quorum: Int { (count + maxFaulty + 2) / 2 }

    public func index(of address: Address) -> Int? { validators.firstIndex { $0.address == address } }
}

/// Which PBFT vote a `Vote` is (Castro & Liskov 1999, §4.2).
public enum VotePhase: UInt8, Sendable, CaseIterable {
    case prepare = 1
    case commit = 2

    public var domain: SigningDomain { self == .prepare ? .prepare : .commit }
}

/// A validator's signed prepare or commit for one block at one (view, height).
public struct Vote: Hashable, Sendable, CanonicalCodable {
    public static let version: UInt8 = 1

    public var phase: VotePhase
    public var view: UInt64
    public var height: UInt64
    public var blockHash: Hash
    /// The voter's index in the validator set.
    public var validatorIndex: UInt16
    public var signature: Signature

    /// The bytes a voter signs: the vote without its signature (domain = the phase).
    public static func signingBody(phase: VotePhase, view: UInt64, height: UInt64, blockHash: Hash,
                                   validatorIndex: UInt16) -> [UInt8] {
        var w = CanonicalWriter(capacity: 64)
        w.header(.vote, version: version)
        w.byte(phase.rawValue)
        w.uvarint(view)
        w.uvarint(height)
        w.hash(blockHash)
        w.uvarint(UInt64(validatorIndex))
        return w.bytes
    }

    public static func make(phase: VotePhase, view: UInt64, height: UInt64, blockHash: Hash, validatorIndex: UInt16,
                            chain: ChainBinding, key: PrivateKey) -> Vote {
        let body = signingBody(phase: phase, view: view, height: height, blockHash: blockHash, validatorIndex: validatorIndex)
        return Vote(phase: phase, view: view, height: height, blockHash: blockHash, validatorIndex: validatorIndex,
                    signature: phase.domain.sign(body, chain: chain, with: key))
    }

    public init(phase: VotePhase, view: UInt64, height: UInt64, blockHash: Hash, validatorIndex: UInt16, signature: Signature) {
        self.phase = phase; self.view = view; self.height = height
        self.blockHash = blockHash; self.validatorIndex = validatorIndex; self.signature = signature
    }

    public var signingBody: [UInt8] {
        Self.signingBody(phase: phase, view: view, height: height, blockHash: blockHash, validatorIndex: validatorIndex)
    }

    public func encode(to w: inout CanonicalWriter) {
        w.fixed(signingBody)
        w.signature(signature)
    }

    public init(from r: inout CanonicalReader) throws(DecodeError) {
        _ = try r.header(.vote, versions: Self.version...Self.version)
        let start = r.offset
        let tag = try r.byte("phase")
        guard let phase = VotePhase(rawValue: tag) else { throw r.error("phase", .unknownTag(UInt64(tag)), at: start) }
        self.phase = phase
        view = try r.uvarint("view")
        height = try r.uvarint("height")
        blockHash = try r.hash("block_hash")
        validatorIndex = UInt16(try r.uvarint("validator_index", maximum: UInt64(Limits.maxValidators - 1)))
        signature = try r.signature("signature")
    }

    /// Whether the validator at `validatorIndex` of `set` signed this vote on `chain`.
    public func verify(in set: ValidatorSet, chain: ChainBinding) -> Bool {
        guard Int(validatorIndex) < set.count else { return false }
        return phase.domain.verify(signature, over: signingBody, chain: chain, by: set.validators[Int(validatorIndex)].publicKey)
    }
}

/// Proof that a block committed: a quorum of commit signatures for (view, height, block hash)
/// (Castro & Liskov 1999, §4.2 "committed-local"). It is stored and shipped with the block,
/// so anyone holding the validator set can check the commit later.
///
/// Invariant (of decoded and constructed values): signers strictly ascending by index.
public struct CommitCertificate: Hashable, Sendable, CanonicalCodable {
    public static let version: UInt8 = 1

    /// One validator's commit signature.
    public typealias Signer = ValidatorSignature

    public var view: UInt64
    public var height: UInt64
    public var blockHash: Hash
    public var signers: [Signer]

    public init(view: UInt64, height: UInt64, blockHash: Hash, signers: [Signer]) {
        self.view = view; self.height = height; self.blockHash = blockHash
        self.signers = signers.sorted { $0.validatorIndex < $1.validatorIndex }
    }

    /// Gathers matching commit votes into a certificate (duplicates by index are dropped).
    public init(votes: [Vote]) {
        precondition(!votes.isEmpty && votes.allSatisfy { $0.phase == .commit }, "a certificate needs commit votes")
        let first = votes[0]
        var byIndex: [UInt16: Signer] = [:]
        for v in votes {
            precondition(v.view == first.view && v.height == first.height && v.blockHash == first.blockHash,
                         "commit votes of a certificate must agree on view, height and block")
            byIndex[v.validatorIndex] = Signer(validatorIndex: v.validatorIndex, signature: v.signature)
        }
        self.init(view: first.view, height: first.height, blockHash: first.blockHash, signers: Array(byIndex.values))
    }

    public func encode(to w: inout CanonicalWriter) {
        w.header(.commitCertificate, version: Self.version)
        w.uvarint(view)
        w.uvarint(height)
        w.hash(blockHash)
        w.list(signers)
    }

    public init(from r: inout CanonicalReader) throws(DecodeError) {
        _ = try r.header(.commitCertificate, versions: Self.version...Self.version)
        view = try r.uvarint("view")
        height = try r.uvarint("height")
        blockHash = try r.hash("block_hash")
        signers = try r.sortedList("signers", limit: Limits.maxValidators) { (s: Signer) in s.validatorIndex }
    }

    /// Checks the certificate against `set`: a quorum of distinct validators, each signature a
    /// valid commit vote for this (view, height, block hash) on `chain`.
    public func verify(in set: ValidatorSet, chain: ChainBinding) throws(CertificateError) {
        try verify(quorum: set.quorum, setSize: set.count) { index, body, signature in
            SigningDomain.commit.verify(signature, over: body, chain: chain, by: set.validators[index].publicKey)
        }
    }

    /// The same rules with the signature check supplied by the caller (the simulator checks
    /// certificates with its stand-in signatures). `verifySignature(index, body, signature)`
    /// gets the commit vote's signing body.
    public func verify(quorum: Int, setSize: Int,
                       verifySignature: (Int, [UInt8], Signature) -> Bool) throws(CertificateError) {
        try Self.verifyVotes(phase: .commit, view: view, height: height, blockHash: blockHash, signers: signers,
                             quorum: quorum, setSize: setSize, verifySignature: verifySignature)
    }

    /// The quorum rule shared by commit and prepared certificates: at least `quorum` signers,
    /// strictly ascending indexes inside the set, each signature a valid `phase` vote for
    /// (view, height, block hash).
    public static func verifyVotes(phase: VotePhase, view: UInt64, height: UInt64, blockHash: Hash,
                                   signers: [ValidatorSignature], quorum: Int, setSize: Int,
                                   verifySignature: (Int, [UInt8], Signature) -> Bool) throws(CertificateError) {
        guard signers.count >= quorum else { throw .tooFewSigners(have: signers.count, need: quorum) }
        var last: Int = -1
        for s in signers {
            let index = Int(s.validatorIndex)
            guard index > last else { throw .duplicateOrUnsortedSigner(index) }
            last = index
            guard index < setSize else { throw .unknownValidator(index, setSize: setSize) }
            let body = Vote.signingBody(phase: phase, view: view, height: height, blockHash: blockHash,
                                        validatorIndex: s.validatorIndex)
            guard verifySignature(index, body, s.signature) else { throw .badSignature(validator: index) }
        }
    }
}

/// Why a commit certificate does not prove a commit.
public enum CertificateError: Error, Equatable, Sendable, CustomStringConvertible {
    case tooFewSigners(have: Int, need: Int)
    case duplicateOrUnsortedSigner(Int)
    case unknownValidator(Int, setSize: Int)
    case badSignature(validator: Int)

    public var description: String {
        switch self {
        case .tooFewSigners(let have, let need): "certificate has \(have) commit signatures; a quorum is \(need)"
        case .duplicateOrUnsortedSigner(let i): "certificate lists validator \(i) twice or out of order"
        case .unknownValidator(let i, let n): "certificate names validator \(i) but the set has \(n)"
        case .badSignature(let i): "commit signature of validator \(i) does not verify"
        }
    }
}

/// A validator's signature, named by its index in the validator set: an entry of a commit or
/// prepared certificate, or a governance approval.
public struct ValidatorSignature: Hashable, Sendable, CanonicalCodable {
    public var validatorIndex: UInt16
    public var signature: Signature

    public init(validatorIndex: UInt16, signature: Signature) {
        self.validatorIndex = validatorIndex
        self.signature = signature
    }

    public func encode(to w: inout CanonicalWriter) {
        w.uvarint(UInt64(validatorIndex))
        w.signature(signature)
    }

    public init(from r: inout CanonicalReader) throws(DecodeError) {
        validatorIndex = UInt16(try r.uvarint("validator_index", maximum: UInt64(Limits.maxValidators - 1)))
        signature = try r.signature("signature")
    }
}
