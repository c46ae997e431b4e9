import ChainTypes

/// Signs this replica's consensus messages and checks other validators' signatures.
/// The node uses `Secp256k1ConsensusCrypto`; the simulator may use a cheap deterministic
/// stand-in for most seeds. Either way, a signature not made by the named validator's
/// key must fail `verify`.
public protocol ConsensusCrypto: Sendable {
    /// Signs `body` in `domain` as this replica.
    func sign(_ domain: SigningDomain, _ body: [UInt8]) -> Signature
    /// Whether validator `signer` signed `body` in `domain`.
    func verify(_ domain: SigningDomain, _ body: [UInt8], _ signature: Signature, signer: Int) -> Bool
}

/// Real signatures: secp256k1 ECDSA, domain-separated and bound to the chain's id and
/// genesis hash (docs/PROTOCOL.md §4).
public struct Secp256k1ConsensusCrypto: ConsensusCrypto {
    public let chain: ChainBinding
    public let validators: ValidatorSet
    let key: PrivateKey?

    /// `key` is nil for a replica that only verifies (an observer).
    public init(chain: ChainBinding, validators: ValidatorSet, key: PrivateKey?) {
        self.chain = chain
        self.validators = validators
        self.key = key
    }

    public func sign(_ domain: SigningDomain, _ body: [UInt8]) -> Signature {
        guard let key else { preconditionFailure("an observer has no key and never signs") }
        return domain.sign(body, chain: chain, with: key)
    }

    public func verify(_ domain: SigningDomain, _ body: [UInt8], _ signature: Signature, signer: Int) -> Bool {
        guard signer >= 0, signer < validators.count else { return false }
        return domain.verify(signature, over: body, chain: chain, by: validators.validators[signer].publicKey)
    }
}
