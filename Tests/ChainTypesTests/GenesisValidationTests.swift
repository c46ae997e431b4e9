import Testing
import ChainTypes
import HansaCrypto

/// Genesis.validate(): one mutation of a valid genesis per rule of GenesisValidation.swift,
/// each refused with the field that breaks the rule (docs/PROTOCOL.md §6).
@Suite("Genesis validation")
struct GenesisValidationTests {
    struct Mutation: Sendable, CustomTestStringConvertible {
        let name: String
        /// A phrase the problem must contain.
        let says: String
        /// Changes the genesis and returns the field the error must name.
        let apply: @Sendable (inout Genesis) -> String
        var testDescription: String { name }
    }

    typealias F = GenesisFixture

    static func participant(_ name: String, _ g: Genesis) -> Int { F.participant(name, in: g) }
    static func observer(_ name: String, _ g: Genesis) -> Int { F.observer(name, in: g) }

    /// Rebuilds the validator set with validator `name` changed.
    static func changeValidator(_ g: inout Genesis, _ name: String, _ change: (inout Validator) -> Void) -> Int {
        var vs = g.validators.validators
        let i = F.validatorIndex(name, in: g)
        change(&vs[i])
        g.validators = try! ValidatorSet(vs)
        return F.validatorIndex(vs[i].name, in: g)
    }

    /// Adds a participant, keeping the set sorted by address; returns its index.
    static func add(_ p: Participant, to g: inout Genesis) -> Int {
        g.participants.append(p)
        g.participants.sort { $0.address < $1.address }
        return participant(p.name, g)
    }

    static let usd = try! CurrencyCode("USD")

