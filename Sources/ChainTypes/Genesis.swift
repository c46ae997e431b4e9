/// A participant registered at genesis: a key with a role.
public struct Participant: Hashable, Sendable, CanonicalCodable {
    public var name: String
    public var publicKey: PublicKey
    public var role: Role
    /// The bank that holds this participant's deposits (none for banks themselves).
    public var bank: Address?

    public init(name: String, publicKey: PublicKey, role: Role, bank: Address?) {
        self.name = name; self.publicKey = publicKey; self.role = role; self.bank = bank
    }

    public var address: Address { publicKey.address }

    public func encode(to w: inout CanonicalWriter) {
        w.string(name)
        w.publicKey(publicKey)
        w.role(role)
        w.optional(bank) { $0.address($1) }
    }

    public init(from r: inout CanonicalReader) throws(DecodeError) {
        name = try r.string("name", limit: Limits.maxNameBytes)
        publicKey = try r.publicKey("public_key")
        role = try r.role("role")
        bank = try r.optional("bank") { (r: inout CanonicalReader) throws(DecodeError) in try r.address("bank") }
    }
}

/// A currency the chain carries as tokenized deposits, and the banks allowed to mint it.
public struct Currency: Hashable, Sendable, CanonicalCodable {
    public var code: CurrencyCode
    /// ISO 4217 minor-unit exponent: 2 for USD and EUR, 0 for JPY, 3 for BHD.
    public var decimals: UInt8
    /// Banks that may mint and burn this currency for their own customers; strictly ascending.
    public var issuers: [Address]

    public init(code: CurrencyCode, decimals: UInt8, issuers: [Address]) {
        self.code = code; self.decimals = decimals; self.issuers = issuers.sorted()
    }

    public func encode(to w: inout CanonicalWriter) {
        w.currency(code)
        w.byte(decimals)
        w.uvarint(issuers.count)
        for a in issuers { w.address(a) }
    }

    public init(from r: inout CanonicalReader) throws(DecodeError) {
        code = try r.currency("code")
        let start = r.offset
        decimals = try r.byte("decimals")
        guard decimals <= Amount.maxDecimals else {
            throw r.error("decimals", .integerOverflow(maximum: UInt64(Amount.maxDecimals)), at: start)
        }
        let n = try r.count("issuers", limit: Limits.maxValidators)
        var issuers: [Address] = []
        for i in 0..<n {
            let at = r.offset
            let a = try r.address("issuers[\(i)]")
            if let last = issuers.last, !(last < a) { throw r.error("issuers[\(i)]", .notStrictlyAscending, at: at) }
            issuers.append(a)
        }
        self.issuers = issuers
    }
}

/// An opening balance: `amount` minor units of `currency` in `account`.
public struct Deposit: Hashable, Sendable, CanonicalCodable {
    public var account: Address
    public var currency: CurrencyCode
    public var amount: UInt64

    public init(account: Address, currency: CurrencyCode, amount: UInt64) {
        self.account = account; self.currency = currency; self.amount = amount
    }

    /// Deposits are a set ordered by (account, currency).
    public struct Key: Comparable {
        let account: Address, currency: CurrencyCode
        public static func < (a: Key, b: Key) -> Bool { (a.account, a.currency) < (b.account, b.currency) }
    }
    public var key: Key { Key(account: account, currency: currency) }

    public func encode(to w: inout CanonicalWriter) {
        w.address(account)
        w.currency(currency)
        w.uvarint(amount)
    }

    public init(from r: inout CanonicalReader) throws(DecodeError) {
        account = try r.address("account")
        currency = try r.currency("currency")
        amount = try r.uvarint("amount")
    }
}

