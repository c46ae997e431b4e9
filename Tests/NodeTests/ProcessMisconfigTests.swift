import ChainTypes
import Foundation
import HansaConfig
import HansaCrypto
import Ledger
import LevelDBStore
import NIOCore
import NIOPosix
import Testing

/// A misconfigured node says what is wrong in one sentence, exits non-zero, and writes nothing.
@Suite("Node processes: misconfiguration", .serialized)
struct ProcessMisconfigTests {
    /// The problem is one line, `Error: <sentence>`, the last one; lines before it may only be
    /// informational (the HTTP server that started first), never warnings or errors.
    static func oneSentence(_ stderr: String) -> Bool {
        let lines = stderr.split(separator: "\n")
        guard let last = lines.last, last.hasPrefix("Error: ") else { return false }
        return lines.dropLast().allSatisfy { $0.contains(" info ") && !$0.hasPrefix("Error") }
    }

    @Test("a port in use: one sentence naming the address, exit 1, no data directory made")
    func portInUse() async throws {
        try await NetworkGate.exclusive {
            let net = try ProcessNetwork()
            defer { net.clean() }
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let squatter = try await ServerBootstrap(group: group).bind(host: "127.0.0.1", port: net.p2pPorts[0]).get()
            let r = try await net.runOnce(["node", "run", "--home", net.homes[0]])
            #expect(r.status == 1)
            #expect(r.err.contains("cannot listen for peers on 127.0.0.1:\(net.p2pPorts[0])"), "\(r.err)")
            #expect(ProcessMisconfigTests.oneSentence(r.err), "\(r.err)")
            #expect(!FileManager.default.fileExists(atPath: "\(net.homes[0])/data"))
            try await squatter.close()
            try await group.shutdownGracefully()
        }
    }

    @Test("a data directory of another chain is refused and still opens as its own chain")
    func anotherChainsData() async throws {
        try await NetworkGate.exclusive {
            let net = try ProcessNetwork()
            defer { net.clean() }
            // Validator 0 runs once on this chain, then its genesis is replaced by another chain's.
            try net.start(0)
            #expect(await net.eventually(20) { net.log(0).contains("node started") })
            #expect(await net.terminate(0) == 0)
            var other = net.dev.genesis
            other.genesisTimeMillis += 1
            let home = net.homes[0]
            try GenesisFile.write(other, to: "\(home)/genesis.json")
            let r = try await net.runOnce(["node", "run", "--home", home])
            #expect(r.status == 1)
            #expect(r.err.contains("data directory") && r.err.contains("genesis"), "\(r.err)")
            #expect(ProcessMisconfigTests.oneSentence(r.err), "\(r.err)")
            let store = try LevelDBLedgerStore.openReadOnly(path: "\(home)/data")
            #expect(try Ledger(store: store, genesis: net.dev.genesis).head.height == 0)
        }
    }

    @Test("a node key that genesis does not know, and a missing certificate, are each one sentence and exit 1")
    func keyAndCertificate() async throws {
        try await NetworkGate.exclusive {
            let net = try ProcessNetwork()
            defer { net.clean() }
            let home = net.homes[1]
            try FileManager.default.removeItem(atPath: "\(home)/node.key")
            try KeyFile.write(PrivateKey.generate(), to: "\(home)/node.key")
            let r1 = try await net.runOnce(["node", "run", "--home", home])
            #expect(r1.status == 1)
            #expect(r1.err.contains("genesis"), "\(r1.err)")
            let home2 = net.homes[2]
            try FileManager.default.removeItem(atPath: "\(home2)/tls/cert.pem")
            let r2 = try await net.runOnce(["node", "run", "--home", home2])
            #expect(r2.status == 1)
            #expect(r2.err.contains("cert.pem"), "\(r2.err)")
            for r in [r1, r2] { #expect(ProcessMisconfigTests.oneSentence(r.err), "\(r.err)") }
            #expect(!FileManager.default.fileExists(atPath: "\(home)/data") && !FileManager.default.fileExists(atPath: "\(home2)/data"))
        }
    }
}
