import ChainTypes

/// Moves `amount` of `currency` from the sender to `to`.
public struct TransferPayload: Hashable, Sendable, CanonicalCodable {
    public var to: Address
    public var currency: CurrencyCode
    public var amount: UInt64

    public init(to: Address, currency: CurrencyCode, amount: UInt64) {
        self.to = to; self.currency = currency; self.amount = amount
    }

    public func encode(to w: inout CanonicalWriter) {
        w.byte(1)
        w.address(to)
        w.currency(currency)
        w.uvarint(amount)
    }

    public init(from r: inout CanonicalReader) throws(DecodeError) {
        try r.version(1)
        to = try r.address("to")
        currency = try r.currency("currency")
        amount = try r.uvarint("amount")
    }
}

/// A bank creates (mint) or destroys (burn) tokenized deposits of `account`, which must be
/// the bank itself or one of its customers; the bank must be an issuer of the currency.
public struct DepositPayload: Hashable, Sendable, CanonicalCodable {
    public var account: Address
    public var currency: CurrencyCode
    public var amount: UInt64

    public init(account: Address, currency: CurrencyCode, amount: UInt64) {
        self.account = account; self.currency = currency; self.amount = amount
    }

    public func encode(to w: inout CanonicalWriter) {
        w.byte(1)
        w.address(account)
        w.currency(currency)
        w.uvarint(amount)
    }

    public init(from r: inout CanonicalReader) throws(DecodeError) {
        try r.version(1)
        account = try r.address("account")
        currency = try r.currency("currency")
        amount = try r.uvarint("amount")
    }
}

/// A validator bank's approval of a governance proposal: its signature in the `governance`
/// domain over the proposal's canonical bytes.
public typealias Approval = ValidatorSignature

/// What governance changes: register a participant, change an account's role, or rotate a
/// node's TLS pin.
public enum GovernanceAction: Hashable, Sendable, CanonicalCodable {
    case register(name: String, publicKey: PublicKey, role: Role, bank: Address?)
    case changeRole(account: Address, role: Role)
    /// Pins `spki` (SHA-256 of a DER SubjectPublicKeyInfo) as the TLS key of `node`: a
    /// validator's public key or an observer's node key in genesis. Peers follow the new pin
    /// without a restart (docs/TRANSPORT.md "Pin rotation").
    case setNodePin(node: PublicKey, spki: Hash)

    public func encode(to w: inout CanonicalWriter) {
        switch self {
        case .register(let name, let key, let role, let bank):
            w.byte(1)
            w.string(name)
            w.publicKey(key)
            w.role(role)
            w.optional(bank) { $0.address($1) }
        case .changeRole(let account, let role):
            w.byte(2)
            w.address(account)
            w.role(role)
        case .setNodePin(let node, let spki):
            w.byte(3)
            w.publicKey(node)
            w.hash(spki)
        }
    }

    /// The transaction kind that carries this action (the executor refuses any other).
    public var transactionKind: TransactionKind {
        switch self {
        case .register: .registerParticipant
        case .changeRole: .changeRole
        case .setNodePin: .setNodePin
        }
    }

    public init(from r: inout CanonicalReader) throws(DecodeError) {
        let start = r.offset
        switch try r.byte("action") {
        case 1:
            let name = try r.string("name", limit: Limits.maxNameBytes)
            let key = try r.publicKey("public_key")
            let role = try r.role("role")
            let bank = try r.optional("bank") { (r: inout CanonicalReader) throws(DecodeError) in try r.address("bank") }
            self = .register(name: name, publicKey: key, role: role, bank: bank)
        case 2:
            self = .changeRole(account: try r.address("account"), role: try r.role("role"))
        case 3:
            self = .setNodePin(node: try r.publicKey("node"), spki: try r.hash("spki"))
        case let t:
            throw r.error("action", .unknownTag(UInt64(t)), at: start)
        }
    }
}

/// What validators approve: one action, bound to its turn in the chain's sequence of
/// governance decisions and to a deadline, so that a set of approvals decides once.
///
/// Invariant: the ledger executes a proposal only when `sequence` equals the chain's
/// governance sequence (`StateKey.governanceSequence`), which each executed proposal
/// advances by one, and only in a block whose time is at most `expiresAtMillis`. An old
/// approval set — even one for the very same action — is therefore refused once any later
/// decision was made (hardening finding 3).
public struct GovernanceProposal: Hashable, Sendable, CanonicalCodable {
    public static let version: UInt8 = 1
    public var sequence: UInt64
    public var expiresAtMillis: UInt64
    public var action: GovernanceAction

