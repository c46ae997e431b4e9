import ChainTypes
import Ledger
import NodeCore
import PBFT
import Testing

/// The one replica driver's own contract: persist before send, restart from the durable state
/// kept with the ledger, and bounded sync ranges served from a snapshot.
@Suite("Replica driver")
struct ReplicaDriverTests {
    typealias Cluster = ConsensusLedgerTests.Cluster

    /// The durable state as stored with node `n`'s ledger.
    static func stored(_ n: ConsensusLedgerTests.Node) throws -> DurableState? {
        try n.store.get(Array("m/pbft-durable".utf8)).map { try DurableState(canonicalBytes: $0) }
    }

    @Test("persist before send: every vote a driver returns is already in the durable state on its store")
    func votesAreDurableBeforeTheyLeave() throws {
        let cluster = try Cluster(dev: DevChain(users: 8, depositPerUser: 10_000))
        for u in 0..<8 { try cluster.submit(cluster.dev.transfer(from: u, to: (u + 1) % 8, amount: 5, nonce: 0)) }
        var checked = 0
        for _ in 0..<30 {
            cluster.now += 100
            for n in cluster.nodes {
                let out = try n.driver.tick(nowMillis: cluster.now)
                try Self.expectDurable(out, on: n, checked: &checked)
                cluster.route(n, out)
            }
            while !cluster.queue.isEmpty {
                let e = cluster.queue.removeFirst()
                let out = try cluster.nodes[e.to].driver.step(.message(e.message, from: e.from))
                try Self.expectDurable(out, on: cluster.nodes[e.to], checked: &checked)
                cluster.route(cluster.nodes[e.to], out)
            }
        }
        cluster.expectAgreement()
        #expect(checked >= 8, "prepare and commit votes of four validators were checked (\(checked))")
    }

    static func expectDurable(_ out: [Outbound], on n: ConsensusLedgerTests.Node, checked: inout Int) throws {
        let signed = try stored(n)?.lastSigned ?? []
        for case .broadcast(.vote(let vote)) in out where Int(vote.validatorIndex) == n.index {
            let kind: SignedSlot.Kind = vote.phase == .prepare ? .prepare : .commit
            #expect(signed.contains { $0.kind == kind && $0.view >= vote.view && $0.height >= vote.height },
                    "node \(n.index) sent a \(vote.phase) for height \(vote.height) not yet durable")
            checked += 1
        }
    }

    @Test("a validator restarted from its store reloads its consensus state and the cluster goes on")
    func restartFromDurableState() throws {
        let cluster = try Cluster(dev: DevChain(users: 8, depositPerUser: 10_000))
        let dev = cluster.dev
        for u in 0..<8 { try cluster.submit(dev.transfer(from: u, to: (u + 1) % 8, amount: 5, nonce: 0)) }
        try cluster.run(ticks: 20)
        let before = cluster.nodes[1].driver.replica.durable
        #expect(try Self.stored(cluster.nodes[1]) == before, "the store holds what the replica holds")
        try cluster.restart(1)
        #expect(cluster.nodes[1].driver.replica.durable == before)
        #expect(cluster.nodes[1].ledger.head.hash == cluster.nodes[0].ledger.head.hash)
        for u in 0..<8 { try cluster.submit(dev.transfer(from: u, to: (u + 1) % 8, amount: 5, nonce: 1)) }
        try cluster.run(ticks: 20)
        cluster.expectAgreement()
        #expect(try cluster.receipts().count == 16)
    }

    @Test("the durable state round-trips through its encoding; a corrupted one stops the driver with a sentence")
    func durableStateCodec() throws {
        let cluster = try Cluster(dev: DevChain(users: 8, depositPerUser: 10_000))
        for u in 0..<8 { try cluster.submit(cluster.dev.transfer(from: u, to: (u + 1) % 8, amount: 5, nonce: 0)) }
        try cluster.run(ticks: 20)
        let state = cluster.nodes[2].driver.replica.durable
        #expect(!state.lastSigned.isEmpty)
        #expect(try DurableState(canonicalBytes: state.canonicalBytes) == state)
        var batch = StoreBatch()
        batch.put(Array("m/pbft-durable".utf8), [1, 2, 3])
        try cluster.nodes[2].store.write(batch, sync: true)
        #expect(throws: DriverError.self) { try cluster.restart(2) }
    }

    @Test("sync ranges are served from a snapshot, in order, within the bounds")
    func syncRanges() throws {
        let cluster = try Cluster(dev: DevChain(users: 8, depositPerUser: 10_000))
        for round in 0..<3 {
            for u in 0..<8 { try cluster.submit(cluster.dev.transfer(from: u, to: (u + 1) % 8, amount: 5, nonce: UInt64(round))) }
            try cluster.run(ticks: 15)
        }
        let snapshot = try #require(cluster.nodes[0].driver.snapshot)
        let height = snapshot.head.height
        #expect(height >= 2)
        let all = try ReplicaDriver.syncRange(from: snapshot, fromHeight: 1, toHeight: height + 10)
        #expect(all.map(\.0.header.height) == Array(1...height))
        #expect(all.allSatisfy { $0.1.blockHash == $0.0.hash })
        #expect(try ReplicaDriver.syncRange(from: snapshot, fromHeight: 0, toHeight: 5).isEmpty)
        #expect(try ReplicaDriver.syncRange(from: snapshot, fromHeight: 3, toHeight: 2).isEmpty)
    }

    @Test("a transaction parked above a nonce gap is not pending work: no empty blocks while it waits (review finding)")
    func parkedTransactionsMakeNoBlocks() throws {
        let cluster = try Cluster(dev: DevChain(users: 8, depositPerUser: 10_000))
        try cluster.submit(cluster.dev.transfer(from: 0, to: 1, amount: 5, nonce: 5))
        #expect(cluster.nodes[0].mempool.count == 1 && cluster.nodes[0].mempool.readyCount == 0)
        try cluster.run(ticks: 100)
        #expect(cluster.nodes.allSatisfy { $0.ledger.head.height == 0 }, "heights \(cluster.nodes.map(\.ledger.head.height))")
        // The gap fills: both go in.
        for n in 0..<5 as Range<UInt64> { try cluster.submit(cluster.dev.transfer(from: 0, to: 1, amount: 5, nonce: n)) }
        try cluster.run(ticks: 20)
        cluster.expectAgreement()
        #expect(try cluster.nodes[0].ledger.account(cluster.dev.userKeys[0].publicKey.address)?.nonce == 6)
    }
}
