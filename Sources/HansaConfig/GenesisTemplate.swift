import ChainTypes
import Foundation

/// Builds a `Genesis` from the human-written TOML template (genesis/README.md documents the
/// format; genesis/consortium.toml is a complete example).
///
/// Validators, participants and observers are named in the template; references between
/// them (a customer's or replica's `bank`, a currency's `issuers`, a deposit's `account`) use
/// those names. Each party's key is either its `public_key` in hex, or `key = "NAME"`, the
/// key file `NAME.key` in the keys directory (made by `hansa keygen`). A node's TLS pin,
/// `tls_spki_sha256`, is what `hansa node init` prints.
public struct GenesisTemplate {
    public let file: String
    public let keysDirectory: String?
    /// Values given outside the template for a validator or observer by name (`hansa genesis
    /// --tls-pin NAME=HEX --p2p-address NAME=HOST:PORT`): they replace the table's own, as if
    /// written there. A network's coordinator collects the pins that `hansa node init` printed
    /// without editing the template; `scripts/localnet` picks free ports this way.
    public var nodeOverrides: [String: NodeOverride] = [:]

    public struct NodeOverride: Sendable, Equatable {
        public var tlsSPKISHA256: String?
        public var p2pAddress: String?
        public init(tlsSPKISHA256: String? = nil, p2pAddress: String? = nil) {
            self.tlsSPKISHA256 = tlsSPKISHA256
            self.p2pAddress = p2pAddress
        }
    }

    public init(file: String, keysDirectory: String?, nodeOverrides: [String: NodeOverride] = [:]) {
        self.file = file
        self.keysDirectory = keysDirectory
        self.nodeOverrides = nodeOverrides
    }

    /// Reads, resolves and validates the template. `now` supplies `genesis_time` when the
    /// template leaves it out.
    public func build(now: () -> UInt64) throws(ConfigError) -> Genesis {
        let doc = try DocTable.parseTOML(try FileIO.readText(file), file: file)
        return try build(doc, now: now)
    }

    /// Like `build`, from template text in memory (tests, tools).
    public func build(text: String, now: () -> UInt64) throws(ConfigError) -> Genesis {
        try build(DocTable.parseTOML(text, file: file), now: now)
    }

    private struct Party {
        let name: String
        let key: PublicKey
        let table: DocTable
    }