    public init(sequence: UInt64, expiresAtMillis: UInt64, action: GovernanceAction) {
        self.sequence = sequence; self.expiresAtMillis = expiresAtMillis; self.action = action
    }

    public func encode(to w: inout CanonicalWriter) {
        w.byte(Self.version)
        w.uvarint(sequence)
        w.uvarint(expiresAtMillis)
        w.value(action)
    }

    public init(from r: inout CanonicalReader) throws(DecodeError) {
        try r.version(Self.version)
        sequence = try r.uvarint("sequence")
        expiresAtMillis = try r.uvarint("expires_at_ms")
        action = try r.value("action")
    }

    /// Signs this proposal as validator `index` (governance domain, chain-bound).
    public func approve(as index: UInt16, key: PrivateKey, chain: ChainBinding) -> Approval {
        Approval(validatorIndex: index, signature: SigningDomain.governance.sign(canonicalBytes, chain: chain, with: key))
    }
}

/// A governance transaction's payload: the proposal and the validators' approvals of it.
public struct GovernancePayload: Hashable, Sendable, CanonicalCodable {
    /// 2: approvals sign a `GovernanceProposal` (sequence, expiry, action), not the bare action.
    public static let version: UInt8 = 2
    public var proposal: GovernanceProposal
    /// Strictly ascending by validator index.
    public var approvals: [Approval]

    public init(proposal: GovernanceProposal, approvals: [Approval]) {
        self.proposal = proposal
        self.approvals = approvals.sorted { $0.validatorIndex < $1.validatorIndex }
    }

    public var action: GovernanceAction { proposal.action }

    public func encode(to w: inout CanonicalWriter) {
        w.byte(Self.version)
        w.value(proposal)
        w.list(approvals)
    }

    public init(from r: inout CanonicalReader) throws(DecodeError) {
        try r.version(Self.version)
        proposal = try r.value("proposal")
        approvals = try r.sortedList("approvals", limit: Limits.maxValidators) { (a: Approval) in a.validatorIndex }
    }
}

/// Deploys contract code; the VM's verifier checks it.
public struct DeployPayload: Hashable, Sendable, CanonicalCodable {
    public static let maxCodeBytes = 96 * 1024
    public var code: [UInt8]
    public var constructorInput: [UInt8]

    public init(code: [UInt8], constructorInput: [UInt8]) {
        self.code = code
        self.constructorInput = constructorInput
    }

    public func encode(to w: inout CanonicalWriter) {
        w.byte(1)
        w.lengthPrefixed(code)
        w.lengthPrefixed(constructorInput)
    }

    public init(from r: inout CanonicalReader) throws(DecodeError) {
        try r.version(1)
        code = try r.lengthPrefixed("code", limit: Self.maxCodeBytes)
        constructorInput = try r.lengthPrefixed("constructor_input", limit: Limits.maxPayloadBytes)
    }
}

/// Calls a contract with `input` (function selector and arguments, per the contract's ABI),
/// optionally moving `value` from the sender into the contract first (escrow); a failed call
/// moves it back.
public struct CallPayload: Hashable, Sendable, CanonicalCodable {
    public var contract: Address
    public var input: [UInt8]
    public var value: Amount?

    public init(contract: Address, input: [UInt8], value: Amount? = nil) {
        self.contract = contract
        self.input = input
        self.value = value
    }

    public func encode(to w: inout CanonicalWriter) {
        w.byte(1)
        w.address(contract)
        w.lengthPrefixed(input)
        w.optional(value) { w, v in w.currency(v.currency); w.uvarint(v.minorUnits) }
    }

    public init(from r: inout CanonicalReader) throws(DecodeError) {
        try r.version(1)
        contract = try r.address("contract")
        input = try r.lengthPrefixed("input", limit: Limits.maxPayloadBytes)
        value = try r.optional("value") { (r: inout CanonicalReader) throws(DecodeError) -> Amount in
            let c = try r.currency("value.currency")
            return Amount(try r.uvarint("value.amount"), c)
        }
    }
}
