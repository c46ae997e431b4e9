import ChainTypes
import Foundation
import Ledger
@testable import Node
import Testing

/// Four validators in this process over real TLS on 127.0.0.1: transactions commit
/// everywhere, a stopped backup restarts and catches up, a stopped primary is replaced by a
/// view change, and a node started empty syncs to the head. Serialized: each test runs its
/// own network, and two at once would starve each other on a 2-core machine.
@Suite("Node network (in process)", .serialized)
struct NetworkTests {
    @Test("a batch submitted to one validator: each transaction's outcome in order, the good ones relayed together and committed")
    func batchIntake() async throws {
        try await NetworkGate.exclusive {
            let net = try TestNetwork()
            try await net.start()
            let a = net.transfer(from: 0, to: 1), b = net.transfer(from: 2, to: 3)
            var bytes = net.transfer(from: 4, to: 5).canonicalBytes
            bytes[bytes.count - 3] ^= 1
            let forged = try Transaction(canonicalBytes: bytes)
            let results = await net.running[1].submit(batch: [a, forged, b])
            #expect(try results[0].get() == a.hash && results[0] != results[2])
            #expect(results[1] == .failure(.refused(.badSignature)))
            // Both commit, also where they were relayed to (one gossip message for the two).
            for h in [a.hash, b.hash] {
                let r = try #require(await net.running[1].receipt(of: h, timeout: .seconds(30)))
                #expect(r.receipt.status == .success)
                #expect(await net.running[3].receipt(of: h, timeout: .seconds(30)) != nil)
            }
            await net.stopAll()
        }
    }

    @Test("a transfer submitted to one validator commits on all four and the observer, with the same block")
    func commitsEverywhere() async throws {
        try await NetworkGate.exclusive {
            let net = try TestNetwork()
            try await net.start()
            let tx = net.transfer(from: 0, to: 1)
            let hash = try await net.running[2].submit(tx)
            let receipt = try #require(await net.running[2].receipt(of: hash, timeout: .seconds(30)))
            #expect(receipt.receipt.status == .success)
            #expect(await net.eventually { net.allAt(receipt.height) })
            let hashes = net.hashes(at: receipt.height)
            #expect(hashes.count == 5)
            #expect(Set(hashes.compactMap { $0 }).count == 1 && hashes.allSatisfy { $0 != nil })
            // Every node's receipt agrees (the block executed the same everywhere).
            for node in net.running {
                let r = try #require(await node.receipt(of: hash, timeout: .seconds(10)))
                #expect(r == receipt)
            }
            await net.stopAll()
        }
    }

    @Test("a backup that stops and restarts on its directory catches up without replay from genesis")
    func backupRestartsAndCatchesUp() async throws {
        try await NetworkGate.exclusive {
            let net = try TestNetwork()
            try await net.start()
            let first = try await net.running[0].submit(net.transfer(from: 0, to: 1))
            let r1 = try #require(await net.running[0].receipt(of: first, timeout: .seconds(30)))
            #expect(await net.eventually { net.allAt(r1.height) })
            let heightAtStop = try #require(net.nodes[3]?.status).height
            await net.stop(3)
            // The other three (a quorum) go on.
            var last = r1
            for _ in 0..<3 {
                let h = try await net.nodes[1]!.submit(net.transfer(from: 2, to: 3))
                last = try #require(await net.nodes[1]!.receipt(of: h, timeout: .seconds(30)))
            }
            #expect(last.height > r1.height)
            try await net.start([3])
            // It starts from its own head, not from genesis, and syncs the rest.
            #expect(try #require(net.nodes[3]).startHeight == heightAtStop)
            #expect(await net.eventually { (net.nodes[3]?.status?.height ?? 0) >= last.height })
            #expect(Set(net.hashes(at: last.height).compactMap { $0 }).count == 1)
            await net.stopAll()
        }
    }

    @Test("the primary stops: a view change installs a new primary and the network goes on")
    func primaryStops() async throws {
        try await NetworkGate.exclusive {
            let net = try TestNetwork()
            try await net.start()
            let h0 = try await net.running[0].submit(net.transfer(from: 0, to: 1))
            _ = try #require(await net.running[0].receipt(of: h0, timeout: .seconds(30)))
            let primary = try #require(net.nodes[0]?.status?.primary)
            await net.stop(primary)
            let backup = (primary + 1) % 4
            let h = try await net.nodes[backup]!.submit(net.transfer(from: 4, to: 5))
            let r = try #require(await net.nodes[backup]!.receipt(of: h, timeout: .seconds(60)))
            #expect(r.receipt.status == .success)
            let status = try #require(net.nodes[backup]?.status)
            #expect(status.view > 0)
            #expect(status.primary != primary)
            await net.stopAll()
        }
    }

    @Test("a transaction submitted to the observer is forwarded, commits, and the observer follows; stopping the observer stops nothing")
    func observerForwardsAndFollows() async throws {
        try await NetworkGate.exclusive {
            let net = try TestNetwork()
            try await net.start()
            let observer = try #require(net.nodes[TestNetwork.observer])
            #expect(observer.role == .observer)
            let h = try await observer.submit(net.transfer(from: 3, to: 4))
            let r = try #require(await observer.receipt(of: h, timeout: .seconds(30)))
            #expect(r.receipt.status == .success)
            #expect(await net.eventually { net.allAt(r.height) })
            await net.stop(TestNetwork.observer)
            let h2 = try await net.nodes[0]!.submit(net.transfer(from: 3, to: 4))
            #expect(await net.nodes[0]!.receipt(of: h2, timeout: .seconds(30)) != nil)
            // Started again on its directory, it catches up from where it stopped.
            try await net.start([TestNetwork.observer])
            let head = try #require(net.nodes[0]?.status).height
            #expect(await net.eventually { (net.nodes[TestNetwork.observer]?.status?.height ?? 0) >= head })
            await net.stopAll()
        }
    }

