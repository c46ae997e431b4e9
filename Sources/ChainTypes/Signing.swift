/// What a signature is for. The tag is part of the signed bytes, so a signature made for one
/// kind of message never verifies as another kind (a vote can never pass as a transaction).
///
/// Invariant: tags are distinct and never reused for another meaning.
public enum SigningDomain: String, Sendable, CaseIterable {
    case transaction = "transaction"
    case prePrepare = "pbft/pre-prepare"
    case prepare = "pbft/prepare"
    case commit = "pbft/commit"
    case viewChange = "pbft/view-change"
    case newView = "pbft/new-view"
    case checkpoint = "pbft/checkpoint"
    case governance = "governance"

    /// The digest that is signed: SHA-256 over
    /// `string("hansa/sign/v1") ‖ string(tag) ‖ string(chainID) ‖ body`,
    /// where `string` is a LEB128 length followed by UTF-8 (docs/PROTOCOL.md §4).
    public func digest(chain: ChainID, body: [UInt8]) -> Hash {
        var w = CanonicalWriter(capacity: body.count + 64)
        w.string("hansa/sign/v1")
        w.string(rawValue)
        w.string(chain.value)
        w.fixed(body)
        return SHA256.hash(w.bytes)
    }

    public func sign(_ body: [UInt8], chain: ChainID, with key: PrivateKey) -> Signature {
        key.sign(digest: digest(chain: chain, body: body))
    }

    public func verify(_ signature: Signature, over body: [UInt8], chain: ChainID, by key: PublicKey) -> Bool {
        key.verify(signature, digest: digest(chain: chain, body: body))
    }
}
