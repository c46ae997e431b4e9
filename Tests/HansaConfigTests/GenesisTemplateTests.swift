import ChainTypes
import Foundation
import HansaConfig
import Testing

@Suite("Genesis template")
struct GenesisTemplateTests {
    @Test func validTemplateBuildsAndValidates() throws {
        let g = try Fixture.build(Fixture.template())
        #expect(g.chain.value == "hansa-test")
        #expect(g.genesisTimeMillis == 1_796_083_200_000) // 2026-12-01T00:00:00Z
        #expect(g.validators.count == 4)
        #expect(g.participants.count == 7)
        #expect(g.deposits.first?.amount == 500_000_025)
        #expect(g.governanceThreshold == 3)
        #expect(g.consensus.checkpointInterval == ConsensusParameters.standard.checkpointInterval)
        let importer = try #require(g.participants.first { $0.name == "importer-1" })
        #expect(importer.bank == Fixture.key("bank-a").publicKey.address)
        #expect(g.observers.count == 2)
        let auditor = try #require(g.observers.first { $0.name == "auditor-node" })
        #expect(auditor.role == .auditor && auditor.bank == nil)
        #expect(auditor.nodeKey == Fixture.key("auditor-node").publicKey)
        #expect(auditor.tlsSPKISHA256.hex == String(repeating: "cd", count: 32))
        let replica = try #require(g.observers.first { $0.name == "replica-a" })
        #expect(replica.role == .replica && replica.bank == Fixture.key("bank-a").publicKey.address)
        #expect(g.validators.validators.first { $0.name == "bank-d" }?.tlsSPKISHA256?.hex == String(repeating: "ab", count: 32))
        try g.validate()
    }

    @Test("hansa genesis --tls-pin and --p2p-address replace the template's values by name; a stray name or an observer's address is refused")
    func nodeOverrides() throws {
        let pin = String(repeating: "5a", count: 32)
        var template = GenesisTemplate(file: "t.toml", keysDirectory: nil, nodeOverrides: [
            "bank-a": .init(tlsSPKISHA256: pin, p2pAddress: "127.0.0.1:4242"), "auditor-node": .init(tlsSPKISHA256: String(repeating: "6b", count: 32))])
        let g = try template.build(text: Fixture.template(), now: { 1_000 })
        let a = try #require(g.validators.validators.first { $0.name == "bank-a" })
        #expect(a.tlsSPKISHA256?.hex == pin && a.p2pAddress == "127.0.0.1:4242")
        #expect(g.observers.first { $0.name == "auditor-node" }?.tlsSPKISHA256.hex == String(repeating: "6b", count: 32))
        // Everything else as written.
        let plain = try Fixture.build(Fixture.template())
        #expect(g.validators.validators.first { $0.name == "bank-b" } == plain.validators.validators.first { $0.name == "bank-b" })

        template.nodeOverrides = ["bank-z": .init(tlsSPKISHA256: pin)]
        #expect { try template.build(text: Fixture.template(), now: { 1_000 }) } throws: { "\($0)".contains("no validator or observer named \"bank-z\"") }
        template.nodeOverrides = ["auditor-node": .init(p2pAddress: "127.0.0.1:1")]
        #expect { try template.build(text: Fixture.template(), now: { 1_000 }) } throws: { "\($0)".contains("observers dial out") }
        template.nodeOverrides = ["bank-a": .init(tlsSPKISHA256: "not hex")]
        #expect { try template.build(text: Fixture.template(), now: { 1_000 }) } throws: { "\($0)".contains("64 hex digits") }
        template.nodeOverrides = ["bank-a": .init(p2pAddress: "nowhere")]
        #expect { try template.build(text: Fixture.template(), now: { 1_000 }) } throws: { "\($0)".contains("is not host:port") }
    }

    @Test func sameContentGivesSameHashWhateverTheOrder() throws {
        let a = try Fixture.build(Fixture.template())
        // Move the last validator block to the front: order in the template must not matter.
        let text = Fixture.template()
        let marker = "[[validators]]\nname = \"bank-d\""
        let start = try #require(text.range(of: marker))
        let end = try #require(text.range(of: "[[participants]]"))
        let block = String(text[start.lowerBound..<end.lowerBound])
        var reordered = text
        reordered.removeSubrange(start.lowerBound..<end.lowerBound)
        reordered = reordered.replacingOccurrences(of: "[[validators]]\nname = \"bank-a\"", with: block + "[[validators]]\nname = \"bank-a\"")
        let b = try Fixture.build(reordered)
        #expect(a.hash == b.hash)
    }