    static let mutations: [Mutation] = [
        // Castro & Liskov 1999, §2: n = 3f + 1 with f ≥ 1.
        Mutation(name: "three validators", says: "at least 4 validator banks") { g in
            g = F.valid(validatorCount: 3)
            return "validators"
        },
        Mutation(name: "participant name with capitals", says: "may contain only a-z") { g in
            g.participants[2].name = "Bank-Two"
            return "participants[2].name"
        },
        Mutation(name: "participant name empty", says: "name is empty") { g in
            g.participants[0].name = ""
            return "participants[0].name"
        },
        Mutation(name: "participant name of 65 characters", says: "longer than 64 characters") { g in
            g.participants[5].name = String(repeating: "x", count: 65)
            return "participants[5].name"
        },
        Mutation(name: "participant name used twice", says: "is used twice") { g in
            g.participants[4].name = g.participants[1].name
            return "participants[4].name"
        },
        Mutation(name: "participant key used twice", says: "two participants share a public key") { g in
            var copy = g.participants[3]
            copy.name = "impostor"
            g.participants.insert(copy, at: 4)
            return "participants[4]"
        },
        Mutation(name: "validator is not a participant", says: "must also be a participant of the same name with role validator_bank") { g in
            g.participants.remove(at: participant("bank-2", g))
            return "validators[\(F.validatorIndex("bank-2", in: g))]"
        },
        Mutation(name: "validator's participant is only a bank", says: "must also be a participant of the same name with role validator_bank") { g in
            g.participants[participant("bank-1", g)].role = .bank
            return "validators[\(F.validatorIndex("bank-1", in: g))]"
        },
        Mutation(name: "validator without p2p address", says: "must be host:port") { g in
            let i = changeValidator(&g, "bank-3") { $0.p2pAddress = "" }
            return "validators[\(i)].p2p_address"
        },
        Mutation(name: "validator_bank role outside the validator set", says: "is not in the validator set") { g in
            let i = add(Participant(name: "bank-x", publicKey: Fixture.key(60).publicKey, role: .validatorBank, bank: nil), to: &g)
            return "participants[\(i)].role"
        },
        Mutation(name: "bank that is not a participant", says: "is not a participant with a bank role") { g in
            let i = participant("exporter-co", g)
            g.participants[i].bank = Fixture.key(61).publicKey.address
            return "participants[\(i)].bank"
        },
        Mutation(name: "bank that is an exporter", says: "is not a participant with a bank role") { g in
            let i = participant("importer.co", g)
            g.participants[i].bank = F.exporter.publicKey.address
            return "participants[\(i)].bank"
        },
        Mutation(name: "a bank naming a bank", says: "a bank holds its own deposits") { g in
            let i = participant("citybank", g)
            g.participants[i].bank = F.bankAddress(0)
            return "participants[\(i)].bank"
        },
        Mutation(name: "19 decimals", says: "above the maximum of 18") { g in
            g.currencies[1].decimals = 19
            return "currencies[1].decimals"
        },
        Mutation(name: "currency without issuers", says: "needs at least one issuing bank") { g in
            g.currencies[2].issuers = []
            return "currencies[2].issuers"
        },
        Mutation(name: "issuer that is an exporter", says: "is not a participant with a bank role") { g in
            let i = F.currency("USD", in: g)
            g.currencies[i].issuers = [F.exporter.publicKey.address]
            return "currencies[\(i)].issuers"
        },
        Mutation(name: "issuer that is not a participant", says: "is not a participant with a bank role") { g in
            g.currencies[0].issuers = [Fixture.key(62).publicKey.address]
            return "currencies[0].issuers"
        },
        Mutation(name: "deposit to an unknown account", says: "is not a participant") { g in
            g.deposits[1].account = Fixture.key(63).publicKey.address
            return "deposits[1].account"
        },
        Mutation(name: "deposit in an unknown currency", says: "is not one of the chain's currencies") { g in
            g.deposits[2].currency = try! CurrencyCode("CHF")
            return "deposits[2].currency"
        },
        Mutation(name: "zero deposit", says: "is zero") { g in
            g.deposits[0].amount = 0
            return "deposits[0].amount"
        },
        Mutation(name: "deposit for a customer without a bank", says: "has no bank to hold its deposit") { g in
            g.deposits[3].account = F.auditor.publicKey.address
            g.deposits.sort { $0.key < $1.key }  // keep the set canonical; only the holder is wrong
            return "deposits[\(g.deposits.firstIndex { $0.account == F.auditor.publicKey.address }!)].account"
        },
        Mutation(name: "deposit held by a bank that does not issue the currency", says: "is not an issuer of USD") { g in
            // bank-1 issues only EUR.
            let i = g.deposits.firstIndex { $0.account == F.bankAddress(1) }!
            g.deposits[i].currency = usd
            return "deposits[\(i)].currency"
        },
        Mutation(name: "customer's bank does not issue the currency", says: "is not an issuer of JPY") { g in
            // importer.co banks with citybank, which issues USD but not JPY.
            let i = g.deposits.firstIndex { $0.account == F.importer.publicKey.address }!
            g.deposits[i].currency = try! CurrencyCode("JPY")
            return "deposits[\(i)].currency"
        },
        Mutation(name: "a deposit above the one range of money (hardening finding 2)", says: "above the limit of 10^17") { g in
            let usdDeposits = g.deposits.indices.filter { g.deposits[$0].currency == usd }
            g.deposits[usdDeposits[1]].amount = Amount.maxMinorUnits + 1
            return "deposits[\(usdDeposits[1])].amount"
        },
        // Observers (docs/PROTOCOL.md §6): non-voting nodes with a pinned TLS key.
        Mutation(name: "replica without a bank", says: "a replica names the bank whose replica it is") { g in
            let i = observer("citybank-replica", g)
            g.observers[i].bank = nil
            return "observers[\(i)].bank"
        },
        Mutation(name: "auditor node naming a bank", says: "only a replica names a bank") { g in
            let i = observer("auditor-node", g)
            g.observers[i].bank = F.citybank.publicKey.address
            return "observers[\(i)].bank"
        },
        Mutation(name: "replica of an exporter", says: "is not a participant with a bank role") { g in
            let i = observer("citybank-replica", g)
            g.observers[i].bank = F.exporter.publicKey.address
            return "observers[\(i)].bank"
        },
        Mutation(name: "replica of a bank that is not a participant", says: "is not a participant with a bank role") { g in
            let i = observer("citybank-replica", g)
            g.observers[i].bank = Fixture.key(99).publicKey.address
            return "observers[\(i)].bank"
        },
        Mutation(name: "observer named like a participant", says: "already used by another validator, participant or observer") { g in
            let i = observer("auditor-node", g)
            g.observers[i].name = "auditor_1"
            return "observers[\(i)].name"
        },
        Mutation(name: "observer named like a validator", says: "already used") { g in
            let i = observer("auditor-node", g)
            g.observers[i].name = "bank-2"
            return "observers[\(i)].name"
        },
        Mutation(name: "two observers of one name", says: "already used") { g in
            let later = max(observer("auditor-node", g), observer("citybank-replica", g))
            g.observers[later].name = g.observers[1 - later].name
            return "observers[\(later)].name"
        },
        Mutation(name: "observer name with a space", says: "may contain only a-z") { g in
            g.observers[0].name = "auditor node"
            return "observers[0].name"
        },
        Mutation(name: "observer with a validator's node key", says: "is validator bank-1's key") { g in
            let i = observer("auditor-node", g)
            g.observers[i].nodeKey = Fixture.validatorKey(1).publicKey
            g.observers.sort { $0.address < $1.address }
            return "observers[\(observer("auditor-node", g))].node_key"
        },
        // "Observers out of order" cannot be built any more: Genesis keeps its sets sorted when
        // they are changed; unsorted bytes are refused by the decoder (SetDecodingRejectionTests).
        Mutation(name: "two observers share a node key", says: "two observers share a node key") { g in
            g.observers[1].nodeKey = g.observers[0].nodeKey
            return "observers[1]"
        },
        Mutation(name: "observer pinning a validator's TLS key", says: "is also bank-0's pin; every node needs its own TLS key") { g in
            let i = observer("citybank-replica", g)
            g.observers[i].tlsSPKISHA256 = Fixture.hash("tls 0")
            return "observers[\(i)].tls_spki_sha256"
        },
        Mutation(name: "two validators pinning one TLS key", says: "every node needs its own TLS key") { g in
            _ = changeValidator(&g, "bank-1") { $0.tlsSPKISHA256 = Fixture.hash("tls 0") }
            let later = max(F.validatorIndex("bank-0", in: g), F.validatorIndex("bank-1", in: g))
            return "validators[\(later)].tls_spki_sha256"
        },
        Mutation(name: "more observers than the limit", says: "at most 64 observers") { g in
            g.observers = (0..<(Limits.maxObservers + 1)).map {
                Observer(name: "obs-\($0)", nodeKey: Fixture.key(UInt8(100 + $0)).publicKey, role: .auditor, bank: nil,
                         tlsSPKISHA256: Fixture.hash("tls obs \($0)"))
            }.sorted { $0.address < $1.address }
            return "observers"
        },
        Mutation(name: "governance threshold 0", says: "between 1 and the number of validators (4); got 0") { g in
            g.governanceThreshold = 0
            return "governance.threshold"
        },
        Mutation(name: "governance threshold above n", says: "between 1 and the number of validators (4); got 5") { g in
            g.governanceThreshold = 5
            return "governance.threshold"
        },
    ]