    private func build(_ doc: DocTable, now: () -> UInt64) throws(ConfigError) -> Genesis {
        let chainText = try doc.string("chain_id")
        let chain: ChainID
        do { chain = try ChainID(chainText) } catch { throw doc.fail("chain_id", error.message) }
        let time: UInt64
        if let ms = try doc.optionalTimestamp("genesis_time") {
            guard ms >= 0 else { throw doc.fail("genesis_time", "is before 1970-01-01T00:00:00Z") }
            time = UInt64(ms)
        } else {
            time = now()
        }

        var names: [String: Party] = [:]
        var keys: [PublicKey: String] = [:]
        func register(_ t: DocTable) throws(ConfigError) -> Party {
            let name = try t.string("name")
            if let problem = NameRule.problem(name) { throw t.fail("name", problem) }
            guard names[name] == nil else { throw t.fail("name", "\"\(name)\" is already used by another validator or participant") }
            let key = try resolveKey(t)
            if let other = keys[key] { throw t.fail("public_key", "is the same key as \(other)'s; every party needs its own key") }
            let party = Party(name: name, key: key, table: t)
            names[name] = party
            keys[key] = name
            return party
        }

        var validators: [Validator] = []
        var participants: [Participant] = []
        let validatorTables = try doc.tables("validators")
        guard validatorTables.count >= Genesis.minValidators else {
            throw doc.fail("validators", "a consortium needs at least \(Genesis.minValidators) validator banks (n = 3f + 1 with f ≥ 1); found \(validatorTables.count)")
        }
        var overridden: Set<String> = []
        /// Applies `nodeOverrides` for the table's name; `observer` refuses a p2p address.
        func applyOverrides(_ t: DocTable, observer: Bool) throws(ConfigError) {
            guard let name = try t.optionalString("name"), let o = nodeOverrides[name] else { return }
            overridden.insert(name)
            if let pin = o.tlsSPKISHA256 { t.override("tls_spki_sha256", string: pin) }
            if let address = o.p2pAddress {
                guard !observer else {
                    throw t.fail("p2p_address", "is given for observer \"\(name)\", but observers dial out and take no p2p_address in genesis")
                }
                t.override("p2p_address", string: address)
            }
        }
        for t in validatorTables {
            try applyOverrides(t, observer: false)
            let party = try register(t)
            let p2p = try t.string("p2p_address")
            guard p2p.contains(":"), p2p.utf8.count <= Limits.maxP2PAddressBytes else {
                throw t.fail("p2p_address", "\"\(p2p)\" is not host:port")
            }
            validators.append(Validator(name: party.name, publicKey: party.key, p2pAddress: p2p,
                                        tlsSPKISHA256: try tlsFingerprint(t, required: false)))
            participants.append(Participant(name: party.name, publicKey: party.key, role: .validatorBank, bank: nil))
            try t.finish()
        }
        let participantTables = try doc.tables("participants")
        var customers: [(Party, Role)] = []
        for t in participantTables {
            let party = try register(t)
            let roleName = try t.string("role")
            guard let role = Role(name: roleName) else {
                throw t.fail("role", "unknown role \"\(roleName)\"; expected one of \(Role.allCases.map(\.name).joined(separator: ", "))")
            }
            guard role != .validatorBank else {
                throw t.fail("role", "validator banks are declared under [[validators]], not [[participants]]")
            }
            customers.append((party, role))
        }
        for (party, role) in customers {
            let t = party.table
            var bank: Address? = nil
            if let bankName = try t.optionalString("bank") {
                guard !role.isBank else { throw t.fail("bank", "a bank holds its own deposits; leave bank out") }
                guard let b = names[bankName] else { throw t.fail("bank", "no validator or participant is named \"\(bankName)\"") }
                guard isBank(b, customers: customers, validators: validators) else {
                    throw t.fail("bank", "\"\(bankName)\" is not a bank")
                }
                bank = b.key.address
            }
            participants.append(Participant(name: party.name, publicKey: party.key, role: role, bank: bank))
            try t.finish()
        }

        var observers: [Observer] = []
        for t in try doc.tables("observers") {
            try applyOverrides(t, observer: true)
            let party = try register(t)
            observers.append(try buildObserver(t, party, names: names, customers: customers, validators: validators))
            try t.finish()
        }

        let currencies = try buildCurrencies(doc, names: names, customers: customers, validators: validators)
        let deposits = try buildDeposits(doc, names: names, currencies: currencies)
        let consensus = try buildConsensus(doc)
        let threshold: UInt64
        if let g = try doc.optionalTable("governance") {
            threshold = try g.unsigned("threshold")
            try g.finish()
        } else {
            threshold = UInt64(validators.count / 2 + 1)
        }
        try doc.finish()
        if let stray = Set(nodeOverrides.keys).subtracting(overridden).sorted().first {
            throw .field(path: file, field: stray, problem: "is given a TLS pin or p2p address on the command line, but the template has no validator or observer named \"\(stray)\"")
        }

        let set: ValidatorSet
        do { set = try ValidatorSet(validators) } catch { throw doc.fail("validators", error.message) }
        let genesis = Genesis(chain: chain, genesisTimeMillis: time, validators: set, participants: participants,
                              observers: observers, currencies: currencies, deposits: deposits, consensus: consensus,
                              governanceThreshold: threshold)
        do { try genesis.validate() } catch { throw .field(path: file, field: error.field, problem: error.problem) }
        return genesis
    }