    @Test func genesisTimeDefaultsToNow() throws {
        let text = Fixture.template().replacingOccurrences(of: "genesis_time = 2026-12-01T00:00:00Z\n", with: "")
        #expect(try Fixture.build(text).genesisTimeMillis == 1_000)
    }

    /// (what is replaced, replacement, expected field, words the message must contain)
    static let badTemplates: [(String, String, String, String)] = [
        ("chain_id = \"hansa-test\"", "chain_id = \"Hansa Test\"", "chain_id", "must start with a lowercase letter"),
        ("chain_id = \"hansa-test\"", "", "chain_id", "is missing"),
        ("genesis_time = 2026-12-01T00:00:00Z", "genesis_time = 2026-12-01T00:00:00", "genesis_time", "date-time"),
        ("name = \"bank-b\"", "name = \"bank-a\"", "validators[1].name", "already used"),
        ("public_key = \"\(Fixture.pub("bank-b"))\"", "public_key = \"\(Fixture.pub("bank-a"))\"", "validators[1].public_key", "same key"),
        ("public_key = \"\(Fixture.pub("bank-b"))\"", "public_key = \"04abcd\"", "validators[1].public_key", "invalid public key"),
        ("public_key = \"\(Fixture.pub("bank-b"))\"", "", "validators[1].public_key", "is missing"),
        ("p2p_address = \"127.0.0.1:7103\"", "p2p_address = \"nowhere\"", "validators[2].p2p_address", "host:port"),
        ("tls_spki_sha256 = \"\(String(repeating: "ab", count: 32))\"", "tls_spki_sha256 = \"abc\"", "validators[3].tls_spki_sha256", "64 hex"),
        ("role = \"carrier\"", "role = \"pirate\"", "participants[2].role", "unknown role \"pirate\""),
        ("role = \"carrier\"", "role = \"validator_bank\"", "participants[2].role", "[[validators]]"),
        ("bank = \"bank-b\"", "bank = \"bank-z\"", "participants[0].bank", "no validator or participant"),
        ("bank = \"bank-b\"", "bank = \"carrier-1\"", "participants[0].bank", "not a bank"),
        ("issuers = [\"bank-a\", \"bank-b\"]", "issuers = [\"bank-a\", \"exporter-1\"]", "currencies[0].issuers[1]", "not a bank"),
        ("issuers = [\"bank-a\", \"bank-b\"]", "issuers = []", "currencies[0].issuers", "at least one"),
        ("code = \"USD\"", "code = \"usd\"", "currencies[0].code", "three uppercase letters"),
        ("decimals = 2", "decimals = 19", "currencies[0].decimals", "maximum"),
        ("decimals = 2", "decimals = -2", "currencies[0].decimals", "negative"),
        ("amount = \"5000000.25\"", "amount = \"-5.00\"", "deposits[0].amount", "negative"),
        ("amount = \"5000000.25\"", "amount = -5", "deposits[0].amount", "negative"),
        ("amount = \"5000000.25\"", "amount = \"5.001\"", "deposits[0].amount", "3 digits after the point"),
        ("amount = \"5000000.25\"", "amount = \"0\"", "deposits[0].amount", "zero"),
        ("amount = \"5000000.25\"", "amount = 5.5", "deposits[0].amount", "floating-point"),
        ("currency = \"USD\"", "currency = \"GBP\"", "deposits[0].currency", "not listed"),
        ("account = \"importer-1\"", "account = \"nobody\"", "deposits[0].account", "no validator or participant"),
        ("threshold = 3", "threshold = 5", "governance.threshold", "between 1 and the number of validators"),
        ("threshold = 3", "threshold = 0", "governance.threshold", "between 1"),
        ("tick_ms = 100", "tick_ms = 1", "consensus.tick_ms", "10 to 60000"),
        ("request_timeout_ticks = 20", "request_timeout_ticks = 20\nwatermark_window = 10", "consensus.watermark_window", "twice checkpoint_interval"),
        ("request_timeout_ticks = 20", "request_timeout_tiks = 20", "consensus.request_timeout_tiks", "unknown key"),
        ("chain_id = \"hansa-test\"", "chain_id = \"hansa-test\"\ncolour = \"blue\"", "colour", "unknown key"),
        // [[observers]]: non-voting nodes, each with its TLS key pinned.
        ("tls_spki_sha256 = \"\(String(repeating: "cd", count: 32))\"", "", "observers[0].tls_spki_sha256", "is missing"),
        ("tls_spki_sha256 = \"\(String(repeating: "cd", count: 32))\"", "tls_spki_sha256 = \"cdcd\"", "observers[0].tls_spki_sha256", "64 hex"),
        ("role = \"replica\"\nbank = \"bank-a\"", "role = \"replica\"", "observers[1].bank", "a replica names the bank"),
        ("role = \"replica\"\nbank = \"bank-a\"", "role = \"replica\"\nbank = \"carrier-1\"", "observers[1].bank", "not a bank"),
        ("role = \"replica\"\nbank = \"bank-a\"", "role = \"replica\"\nbank = \"bank-q\"", "observers[1].bank", "no validator or participant"),
        ("role = \"auditor\"", "role = \"auditor\"\nbank = \"bank-a\"", "observers[0].bank", "only a replica names a bank"),
        ("role = \"auditor\"", "role = \"spy\"", "observers[0].role", "unknown observer role \"spy\"; expected one of auditor, regulator, replica"),
        ("name = \"auditor-node\"", "name = \"carrier-1\"", "observers[0].name", "already used"),
        ("name = \"replica-a\"", "name = \"auditor-node\"", "observers[1].name", "already used"),
        ("public_key = \"\(Fixture.pub("auditor-node"))\"", "public_key = \"\(Fixture.pub("bank-c"))\"", "observers[0].public_key", "same key as bank-c's"),
        ("public_key = \"\(Fixture.pub("auditor-node"))\"", "", "observers[0].public_key", "is missing"),
        ("role = \"auditor\"", "role = \"auditor\"\np2p_address = \"127.0.0.1:1\"", "observers[0].p2p_address", "unknown key"),
    ]

