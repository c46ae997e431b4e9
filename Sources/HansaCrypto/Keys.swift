import CSecp256k1

/// A secp256k1 public key in its 33-byte compressed SEC 1 form (0x02 or 0x03, then x).
///
/// Invariant: `bytes` is exactly 33 bytes and names a point on the curve. Uncompressed and
/// hybrid encodings are refused so that every key has one byte form (and one address).
public struct PublicKey: Hashable, Sendable {
    public static let byteCount = 33
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) throws(CryptoError) {
        guard bytes.count == Self.byteCount else {
            throw .invalidPublicKey("expected 33 bytes (compressed SEC 1), got \(bytes.count)")
        }
        guard bytes[0] == 0x02 || bytes[0] == 0x03 else {
            throw .invalidPublicKey("first byte must be 0x02 or 0x03 (compressed), got 0x\(Hex.encode([bytes[0]]))")
        }
        guard ParsedKeyCache.shared.lookupOrParse(bytes) != nil else {
            throw .invalidPublicKey("x is not the coordinate of a point on secp256k1")
        }
        self.bytes = bytes
    }

    /// Parses lowercase or uppercase hex of the 33 compressed bytes.
    public init(hex: String) throws(CryptoError) {
        guard let bytes = Hex.decode(hex) else { throw .invalidPublicKey("not hexadecimal") }
        try self.init(bytes: bytes)
    }

    public var hex: String { Hex.encode(bytes) }

    /// Checks `signature` over the 32-byte `digest`. The parsed key comes from a process-wide cache.
    public func verify(_ signature: Signature, digest: Digest32) -> Bool {
        var pubkey = ParsedKeyCache.shared.parsed(self)
        var sig = signature.parsed
        let message = digest.bytes
        return message.withUnsafeBufferPointer {
            secp256k1_ecdsa_verify(Secp256k1Context.shared.raw, &sig, $0.baseAddress!, &pubkey) == 1
        }
    }

    /// Like `verify`, but throws `CryptoError.signatureMismatch` on failure.
    public func check(_ signature: Signature, digest: Digest32) throws(CryptoError) {
        guard verify(signature, digest: digest) else { throw .signatureMismatch }
    }
}

extension PublicKey: CustomStringConvertible {
    public var description: String { hex }
}

/// A secp256k1 private key. Its description never prints the secret.
///
/// Invariant: `secret` is 32 bytes, non-zero and below the curve order n.
public struct PrivateKey: Sendable {
    public let secret: [UInt8]
    public let publicKey: PublicKey

    public init(secret: [UInt8]) throws(CryptoError) {
        guard secret.count == 32 else { throw .invalidPrivateKey("expected 32 bytes, got \(secret.count)") }
        let valid = secret.withUnsafeBufferPointer {
            secp256k1_ec_seckey_verify(Secp256k1Context.shared.raw, $0.baseAddress!) == 1
        }
        guard valid else { throw .invalidPrivateKey("zero or not below the secp256k1 group order") }
        self.secret = secret
        self.publicKey = try PrivateKey.derivePublicKey(secret)
    }

    public init(hex: String) throws(CryptoError) {
        guard let bytes = Hex.decode(hex) else { throw .invalidPrivateKey("not hexadecimal") }
        try self.init(secret: bytes)
    }

    /// A fresh key from the operating system's random source.
    public static func generate() -> PrivateKey {
        while true {
            // The chance of an invalid 32-byte value is about 2^-128; loop anyway.
            if let key = try? PrivateKey(secret: SecureRandom.bytes(32)) { return key }
        }
    }

    /// A deterministic ECDSA signature (RFC 6979 nonce) over `digest`, always low-S.
    public func sign(digest: Digest32) -> Signature {
        var sig = secp256k1_ecdsa_signature()
        let message = digest.bytes
        let ok = message.withUnsafeBufferPointer { msg in
            secret.withUnsafeBufferPointer { key in
                secp256k1_ecdsa_sign(Secp256k1Context.shared.raw, &sig, msg.baseAddress!, key.baseAddress!, nil, nil)
            }
        }
        precondition(ok == 1, "secp256k1_ecdsa_sign failed on a validated key")
        var compact = [UInt8](repeating: 0, count: 64)
        _ = compact.withUnsafeMutableBufferPointer {
            secp256k1_ecdsa_signature_serialize_compact(Secp256k1Context.shared.raw, $0.baseAddress!, &sig)
        }
        // libsecp256k1 signs low-S; the initializer re-checks that invariant.
        return try! Signature(compact: compact)
    }

    private static func derivePublicKey(_ secret: [UInt8]) throws(CryptoError) -> PublicKey {
        var pubkey = secp256k1_pubkey()
        let ok = secret.withUnsafeBufferPointer {
            secp256k1_ec_pubkey_create(Secp256k1Context.shared.raw, &pubkey, $0.baseAddress!)
        }
        guard ok == 1 else { throw .invalidPrivateKey("cannot derive a public key") }
        var out = [UInt8](repeating: 0, count: 33)
        var length = 33
        _ = out.withUnsafeMutableBufferPointer {
            secp256k1_ec_pubkey_serialize(Secp256k1Context.shared.raw, $0.baseAddress!, &length, &pubkey,
                                          UInt32(SECP256K1_EC_COMPRESSED))
        }
        return try PublicKey(bytes: out)
    }
}

extension PrivateKey: CustomStringConvertible {
    public var description: String { "PrivateKey(public: \(publicKey.hex), secret: redacted)" }
}

/// An ECDSA signature in 64-byte compact form: r (32 bytes, big-endian) then s.
///
/// Invariant: r and s are non-zero and below n, and s ≤ n/2 (low-S), so each signed
/// message has exactly one accepted signature encoding per nonce.
public struct Signature: Hashable, Sendable {
    public static let byteCount = 64
    public let compact: [UInt8]
    let parsed: secp256k1_ecdsa_signature

    public init(compact: [UInt8]) throws(CryptoError) {
        guard compact.count == Self.byteCount else {
            throw .malformedSignature("expected 64 bytes (r‖s), got \(compact.count)")
        }
        guard compact[0..<32].contains(where: { $0 != 0 }) else { throw .malformedSignature("r is zero") }
        guard compact[32..<64].contains(where: { $0 != 0 }) else { throw .malformedSignature("s is zero") }
        var sig = secp256k1_ecdsa_signature()
        let ok = compact.withUnsafeBufferPointer {
            secp256k1_ecdsa_signature_parse_compact(Secp256k1Context.shared.raw, &sig, $0.baseAddress!)
        }
        guard ok == 1 else { throw .malformedSignature("r or s is not below the secp256k1 group order") }
        // normalize returns 1 when its input was high-S.
        var normalized = secp256k1_ecdsa_signature()
        guard secp256k1_ecdsa_signature_normalize(Secp256k1Context.shared.raw, &normalized, &sig) == 0 else {
            throw .highS
        }
        self.compact = compact
        self.parsed = sig
    }

    public init(hex: String) throws(CryptoError) {
        guard let bytes = Hex.decode(hex) else { throw .malformedSignature("not hexadecimal") }
        try self.init(compact: bytes)
    }

    public var hex: String { Hex.encode(compact) }

    public static func == (a: Signature, b: Signature) -> Bool { a.compact == b.compact }
    public func hash(into hasher: inout Hasher) { hasher.combine(compact) }
}

extension Signature: CustomStringConvertible {
    public var description: String { hex }
}
