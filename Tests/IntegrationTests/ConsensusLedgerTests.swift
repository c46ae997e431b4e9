import ChainTypes
import ContractVM
import Foundation
import Ledger
import NodeCore
import PBFT
import HansaTestSupport
import Testing

/// PBFT replicas driving real ledgers through the one replica driver (NodeCore): the mempool
/// feeds proposals, the ledger builds and executes them, every replica validates blocks
/// through its own ledger, commits apply to the store, and the durable consensus state is
/// persisted before any message leaves.
@Suite("PBFT + ledger")
struct ConsensusLedgerTests {
    /// A validator: the one replica driver over its own ledger and mempool.
    final class Node {
        let index: Int
        let store: MemoryStore
        let driver: LedgerReplicaDriver
        var ledger: Ledger { driver.ledger }
        var mempool: Mempool { driver.mempool }

        init(index: Int, dev: DevChain, engine: (any ContractEngine)?, store: MemoryStore = MemoryStore()) throws {
            self.index = index
            self.store = store
            let ledger = try Ledger(store: store, genesis: dev.genesis, engine: engine)
            var parameters = dev.genesis.consensus
            parameters.requestTimeoutTicks = 50
            let config = ReplicaConfig(chain: dev.binding, validators: dev.genesis.validators, selfIndex: index, parameters: parameters)
            driver = try ReplicaDriver(ledger: ledger, mempool: Mempool(executor: ledger.executor), config: config,
                                       crypto: Secp256k1ConsensusCrypto(chain: dev.binding, validators: dev.genesis.validators,
                                                                        key: dev.validatorKeys[index]))
        }
    }

    /// Four nodes on a lossless in-memory network, driven by ticks of 100 ms.
    final class Cluster {
        let dev: DevChain
        let engine: (any ContractEngine)?
        var nodes: [Node]
        var queue: [(from: Int, to: Int, message: ConsensusMessage)] = []
        var now: UInt64

        init(dev: DevChain, engine: (any ContractEngine)? = nil) throws {
            self.dev = dev
            self.engine = engine
            nodes = try (0..<4).map { try Node(index: $0, dev: dev, engine: engine) }
            now = dev.genesis.genesisTimeMillis
        }

        func submit(_ tx: Transaction) throws {
            for n in nodes { try n.driver.submit(tx, nowMillis: now) }
        }

        /// Node `i` stops and starts again on its store: a new ledger and driver, the durable
        /// consensus state read back (the mempool is lost, as in a real restart).
        func restart(_ i: Int) throws {
            nodes[i] = try Node(index: i, dev: dev, engine: engine, store: nodes[i].store)
        }

        func run(ticks: Int) throws {
            for _ in 0..<ticks {
                now += 100
                for n in nodes { route(n, try n.driver.tick(nowMillis: now)) }
                while !queue.isEmpty {
                    let e = queue.removeFirst()
                    route(nodes[e.to], try nodes[e.to].driver.step(.message(e.message, from: e.from)))
                }
            }
        }

        func route(_ node: Node, _ out: [Outbound]) {
            for o in out {
                switch o {
                case .send(let m, let to): queue.append((node.index, to, m))
                case .broadcast(let m): for j in 0..<4 where j != node.index { queue.append((node.index, j, m)) }
                case .sync(let from, let to, let peers):
                    // A peer serves the range from its snapshot; the blocks go back in order.
                    guard let peer = peers.first, let snapshot = nodes[peer].driver.snapshot,
                          let range = try? ReplicaDriver.syncRange(from: snapshot, fromHeight: from, toHeight: to) else { continue }
                    for (block, certificate) in range { route(node, (try? node.driver.step(.synced(block, certificate))) ?? []) }
                }
            }
        }

        /// Every node's ledger at the same head and state root.
        func expectAgreement(sourceLocation: SourceLocation = #_sourceLocation) {
            let heads = nodes.map(\.ledger.head)
            #expect(heads.allSatisfy { $0.hash == heads[0].hash && $0.height == heads[0].height && $0.height >= 1 }, sourceLocation: sourceLocation)
            #expect(Set(nodes.map(\.ledger.stateRoot)).count == 1, sourceLocation: sourceLocation)
        }

        func receipts() throws -> [Receipt] {
            var all: [Receipt] = []
            for h in 1...nodes[0].ledger.head.height { all += try nodes[0].ledger.receipts(at: h) ?? [] }
            return all
        }
    }

    @Test("four validators agree on blocks of real transfers; every ledger ends with the same state root")
    func fourNodes() throws {
        let cluster = try Cluster(dev: DevChain(users: 8, depositPerUser: 10_000))
        let dev = cluster.dev
        // Clients submit 24 transfers to every node's mempool.
        for round in 0..<3 {
            for u in 0..<8 { try cluster.submit(dev.transfer(from: u, to: (u + 1) % 8, amount: UInt64(100 + round), nonce: UInt64(round))) }
        }
        try cluster.run(ticks: 40)
        cluster.expectAgreement()
        // All 24 transfers committed with successful receipts: each user sent 3 and received 3.
        for u in 0..<8 {
            let account = try #require(try cluster.nodes[0].ledger.account(dev.userKeys[u].publicKey.address))
            #expect(account.nonce == 3)
            #expect(account.balance(dev.usd) == 10_000)
        }
        let receipts = try cluster.receipts()
        #expect(receipts.count == 24 && receipts.allSatisfy { $0.succeeded })
        // One block holds them all; no empty blocks follow (the shell has no work left).
        #expect(cluster.nodes[0].ledger.head.height <= 2, "height \(cluster.nodes[0].ledger.head.height)")
    }

