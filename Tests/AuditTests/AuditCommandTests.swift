import Audit
import Foundation
import HansaTestSupport
import HansaConfig
import Ledger
import LevelDBStore
import Testing

/// `hansa audit verify` and `hansa export` as a user runs them: exit codes and what they print.
@Suite struct AuditCommandTests {
    let chain = AuditChain.shared

    @Test func verifyExportVerify() throws {
        let v = try HansaExecutable.run(["audit", "verify", "--genesis", chain.genesisFile, "--data-dir", chain.directory])
        #expect(v.status == 0, "\(v.err)")
        #expect(v.out.contains("verified the data directory") && v.out.contains("\(chain.height) blocks"), "\(v.out)")
        let out = AuditChain.base + "/export-\(UUID().uuidString)"
        let e = try HansaExecutable.run(["export", "--genesis", chain.genesisFile, "--data-dir", chain.directory, "--out", out])
        #expect(e.status == 0, "\(e.err)")
        #expect(e.out.contains("exported \(chain.height) blocks"), "\(e.out)")
        let a = try HansaExecutable.run(["audit", "verify", "--genesis", chain.genesisFile, "--archive", out, "--json"])
        #expect(a.status == 0, "\(a.err)")
        #expect(a.out.contains("\"verified\": true"), "\(a.out)")
    }

    @Test func aDiscrepancyExitsTwoWithItsHeight() throws {
        let dir = try chain.tamperedDirectory { store in
            var c = try chain.certificate(at: 3, in: store)
            c.signers.removeLast()
            try chain.put(store, AuditChain.key("c/", 3), c.canonicalBytes)
        }
        let v = try HansaExecutable.run(["audit", "verify", "--genesis", chain.genesisFile, "--data-dir", dir])
        #expect(v.status == 2)
        #expect(v.err.contains("NOT VERIFIED") && v.err.contains("height 3") && v.err.contains("[certificate]"), "\(v.err)")
        let j = try HansaExecutable.run(["audit", "verify", "--genesis", chain.genesisFile, "--data-dir", dir, "--json"])
        #expect(j.status == 2 && j.out.contains("\"kind\": \"certificate\""), "\(j.out)")
    }

    @Test func anUnreadableSourceExitsThree() throws {
        let v = try HansaExecutable.run(["audit", "verify", "--genesis", chain.genesisFile, "--data-dir", "/nonexistent/hansa"])
        #expect(v.status == 3, "\(v.err)")
        #expect(v.err.contains("no LevelDB database"), "\(v.err)")
        let two = try HansaExecutable.run(["audit", "verify", "--genesis", chain.genesisFile, "--data-dir", chain.directory, "--archive", chain.archive])
        #expect(two.status != 0 && two.err.contains("exactly one source"), "\(two.err)")
    }

    @Test func aDevelopmentDirectoryIsNamedAsSuch() throws {
        let dir = AuditChain.base + "/dev-\(UUID().uuidString)"
        let w = try HansaExecutable.run(["dev", "ledger-writer", "--data-dir", dir, "--blocks", "2", "--transfers", "64"])
        #expect(w.status == 0, "\(w.err)")
        let genesis = AuditChain.base + "/dev-genesis-\(UUID().uuidString).json"
        try GenesisFile.write(DevChain(users: 64).genesis, to: genesis)
        let v = try HansaExecutable.run(["audit", "verify", "--genesis", genesis, "--data-dir", dir])
        #expect(v.status == 2 && v.err.contains("development data directory") && v.err.contains("[development]"), "\(v.err)")
    }
}

extension AuditCommandTests {
    @Test func aDataDirectoryStoresItsGenesis() throws {
        let show = try HansaExecutable.run(["genesis", "show", "--data-dir", chain.directory])
        #expect(show.status == 0 && show.out.contains("genesis hash: \(chain.genesis.hash.hex)"), "\(show.out)\(show.err)")
        let file = try HansaExecutable.run(["genesis", "show", "--data-dir", chain.directory, "--as-file"])
        #expect(try GenesisFile.decode(Data(file.out.utf8), file: "stdout").hash == chain.genesis.hash)
        // A stored genesis that is not the directory's is caught.
        let dir = try chain.tamperedDirectory { store in try chain.put(store, Array("m/genesis-encoded".utf8), DevChain(users: 1).genesis.canonicalBytes) }
        let v = try HansaExecutable.run(["audit", "verify", "--genesis", chain.genesisFile, "--data-dir", dir])
        #expect(v.status == 2 && v.err.contains("m/genesis-encoded"), "\(v.err)")
    }
}
