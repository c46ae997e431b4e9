import CSecp256k1

/// The one libsecp256k1 context of the process.
///
/// Created with `SECP256K1_CONTEXT_NONE` and randomized once (side-channel blinding for
/// signing). Invariant: after `init`, only const functions (sign, verify, parse, serialize)
/// use it, which libsecp256k1 documents as safe to call concurrently.
final class Secp256k1Context: @unchecked Sendable {
    static let shared = Secp256k1Context()
    let raw: OpaquePointer

    private init() {
        guard let ctx = secp256k1_context_create(UInt32(SECP256K1_CONTEXT_NONE)) else {
            preconditionFailure("secp256k1_context_create failed")
        }
        var seed = SecureRandom.bytes(32)
        let ok = secp256k1_context_randomize(ctx, &seed)
        precondition(ok == 1, "secp256k1_context_randomize failed")
        raw = ctx
    }
}

/// Random bytes from the operating system (getrandom / arc4random via the stdlib).
/// Used only for key generation and context blinding, never in consensus logic.
public enum SecureRandom {
    public static func bytes(_ count: Int) -> [UInt8] {
        var rng = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &rng) }
    }
}

/// Parsed public keys, keyed by their 33 compressed bytes, so that verifying many
/// transactions from one participant parses its key once.
///
/// Invariant: at most `maxEntries` entries; when full it is emptied (participants of a
/// consortium number in the hundreds, so a full cache means churn, not a working set).
final class ParsedKeyCache: Sendable {
    static let shared = ParsedKeyCache()
    static let maxEntries = 16_384

    private let entries = Locked<[KeyBytes: secp256k1_pubkey]>([:])

    /// The 33 bytes as a dictionary key hashed in one call (`[UInt8]` feeds its hasher byte
    /// by byte, and every account decoded looks its key up here).
    struct KeyBytes: Hashable {
        let bytes: [UInt8]
        func hash(into hasher: inout Hasher) { bytes.withUnsafeBytes { hasher.combine(bytes: $0) } }
        static func == (a: KeyBytes, b: KeyBytes) -> Bool { a.bytes == b.bytes }
    }

    func parsed(_ key: PublicKey) -> secp256k1_pubkey {
        // PublicKey's initializer already proved the bytes parse; a failure here is a bug.
        guard let parsed = lookupOrParse(key.bytes) else { preconditionFailure("validated public key failed to parse") }
        return parsed
    }

    /// The parsed key for `bytes`, from the cache or parsed (and cached) now; nil if invalid.
    func lookupOrParse(_ bytes: [UInt8]) -> secp256k1_pubkey? {
        let key = KeyBytes(bytes: bytes)
        if let hit = entries.withLock({ $0[key] }) { return hit }
        guard let parsed = Self.parse(bytes) else { return nil }
        entries.withLock {
            if $0.count >= Self.maxEntries { $0.removeAll(keepingCapacity: true) }
            $0[key] = parsed
        }
        return parsed
    }

    var count: Int { entries.withLock { $0.count } }

    static func parse(_ bytes: [UInt8]) -> secp256k1_pubkey? {
        var out = secp256k1_pubkey()
        let ok = bytes.withUnsafeBufferPointer {
            secp256k1_ec_pubkey_parse(Secp256k1Context.shared.raw, &out, $0.baseAddress!, $0.count)
        }
        return ok == 1 ? out : nil
    }
}