/// Consensus and block limits every validator applies.
public struct ConsensusParameters: Hashable, Sendable, CanonicalCodable {
    /// Length of one logical tick; PBFT counts its timeouts in ticks.
    public var tickMillis: UInt64
    /// Ticks a replica waits for a pending request to commit before it starts a view change.
    public var requestTimeoutTicks: UInt64
    /// Ceiling for the view-change timeout, which doubles per failed view up to this cap.
    public var maxViewChangeTimeoutTicks: UInt64
    /// Heights between checkpoints (Castro & Liskov 1999, §4.3).
    public var checkpointInterval: UInt64
    /// Log window above the low watermark: H = h + watermarkWindow.
    public var watermarkWindow: UInt64
    public var maxBlockTransactions: UInt64
    public var maxBlockBytes: UInt64
    /// Most two honest validators' clocks may differ: a block's timestamp may run this far
    /// ahead of a replica's clock, and (with the request timeout) lag it by
    /// `maxProposalLagMillis`.
    public var maxClockDriftMillis: UInt64
    /// The work one block may hold: the sum of its transactions' gas limits plus the budgets
    /// of the scheduled calls it runs (docs/PROTOCOL.md §16 "Block limits").
    public var maxBlockGas: UInt64
    /// The state one block may write: the bytes of every state and index value it stores,
    /// plus 32 per write (a transaction that would pass it fails and changes nothing).
    public var maxBlockStateBytes: UInt64

    /// Sized so that a full block executes within half the 2 s request timeout on a 2-core
    /// machine (docs/BENCHMARKS.md "Block limits").
    public static let standardMaxBlockGas: UInt64 = 100_000_000
    public static let standardMaxBlockStateBytes: UInt64 = 8 * 1024 * 1024

    public static let standard = ConsensusParameters(
        tickMillis: 100, requestTimeoutTicks: 20, maxViewChangeTimeoutTicks: 160,
        checkpointInterval: 64, watermarkWindow: 256, maxBlockTransactions: 2_000,
        maxBlockBytes: 4 * 1024 * 1024, maxClockDriftMillis: 2_000)

    public init(tickMillis: UInt64, requestTimeoutTicks: UInt64, maxViewChangeTimeoutTicks: UInt64,
                checkpointInterval: UInt64, watermarkWindow: UInt64, maxBlockTransactions: UInt64,
                maxBlockBytes: UInt64, maxClockDriftMillis: UInt64,
                maxBlockGas: UInt64 = standardMaxBlockGas, maxBlockStateBytes: UInt64 = standardMaxBlockStateBytes) {
        self.tickMillis = tickMillis; self.requestTimeoutTicks = requestTimeoutTicks
        self.maxViewChangeTimeoutTicks = maxViewChangeTimeoutTicks; self.checkpointInterval = checkpointInterval
        self.watermarkWindow = watermarkWindow; self.maxBlockTransactions = maxBlockTransactions
        self.maxBlockBytes = maxBlockBytes; self.maxClockDriftMillis = maxClockDriftMillis
        self.maxBlockGas = maxBlockGas; self.maxBlockStateBytes = maxBlockStateBytes
    }

    /// Most a new proposal's timestamp may lag a replica's clock (docs/PROTOCOL.md §12,
    /// "Block time"): `maxClockDriftMillis` plus the request timeout,
    /// `requestTimeoutTicks` × `tickMillis`. An honest primary stamps its block with its own
    /// clock (or just after the parent's, which is later still). A backup's clock runs at
    /// most the drift ahead of the primary's, and the pre-prepare may spend time in the
    /// network, in retransmissions and in the backup's buffer before the backup judges it;
    /// the request timeout is how long the protocol already lets a proposal take before it
    /// gives up on the primary, so it is the allowance for that delay. With the standard
    /// parameters the window around a replica's clock is 4 s behind to 2 s ahead.
    /// Saturates rather than overflows (parameters a genesis accepts stay far below).
    public var maxProposalLagMillis: UInt64 {
        let (timeout, overflowed) = requestTimeoutTicks.multipliedReportingOverflow(by: tickMillis)
        let (lag, overflowedAgain) = maxClockDriftMillis.addingReportingOverflow(timeout)
        return overflowed || overflowedAgain ? .max : lag
    }

    public func encode(to w: inout CanonicalWriter) {
        for v in [tickMillis, requestTimeoutTicks, maxViewChangeTimeoutTicks, checkpointInterval,
                  watermarkWindow, maxBlockTransactions, maxBlockBytes, maxClockDriftMillis,
                  maxBlockGas, maxBlockStateBytes] { w.uvarint(v) }
    }

