import ChainTypes
import Foundation
import HansaConfig
import HansaTestSupport
import Testing

@Suite("Genesis file")
struct GenesisFileTests {
    @Test func roundTripsThroughJSON() throws {
        let g = try Fixture.build(Fixture.template())
        let data = GenesisFile.encode(g)
        let back = try GenesisFile.decode(data, file: "g.json")
        #expect(back == g)
        #expect(back.hash == g.hash)
        #expect(GenesisFile.encode(back) == data)
    }

    @Test func canonicalBytesRoundTrip() throws {
        let g = try Fixture.build(Fixture.template())
        let back = try Genesis(canonicalBytes: g.canonicalBytes)
        #expect(back == g)
        #expect(back.canonicalBytes == g.canonicalBytes)
    }

    /// Edits a field of the JSON and expects the named field in the error.
    static let edits: [(String, String, String)] = [
        ("\"amount\" : \"5000000.25\"", "\"amount\" : \"5000001.25\"", "genesis_hash"),
        ("\"chain_id\" : \"hansa-test\"", "\"chain_id\" : \"hansa-other\"", "genesis_hash"),
        ("\"format\" : \"hansa-genesis-v3\"", "\"format\" : \"hansa-genesis-v4\"", "format"),
        ("\"role\" : \"carrier\"", "\"role\" : \"pilot\"", "].role"),
        ("\"threshold\" : 3", "\"threshold\" : 3, \"extra\" : 1", "governance.extra"),
        ("\"tick_ms\" : 100", "\"tick_ms\" : \"100\"", "consensus.tick_ms"),
        ("\"role\" : \"auditor\"", "\"role\" : \"spy\"", "].role"),
        ("\"role\" : \"replica\"", "\"role\" : \"regulator\"", "].bank"),
        ("\"tls_spki_sha256\" : \"\(String(repeating: "cd", count: 32))\"", "\"tls_spki_sha256\" : \"cd\"", "].tls_spki_sha256"),
    ]

    @Test(arguments: edits)
    func editedFilesAreRefused(_ find: String, _ replace: String, _ field: String) throws {
        let g = try Fixture.build(Fixture.template())
        let text = String(decoding: GenesisFile.encode(g), as: UTF8.self)
        #expect(text.contains(find), "fixture changed: \(find)")
        let edited = text.replacingOccurrences(of: find, with: replace)
        do {
            _ = try GenesisFile.decode(Data(edited.utf8), file: "g.json")
            Issue.record("edited genesis accepted")
        } catch let ConfigError.field(_, f, _) {
            #expect(f.hasSuffix(field), "field was \(f)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func theShippedTemplateBuildsWithFreshKeys() throws {
        let dir = Fixture.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let template = repositoryRoot() + "/genesis/consortium.toml"
        let text = try String(contentsOfFile: template, encoding: .utf8)
        let names = text.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("key = \"") else { return nil }
            return String(line.dropFirst(7).prefix { $0 != "\"" })
        }
        #expect(names.count == 15)
        for name in names { try KeyFile.write(PrivateKey.generate(), to: "\(dir)/\(name).key") }
        let g = try GenesisTemplate(file: template, keysDirectory: dir).build(now: { 0 })
        #expect(g.validators.count == 4)
        #expect(Set(g.participants.map(\.role)) == Set(Role.allCases))
        #expect(Set(g.observers.map(\.name)) == ["auditor-node", "regulator-node"])
    }

    /// An observer's pin is required in the file as in the template.
    @Test func observerWithoutPinIsRefused() throws {
        let g = try Fixture.build(Fixture.template())
        var json = try #require(try JSONSerialization.jsonObject(with: GenesisFile.encode(g)) as? [String: Any])
        var observers = try #require(json["observers"] as? [[String: Any]])
        #expect(observers.count == 2)
        observers[1]["tls_spki_sha256"] = nil
        json["observers"] = observers
        let edited = try JSONSerialization.data(withJSONObject: json)
        do {
            _ = try GenesisFile.decode(edited, file: "g.json")
            Issue.record("observer without a pin accepted")
        } catch let ConfigError.field(_, f, problem) {
            #expect(f == "observers[1].tls_spki_sha256")
            #expect(problem.contains("is missing"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}

