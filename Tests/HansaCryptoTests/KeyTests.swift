import Testing
import HansaCrypto

/// Private and public key validation: one byte form per key, nothing off the curve.
@Suite("Keys")
struct KeyTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let bytes: [UInt8]
        /// A phrase the error message must contain.
        let says: String
        var testDescription: String { name }
    }

    // MARK: Private keys (SEC 1 §3.2.1: 1 ≤ d ≤ n − 1)

    static let badSecrets: [Case] = [
        Case(name: "empty", bytes: [], says: "got 0"),
        Case(name: "31 bytes", bytes: [UInt8](repeating: 1, count: 31), says: "got 31"),
        Case(name: "33 bytes", bytes: [UInt8](repeating: 1, count: 33), says: "got 33"),
        Case(name: "zero", bytes: [UInt8](repeating: 0, count: 32), says: "zero"),
        Case(name: "n", bytes: Curve.n, says: "group order"),
        Case(name: "n + 1", bytes: Curve.add(Curve.n, 1), says: "group order"),
        Case(name: "2^256 − 1", bytes: [UInt8](repeating: 0xff, count: 32), says: "group order"),
    ]

    @Test("private key rejected", arguments: badSecrets)
    func privateKeyRejected(_ c: Case) {
        #expect {
            _ = try PrivateKey(secret: c.bytes)
        } throws: { error in
            guard case .invalidPrivateKey(let why) = error as? CryptoError else { return false }
            return why.contains(c.says)
        }
    }

    @Test("private key accepted", arguments: [
        [UInt8](repeating: 0, count: 31) + [1],
        Curve.nMinus1,
        Curve.subtract(Curve.n, [UInt8](repeating: 0, count: 31) + [2]),
        [UInt8](repeating: 0x5a, count: 32),
    ])
    func privateKeyAccepted(_ secret: [UInt8]) throws {
        let key = try PrivateKey(secret: secret)
        #expect(key.secret == secret)
        #expect(key.publicKey.bytes.count == 33)
        // Every accepted key signs something its public key verifies.
        let d = testDigest("accepted")
        #expect(key.publicKey.verify(key.sign(digest: d), digest: d))
    }

    /// The key 1 is the generator itself (SEC 2 §2.4.1).
    @Test func keyOneIsTheGenerator() {
        #expect(testKey(1).publicKey.bytes == Curve.gCompressed)
    }

    @Test func privateKeyFromHex() throws {
        let key = try PrivateKey(hex: Hex.encode(Curve.nMinus1))
        #expect(key.secret == Curve.nMinus1)
        #expect(throws: CryptoError.invalidPrivateKey("not hexadecimal")) { try PrivateKey(hex: "0x01") }
        #expect(throws: CryptoError.invalidPrivateKey("not hexadecimal")) { try PrivateKey(hex: "abc") }
    }

    @Test func descriptionDoesNotPrintTheSecret() {
        let key = testKey(0x42)
        let text = key.description
        #expect(text.contains(key.publicKey.hex))
        #expect(text.contains("redacted"))
        #expect(!text.contains(Hex.encode(key.secret)))
    }

    @Test func generatedKeysAreValidAndDistinct() throws {
        let keys = (0..<8).map { _ in PrivateKey.generate() }
        #expect(Set(keys.map(\.publicKey)).count == 8)
        for key in keys {
            let again = try PrivateKey(secret: key.secret)
            #expect(again.publicKey == key.publicKey)
        }
    }

    // MARK: Public keys (SEC 1 §2.3.4, compressed form only)

    /// x = 5 is not the x coordinate of any point: 5³ + 7 = 132 is not a square mod p
    /// (found by trying x = 1, 2, … with libsecp256k1; x = 1…4 are on the curve).
    static let xFive = [UInt8](repeating: 0, count: 31) + [5]

    static let badPublicKeys: [Case] = [
        Case(name: "empty", bytes: [], says: "got 0"),
        Case(name: "32 bytes", bytes: Array(Curve.gCompressed.dropFirst()), says: "got 32"),
        Case(name: "34 bytes", bytes: Curve.gCompressed + [0], says: "got 34"),
        Case(name: "uncompressed G (0x04, 65 bytes)", bytes: Curve.gUncompressed, says: "got 65"),
        Case(name: "hybrid G (0x06, 65 bytes)", bytes: [0x06] + Curve.gUncompressed.dropFirst(), says: "got 65"),
        Case(name: "prefix 0x04 on 33 bytes", bytes: [0x04] + Curve.gCompressed.dropFirst(), says: "0x04"),
        Case(name: "prefix 0x05", bytes: [0x05] + Curve.gCompressed.dropFirst(), says: "0x05"),
        Case(name: "prefix 0x00", bytes: [0x00] + Curve.gCompressed.dropFirst(), says: "0x00"),
        Case(name: "x = 5, even y", bytes: [0x02] + xFive, says: "not the coordinate of a point"),
        Case(name: "x = 5, odd y", bytes: [0x03] + xFive, says: "not the coordinate of a point"),
        Case(name: "x = p", bytes: [0x02] + Curve.p, says: "not the coordinate of a point"),
        Case(name: "x = 2^256 − 1", bytes: [0x03] + [UInt8](repeating: 0xff, count: 32),
             says: "not the coordinate of a point"),
    ]

    @Test("public key rejected", arguments: badPublicKeys)
    func publicKeyRejected(_ c: Case) {
        #expect {
            _ = try PublicKey(bytes: c.bytes)
        } throws: { error in
            guard case .invalidPublicKey(let why) = error as? CryptoError else { return false }
            return why.contains(c.says)
        }
    }

    /// x = 1…4 are on the curve, in both parities: the rejection of x = 5 is about the point.
    @Test("public key accepted", arguments: [1, 2, 3, 4] as [UInt8])
    func smallXOnCurve(_ x: UInt8) throws {
        for prefix: UInt8 in [0x02, 0x03] {
            let bytes = [prefix] + [UInt8](repeating: 0, count: 31) + [x]
            #expect(try PublicKey(bytes: bytes).bytes == bytes)
        }
    }

    @Test func publicKeyHexRoundTrip() throws {
        let key = testKey(7).publicKey
        #expect(try PublicKey(hex: key.hex) == key)
        #expect(try PublicKey(hex: key.hex.uppercased()) == key)
        #expect(key.description == key.hex)
        #expect(throws: CryptoError.invalidPublicKey("not hexadecimal")) { try PublicKey(hex: "0x" + key.hex) }
    }

    // MARK: Error messages are sentences

    @Test("error descriptions name the problem", arguments: [
        (CryptoError.invalidPrivateKey("zero"), "private key"),
        (CryptoError.invalidPublicKey("bad"), "public key"),
        (CryptoError.malformedSignature("short"), "signature"),
        (CryptoError.highS, "high S"),
        (CryptoError.signatureMismatch, "does not verify"),
    ] as [(CryptoError, String)])
    func errorDescription(_ error: CryptoError, _ keyword: String) {
        let text = error.description
        #expect(text.contains(keyword))
        #expect(text.count > keyword.count + 10)
        #expect(!text.contains("CryptoError"))
    }
}