    public init(from r: inout CanonicalReader) throws(DecodeError) {
        tickMillis = try r.uvarint("tick_ms")
        requestTimeoutTicks = try r.uvarint("request_timeout_ticks")
        maxViewChangeTimeoutTicks = try r.uvarint("max_view_change_timeout_ticks")
        checkpointInterval = try r.uvarint("checkpoint_interval")
        watermarkWindow = try r.uvarint("watermark_window")
        maxBlockTransactions = try r.uvarint("max_block_transactions")
        maxBlockBytes = try r.uvarint("max_block_bytes")
        maxClockDriftMillis = try r.uvarint("max_clock_drift_ms")
        maxBlockGas = try r.uvarint("max_block_gas")
        maxBlockStateBytes = try r.uvarint("max_block_state_bytes")
    }
}

/// Everything a chain starts from. Its hash — SHA-256 of the canonical encoding — names the
/// chain: a node refuses a data directory made from another genesis.
///
/// Sets (validators, participants, observers, currencies, deposits) are stored in strictly
/// ascending order of their keys, so the same content always has the same bytes and hash.
public struct Genesis: Hashable, Sendable, CanonicalCodable {
    /// 3: validators pin their TLS key (`tls_spki_sha256`, the SPKI hash, in place of v2's
    /// certificate hash) and the `observers` set follows `participants`. 2 added
    /// max_block_gas and max_block_state_bytes to the consensus parameters.
    /// Decoding accepts version 3 only: an older genesis is rebuilt from its template.
    public static let version: UInt8 = 3

    public var chain: ChainID
    public var genesisTimeMillis: UInt64
    public var validators: ValidatorSet
    // The sets stay sorted however they are changed (a dev chain appends parties): the
    // encoding, and so the hash, must be the canonical one a decoder accepts.
    public var participants: [Participant] { didSet { participants.sort { $0.address < $1.address } } }
    /// Non-voting nodes (auditors, regulators, banks' read replicas), by node-key address.
    public var observers: [Observer] { didSet { observers.sort { $0.address < $1.address } } }
    public var currencies: [Currency] { didSet { currencies.sort { $0.code < $1.code } } }
    public var deposits: [Deposit] { didSet { deposits.sort { $0.key < $1.key } } }
    public var consensus: ConsensusParameters
    /// Validator signatures a governance transaction needs (register a participant, change a role).
    public var governanceThreshold: UInt64

    public init(chain: ChainID, genesisTimeMillis: UInt64, validators: ValidatorSet, participants: [Participant],
                observers: [Observer] = [], currencies: [Currency], deposits: [Deposit], consensus: ConsensusParameters,
                governanceThreshold: UInt64) {
        self.chain = chain; self.genesisTimeMillis = genesisTimeMillis; self.validators = validators
        self.participants = participants.sorted { $0.address < $1.address }
        self.observers = observers.sorted { $0.address < $1.address }
        self.currencies = currencies.sorted { $0.code < $1.code }
        self.deposits = deposits.sorted { $0.key < $1.key }
        self.consensus = consensus; self.governanceThreshold = governanceThreshold
    }

    public var hash: Hash { SHA256.hash(canonicalBytes) }

    public func encode(to w: inout CanonicalWriter) {
        w.header(.genesis, version: Self.version)
        w.string(chain.value)
        w.uvarint(genesisTimeMillis)
        w.list(validators.validators)
        w.list(participants)
        w.list(observers)
        w.list(currencies)
        w.list(deposits)
        w.value(consensus)
        w.uvarint(governanceThreshold)
    }

    public init(from r: inout CanonicalReader) throws(DecodeError) {
        _ = try r.header(.genesis, versions: Self.version...Self.version)
        chain = try r.chainID("chain")
        genesisTimeMillis = try r.uvarint("genesis_time_ms")
        let validatorsStart = r.offset
        let validators = try r.sortedList("validators", limit: Limits.maxValidators) { (v: Validator) in v.address }
        do { self.validators = try ValidatorSet(validators) } catch {
            throw r.error("validators", .invalidValue(error.message), at: validatorsStart)
        }
        participants = try r.sortedList("participants", limit: Limits.maxGenesisParticipants) { (p: Participant) in p.address }
        observers = try r.sortedList("observers", limit: Limits.maxObservers) { (o: Observer) in o.address }
        currencies = try r.sortedList("currencies", limit: Limits.maxCurrencies) { (c: Currency) in c.code }
        deposits = try r.sortedList("deposits", limit: Limits.maxGenesisDeposits) { (d: Deposit) in d.key }
        consensus = try r.value("consensus")
        governanceThreshold = try r.uvarint("governance_threshold")
    }
}
