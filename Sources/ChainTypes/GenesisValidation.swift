/// A rule of genesis that a value breaks; `field` names where, in the template's terms when
/// the template builder reports it (e.g. `participants[3].bank`).
public struct GenesisError: Error, Equatable, Sendable, CustomStringConvertible {
    public let field: String
    public let problem: String

    public init(_ field: String, _ problem: String) {
        self.field = field
        self.problem = problem
    }

    public var description: String { "\(field): \(problem)" }
}

extension Genesis {
    /// Validators a consortium needs at least: PBFT tolerates f faults with 3f + 1, and a
    /// network that tolerates none is no consortium.
    public static let minValidators = 4

    /// Checks the rules that make a genesis consistent (docs/PROTOCOL.md §6). Decoding
    /// checks form; this checks meaning. A node refuses a genesis that fails either.
    public func validate() throws(GenesisError) {
        // The genesis file writes it as a JSON number: readers that hold numbers as doubles
        // (JavaScript) read it exactly only below 2^53 (docs/PROTOCOL.md §7).
        guard genesisTimeMillis < 1 << 53 else {
            throw GenesisError("genesis_time_ms", "\(genesisTimeMillis) is not below 2^53 (a time in milliseconds since 1970 far past the year 285 000)")
        }
        guard validators.count >= Self.minValidators else {
            throw GenesisError("validators", "a consortium needs at least \(Self.minValidators) validator banks (n = 3f + 1 with f ≥ 1); found \(validators.count)")
        }
        // The sets must be strictly ascending, as their decoders require: no duplicates.
        try checkAscending(participants.map(\.address), "participants", "two participants share a public key")
        try checkAscending(currencies.map(\.code), "currencies", "a currency is listed twice")
        try checkAscending(deposits.map(\.key), "deposits", "an account holds two deposits of one currency")
        for (i, c) in currencies.enumerated() {
            try checkAscending(c.issuers, "currencies[\(i)].issuers", "an issuer is listed twice")
        }
        var byAddress: [Address: Participant] = [:]
        var names: Set<String> = []
        for (i, p) in participants.enumerated() {
            guard NameRule.problem(p.name) == nil else { throw GenesisError("participants[\(i)].name", NameRule.problem(p.name)!) }
            guard names.insert(p.name).inserted else { throw GenesisError("participants[\(i)].name", "name \"\(p.name)\" is used twice") }
            guard byAddress.updateValue(p, forKey: p.address) == nil else {
                throw GenesisError("participants[\(i)].public_key", "public key \(p.publicKey.hex) is used twice")
            }
        }
        for (i, v) in validators.validators.enumerated() {
            if let problem = NameRule.problem(v.name) { throw GenesisError("validators[\(i)].name", problem) }
            guard let p = byAddress[v.address], p.role == .validatorBank, p.name == v.name else {
                throw GenesisError("validators[\(i)]", "validator \(v.name) must also be a participant of the same name with role validator_bank")
            }
            guard !v.p2pAddress.isEmpty, v.p2pAddress.utf8.count <= Limits.maxP2PAddressBytes else {
                throw GenesisError("validators[\(i)].p2p_address", "must be host:port of 1 to \(Limits.maxP2PAddressBytes) bytes")
            }
        }
        for (i, p) in participants.enumerated() {
            if p.role == .validatorBank && validators.index(of: p.address) == nil {
                throw GenesisError("participants[\(i)].role", "\(p.name) has role validator_bank but is not in the validator set")
            }
            if let bank = p.bank {
                guard let b = byAddress[bank], b.role.isBank else {
                    throw GenesisError("participants[\(i)].bank", "\(bank) is not a participant with a bank role")
                }
                guard !p.role.isBank else { throw GenesisError("participants[\(i)].bank", "a bank holds its own deposits; it names no bank") }
            }
        }
        try validateObservers(byAddress: byAddress, names: names)
        var currencyByCode: [CurrencyCode: Currency] = [:]
        for (i, c) in currencies.enumerated() {
            currencyByCode[c.code] = c
            guard c.decimals <= Amount.maxDecimals else {
                throw GenesisError("currencies[\(i)].decimals", "\(c.decimals) is above the maximum of \(Amount.maxDecimals)")
            }
            guard !c.issuers.isEmpty else { throw GenesisError("currencies[\(i)].issuers", "\(c.code) needs at least one issuing bank") }
            for issuer in c.issuers where !(byAddress[issuer]?.role.isBank ?? false) {
                throw GenesisError("currencies[\(i)].issuers", "\(issuer) is not a participant with a bank role")
            }
        }
        try validateDeposits(byAddress: byAddress, currencyByCode: currencyByCode)
        try validateConsensus()
        guard governanceThreshold >= 1, governanceThreshold <= UInt64(validators.count) else {
            throw GenesisError("governance.threshold", "must be between 1 and the number of validators (\(validators.count)); got \(governanceThreshold)")
        }
    }

