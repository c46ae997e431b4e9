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
    /// A client's signed read request to a node's RPC (docs/RPC.md "Signed reads"); never
    /// accepted by consensus.
    case rpcRead = "rpc/read"

    /// The digest that is signed: SHA-256 over
    /// `string("hansa/sign/v2") ‖ string(tag) ‖ string(chain id) ‖ genesis hash ‖ body`,
    /// where `string` is a LEB128 length followed by UTF-8 (docs/PROTOCOL.md §4). The genesis
    /// hash binds every signature to one launch of one chain: a relaunch or a copy with the
    /// same chain id (and nonces starting again at 0) accepts none of the old signatures.
    public func digest(chain: ChainBinding, body: [UInt8]) -> Hash {
        var w = CanonicalWriter(capacity: body.count + 96)
        w.string("hansa/sign/v2")
        w.string(rawValue)
        w.string(chain.id.value)
        w.hash(chain.genesisHash)
        w.fixed(body)
        return SHA256.hash(w.bytes)
    }

    public func sign(_ body: [UInt8], chain: ChainBinding, with key: PrivateKey) -> Signature {
        key.sign(digest: digest(chain: chain, body: body))
    }

    public func verify(_ signature: Signature, over body: [UInt8], chain: ChainBinding, by key: PublicKey) -> Bool {
        key.verify(signature, digest: digest(chain: chain, body: body))
    }
}

/// What every signature is bound to: the chain's id (readable, in the genesis) and the hash of
/// its genesis (which no two launches share). Signed bytes carry both (PROTOCOL.md §4).
public struct ChainBinding: Hashable, Sendable, CustomStringConvertible {
    public let id: ChainID
    public let genesisHash: Hash

    public init(id: ChainID, genesisHash: Hash) {
        self.id = id
        self.genesisHash = genesisHash
    }

    public var description: String { "\(id.value) (genesis \(genesisHash.hex.prefix(16))…)" }
}

extension Genesis {
    /// This chain's binding. Computing it hashes the whole genesis: keep it (`ChainRules` does).
    public var binding: ChainBinding { ChainBinding(id: chain, genesisHash: hash) }
}
