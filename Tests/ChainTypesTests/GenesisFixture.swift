import ChainTypes
import HansaCrypto

/// A valid 4-validator consortium: four validator banks, one commercial bank, an exporter, an
/// importer and an auditor; two observer nodes (an auditor's, and citybank's read replica);
/// three currencies and four opening deposits.
enum GenesisFixture {
    static let citybank = Fixture.key(21)
    static let exporter = Fixture.key(22)
    static let importer = Fixture.key(23)
    static let auditor = Fixture.key(24)
    static let auditorNode = Fixture.key(25)
    static let replicaNode = Fixture.key(26)

    static func bankAddress(_ i: Int) -> Address { Fixture.validatorKey(i).publicKey.address }

    static func valid(validatorCount: Int = 4) -> Genesis {
        let validators = (0..<validatorCount).map { Fixture.validator($0, tls: $0 == 0 ? Fixture.hash("tls 0") : nil) }
        var participants = validators.map {
            Participant(name: $0.name, publicKey: $0.publicKey, role: .validatorBank, bank: nil)
        }
        participants += [
            Participant(name: "citybank", publicKey: citybank.publicKey, role: .bank, bank: nil),
            Participant(name: "exporter-co", publicKey: exporter.publicKey, role: .exporter, bank: bankAddress(0)),
            Participant(name: "importer.co", publicKey: importer.publicKey, role: .importer,
                        bank: citybank.publicKey.address),
            Participant(name: "auditor_1", publicKey: auditor.publicKey, role: .auditor, bank: nil),
        ]
        let usd = try! CurrencyCode("USD"), eur = try! CurrencyCode("EUR"), jpy = try! CurrencyCode("JPY")
        return Genesis(
            chain: Fixture.chainA.id, genesisTimeMillis: 1_764_000_000_000,
            validators: try! ValidatorSet(validators),
            participants: participants,
            observers: [
                Observer(name: "auditor-node", nodeKey: auditorNode.publicKey, role: .auditor, bank: nil,
                         tlsSPKISHA256: Fixture.hash("tls auditor-node")),
                Observer(name: "citybank-replica", nodeKey: replicaNode.publicKey, role: .replica,
                         bank: citybank.publicKey.address, tlsSPKISHA256: Fixture.hash("tls citybank-replica")),
            ],
            currencies: [
                Currency(code: usd, decimals: 2, issuers: [bankAddress(0), citybank.publicKey.address]),
                Currency(code: eur, decimals: 2, issuers: [bankAddress(1)]),
                Currency(code: jpy, decimals: 0, issuers: [bankAddress(0)]),
            ],
            deposits: [
                Deposit(account: exporter.publicKey.address, currency: usd, amount: 125_000_000),
                Deposit(account: importer.publicKey.address, currency: usd, amount: 50_000),
                Deposit(account: bankAddress(1), currency: eur, amount: 1_000_000),
                Deposit(account: exporter.publicKey.address, currency: jpy, amount: 1_000),
            ],
            consensus: .standard,
            governanceThreshold: 3)
    }

    /// Index in `g.participants` (which is sorted by address) of the participant named `name`.
    static func participant(_ name: String, in g: Genesis) -> Int {
        guard let i = g.participants.firstIndex(where: { $0.name == name }) else {
            preconditionFailure("fixture has no participant \(name)")
        }
        return i
    }

    /// Index in `g.observers` (sorted by node-key address) of the observer named `name`.
    static func observer(_ name: String, in g: Genesis) -> Int {
        guard let i = g.observers.firstIndex(where: { $0.name == name }) else {
            preconditionFailure("fixture has no observer \(name)")
        }
        return i
    }

    static func currency(_ code: String, in g: Genesis) -> Int {
        g.currencies.firstIndex { $0.code.value == code }!
    }

    static func validatorIndex(_ name: String, in g: Genesis) -> Int {
        g.validators.validators.firstIndex { $0.name == name }!
    }
}