    /// Observers: names unique among all parties, node keys distinct from every validator's,
    /// a bank exactly for replicas, and TLS pins unique among all nodes (the transport maps each
    /// pin to one node key).
    private func validateObservers(byAddress: [Address: Participant], names: Set<String>) throws(GenesisError) {
        try checkAscending(observers.map(\.address), "observers", "two observers share a node key")
        guard observers.count <= Limits.maxObservers else {
            throw GenesisError("observers", "at most \(Limits.maxObservers) observers; found \(observers.count)")
        }
        var names = names
        var pins: [Hash: String] = [:]
        for (i, v) in validators.validators.enumerated() {
            guard let pin = v.tlsSPKISHA256 else { continue }
            if let other = pins.updateValue(v.name, forKey: pin) {
                throw GenesisError("validators[\(i)].tls_spki_sha256", "is also \(other)'s pin; every node needs its own TLS key")
            }
        }
        for (i, o) in observers.enumerated() {
            if let problem = NameRule.problem(o.name) { throw GenesisError("observers[\(i)].name", problem) }
            guard names.insert(o.name).inserted else {
                throw GenesisError("observers[\(i)].name", "name \"\(o.name)\" is already used by another validator, participant or observer")
            }
            if let v = validators.validators.first(where: { $0.publicKey == o.nodeKey }) {
                throw GenesisError("observers[\(i)].node_key", "is validator \(v.name)'s key; an observer needs a node key of its own")
            }
            switch (o.role, o.bank) {
            case (.replica, nil):
                throw GenesisError("observers[\(i)].bank", "a replica names the bank whose replica it is")
            case (.replica, let bank?):
                guard let b = byAddress[bank], b.role.isBank else {
                    throw GenesisError("observers[\(i)].bank", "\(bank) is not a participant with a bank role")
                }
            case (_, .some):
                throw GenesisError("observers[\(i)].bank", "only a replica names a bank; \(o.name) has role \(o.role.name)")
            case (_, nil):
                break
            }
            if let other = pins.updateValue(o.name, forKey: o.tlsSPKISHA256) {
                throw GenesisError("observers[\(i)].tls_spki_sha256", "is also \(other)'s pin; every node needs its own TLS key")
            }
        }
    }

    private func checkAscending<K: Comparable>(_ keys: [K], _ field: String, _ problem: String) throws(GenesisError) {
        for (i, (a, b)) in zip(keys, keys.dropFirst()).enumerated() where !(a < b) {
            throw GenesisError("\(field)[\(i + 1)]", a == b ? problem : "is out of order (sets are stored sorted)")
        }
    }

