/// What a transaction does; the payload's format depends on it (the Ledger and VM define
/// each payload). Unknown kinds are refused at decoding.
public enum TransactionKind: UInt8, Sendable, CaseIterable {
    case transfer = 1
    case mint = 2
    case burn = 3
    case registerParticipant = 4
    case changeRole = 5
    case deployContract = 6
    case callContract = 7
    /// Governance: rotate a validator's or observer's TLS pin (docs/PROTOCOL.md §16).
    case setNodePin = 8

    public var name: String {
        switch self {
        case .transfer: "transfer"
        case .mint: "mint"
        case .burn: "burn"
        case .registerParticipant: "register_participant"
        case .changeRole: "change_role"
        case .deployContract: "deploy_contract"
        case .callContract: "call_contract"
        case .setNodePin: "set_node_pin"
        }
    }

    public init?(name: String) {
        guard let kind = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = kind
    }
}

/// The fields a sender signs: everything in a transaction but the signature.
public struct TransactionBody: Hashable, Sendable, CanonicalCodable {
    /// 2: the body names the chain's genesis hash besides its id (hardening finding 4).
    public static let version: UInt8 = 2

    /// The chain id and genesis hash the transaction is for; both are signed.
    public var chain: ChainBinding
    /// The sender's public key; the sender's account is `sender.address`.
    public var sender: PublicKey
    /// The sender's sequence number: the first transaction of an account has nonce 0.
    public var nonce: UInt64
    public var kind: TransactionKind
    /// Kind-specific bytes, at most `Limits.maxPayloadBytes`.
    public var payload: [UInt8]
    /// The most gas the sender will pay for; execution stops there.
    public var gasLimit: UInt64

    public init(chain: ChainBinding, sender: PublicKey, nonce: UInt64, kind: TransactionKind,
                payload: [UInt8], gasLimit: UInt64) {
        precondition(payload.count <= Limits.maxPayloadBytes, "payload above Limits.maxPayloadBytes")
        self.chain = chain; self.sender = sender; self.nonce = nonce
        self.kind = kind; self.payload = payload; self.gasLimit = gasLimit
    }

    public func encode(to w: inout CanonicalWriter) {
        w.header(.transaction, version: Self.version)
        w.string(chain.id.value)
        w.hash(chain.genesisHash)
        w.publicKey(sender)
        w.uvarint(nonce)
        w.byte(kind.rawValue)
        w.lengthPrefixed(payload)
        w.uvarint(gasLimit)
    }

    public init(from r: inout CanonicalReader) throws(DecodeError) {
        _ = try r.header(.transaction, versions: Self.version...Self.version)
        let id = try r.chainID("chain")
        chain = ChainBinding(id: id, genesisHash: try r.hash("genesis_hash"))
        sender = try r.publicKey("sender")
        nonce = try r.uvarint("nonce")
        let kindStart = r.offset
        let tag = try r.byte("kind")
        guard let kind = TransactionKind(rawValue: tag) else { throw r.error("kind", .unknownTag(UInt64(tag)), at: kindStart) }
        self.kind = kind
        payload = try r.lengthPrefixed("payload", limit: Limits.maxPayloadBytes)
        gasLimit = try r.uvarint("gas_limit")
    }

    /// Signs the body for its chain and genesis (domain `transaction`).
    public func signed(with key: PrivateKey) -> Transaction {
        precondition(key.publicKey == sender, "signing key does not match the transaction's sender")
        return Transaction(body: self, signature: SigningDomain.transaction.sign(canonicalBytes, chain: chain, with: key))
    }
}

/// A signed transaction: the body's canonical bytes followed by a 64-byte signature.
///
/// `hash` (the transaction id) is SHA-256 of the whole encoding, signature included.
/// Decoding checks the form, not the signature: call `verifySignature()` for that.
public struct Transaction: Hashable, Sendable, CanonicalCodable {
    /// One immutable copy of everything, shared by every copy of the value: passing a
    /// transaction around (blocks, the mempool, gossip, sorting) costs one reference count,
    /// not one per field.
    private final class Storage: Sendable {
        let body: TransactionBody
        let signature: Signature
        let encoded: [UInt8]
        let hash: Hash
        let sender: Address

        init(body: TransactionBody, signature: Signature, encoded: [UInt8]) {
            self.body = body
            self.signature = signature
            self.encoded = encoded
            self.hash = SHA256.hash(encoded)
            self.sender = body.sender.address
        }
    }

    private let storage: Storage

    public var body: TransactionBody { storage.body }
    public var signature: Signature { storage.signature }
    /// The canonical encoding, made once: blocks, gossip, storage and the hash reuse it (a
    /// transaction is encoded or decoded once per node, however many times it is handled).
    public var encoded: [UInt8] { storage.encoded }
    /// SHA-256 of `encoded`: the transaction's id.
    public var hash: Hash { storage.hash }
    /// The sender's account address (derived once from `body.sender`).
    public var sender: Address { storage.sender }

    public init(body: TransactionBody, signature: Signature) {
        var w = CanonicalWriter()
        body.encode(to: &w)
        w.signature(signature)
        storage = Storage(body: body, signature: signature, encoded: w.bytes)
    }

    public func encode(to w: inout CanonicalWriter) { w.fixed(encoded) }

    /// The decoder is strict, so the bytes it read are the canonical encoding itself.
    public init(from r: inout CanonicalReader) throws(DecodeError) {
        let start = r.offset
        let body = try TransactionBody(from: &r)
        let signature = try r.signature("signature")
        storage = Storage(body: body, signature: signature, encoded: Array(r.bytes[start..<r.offset]))
    }

    /// The same transaction: the same canonical bytes (the hash is compared first).
    public static func == (a: Transaction, b: Transaction) -> Bool {
        a.storage === b.storage || (a.hash == b.hash && a.encoded == b.encoded)
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(hash) }

    /// Whether the sender's key signed this body for the chain and genesis it names.
    public func verifySignature() -> Bool {
        SigningDomain.transaction.verify(signature, over: body.canonicalBytes, chain: body.chain, by: body.sender)
    }
}