    @Test("valid fixture validates") func fixtureIsValid() throws {
        try F.valid().validate()
        try F.valid(validatorCount: 7).validate()
    }

    @Test("refused with the field", arguments: mutations)
    func refused(_ m: Mutation) {
        var g = F.valid()
        let field = m.apply(&g)
        #expect {
            try g.validate()
        } throws: { error in
            guard let e = error as? GenesisError else { return false }
            return e.field == field && e.problem.contains(m.says) && e.description == "\(field): \(e.problem)"
        }
    }

    // MARK: Consensus parameters: each bound, just outside and just inside

    struct Bound: Sendable, CustomTestStringConvertible {
        let field: String
        let value: UInt64
        let valid: Bool
        var testDescription: String { "\(field) = \(value)" }
    }

    static let bounds: [Bound] = [
        Bound(field: "tick_ms", value: 9, valid: false), Bound(field: "tick_ms", value: 10, valid: true),
        Bound(field: "tick_ms", value: 60_000, valid: true), Bound(field: "tick_ms", value: 60_001, valid: false),
        Bound(field: "request_timeout_ticks", value: 1, valid: false), Bound(field: "request_timeout_ticks", value: 2, valid: true),
        Bound(field: "request_timeout_ticks", value: 161, valid: false),   // then max_view_change (160) is below it
        Bound(field: "max_view_change_timeout_ticks", value: 19, valid: false),
        Bound(field: "max_view_change_timeout_ticks", value: 20, valid: true),
        Bound(field: "max_view_change_timeout_ticks", value: 1_000_000, valid: true),
        Bound(field: "max_view_change_timeout_ticks", value: 1_000_001, valid: false),
        Bound(field: "checkpoint_interval", value: 0, valid: false), Bound(field: "checkpoint_interval", value: 128, valid: true),
        Bound(field: "checkpoint_interval", value: 129, valid: false),      // watermark 256 < 2 × 129
        Bound(field: "watermark_window", value: 127, valid: false), Bound(field: "watermark_window", value: 128, valid: true),
        Bound(field: "watermark_window", value: 1_000_001, valid: false),
        Bound(field: "max_block_transactions", value: 0, valid: false), Bound(field: "max_block_transactions", value: 1, valid: true),
        Bound(field: "max_block_transactions", value: 20_000, valid: true),
        Bound(field: "max_block_transactions", value: 20_001, valid: false),
        Bound(field: "max_block_bytes", value: 1023, valid: false), Bound(field: "max_block_bytes", value: 1024, valid: true),
        Bound(field: "max_block_bytes", value: 64 << 20, valid: true), Bound(field: "max_block_bytes", value: (64 << 20) + 1, valid: false),
        Bound(field: "max_clock_drift_ms", value: 600_000, valid: true),
        Bound(field: "max_clock_drift_ms", value: 600_001, valid: false),
    ]

    @Test("consensus bounds", arguments: bounds)
    func consensusBound(_ b: Bound) throws {
        var g = F.valid()
        switch b.field {
        case "tick_ms": g.consensus.tickMillis = b.value
        case "request_timeout_ticks": g.consensus.requestTimeoutTicks = b.value
        case "max_view_change_timeout_ticks": g.consensus.maxViewChangeTimeoutTicks = b.value
        case "checkpoint_interval": g.consensus.checkpointInterval = b.value
        case "watermark_window": g.consensus.watermarkWindow = b.value
        case "max_block_transactions": g.consensus.maxBlockTransactions = b.value
        case "max_block_bytes": g.consensus.maxBlockBytes = b.value
        default: g.consensus.maxClockDriftMillis = b.value
        }
        if b.valid {
            try g.validate()
        } else {
            // A value that breaks a relation is reported on the field whose rule it breaks.
            let expected = b.field == "request_timeout_ticks" && b.value == 161 ? "max_view_change_timeout_ticks"
                : b.field == "checkpoint_interval" && b.value == 129 ? "watermark_window" : b.field
            #expect { try g.validate() } throws: { ($0 as? GenesisError)?.field == "consensus.\(expected)" }
        }
    }

    @Test("threshold 1…n is accepted", arguments: [UInt64(1), 2, 3, 4])
    func thresholdAccepted(_ t: UInt64) throws {
        var g = F.valid()
        g.governanceThreshold = t
        try g.validate()
    }

    @Test("name rule", arguments: [("bank-a", true), ("a.b_c-9", true), (String(repeating: "z", count: 64), true),
                                   ("", false), ("Bank", false), ("bank a", false), ("bänk", false),
                                   (String(repeating: "z", count: 65), false)])
    func nameRule(_ name: String, _ valid: Bool) {
        #expect((NameRule.problem(name) == nil) == valid)
    }
}
