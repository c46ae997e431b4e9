import ChainTypes
import PBFT

/// SplitMix64 (Steele, Lea & Flood 2014): a small, fast generator. Every random choice of a
/// simulation comes from one of these, seeded from the run's seed, so a seed replays exactly.
public struct SimRandom: RandomNumberGenerator, Sendable {
    var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// True with probability `p`.
    public mutating func chance(_ p: Double) -> Bool { p > 0 && Double.random(in: 0..<1, using: &self) < p }

    /// An independent generator for one purpose, so adding draws elsewhere does not shift it.
    public mutating func fork() -> SimRandom { SimRandom(seed: next()) }
}

/// A cheap deterministic stand-in for signatures: a keyed SHA-256 of the signed bytes,
/// shaped as a valid low-S compact signature. Each simulated validator knows only its own
/// secret, so a replica (byzantine or not) cannot make another validator's signature, and
/// a forged one fails `verify` just as with real keys.
public struct StandInCrypto: ConsensusCrypto {
    let secrets: [UInt64]
    let selfIndex: Int

    public init(secrets: [UInt64], selfIndex: Int) {
        self.secrets = secrets
        self.selfIndex = selfIndex
    }

    static func signature(secret: UInt64, _ domain: SigningDomain, _ body: [UInt8]) -> Signature {
        var w = CanonicalWriter(capacity: body.count + 48)
        w.uvarint(secret)
        w.string(domain.rawValue)
        w.fixed(body)
        var r = SHA256.hash(w.bytes).bytes
        r[0] &= 0x7f // below the group order
        if r.allSatisfy({ $0 == 0 }) { r[31] = 1 }
        return try! Signature(compact: r + [UInt8](repeating: 0, count: 31) + [1])
    }

    public func sign(_ domain: SigningDomain, _ body: [UInt8]) -> Signature {
        Self.signature(secret: secrets[selfIndex], domain, body)
    }

    public func verify(_ domain: SigningDomain, _ body: [UInt8], _ signature: Signature, signer: Int) -> Bool {
        guard signer >= 0, signer < secrets.count else { return false }
        return Self.signature(secret: secrets[signer], domain, body) == signature
    }
}