    @Test("four validators run a deferred letter of credit; at maturity a block is proposed for the due payment, with no transaction waiting")
    func letterOfCredit() throws {
        let dev = DevChain(users: 0).withTradeParties(importerDeposit: 1_000_000_00)
        let cluster = try Cluster(dev: dev, engine: HansaVM())
        let bank0 = dev.validatorKeys[0], bank1 = dev.validatorKeys[1]
        let (importer, exporter, carrier) = (DevChain.tradeImporter, DevChain.tradeExporter, DevChain.tradeCarrier)
        var nonces: [Address: UInt64] = [:]
        func tx(_ key: PrivateKey, _ kind: TransactionKind, _ payload: some CanonicalEncodable) -> Transaction {
            let a = key.publicKey.address
            defer { nonces[a, default: 0] += 1 }
            return TransactionBody(chain: dev.binding, sender: key.publicKey, nonce: nonces[a, default: 0], kind: kind,
                                   payload: payload.canonicalBytes, gasLimit: 20_000_000).signed(with: key)
        }
        let credit = Executor.contractAddress(deployer: bank0.publicKey.address, nonce: 0)
        func call(_ key: PrivateKey, _ function: String, _ args: [ABIValue] = [], value: UInt64? = nil) -> Transaction {
            tx(key, .callContract, CallPayload(contract: credit, input: ABI.encodeCall(function, args), value: value.map { Amount($0, dev.usd) }))
        }
        let source = try String(contentsOfFile: repositoryRoot() + "/contracts/letter_of_credit.hc", encoding: .utf8)
        let code = try Compiler.compile(source, file: "letter_of_credit.hc").bytecode
        let day: UInt64 = 86_400_000
        let start = Int64(dev.genesis.genesisTimeMillis)
        let a = { (k: PrivateKey) in ABIValue.address(k.publicKey.address) }
        // A USD 80,000.00 credit, deferred payment one day after shipment, invoice + B/L.
        try cluster.submit(tx(bank0, .deployContract, DeployPayload(code: code, constructorInput: ABI.encodeCall("init", [
            a(importer), a(exporter), a(bank1), a(bank1), a(carrier), .string("USD"), .int(80_000_00), .int(100), .int(start + 30 * Int64(day)),
            .int(start + 20 * Int64(day)), .int(21), .int(1), .string("CNSHA"), .string("NLRTM"), .int(1 + 2), .int(32 + 256)]))))
        try cluster.run(ticks: 15)
        try cluster.submit(call(importer, "fund", value: 80_000_00))
        try cluster.submit(call(bank1, "advise"))
        let loaded = cluster.now
        try cluster.submit(call(carrier, "shipping_event", [.string("BL-1"), .string("LOAD"), .string("ACT"), .string("CNSHA"),
                                                            .string("VESSEL"), .int(Int64(loaded))]))
        try cluster.run(ticks: 15)
        try cluster.submit(call(exporter, "present", [
            .bytes(SHA256.hash(utf8: "invoice").bytes), .int(80_000_00), .string("USD"), .int(100), .string("BL-1"),
            .bytes(SHA256.hash(utf8: "bl").bytes), .int(Int64(loaded)), .string("CNSHA"), .string("NLRTM"), .string("VESSEL"),
            .bytes([]), .int(0), .string("USD"), .int(0), .bytes([]), .bytes([])]))
        try cluster.run(ticks: 15)
        cluster.expectAgreement()
        let receipts = try cluster.receipts()
        #expect(receipts.count == 5 && receipts.allSatisfy(\.succeeded), "\(receipts.map(\.status))")
        // The shell proposes only when it has work: a handful of blocks, not one per round trip.
        #expect(cluster.nodes[0].ledger.head.height <= 6, "height \(cluster.nodes[0].ledger.head.height)")
        let ledger = cluster.nodes[0].ledger
        #expect(try ledger.account(exporter.publicKey.address)?.balance(dev.usd) ?? 0 == 0, "deferred: nothing paid before maturity")
        let heightBefore = ledger.head.height

        // A day later, with no transaction anywhere, the due scheduled call makes the primary
        // propose a block; every node runs `mature` and pays the beneficiary.
        cluster.now = loaded + day
        try cluster.run(ticks: 15)
        cluster.expectAgreement()
        #expect(ledger.head.height > heightBefore)
        for node in cluster.nodes {
            #expect(try node.ledger.account(exporter.publicKey.address)?.balance(dev.usd) == 80_000_00)
            #expect(try node.ledger.account(credit)?.balance(dev.usd) == 0)
        }
        #expect(try ledger.pendingScheduledCalls(limit: 10).allSatisfy { $0.atMillis > cluster.now }, "only the expiry is left")
    }
}
