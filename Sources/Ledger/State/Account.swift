import ChainTypes

/// The state of one account: a registered participant (key, role, deposit bank) or a
/// contract (code hash), with its sequence number and a balance per currency.
///
/// Invariant: balances hold no zero entries, so equal states have equal bytes.
public struct Account: Hashable, Sendable, CanonicalCodable {
    public static let version: UInt8 = 1

    public var publicKey: PublicKey?
    public var role: Role?
    public var bank: Address?
    public var nonce: UInt64
    public var balances: [CurrencyCode: UInt64]
    /// SHA-256 of the code, for contract accounts.
    public var codeHash: Hash?

    public init(publicKey: PublicKey?, role: Role?, bank: Address?, nonce: UInt64 = 0,
                balances: [CurrencyCode: UInt64] = [:], codeHash: Hash? = nil) {
        self.publicKey = publicKey; self.role = role; self.bank = bank; self.nonce = nonce
        self.balances = balances.filter { $0.value > 0 }; self.codeHash = codeHash
    }

    public func balance(_ c: CurrencyCode) -> UInt64 { balances[c] ?? 0 }

    public mutating func setBalance(_ c: CurrencyCode, _ amount: UInt64) {
        balances[c] = amount == 0 ? nil : amount
    }

    public func encode(to w: inout CanonicalWriter) {
        w.byte(Self.version)
        w.optional(publicKey) { $0.publicKey($1) }
        w.optional(role) { $0.role($1) }
        w.optional(bank) { $0.address($1) }
        w.uvarint(nonce)
        // No zero entries are held (the invariant), so every entry is written, in code order.
        w.uvarint(balances.count)
        if balances.count == 1, let (c, v) = balances.first {
            w.currency(c); w.uvarint(v)
        } else {
            for (c, v) in balances.sorted(by: { $0.key < $1.key }) { w.currency(c); w.uvarint(v) }
        }
        w.optional(codeHash) { $0.hash($1) }
    }

    public init(from r: inout CanonicalReader) throws(DecodeError) {
        try r.version(Self.version)
        publicKey = try r.optional("public_key") { (r: inout CanonicalReader) throws(DecodeError) in try r.publicKey("public_key") }
        role = try r.optional("role") { (r: inout CanonicalReader) throws(DecodeError) in try r.role("role") }
        bank = try r.optional("bank") { (r: inout CanonicalReader) throws(DecodeError) in try r.address("bank") }
        nonce = try r.uvarint("nonce")
        let n = try r.count("balances", limit: Limits.maxCurrencies)
        var balances: [CurrencyCode: UInt64] = [:]
        var last: CurrencyCode?
        for i in 0..<n {
            let at = r.offset
            let c = try r.currency("balances[\(i)].currency")
            if let l = last, !(l < c) { throw r.error("balances[\(i)]", .notStrictlyAscending, at: at) }
            last = c
            let amount = try r.uvarint("balances[\(i)].amount")
            guard amount > 0 else { throw r.error("balances[\(i)].amount", .invalidValue("zero balances are not stored"), at: at) }
            balances[c] = amount
        }
        self.balances = balances
        codeHash = try r.optional("code_hash") { (r: inout CanonicalReader) throws(DecodeError) in try r.hash("code_hash") }
    }
}

/// Keys of the state: each is hashed (SHA-256) into the sparse Merkle tree's key space.
public enum StateKey {
    /// An account: "acct" ‖ address.
    public static func account(_ a: Address) -> [UInt8] {
        var key: [UInt8] = [0x61, 0x63, 0x63, 0x74]  // "acct"
        key.reserveCapacity(4 + Address.byteCount)
        key.append(contentsOf: a.bytes)
        return key
    }
    /// Contract code, by its SHA-256: contracts deployed with the same code share one copy.
    public static func code(_ codeHash: Hash) -> [UInt8] { Array("code".utf8) + codeHash.bytes }
    /// A contract storage slot: "slot" ‖ address ‖ slot key.
    public static func slot(_ a: Address, _ key: [UInt8]) -> [UInt8] { Array("slot".utf8) + a.bytes + key }
    /// The sequence number the next governance proposal must carry: "govn", 8 bytes
    /// big-endian (absent = 0).
    public static let governanceSequence = Array("govn".utf8)
    /// A node's TLS pin set by governance (`GovernanceAction.setNodePin`): "npin" ‖ address of
    /// its key (validator key or observer node key) → the 32-byte SPKI hash. Only overrides
    /// are stored: absent means the genesis pin holds, so the genesis state has none.
    public static func nodePin(_ node: Address) -> [UInt8] { Array("npin".utf8) + node.bytes }

    public static func hash(_ key: [UInt8]) -> Hash { SHA256.hash(key) }
}
