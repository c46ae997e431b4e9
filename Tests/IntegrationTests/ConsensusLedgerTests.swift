import ChainTypes
import Ledger
import PBFT
import Testing

/// PBFT replicas driving real ledgers: the mempool feeds proposals, the ledger executes them
/// to fill the header's roots, every replica validates blocks through its own ledger (the
/// injected `BlockValidator`), and commits apply to LevelDB-shaped stores. This is how the
/// node will join the two.
@Suite("PBFT + ledger")
struct ConsensusLedgerTests {
    struct LedgerValidator: BlockValidator {
        let ledger: Ledger
        func rejection(of block: Block, parent: ChainTip) -> String? {
            guard parent.hash == ledger.head.hash else { return "parent \(parent.height) is not the ledger's head \(ledger.head.height)" }
            return ledger.rejection(of: block)
        }
    }

    final class Node {
        let index: Int
        let ledger: Ledger
        let mempool: Mempool
        var replica: PBFTReplica
        init(index: Int, dev: DevChain) throws {
            self.index = index
            ledger = try Ledger(store: MemoryStore(), genesis: dev.genesis)
            mempool = Mempool(executor: ledger.executor)
            var parameters = dev.genesis.consensus
            parameters.requestTimeoutTicks = 50
            let config = ReplicaConfig(chain: dev.genesis.chain, validators: dev.genesis.validators, selfIndex: index, parameters: parameters)
            replica = PBFTReplica(config: config,
                                  crypto: Secp256k1ConsensusCrypto(chain: dev.genesis.chain, validators: dev.genesis.validators,
                                                                   key: dev.validatorKeys[index]),
                                  validator: LedgerValidator(ledger: ledger), tip: ledger.head)
        }
        func nextNonce(_ a: Address) -> UInt64 { (try? ledger.account(a)?.nonce) ?? 0 }
    }

    @Test("four validators agree on blocks of real transfers; every ledger ends with the same state root")
    func fourNodes() throws {
        let dev = DevChain(users: 8, depositPerUser: 10_000)
        let nodes = try (0..<4).map { try Node(index: $0, dev: dev) }
        var queue: [(from: Int, to: Int, message: ConsensusMessage)] = []
        var now = dev.genesis.genesisTimeMillis

        func perform(_ node: Node, _ actions: [ReplicaAction]) throws {
            var followUps: [ReplicaInput] = []
            for action in actions {
                switch action {
                case .persist: break
                case .send(let m, let to): queue.append((node.index, to, m))
                case .broadcast(let m): for j in 0..<4 where j != node.index { queue.append((node.index, j, m)) }
                case .buildProposal(let height, let view, let parent):
                    let txs = node.mempool.select(maxCount: 100, maxBytes: 1 << 20, nextNonce: node.nextNonce)
                    var header = BlockHeader(height: height, previousHash: parent.hash, timestampMillis: max(now, parent.timestampMillis + 1),
                                             transactionsRoot: Block.transactionsRoot(txs), stateRoot: .zero, receiptsRoot: .zero,
                                             proposer: dev.genesis.validators.validators[node.index].address, view: view)
                    let execution = try node.ledger.executeProposal(txs, header: header)
                    header.stateRoot = execution.stateRoot
                    header.receiptsRoot = execution.receiptsRoot
                    followUps.append(.proposal(Block(header: header, transactions: txs)))
                case .commit(let block, let cert):
                    try node.ledger.apply(block, certificate: cert)
                    node.mempool.prune(nextNonce: node.nextNonce, nowMillis: now)
                case .requestSync: Issue.record("no replica should fall behind here")
                }
            }
            for input in followUps { try step(node, input) }
        }
        func step(_ node: Node, _ input: ReplicaInput) throws {
            let actions = node.replica.step(input)
            try perform(node, actions)
        }

        // Clients submit 24 transfers to every node's mempool.
        for round in 0..<3 {
            for u in 0..<8 {
                let tx = dev.transfer(from: u, to: (u + 1) % 8, amount: UInt64(100 + round), nonce: UInt64(round))
                for n in nodes { try n.mempool.add(tx, state: n.ledger.store, nowMillis: now) }
            }
        }
        for _ in 0..<40 {
            now += 100
            for n in nodes { try step(n, .tick(nowMillis: now, hasPendingWork: n.mempool.count > 0)) }
            while !queue.isEmpty {
                let e = queue.removeFirst()
                try step(nodes[e.to], .message(e.message, from: e.from))
            }
        }
        let heads = nodes.map(\.ledger.head)
        #expect(heads.allSatisfy { $0.hash == heads[0].hash && $0.height == heads[0].height && $0.height >= 1 })
        #expect(Set(nodes.map(\.ledger.stateRoot)).count == 1)
        // All 24 transfers committed with successful receipts: each user sent 3 and received 3.
        for u in 0..<8 {
            let account = try #require(try nodes[0].ledger.account(dev.userKeys[u].publicKey.address))
            #expect(account.nonce == 3)
            #expect(account.balance(dev.usd) == 10_000)
        }
        var receipts: [Receipt] = []
        for h in 1...nodes[0].ledger.head.height { receipts += try nodes[0].ledger.receipts(at: h) ?? [] }
        #expect(receipts.count == 24 && receipts.allSatisfy { $0.succeeded })
    }
}