    @Test("a validator started with an empty directory syncs to the head, then votes")
    func emptyNodeSyncsThenVotes() async throws {
        try await NetworkGate.exclusive {
            let net = try TestNetwork()
            try await net.start([0, 1, 2])
            var last: CommittedReceipt?
            for _ in 0..<4 {
                let h = try await net.nodes[0]!.submit(net.transfer(from: 0, to: 1))
                let r = await net.nodes[0]!.receipt(of: h, timeout: .seconds(30))
                try #require(r != nil)
                last = r
            }
            let head = try #require(last).height
            try await net.start([3])
            #expect(await net.eventually { (net.nodes[3]?.status?.height ?? 0) >= head })
            // Then it takes part: with another validator stopped, no quorum exists without it.
            await net.stop(2)
            let h = try await net.nodes[3]!.submit(net.transfer(from: 6, to: 7))
            let r = try #require(await net.nodes[3]!.receipt(of: h, timeout: .seconds(60)))
            #expect(r.height > head)
            await net.stopAll()
        }
    }
}

@Suite("Node network: sync from several peers", .serialized)
struct ParallelSyncTests {
    @Test("an empty validator fetches disjoint ranges from several peers at once and commits them in order")
    func parallelRanges() async throws {
        try await NetworkGate.exclusive {
            let net = try TestNetwork()
            net.syncBatchBlocks = 2
            net.syncGatherMillis = 10_000  // the first sync waits for all three heads
            try await net.start([0, 1, 2])
            var last: CommittedReceipt?
            for u in 0..<8 {
                last = await net.nodes[0]!.receipt(of: try await net.nodes[0]!.submit(net.transfer(from: u, to: (u + 1) % 8)),
                                                   timeout: .seconds(30))
                try #require(last != nil)
            }
            let head = try #require(last).height
            #expect(head >= 8)
            #expect(await net.eventually { net.allAt(head) })
            try await net.start([3])
            #expect(await net.eventually { (net.nodes[3]?.status?.height ?? 0) >= head }, "\(net.describe())")
            let asked = try #require(net.nodes[3]?.status?.syncRequestsSent)
            #expect(asked.count >= 2, "ranges came from \(asked)")
            #expect(try #require(net.nodes[3]?.status).peakParallelSync >= 2, "the requests went one at a time")
            #expect(Set(net.hashes(at: head).compactMap { $0 }).count == 1)
            await net.stopAll()
        }
    }
}

/// Failures other BFT systems shipped, each turned into a test (issue 17, "Block sync").
@Suite("Node network: known failures of other systems", .serialized)
struct KnownFailureTests {
    /// Hyperledger Fabric's SmartBFT orderer (fabric-x-orderer#57): two recovering nodes chose
    /// each other as sync source and deadlocked. Here two validators restart empty at once;
    /// neither is ahead of the other, so neither asks the other, and with only two nodes
    /// that kept their data no quorum exists until both have synced and vote.
    @Test("two validators restarted empty at the same time both sync from the others and the network goes on")
    func twoRecoveringNodes() async throws {
        try await NetworkGate.exclusive {
            let net = try TestNetwork()
            try await net.start()
            var last: CommittedReceipt?
            for _ in 0..<3 {
                let h = try await net.nodes[0]!.submit(net.transfer(from: 0, to: 1))
                last = await net.nodes[0]!.receipt(of: h, timeout: .seconds(30))
                try #require(last != nil)
            }
            await net.stop(2)
            await net.stop(3)
            for i in [2, 3] { try FileManager.default.removeItem(atPath: "\(net.root)/node-\(i)") }
            try await net.start([2, 3])
            let head = try #require(last).height
            #expect(await net.eventually { net.allAt(head) })
            // Validators 0 and 1 alone are no quorum: this commits only with 2 or 3 voting.
            await net.stop(1)
            let h = try await net.nodes[2]!.submit(net.transfer(from: 2, to: 3))
            let r = try #require(await net.nodes[2]!.receipt(of: h, timeout: .seconds(60)))
            #expect(r.height > head)
            await net.stopAll()
        }
    }

    /// cosmos-sdk#19242: a node that fell behind while consensus ran never re-entered block
    /// sync. Here a running validator is cut off while the others commit, then healed: it
    /// must sync what it missed and take part again.
    @Test("a validator cut off while the others commit syncs after the heal and votes again")
    func fallsBehindWhileRunning() async throws {
        try await NetworkGate.exclusive {
            let net = try TestNetwork()
            try await net.start()
            net.nodes[3]!.isolate(true)
            var last: CommittedReceipt?
            for _ in 0..<4 {
                let h = try await net.nodes[0]!.submit(net.transfer(from: 0, to: 1))
                last = await net.nodes[0]!.receipt(of: h, timeout: .seconds(30))
                try #require(last != nil)
            }
            let head = try #require(last).height
            #expect((net.nodes[3]?.status?.height ?? 0) < head)
            net.nodes[3]!.isolate(false)
            #expect(await net.eventually { (net.nodes[3]?.status?.height ?? 0) >= head })
            await net.stop(2)
            let h = try await net.nodes[3]!.submit(net.transfer(from: 4, to: 5))
            let r = await net.nodes[3]!.receipt(of: h, timeout: .seconds(60))
            #expect(r != nil && r!.height > head, "\(net.describe())")
            await net.stopAll()
        }
    }
}