    private func isBank(_ p: Party, customers: [(Party, Role)], validators: [Validator]) -> Bool {
        validators.contains { $0.publicKey == p.key } || customers.contains { $0.0.key == p.key && $0.1.isBank }
    }

    private func resolveKey(_ t: DocTable) throws(ConfigError) -> PublicKey {
        let hex = try t.optionalString("public_key")
        let keyName = try t.optionalString("key")
        switch (hex, keyName) {
        case (let hex?, nil):
            do { return try PublicKey(hex: hex) } catch { throw t.fail("public_key", error.description) }
        case (nil, let keyName?):
            guard let dir = keysDirectory else {
                throw t.fail("key", "names key file \"\(keyName)\" but no keys directory was given (--keys-dir)")
            }
            guard NameRule.problem(keyName) == nil else { throw t.fail("key", "\"\(keyName)\" is not a valid key name") }
            return try KeyFile.read((dir as NSString).appendingPathComponent("\(keyName).key")).publicKey
        case (.some, .some):
            throw t.fail("public_key", "give either public_key or key, not both")
        case (nil, nil):
            throw t.fail("public_key", "is missing (give public_key = \"02…\" or key = \"NAME\")")
        }
    }

    /// The node's TLS pin: 64 hex digits, SHA-256 of its certificate's DER SubjectPublicKeyInfo.
    private func tlsFingerprint(_ t: DocTable, required: Bool) throws(ConfigError) -> Hash? {
        guard let hex = try t.optionalString("tls_spki_sha256") else {
            if required {
                throw t.fail("tls_spki_sha256", "is missing; an observer needs its TLS key pinned (run hansa node init on that node and paste the fingerprint it prints)")
            }
            return nil
        }
        guard let bytes = Hex.decode(hex), let hash = Hash(bytes: bytes) else {
            throw t.fail("tls_spki_sha256", "expected 64 hex digits (SHA-256 of the TLS certificate's SubjectPublicKeyInfo, as hansa node init prints it)")
        }
        return hash
    }

    /// One `[[observers]]` table: role, the bank a replica belongs to, the TLS pin.
    private func buildObserver(_ t: DocTable, _ party: Party, names: [String: Party], customers: [(Party, Role)],
                               validators: [Validator]) throws(ConfigError) -> Observer {
        let roleName = try t.string("role")
        guard let role = ObserverRole(name: roleName) else {
            throw t.fail("role", "unknown observer role \"\(roleName)\"; expected one of \(ObserverRole.allCases.map(\.name).joined(separator: ", "))")
        }
        var bank: Address? = nil
        if let bankName = try t.optionalString("bank") {
            guard role == .replica else { throw t.fail("bank", "only a replica names a bank; leave bank out for role \(role.name)") }
            guard let b = names[bankName] else { throw t.fail("bank", "no validator or participant is named \"\(bankName)\"") }
            guard isBank(b, customers: customers, validators: validators) else { throw t.fail("bank", "\"\(bankName)\" is not a bank") }
            bank = b.key.address
        } else if role == .replica {
            throw t.fail("bank", "is missing; a replica names the bank whose replica it is")
        }
        guard let pin = try tlsFingerprint(t, required: true) else { preconditionFailure("a required pin is present") }
        return Observer(name: party.name, nodeKey: party.key, role: role, bank: bank, tlsSPKISHA256: pin)
    }

