import ChainTypes
import Foundation
import Ledger
import LevelDBStore
import Node
import Testing

/// Issue 17's "done when", on separate processes: `hansa node run` × 4 validators + 1
/// observer, with keys, certificates and genesis made by the CLI.
@Suite("Node processes (hansa node run)", .serialized)
struct ProcessTests {
    @Test("a transfer commits on all five; SIGTERM exits 0 with the data intact; a restart resumes from its head")
    func commitsAndStopsCleanly() async throws {
        try await NetworkGate.exclusive {
            let net = try ProcessNetwork()
            defer { net.clean() }
            try await net.startAll()
            let r = try await net.commit(from: 0, to: 1)
            #expect(r.receipt.status == .success)
            #expect(await net.eventually { (0..<4).allSatisfy { (net.height($0) ?? 0) >= r.height } }, "\(net.describe())")
            let block = try #require(try net.client?.snapshot?.block(at: r.height))

            // Each process serves /health and /metrics on its loopback HTTP port.
            let health = try await TinyHTTP.get(port: net.httpPorts[0], path: "/health")
            #expect(health.status == 200, "\(health.body)")
            #expect(health.body.contains("\"status\":\"ok\"") || health.body.contains("\"status\" : \"ok\""), "\(health.body)")
            let metrics = try await TinyHTTP.get(port: net.httpPorts[1], path: "/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.body.contains("hansa_height"), "\(metrics.body.prefix(400))")
            #expect(metrics.body.contains("hansa_transactions_committed_total"))
            let observerHealth = try await TinyHTTP.get(port: net.httpPorts[ProcessNetwork.observer], path: "/health")
            #expect(observerHealth.body.contains("observer"), "\(observerHealth.body)")

            // The observer process: SIGTERM, exit 0, and its directory holds the same block.
            // Validators push each block to observers as they commit it.
            try await Task.sleep(for: .seconds(2))
            #expect(await net.terminate(ProcessNetwork.observer) == 0)
            let store = try LevelDBLedgerStore.openReadOnly(path: "\(net.homes[ProcessNetwork.observer])/data")
            let ledger = try Ledger(store: store, genesis: net.dev.genesis)
            #expect(try ledger.block(at: r.height)?.hash == block.hash)

            // A validator: SIGTERM, exit 0; started again it resumes from its head (no replay).
            let before = try #require(net.height(1))
            #expect(await net.terminate(1) == 0)
            #expect(net.log(1).contains("node stopped"))
            try net.start(1)
            #expect(await net.eventually { net.log(1).components(separatedBy: "node started").count == 3 })
            let restartLine = net.log(1).components(separatedBy: "\n").last { $0.contains("node started") } ?? ""
            let startHeight = restartLine.components(separatedBy: "height=").dropFirst().first?.prefix { $0.isNumber }
            #expect(UInt64(startHeight ?? "") ?? 0 >= max(before, 1), "\(restartLine)")
            let r2 = try await net.commit(from: 2, to: 3)
            #expect(await net.eventually { (net.height(1) ?? 0) >= r2.height }, "\(net.describe())")
            await net.stopAll()
        }
    }

    @Test("kill -9 of a backup: the others go on and it catches up after a restart; kill -9 of the primary: a view change, and on")
    func killNine() async throws {
        try await NetworkGate.exclusive {
            let net = try ProcessNetwork()
            defer { net.clean() }
            try await net.startAll()
            _ = try await net.commit(from: 0, to: 1)
            net.kill9(2)
            let r1 = try await net.commit(from: 1, to: 2)
            try net.start(2)
            #expect(await net.eventually { (net.height(2) ?? 0) >= r1.height }, "\(net.describe())")
            // Validator 0 is the primary of view 0.
            net.kill9(0)
            let r2 = try await net.commit(from: 3, to: 4, timeout: .seconds(90))
            #expect(r2.height > r1.height)
            #expect(net.log(1).contains("view changed") || net.log(3).contains("view changed"))
            try net.start(0)
            #expect(await net.eventually(60) { (net.height(0) ?? 0) >= r2.height }, "\(net.describe())")
            await net.stopAll()
        }
    }

    @Test("a validator started with an empty directory syncs to the head, then its vote is needed and given")
    func emptyValidatorJoins() async throws {
        try await NetworkGate.exclusive {
            let net = try ProcessNetwork()
            defer { net.clean() }
            for i in [0, 1, 2, 4] { try net.start(i) }
            try await net.startClient()
            var last: CommittedReceipt?
            for u in 0..<3 { last = try await net.commit(from: u, to: u + 1) }
            let head = try #require(last).height
            try net.start(3)
            #expect(await net.eventually { (net.height(3) ?? 0) >= head }, "\(net.describe())")
            net.kill9(2)
            let r = try await net.commit(from: 5, to: 6, timeout: .seconds(90))
            #expect(r.height > head)
            await net.stopAll()
        }
    }
}