    @Test(arguments: badTemplates)
    func badTemplateNamesTheField(_ find: String, _ replace: String, _ field: String, _ words: String) throws {
        let text = Fixture.template()
        #expect(text.contains(find), "fixture changed: \(find)")
        let bad = text.replacingOccurrences(of: find, with: replace, options: [], range: text.range(of: find))
        do {
            _ = try Fixture.build(bad)
            Issue.record("template accepted: \(replace)")
        } catch let ConfigError.field(_, f, problem) {
            #expect(f == field)
            #expect(problem.contains(words), "message: \(problem)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func fewerThanFourValidatorsIsRefused() throws {
        var text = Fixture.template()
        let start = try #require(text.range(of: "[[validators]]\nname = \"bank-d\""))
        let end = try #require(text.range(of: "[[participants]]"))
        text.removeSubrange(start.lowerBound..<end.lowerBound)
        #expect(throws: ConfigError.self) { try Fixture.build(text) }
        do { _ = try Fixture.build(text) } catch {
            #expect(error.description.contains("at least 4 validator banks"))
            #expect(error.description.contains("found 3"))
        }
    }

    @Test func duplicateTOMLKeyIsASyntaxErrorWithLine() {
        let text = Fixture.template().replacingOccurrences(of: "decimals = 2", with: "decimals = 2\ndecimals = 3")
        do {
            _ = try Fixture.build(text)
            Issue.record("duplicate key accepted")
        } catch let ConfigError.syntax(path, line, column, message) {
            #expect(path == "t.toml")
            #expect(line != nil && column != nil)
            #expect(!message.isEmpty)
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func keyFilesResolveFromTheKeysDirectory() throws {
        let dir = Fixture.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try KeyFile.write(Fixture.key("bank-a"), to: dir + "/bank-a.key")
        let text = Fixture.template().replacingOccurrences(of: "public_key = \"\(Fixture.pub("bank-a"))\"", with: "key = \"bank-a\"")
        let g = try Fixture.build(text, keysDir: dir)
        #expect(g.validators.validators.contains { $0.publicKey == Fixture.key("bank-a").publicKey })
        // Without --keys-dir, or with a missing file, the error names the problem.
        #expect(throws: ConfigError.self) { try Fixture.build(text) }
        let missing = text.replacingOccurrences(of: "key = \"bank-a\"", with: "key = \"bank-q\"")
        do { _ = try Fixture.build(missing, keysDir: dir) } catch {
            #expect(error.description.contains("bank-q.key"))
            #expect(error.description.contains("no such file"))
        }
    }
}