    private func validateDeposits(byAddress: [Address: Participant],
                                  currencyByCode: [CurrencyCode: Currency]) throws(GenesisError) {
        var totals: [CurrencyCode: UInt64] = [:]
        for (i, d) in deposits.enumerated() {
            guard let holder = byAddress[d.account] else {
                throw GenesisError("deposits[\(i)].account", "\(d.account) is not a participant")
            }
            guard let currency = currencyByCode[d.currency] else {
                throw GenesisError("deposits[\(i)].currency", "\(d.currency) is not one of the chain's currencies")
            }
            guard d.amount > 0 else { throw GenesisError("deposits[\(i)].amount", "is zero; leave the deposit out instead") }
            guard d.amount <= Amount.maxMinorUnits else {
                throw GenesisError("deposits[\(i)].amount", "is above the limit of 10^17 minor units (Amount.maxMinorUnits)")
            }
            // The bank that holds the deposit must be allowed to issue that currency.
            let bank = holder.role.isBank ? holder.address : holder.bank
            guard let bank else {
                throw GenesisError("deposits[\(i)].account", "\(holder.name) has no bank to hold its deposit")
            }
            guard currency.issuers.contains(bank) else {
                throw GenesisError("deposits[\(i)].currency", "\(holder.name)'s bank is not an issuer of \(d.currency)")
            }
            let (sum, overflow) = totals[d.currency, default: 0].addingReportingOverflow(d.amount)
            guard !overflow else { throw GenesisError("deposits[\(i)].amount", "total \(d.currency) supply exceeds 2^64 − 1 minor units") }
            totals[d.currency] = sum
        }
    }

    private func validateConsensus() throws(GenesisError) {
        let c = consensus
        func check(_ ok: Bool, _ field: String, _ problem: String) throws(GenesisError) {
            if !ok { throw GenesisError("consensus.\(field)", problem) }
        }
        try check((10...60_000).contains(c.tickMillis), "tick_ms", "must be 10 to 60000 ms; got \(c.tickMillis)")
        try check((2...100_000).contains(c.requestTimeoutTicks), "request_timeout_ticks", "must be 2 to 100000; got \(c.requestTimeoutTicks)")
        try check(c.maxViewChangeTimeoutTicks >= c.requestTimeoutTicks && c.maxViewChangeTimeoutTicks <= 1_000_000,
                  "max_view_change_timeout_ticks", "must be at least request_timeout_ticks and at most 1000000; got \(c.maxViewChangeTimeoutTicks)")
        try check((1...100_000).contains(c.checkpointInterval), "checkpoint_interval", "must be 1 to 100000; got \(c.checkpointInterval)")
        try check(c.watermarkWindow >= 2 * c.checkpointInterval && c.watermarkWindow <= 1_000_000, "watermark_window",
                  "must be at least twice checkpoint_interval (so a checkpoint can stabilise inside the window) and at most 1000000; got \(c.watermarkWindow)")
        try check((1...UInt64(Limits.maxBlockTransactions)).contains(c.maxBlockTransactions), "max_block_transactions",
                  "must be 1 to \(Limits.maxBlockTransactions); got \(c.maxBlockTransactions)")
        try check((1024...64 * 1024 * 1024).contains(c.maxBlockBytes), "max_block_bytes", "must be 1 KiB to 64 MiB; got \(c.maxBlockBytes)")
        try check(c.maxClockDriftMillis <= 600_000, "max_clock_drift_ms", "must be at most 600000 (10 minutes); got \(c.maxClockDriftMillis)")
        // The floor fits the largest transaction (50 M gas) beside a full round of scheduled
        // calls (32 × 1 M): below it some valid transaction could never be included.
        try check((100_000_000...10_000_000_000).contains(c.maxBlockGas), "max_block_gas",
                  "must be 100000000 to 10000000000; got \(c.maxBlockGas)")
        // The floor fits the largest single write (a 96 KiB contract's code) many times over.
        try check((1024 * 1024...256 * 1024 * 1024).contains(c.maxBlockStateBytes), "max_block_state_bytes",
                  "must be 1 MiB to 256 MiB; got \(c.maxBlockStateBytes)")
    }
}

/// Names of participants and validators: 1 to 64 characters of a-z, 0-9, '-', '_' and '.'.
public enum NameRule {
    public static func problem(_ name: String) -> String? {
        let utf8 = Array(name.utf8)
        if utf8.isEmpty { return "name is empty" }
        if utf8.count > Limits.maxNameBytes { return "name \"\(name)\" is longer than \(Limits.maxNameBytes) characters" }
        let ok = utf8.allSatisfy {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".")
        }
        return ok ? nil : "name \"\(name)\" may contain only a-z, 0-9, '-', '_' and '.'"
    }
}
