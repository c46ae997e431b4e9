import ChainTypes
import Foundation
import HansaConfig
import HansaTestSupport
import Testing

/// Runs the built `hansa` executable (it sits beside the test bundle after `swift build --build-tests`).
@Suite("hansa command line")
struct CLITests {
    @Test func keygenWritesAKeyAndRefusesToOverwrite() throws {
        let dir = Fixture.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try HansaExecutable.run(["keygen", "--out", dir + "/a.key"])
        #expect(first.status == 0)
        let key = try KeyFile.read(dir + "/a.key")
        #expect(first.out.contains(key.publicKey.address.text))
        #expect(first.out.contains(key.publicKey.hex))
        let second = try HansaExecutable.run(["keygen", "--out", dir + "/a.key"])
        #expect(second.status != 0)
        #expect(second.err.contains("refusing to overwrite"))
        #expect(try KeyFile.read(dir + "/a.key").secret == key.secret)
    }

    @Test func genesisBuildsFromTemplateAndPrintsTheHash() throws {
        let dir = Fixture.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let template = dir + "/t.toml"
        try Fixture.template().write(toFile: template, atomically: true, encoding: .utf8)
        let result = try HansaExecutable.run(["genesis", template, "--out", dir + "/genesis.json"])
        #expect(result.status == 0, "\(result.err)")
        let genesis = try GenesisFile.read(dir + "/genesis.json")
        #expect(result.out.contains("genesis hash: \(genesis.hash.hex)"))
        let show = try HansaExecutable.run(["genesis", "show", dir + "/genesis.json"])
        #expect(show.out.contains(genesis.hash.hex))
        let again = try HansaExecutable.run(["genesis", template, "--out", dir + "/genesis.json"])
        #expect(again.status != 0)
        #expect(again.err.contains("already exists"))
    }

    @Test func badTemplateGivesOneClearLine() throws {
        let dir = Fixture.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let template = dir + "/t.toml"
        try Fixture.template().replacingOccurrences(of: "role = \"carrier\"", with: "role = \"captain\"")
            .write(toFile: template, atomically: true, encoding: .utf8)
        let result = try HansaExecutable.run(["genesis", template, "--out", dir + "/genesis.json"])
        #expect(result.status != 0)
        #expect(result.err.contains("participants[2].role: unknown role \"captain\""), "\(result.err)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/genesis.json"))
    }

    @Test("hansa demo runs a letter of credit to payment and expiry on the real VM and ledger")
    func demo() throws {
        let result = try HansaExecutable.run(["demo", "--contract", repositoryRoot() + "/contracts/letter_of_credit.hc"])
        #expect(result.status == 0, "\(result.err)")
        // The notice's words come from the contract's constant D_INSURANCE_AMOUNT (1024).
        for line in ["Issued(27500000)", "Discrepant(1, 1024)", "every discrepancy (Art. 16(c)): insurance below 110 % (Art. 28(f)(ii))",
                     "Waived(1)", "Paid(1,", "Expired(2500000)",
                     "importer 750,000.00", "exporter 250,000.00", "escrow 0.00"] {
            #expect(result.out.contains(line), "missing \(line)")
        }
        #expect(!result.out.contains("FAILED"))
    }
}
