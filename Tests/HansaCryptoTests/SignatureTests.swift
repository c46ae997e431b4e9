import Testing
import HansaCrypto

/// ECDSA over secp256k1: strict 64-byte compact form, low-S only (BIP 62 rule 5),
/// deterministic nonces (RFC 6979).
@Suite("Signatures")
struct SignatureTests {
    static let one = [UInt8](repeating: 0, count: 31) + [1]
    static let key = testKey(3)
    static let digest = testDigest("hansa signature tests")
    static let valid = key.sign(digest: digest)

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let compact: [UInt8]
        let expected: CryptoError
        var testDescription: String { name }
    }

    static let rejected: [Case] = [
        Case(name: "empty", compact: [], expected: .malformedSignature("expected 64 bytes (r‖s), got 0")),
        Case(name: "63 bytes", compact: Array(valid.compact.dropLast()),
             expected: .malformedSignature("expected 64 bytes (r‖s), got 63")),
        Case(name: "65 bytes", compact: valid.compact + [0], expected: .malformedSignature("expected 64 bytes (r‖s), got 65")),
        Case(name: "r = 0", compact: [UInt8](repeating: 0, count: 32) + valid.compact[32...],
             expected: .malformedSignature("r is zero")),
        Case(name: "s = 0", compact: valid.compact[..<32] + [UInt8](repeating: 0, count: 32),
             expected: .malformedSignature("s is zero")),
        Case(name: "r = n", compact: Curve.n + one,
             expected: .malformedSignature("r or s is not below the secp256k1 group order")),
        Case(name: "r = 2^256 − 1", compact: [UInt8](repeating: 0xff, count: 32) + one,
             expected: .malformedSignature("r or s is not below the secp256k1 group order")),
        Case(name: "s = n", compact: one + Curve.n,
             expected: .malformedSignature("r or s is not below the secp256k1 group order")),
        Case(name: "s = n + 1", compact: one + Curve.add(Curve.n, 1),
             expected: .malformedSignature("r or s is not below the secp256k1 group order")),
        // BIP 62 rule 5: s must be at most n/2.
        Case(name: "s = n/2 + 1", compact: one + Curve.add(Curve.halfN, 1), expected: .highS),
        Case(name: "s = n − 1", compact: one + Curve.nMinus1, expected: .highS),
        Case(name: "valid signature with s replaced by n − s",
             compact: Array(valid.compact[..<32]) + Curve.subtract(Curve.n, Array(valid.compact[32...])),
             expected: .highS),
    ]

    @Test("malformed signatures are refused", arguments: rejected)
    func rejectedSignature(_ c: Case) {
        #expect(throws: c.expected) { try Signature(compact: c.compact) }
    }

    /// The boundary of the low-S rule: s = n/2 is accepted, and r = n − 1 is below n.
    @Test("boundary values are accepted", arguments: [
        one + Curve.halfN,
        Curve.nMinus1 + one,
        one + one,
    ])
    func boundaryAccepted(_ compact: [UInt8]) throws {
        #expect(try Signature(compact: compact).compact == compact)
    }

    /// The malleated twin of a valid signature would verify in plain ECDSA; Hansa refuses it
    /// so that a transaction has exactly one id.
    @Test func highSTwinOfRealSignatureIsRefused() throws {
        let sig = Self.key.sign(digest: Self.digest)
        let s = Array(sig.compact[32...])
        #expect(s.lexicographicallyPrecedes(Curve.halfN) || s == Curve.halfN)
        let twin = Array(sig.compact[..<32]) + Curve.subtract(Curve.n, s)
        #expect(throws: CryptoError.highS) { try Signature(compact: twin) }
    }

    @Test func hexForms() throws {
        let sig = Self.valid
        #expect(try Signature(hex: sig.hex) == sig)
        #expect(try Signature(hex: sig.hex.uppercased()) == sig)
        #expect(sig.description == sig.hex)
        #expect(throws: CryptoError.malformedSignature("not hexadecimal")) { try Signature(hex: "0x" + sig.hex) }
    }

    // MARK: Sign and verify

    @Test("sign then verify", arguments: [1, 2, 3, 200] as [UInt8])
    func roundTrip(_ k: UInt8) throws {
        let key = testKey(k)
        for label in ["", "a", "transfer 100 USD"] {
            let d = testDigest(label)
            let sig = key.sign(digest: d)
            #expect(sig.compact.count == 64)
            #expect(key.publicKey.verify(sig, digest: d))
            try key.publicKey.check(sig, digest: d)
            // What the signer produced is accepted by the strict parser (low-S).
            #expect(try Signature(compact: sig.compact) == sig)
        }
    }

    @Test func largestKeySigns() throws {
        let key = try PrivateKey(secret: Curve.nMinus1)
        let sig = key.sign(digest: Self.digest)
        #expect(key.publicKey.verify(sig, digest: Self.digest))
    }

    @Test func verifyFailsForAnotherKey() {
        #expect(!testKey(4).publicKey.verify(Self.valid, digest: Self.digest))
        #expect(throws: CryptoError.signatureMismatch) {
            try testKey(4).publicKey.check(Self.valid, digest: Self.digest)
        }
    }

    @Test func verifyFailsForAnotherDigest() {
        #expect(!Self.key.publicKey.verify(Self.valid, digest: testDigest("another message")))
    }

    /// Flipping any one bit of the digest breaks verification.
    @Test("verify fails for a digest with one bit flipped", arguments: [0, 7, 100, 255])
    func flippedDigestBit(_ bit: Int) throws {
        var raw = Self.digest.bytes
        raw[bit / 8] ^= 1 << UInt8(bit % 8)
        let flipped = try #require(Digest32(bytes: raw))
        #expect(!Self.key.publicKey.verify(Self.valid, digest: flipped))
    }

    /// Flipping one bit of the signature either makes it malformed or makes it fail to verify.
    @Test("a signature with one bit flipped is refused", arguments: [0, 5, 130, 255, 256, 300, 511])
    func flippedSignatureBit(_ bit: Int) {
        var raw = Self.valid.compact
        raw[bit / 8] ^= 1 << UInt8(7 - bit % 8)
        if let sig = try? Signature(compact: raw) {
            #expect(!Self.key.publicKey.verify(sig, digest: Self.digest))
        }
    }

    @Test func signingIsDeterministic() {
        let a = Self.key.sign(digest: Self.digest)
        let b = Self.key.sign(digest: Self.digest)
        #expect(a.compact == b.compact)
        #expect(Self.key.sign(digest: testDigest("other")).compact != a.compact)
        #expect(testKey(4).sign(digest: Self.digest).compact != a.compact)
    }

    /// RFC 6979 known answer used by bitcoinjs and Trezor: key 1, message SHA-256("Satoshi Nakamoto"),
    /// low-S normalised.
    @Test func rfc6979KnownAnswer() {
        let sig = testKey(1).sign(digest: SHA256.hash(utf8: "Satoshi Nakamoto"))
        #expect(sig.hex == "934b1ea10a4b3c1757e2b0c017d0b6143ce3c9a7e6a4a49860d7a6ab210ee3d8"
                    + "2442ce9d2b916064108014783e923ec36b49743e2ffa1c4496f01a512aafd9e5")
    }

    @Test func concurrentSignAndVerify() async {
        let failures = await withTaskGroup(of: Int.self) { group in
            for t in 1...8 {
                group.addTask {
                    let key = testKey(UInt8(t))
                    var bad = 0
                    for i in 0..<25 {
                        let d = testDigest("task \(t) message \(i)")
                        let sig = key.sign(digest: d)
                        if !key.publicKey.verify(sig, digest: d) { bad += 1 }
                        if testKey(UInt8(t) + 100).publicKey.verify(sig, digest: d) { bad += 1 }
                    }
                    return bad
                }
            }
            return await group.reduce(0, +)
        }
        #expect(failures == 0)
    }
}