    private func buildCurrencies(_ doc: DocTable, names: [String: Party], customers: [(Party, Role)],
                                 validators: [Validator]) throws(ConfigError) -> [Currency] {
        var out: [Currency] = []
        for t in try doc.tables("currencies") {
            let code: CurrencyCode
            do { code = try CurrencyCode(try t.string("code")) } catch let e as ValueError { throw t.fail("code", e.message) }
            catch let e as ConfigError { throw e } catch { throw t.fail("code", "\(error)") }
            guard !out.contains(where: { $0.code == code }) else { throw t.fail("code", "\(code) is listed twice") }
            let decimals = try t.unsigned("decimals")
            guard decimals <= UInt64(Amount.maxDecimals) else {
                throw t.fail("decimals", "\(decimals) is above the maximum of \(Amount.maxDecimals)")
            }
            var issuers: [Address] = []
            for (i, name) in try t.stringArray("issuers").enumerated() {
                guard let p = names[name] else { throw t.fail("issuers[\(i)]", "no validator or participant is named \"\(name)\"") }
                guard isBank(p, customers: customers, validators: validators) else { throw t.fail("issuers[\(i)]", "\"\(name)\" is not a bank") }
                guard !issuers.contains(p.key.address) else { throw t.fail("issuers[\(i)]", "\"\(name)\" is listed twice") }
                issuers.append(p.key.address)
            }
            guard !issuers.isEmpty else { throw t.fail("issuers", "\(code) needs at least one issuing bank") }
            out.append(Currency(code: code, decimals: UInt8(decimals), issuers: issuers))
            try t.finish()
        }
        return out
    }

    private func buildDeposits(_ doc: DocTable, names: [String: Party],
                               currencies: [Currency]) throws(ConfigError) -> [Deposit] {
        var out: [Deposit] = []
        for t in try doc.tables("deposits") {
            let account = try t.string("account")
            guard let holder = names[account] else { throw t.fail("account", "no validator or participant is named \"\(account)\"") }
            let codeText = try t.string("currency")
            guard let currency = currencies.first(where: { $0.code.value == codeText }) else {
                throw t.fail("currency", "\"\(codeText)\" is not listed under [[currencies]]")
            }
            let amountText: String
            if t.has("amount"), let i = try? t.optionalInteger("amount") {
                guard i >= 0 else { throw t.fail("amount", "is negative (\(i)); balances are never below zero") }
                amountText = String(i)
            } else {
                amountText = try t.string("amount")
            }
            let minor: UInt64
            do { minor = try Amount.parseMinorUnits(amountText, decimals: currency.decimals) } catch {
                throw t.fail("amount", error.message)
            }
            guard minor > 0 else { throw t.fail("amount", "is zero; leave the deposit out instead") }
            guard !out.contains(where: { $0.account == holder.key.address && $0.currency == currency.code }) else {
                throw t.fail("account", "\(account) already has a \(currency.code) deposit")
            }
            out.append(Deposit(account: holder.key.address, currency: currency.code, amount: minor))
            try t.finish()
        }
        return out
    }

    private func buildConsensus(_ doc: DocTable) throws(ConfigError) -> ConsensusParameters {
        let d = ConsensusParameters.standard
        guard let t = try doc.optionalTable("consensus") else { return d }
        let c = ConsensusParameters(
            tickMillis: try t.unsigned("tick_ms", default: d.tickMillis),
            requestTimeoutTicks: try t.unsigned("request_timeout_ticks", default: d.requestTimeoutTicks),
            maxViewChangeTimeoutTicks: try t.unsigned("max_view_change_timeout_ticks", default: d.maxViewChangeTimeoutTicks),
            checkpointInterval: try t.unsigned("checkpoint_interval", default: d.checkpointInterval),
            watermarkWindow: try t.unsigned("watermark_window", default: d.watermarkWindow),
            maxBlockTransactions: try t.unsigned("max_block_transactions", default: d.maxBlockTransactions),
            maxBlockBytes: try t.unsigned("max_block_bytes", default: d.maxBlockBytes),
            maxClockDriftMillis: try t.unsigned("max_clock_drift_ms", default: d.maxClockDriftMillis),
            maxBlockGas: try t.unsigned("max_block_gas", default: d.maxBlockGas),
            maxBlockStateBytes: try t.unsigned("max_block_state_bytes", default: d.maxBlockStateBytes))
        try t.finish()
        return c
    }
}
