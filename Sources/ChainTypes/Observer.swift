/// What a non-voting node is for. Observers follow committed blocks with their certificates,
/// serve reads and forward transactions; they never vote, and no validator waits for one.
public enum ObserverRole: UInt8, Sendable, CaseIterable, Comparable {
    /// An auditor's node: verifies the chain independently.
    case auditor = 1
    /// A regulator's node: reads the chain under its supervision.
    case regulator = 2
    /// A bank's read replica: serves the bank's reads so its validator does not have to.
    case replica = 3

    /// The name in templates, genesis files and the CLI.
    public var name: String {
        switch self {
        case .auditor: "auditor"
        case .regulator: "regulator"
        case .replica: "replica"
        }
    }

    public init?(name: String) {
        guard let role = ObserverRole.allCases.first(where: { $0.name == name }) else { return nil }
        self = role
    }

    public static func < (a: ObserverRole, b: ObserverRole) -> Bool { a.rawValue < b.rawValue }
}

/// A non-voting node registered at genesis, so that validators accept its TLS connection and
/// its signed application handshake (docs/TRANSPORT.md) and send it committed blocks.
///
/// Invariant (checked by `Genesis.validate`): `bank` is present exactly when `role` is
/// `.replica`, and then names a participant with a bank role.
public struct Observer: Hashable, Sendable, CanonicalCodable {
    /// A label for logs, templates and the CLI, unique among all parties of the genesis.
    public var name: String
    /// The secp256k1 key the node signs its application handshake with; never a validator's.
    public var nodeKey: PublicKey
    public var role: ObserverRole
    /// For a replica, the bank whose replica it is; none otherwise.
    public var bank: Address?
    /// SHA-256 of the DER SubjectPublicKeyInfo of its TLS certificate (as for
    /// `Validator.tlsSPKISHA256`). Required: an observer exists only to connect.
    public var tlsSPKISHA256: Hash

    public init(name: String, nodeKey: PublicKey, role: ObserverRole, bank: Address?, tlsSPKISHA256: Hash) {
        self.name = name; self.nodeKey = nodeKey; self.role = role; self.bank = bank
        self.tlsSPKISHA256 = tlsSPKISHA256
    }

    /// The address of its node key: the key the genesis set is sorted by.
    public var address: Address { nodeKey.address }

    public func encode(to w: inout CanonicalWriter) {
        w.string(name)
        w.publicKey(nodeKey)
        w.byte(role.rawValue)
        w.optional(bank) { $0.address($1) }
        w.hash(tlsSPKISHA256)
    }

    public init(from r: inout CanonicalReader) throws(DecodeError) {
        name = try r.string("name", limit: Limits.maxNameBytes)
        nodeKey = try r.publicKey("node_key")
        let start = r.offset
        let tag = try r.byte("role")
        guard let role = ObserverRole(rawValue: tag) else { throw r.error("role", .unknownTag(UInt64(tag)), at: start) }
        self.role = role
        bank = try r.optional("bank") { (r: inout CanonicalReader) throws(DecodeError) in try r.address("bank") }
        tlsSPKISHA256 = try r.hash("tls_spki_sha256")
    }
}
