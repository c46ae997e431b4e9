import HansaCrypto

/// Constants of secp256k1 (SEC 2 §2.4.1) and small helpers shared by the crypto tests.
enum Curve {
    /// The group order n.
    static let n = hex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")
    /// n − 1, the largest valid private key.
    static let nMinus1 = hex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140")
    /// ⌊n / 2⌋: the largest s a low-S signature may carry (BIP 62 rule 5).
    static let halfN = hex("7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0")
    /// The field prime p: no x coordinate may reach it.
    static let p = hex("fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f")
    /// The generator G, compressed and uncompressed (SEC 2 §2.4.1).
    static let gCompressed = hex("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")
    static let gUncompressed = hex(
        "0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
            + "483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8")

    static func hex(_ text: String) -> [UInt8] {
        guard let bytes = Hex.decode(text) else { preconditionFailure("bad hex literal in test: \(text)") }
        return bytes
    }

    /// a − b for 32-byte big-endian numbers with a ≥ b.
    static func subtract(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        precondition(a.count == 32 && b.count == 32)
        var out = [UInt8](repeating: 0, count: 32)
        var borrow = 0
        for i in stride(from: 31, through: 0, by: -1) {
            var d = Int(a[i]) - Int(b[i]) - borrow
            borrow = d < 0 ? 1 : 0
            if d < 0 { d += 256 }
            out[i] = UInt8(d)
        }
        precondition(borrow == 0, "subtract: a < b")
        return out
    }

    /// a + k for a 32-byte big-endian number (wraps silently above 2^256 − 1).
    static func add(_ a: [UInt8], _ k: UInt8) -> [UInt8] {
        var out = a
        var carry = Int(k)
        for i in stride(from: 31, through: 0, by: -1) where carry > 0 {
            let s = Int(out[i]) + carry
            out[i] = UInt8(s & 0xff)
            carry = s >> 8
        }
        return out
    }
}

/// A fixed, reproducible private key whose secret is the number `i` (1 ≤ i).
func testKey(_ i: UInt8) -> PrivateKey {
    try! PrivateKey(secret: [UInt8](repeating: 0, count: 31) + [i])
}

/// A reproducible digest: SHA-256 of `label`.
func testDigest(_ label: String) -> Digest32 { SHA256.hash(utf8: label) }
