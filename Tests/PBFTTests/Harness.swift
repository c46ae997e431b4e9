import ChainTypes
import PBFT
import Simulator

/// A hand-driven cluster for protocol-rule tests: messages queue until a test delivers them,
/// so each test can stage exactly the situation the paper describes.
struct Harness {
    static let chain = ChainBinding(id: try! ChainID("hansa-test"), genesisHash: SHA256.hash(utf8: "hansa test genesis"))
    static let genesis = ChainTip(height: 0, hash: SHA256.hash(utf8: "test genesis"), timestampMillis: 1_000_000, certificate: nil)

    struct Envelope {
        let from: Int
        let to: Int
        let message: ConsensusMessage
    }

    /// Accepts every block unless `reject` says otherwise.
    struct TestValidator: BlockValidator {
        var reject: @Sendable (Block) -> String? = { _ in nil }
        func rejection(of block: Block, parent: ChainTip) -> String? { reject(block) }
    }

    let n: Int
    let validators: ValidatorSet
    let secrets: [UInt64]
    var parameters: ConsensusParameters
    var replicas: [PBFTReplica?]
    var durable: [DurableState]
    var queue: [Envelope] = []
    var committed: [[(Block, CommitCertificate)]]
    var batches: [[ReplicaAction]] = []
    var syncRequests: [(node: Int, from: UInt64, to: UInt64)] = []
    var now: UInt64 = 1_000_000
    var validator = TestValidator()
    /// Transactions the next proposal carries (the tests' mempool).
    var nextTransactions: [Transaction] = []
    /// Proposals the shell still answers; `tickAll` allows one per round so that each round
    /// commits one height.
    var proposalBudget = 0
    /// Requests the shell could not answer yet (no budget), answered at the next round.
    var unanswered: [Int: (height: UInt64, view: UInt64, parent: ChainTip)] = [:]

    init(n: Int = 4, parameters: ConsensusParameters = Harness.defaultParameters) {
        self.n = n
        self.parameters = parameters
        let keys = (0..<n).map { try! PrivateKey(secret: SHA256.hash(utf8: "harness \($0)").bytes) }
        validators = try! ValidatorSet(keys.map { Validator(name: "v", publicKey: $0.publicKey, p2pAddress: "x:1", tlsSPKISHA256: nil) })
        secrets = (0..<n).map { UInt64($0) &* 0x9E37_79B9 &+ 17 }
        replicas = Array(repeating: nil, count: n)
        durable = Array(repeating: DurableState(), count: n)
        committed = Array(repeating: [], count: n)
        for i in 0..<n { restart(i) }
    }

    static let defaultParameters = ConsensusParameters(
        tickMillis: 100, requestTimeoutTicks: 10, maxViewChangeTimeoutTicks: 40, checkpointInterval: 4,
        watermarkWindow: 16, maxBlockTransactions: 10, maxBlockBytes: 1 << 20, maxClockDriftMillis: 2_000)

    func crypto(_ i: Int) -> StandInCrypto { StandInCrypto(secrets: secrets, selfIndex: i) }

    func config(_ i: Int) -> ReplicaConfig {
        ReplicaConfig(chain: Self.chain, validators: validators, selfIndex: i, parameters: parameters)
    }

    func tip(_ i: Int) -> ChainTip {
        guard let (block, cert) = committed[i].last else { return Self.genesis }
        return ChainTip(height: block.header.height, hash: block.hash, timestampMillis: block.header.timestampMillis, certificate: cert)
    }

    /// (Re)starts replica i from its durable state and ledger, as after a crash.
    mutating func restart(_ i: Int) {
        replicas[i] = PBFTReplica(config: config(i), crypto: crypto(i), validator: validator, tip: tip(i), durable: durable[i])
    }

    mutating func crash(_ i: Int) { replicas[i] = nil }

    func replica(_ i: Int) -> PBFTReplica { replicas[i]! }

