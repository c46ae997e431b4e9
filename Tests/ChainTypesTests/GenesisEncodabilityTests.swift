import Testing
import ChainTypes
import HansaCrypto

/// CanonicalWriter's invariant: the writer produces only bytes the reader accepts. For genesis
/// that means validate() must refuse anything whose encoding a node would then refuse to decode;
/// otherwise `hansa genesis` can publish a chain that peers cannot load.
@Suite("Genesis: what validates also decodes")
struct GenesisEncodabilityTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let apply: @Sendable (inout Genesis) -> Void
        var testDescription: String { name }
    }

    static func renameValidator(_ g: inout Genesis, to name: String) {
        var vs = g.validators.validators
        vs[0].name = name
        g.validators = try! ValidatorSet(vs)
    }

    /// Sets that decode as strictly ascending, given duplicates; and strings above the decoders'
    /// limits. validate() must refuse each.
    static let gaps: [Case] = [
        Case(name: "currency listed twice") { g in
            g.currencies.insert(g.currencies[0], at: 1)
        },
        Case(name: "deposit (account, currency) listed twice") { g in
            g.deposits.insert(g.deposits[0], at: 1)
        },
        Case(name: "issuer listed twice") { g in
            g.currencies[0].issuers = [g.currencies[0].issuers[0], g.currencies[0].issuers[0]]
        },
        Case(name: "observer listed twice") { g in
            g.observers.insert(g.observers[0], at: 1)
        },
        Case(name: "observer name of 65 bytes") { g in
            g.observers[0].name = String(repeating: "o", count: Limits.maxNameBytes + 1)
        },
        Case(name: "65 observers") { g in
            g.observers = (0...Limits.maxObservers).map {
                Observer(name: "obs-\($0)", nodeKey: Fixture.key(UInt8(100 + $0)).publicKey, role: .auditor, bank: nil,
                         tlsSPKISHA256: Fixture.hash("tls obs \($0)"))
            }.sorted { $0.address < $1.address }
        },
        Case(name: "validator name of 65 bytes") { g in
            renameValidator(&g, to: String(repeating: "v", count: Limits.maxNameBytes + 1))
        },
        Case(name: "p2p address of 256 bytes") { g in
            var vs = g.validators.validators
            vs[1].p2pAddress = String(repeating: "h", count: Limits.maxP2PAddressBytes - 4) + ":7000"
            g.validators = try! ValidatorSet(vs)
        },
    ]

    @Test("validate() refuses what cannot be decoded", arguments: gaps)
    func validatedGenesisDecodes(_ c: Case) {
        var g = GenesisFixture.valid()
        c.apply(&g)
        let validates = (try? g.validate()) != nil
        let decodes = (try? Genesis(canonicalBytes: g.canonicalBytes)) == g
        #expect(!validates || decodes, "validates: \(validates), decodes: \(decodes)")
        // The decoder's side is right: these bytes are not canonical.
        #expect(!decodes)
    }

    /// NameRule documents itself as the rule for participants *and* validators.
    @Test("validator names follow NameRule", arguments: ["", "Bank Zero", "bank/0"])
    func validatorNames(_ name: String) {
        var g = GenesisFixture.valid()
        Self.renameValidator(&g, to: name)
        #expect(NameRule.problem(name) != nil)
        #expect(throws: GenesisError.self) { try g.validate() }
    }
}