    /// Steps replica i and performs its actions like a node's shell.
    @discardableResult
    mutating func input(_ i: Int, _ input: ReplicaInput) -> [ReplicaAction] {
        guard var r = replicas[i] else { return [] }
        let actions = r.step(input)
        replicas[i] = r
        batches.append(actions)
        var followUps: [ReplicaInput] = []
        for a in actions {
            switch a {
            case .persist(let s): durable[i] = s
            case .send(let m, let to): queue.append(Envelope(from: i, to: to, message: m))
            case .broadcast(let m): for j in 0..<n where j != i { queue.append(Envelope(from: i, to: j, message: m)) }
            case .buildProposal(let height, let view, let parent):
                if proposalBudget > 0 {
                    proposalBudget -= 1
                    followUps.append(.proposal(makeBlock(height: height, view: view, parent: parent, proposer: i)))
                } else {
                    unanswered[i] = (height, view, parent)
                }
            case .commit(let b, let c): committed[i].append((b, c))
            case .requestSync(let from, let to, _): syncRequests.append((i, from, to))
            }
        }
        for f in followUps { self.input(i, f) }
        return actions
    }

    func makeBlock(height: UInt64, view: UInt64, parent: ChainTip, proposer: Int, timestamp: UInt64? = nil) -> Block {
        let header = BlockHeader(height: height, previousHash: parent.hash, timestampMillis: timestamp ?? max(now, parent.timestampMillis + 1),
                                 transactionsRoot: Block.transactionsRoot(nextTransactions), stateRoot: SHA256.hash(utf8: "s\(height)"),
                                 receiptsRoot: .zero, proposer: validators.validators[proposer].address, view: view)
        return Block(header: header, transactions: nextTransactions)
    }

    /// A correctly signed pre-prepare by `proposer` (for staging byzantine primaries).
    func prePrepare(_ block: Block, view: UInt64, proposer: Int, height: UInt64? = nil) -> PrePrepare {
        let height = height ?? block.header.height
        let body = PrePrepare.signingBody(view: view, height: height, blockHash: block.hash, proposerIndex: UInt16(proposer))
        return PrePrepare(view: view, height: height, block: block, proposerIndex: UInt16(proposer),
                          signature: crypto(proposer).sign(.prePrepare, body))
    }

    func vote(_ phase: VotePhase, view: UInt64, height: UInt64, hash: Hash, by i: Int) -> Vote {
        let body = Vote.signingBody(phase: phase, view: view, height: height, blockHash: hash, validatorIndex: UInt16(i))
        return Vote(phase: phase, view: view, height: height, blockHash: hash, validatorIndex: UInt16(i), signature: crypto(i).sign(phase.domain, body))
    }

    /// Per replica, the transaction its mempool has held longest (the tick's `oldestPending`).
    var oldestPending: [Int: Hash] = [:]

    mutating func tick(_ i: Int, pending: Bool = true) {
        input(i, .tick(nowMillis: now, hasPendingWork: pending, oldestPending: oldestPending[i]))
    }

    mutating func tickAll(_ times: Int = 1, pending: Bool = true) {
        for _ in 0..<times {
            proposalBudget = 1
            now += parameters.tickMillis
            for (i, r) in unanswered where replicas[i] != nil {
                unanswered[i] = nil
                proposalBudget -= 1
                input(i, .proposal(makeBlock(height: r.height, view: r.view, parent: r.parent, proposer: i)))
            }
            for i in 0..<n where replicas[i] != nil { tick(i, pending: pending) }
        }
    }

    /// Delivers queued messages (and those they cause) until none is left or `limit` passes.
    mutating func deliverAll(limit: Int = 100_000, where keep: (Envelope) -> Bool = { _ in true }) {
        var delivered = 0
        while !queue.isEmpty && delivered < limit {
            let e = queue.removeFirst()
            guard keep(e), replicas[e.to] != nil else { continue }
            input(e.to, .message(e.message, from: e.from))
            delivered += 1
        }
    }

    /// Every queued message of a kind, in order.
    func queued(_ kind: String) -> [Envelope] { queue.filter { $0.message.kind == kind } }

    var heights: [UInt64] { (0..<n).map { UInt64(committed[$0].count) } }
}
