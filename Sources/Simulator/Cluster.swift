import ChainTypes
import PBFT

/// A whole cluster in one process on a seeded virtual network and clock.
public final class Cluster {
    public let config: SimConfig
    /// The simulated chain: id "hansa-sim", genesis hash SHA-256("hansa sim genesis").
    public static let chain = ChainBinding(id: try! ChainID("hansa-sim"), genesisHash: SHA256.hash(utf8: "hansa sim genesis"))
    var chain: ChainBinding { Self.chain }
    let validators: ValidatorSet
    let genesis: ChainTip
    let nodes: [SimNode]
    let submitted = SubmittedTransactions()
    var checkers = Checkers()
    var transactionLiveness = TransactionLiveness()
    var plan: FaultPlan
    var rng: SimRandom
    var networkRNG: SimRandom
    var tick = 0
    var submittedCount = 0
    var partition: [Set<Int>]? = nil
    /// Messages and synced blocks in flight, by delivery tick.
    var inFlight: [Int: [Delivery]] = [:]
    let verifier: any ConsensusCrypto
    var heightAtHeal: UInt64?
    public private(set) var messagesDelivered = 0
    /// New views installed by honest replicas, including incarnations that later crashed.
    var viewChangesInstalled = 0
    /// Proposals honest replicas refused (`proposalRejection`), over all incarnations.
    var proposalsRefused = 0
    /// The highest view-change timeout an honest replica ran with (Byzantine+Normal.swift).
    var maxTimeoutTicks: UInt64 = 0
    /// Every event of the run, hashed as it happens (SimTrace).
    let trace: SimTrace

    enum Delivery {
        /// `digest` is the SHA-256 of the message's canonical bytes (for the trace).
        case message(from: Int, to: Int, ConsensusMessage, digest: Hash)
        case synced(to: Int, [(Block, CommitCertificate)])
    }

    public init(_ config: SimConfig) {
        precondition(config.nodes >= 4 && config.byzantine <= config.f, "need n ≥ 4 and at most f byzantine replicas")
        self.config = config
        trace = SimTrace(config)
        var rng = SimRandom(seed: config.seed)
        let keys = (0..<config.nodes).map { try! PrivateKey(secret: SHA256.hash(utf8: "hansa sim validator \($0)").bytes) }
        let set = try! ValidatorSet(keys.map {
            Validator(name: "v\($0.publicKey.address.text.prefix(8))", publicKey: $0.publicKey, p2pAddress: "sim:0", tlsCertificateSHA256: nil)
        })
        validators = set
        let genesis = ChainTip(height: 0, hash: Self.chain.genesisHash, timestampMillis: 1_000_000, certificate: nil)
        self.genesis = genesis
        var secrets: [UInt64] = []
        for _ in 0..<config.nodes { secrets.append(rng.next()) }
        let realCrypto = config.realCrypto
        let ordered = set.validators.map { v in keys.first { $0.publicKey == v.publicKey }! }
        nodes = (0..<config.nodes).map { i in
            let crypto: any ConsensusCrypto = realCrypto
                ? Secp256k1ConsensusCrypto(chain: Self.chain, validators: set, key: ordered[i])
                : StandInCrypto(secrets: secrets, selfIndex: i)
            return SimNode(index: i, address: set.validators[i].address, crypto: crypto, ledger: SimLedger(genesis: genesis))
        }
        verifier = realCrypto
            ? Secp256k1ConsensusCrypto(chain: Self.chain, validators: set, key: nil)
            : StandInCrypto(secrets: secrets, selfIndex: 0)
        // Byzantine replicas and their behaviours.
        let byzantine = Array((0..<config.nodes).shuffled(using: &rng).prefix(config.byzantine))
        for b in byzantine {
            let drawn = ByzantineBehaviour.allCases.randomElement(using: &rng)!
            nodes[b].byzantine = ByzantineRewriter(behaviour: config.behaviour ?? drawn,
                                                   index: b, n: config.nodes, crypto: nodes[b].crypto, rng: rng.fork())
        }
        plan = FaultPlan.draw(config, honest: (0..<config.nodes).filter { !byzantine.contains($0) }, rng: &rng)
        networkRNG = rng.fork()
        self.rng = rng
        shareCollusion()
        for node in nodes { start(node) }
    }

    func replicaConfig(_ i: Int) -> ReplicaConfig {
        var c = ReplicaConfig(chain: chain, validators: validators, selfIndex: i, parameters: SimConfig.parameters)
        #if HANSA_FLAWS
        c.flaw = config.flaw
        #endif
        return c
    }

    func start(_ node: SimNode) {
        trace.start(tick: tick, node: node.index)
        node.start(config: replicaConfig(node.index),
                   validator: SimApplication(ledger: node.ledger, submitted: submitted, checkTransactionSignatures: config.realCrypto))
    }

    public var faultSummary: [String] {
        let byz = nodes.compactMap { n in n.byzantine.map { "node \(n.index) byzantine: \($0.behaviour.rawValue)" } }
        return byz + plan.description
    }

    // MARK: Running

    /// Runs until every honest node committed after the faults healed, or the bound passed.
    public func run() -> SimOutcome {
        let bound = config.livenessBoundTicks
        while true {
            step()
            if !checkers.failures.isEmpty { break }
            if tick > config.faultTicks {
                if let late = transactionLiveness.overdue(now: tick, boundTicks: config.transactionLivenessBoundTicks) {
                    checkers.failures.append(late)
                    break
                }
                let honest = nodes.filter(\.isHonest)
                let allCommitted = honest.allSatisfy { $0.committedAfterHeal != nil }
                if allCommitted && transactionLiveness.settled(through: config.faultTicks) { break }
                if !allCommitted && tick > config.faultTicks + bound {
                    let stuck = honest.filter { $0.committedAfterHeal == nil }.map(\.index)
                    checkers.failures.append("liveness: nodes \(stuck) committed nothing new within \(bound) ticks after faults healed at tick \(config.faultTicks) (heights \(honest.map(\.ledger.height)))")
                    break
                }
            }
        }
        let recovery = nodes.filter(\.isHonest).compactMap(\.committedAfterHeal).max().map { $0 - config.faultTicks }
        return SimOutcome(seed: config.seed, failures: checkers.failures, ticks: tick, recoveryTicks: recovery,
                          height: nodes.filter(\.isHonest).map(\.ledger.height).max() ?? 0,
                          messages: messagesDelivered, viewChanges: viewChangesInstalled, proposalsRefused: proposalsRefused,
                          faults: faultSummary, traceDigest: trace.finish(tick: tick, failures: checkers.failures))
    }

    /// One line per node, for `hansa sim --trace`.
    public func stateLine() -> String {
        "t\(tick) " + nodes.map { n in
            guard let r = n.replica else { return "[\(n.index) down h\(n.ledger.height)]" }
            return "[\(n.index)\(n.isHonest ? "" : "B") v\(r.view)\(r.isViewChanging ? "*" : "") h\(r.tip.height) to\(r.timeoutTicks) vc\(r.viewChangeViews) refused\(r.stats.refusedToSign)]"
        }.joined(separator: " ")
    }

    public var traceEvery = 0

    func step() {
        tick += 1
        if traceEvery > 0 && tick % traceEvery == 0 { print(stateLine()) }
        if tick == config.faultTicks { healEverything() }
        for event in plan.events[tick] ?? [] { apply(event) }
        adversaryStep()
        if tick % config.submitIntervalTicks == 0 { submitTransaction() }
        if tick % SimConfig.clientRetryTicks == 0 { resubmitPending() }
        var due = inFlight.removeValue(forKey: tick) ?? []
        due.shuffle(using: &networkRNG)
        for delivery in due { deliver(delivery) }
        for node in nodes where node.isUp {
            node.clockMillis = clock(of: node)
            // A censoring primary's own core is not told what it waits for: it never times
            // itself out, the honest replicas must.
            let oldest = node.byzantine?.behaviour == .censoringPrimary ? nil : node.oldestPending
            run(node, .tick(nowMillis: node.clockMillis, hasPendingWork: node.hasPendingWork, oldestPending: oldest))
        }
    }

    /// A node's wall clock: virtual time since genesis plus its skew.
    func clock(of node: SimNode) -> UInt64 {
        UInt64(Int64(genesis.timestampMillis) + Int64(tick) * Int64(SimConfig.parameters.tickMillis) + plan.clockSkewMillis[node.index])
    }

    func healEverything() {
        plan.dropRate = 0
        plan.duplicateRate = 0
        (plan.minDelayTicks, plan.maxDelayTicks) = (plan.healedDelayTicks.lowerBound, plan.healedDelayTicks.upperBound)
        partition = nil
        trace.heal(tick: tick)
        plan.events = plan.events.filter { $0.key < tick }
        for node in nodes {
            node.crashAfterActions = nil // a pending mid-batch crash belongs to the fault period
            if !node.isUp { start(node) }
        }
        heightAtHeal = nodes.filter(\.isHonest).map(\.ledger.height).max() ?? 0
        for node in nodes where node.isHonest && node.isUp {
            for hash in node.mempool.keys { transactionLiveness.await(hash, since: tick) }
        }
    }

    func apply(_ event: FaultPlan.Event) {
        switch event {
        case .crash(let victims, let midBatch):
            for v in victims where nodes[v].isUp {
                if midBatch { nodes[v].crashAfterActions = Int.random(in: 0...3, using: &rng) } else { crash(nodes[v]) }
            }
        case .restart(let victims):
            for v in victims where !nodes[v].isUp { start(nodes[v]) }
        case .partition(let groups):
            partition = groups
            trace.partition(tick: tick, groups)
        case .heal:
            partition = nil
            trace.heal(tick: tick)
        }
    }

    func crash(_ node: SimNode) {
        trace.crash(tick: tick, node: node.index)
        node.crash()
    }

    func submitTransaction() {
        let body = TransactionBody(chain: chain, sender: ProtocolKeys.clientKey.publicKey, nonce: UInt64(submittedCount),
                                   kind: .transfer, payload: Array("request \(submittedCount)".utf8), gasLimit: 0)
        let tx = config.realCrypto ? body.signed(with: ProtocolKeys.clientKey) : Transaction(body: body, signature: ProtocolKeys.dummySignature)
        submitted.add(tx)
        for node in nodes where node.isUp { node.mempool[tx.hash] = (submittedCount, tx) }
        if tick >= config.faultTicks, nodes.contains(where: { $0.isHonest && $0.isUp }) {
            transactionLiveness.await(tx.hash, since: tick)
        }
        submittedCount += 1
    }

    /// Clients retransmit (Castro & Liskov 1999, §4.1: a client without a reply broadcasts
    /// its request to all replicas): every transaction no honest replica has committed goes
    /// to every up replica that lacks it — those that restarted after a crash included.
    func resubmitPending() {
        for (order, hash) in submitted.order.enumerated() {
            guard !nodes.contains(where: { $0.isHonest && $0.ledger.committedTransactions.contains(hash) }),
                  let tx = submitted.byHash[hash] else { continue }
            for node in nodes where node.isUp && node.mempool[hash] == nil && !node.ledger.committedTransactions.contains(hash) {
                node.mempool[hash] = (order, tx)
            }
        }
    }

    func reachable(_ a: Int, _ b: Int) -> Bool {
        guard let groups = partition else { return true }
        return groups.contains { $0.contains(a) && $0.contains(b) }
    }

    func enqueue(_ delivery: Delivery, delay: Int) {
        inFlight[tick + max(1, delay), default: []].append(delivery)
    }

    /// A message as it crosses the wire: with `wireEncoding` decoded from its canonical bytes
    /// (it must decode to itself), and named by the SHA-256 of those bytes.
    func wire(_ message: ConsensusMessage, bytes: [UInt8]) -> (ConsensusMessage, Hash) {
        guard config.wireEncoding else { return (message, SHA256.hash(bytes)) }
        let m = try! ConsensusMessage(canonicalBytes: bytes)
        precondition(m == message, "wire round trip changed a \(message.kind)")
        return (m, SHA256.hash(bytes))
    }

    func transmit(from: Int, to: Int, _ message: ConsensusMessage, digest: Hash) {
        guard from != to, reachable(from, to), !networkRNG.chance(plan.dropRate) else { return }
        let copies = networkRNG.chance(plan.duplicateRate) ? 2 : 1
        for _ in 0..<copies {
            enqueue(.message(from: from, to: to, message, digest: digest),
                    delay: Int.random(in: plan.minDelayTicks...plan.maxDelayTicks, using: &networkRNG))
        }
    }

    func deliver(_ delivery: Delivery) {
        switch delivery {
        case .message(let from, let to, let message, let digest):
            let node = nodes[to]
            guard node.isUp, reachable(from, to) else { return }
            messagesDelivered += 1
            trace.deliver(tick: tick, from: from, to: to, digest)
            node.byzantine?.observe(message)
            run(node, .message(message, from: from))
        case .synced(let to, let blocks):
            for (block, cert) in blocks where nodes[to].isUp { run(nodes[to], .synced(block, cert)) }
        }
    }

    // MARK: The shell of one node

    func run(_ node: SimNode, _ input: ReplicaInput) {
        guard var replica = node.replica else { return }
        if case .message = input {} else { trace.input(tick: tick, node: node.index, input) }
        let before = replica.stats
        let actions = replica.step(input)
        if node.isHonest {
            viewChangesInstalled += replica.stats.newViewsInstalled - before.newViewsInstalled
            proposalsRefused += replica.stats.rejectedProposals - before.rejectedProposals
        }
        node.replica = replica
        perform(node, actions)
    }

    /// Performs one batch in order. Inputs it produces (a built proposal) are fed only after
    /// the whole batch: a batch may end with a `.persist` that must not overwrite the state a
    /// later input persists.
    func perform(_ node: SimNode, _ actions: [ReplicaAction]) {
        var followUps: [ReplicaInput] = []
        defer { for input in followUps where node.isUp { run(node, input) } }
        for action in actions {
            if let remaining = node.crashAfterActions {
                if remaining == 0 { crash(node); return }
                node.crashAfterActions = remaining - 1
            }
            guard node.isUp else { return }
            switch action {
            case .send, .broadcast: break // traced by send(from:_:to:), with the message digest
            default: trace.action(tick: tick, node: node.index, action)
            }
            switch action {
            case .persist(let state):
                node.durable = state
            case .send(let message, let to):
                send(from: node, message, to: to)
            case .broadcast(let message):
                send(from: node, message, to: nil)
            case .buildProposal(let height, let view, let parent):
                var transactions = node.pendingTransactions(limit: Int(SimConfig.parameters.maxBlockTransactions))
                if node.byzantine?.behaviour == .censoringPrimary { transactions = node.byzantine!.censor(transactions, ledger: node.ledger) }
                let block = SimApplication.build(height: height, view: view, parent: parent, proposer: node.address, now: clock(of: node),
                                                 transactions: transactions)
                followUps.append(.proposal(block))
            case .commit(let block, let certificate):
                let repeated = node.ledger.append(block, certificate)
                if node.isHonest {
                    let p = SimConfig.parameters
                    checkers.checkTimeliness(node: node.index, block: block, maxLagMillis: p.maxProposalLagMillis,
                                             maxLeadMillis: p.maxClockDriftMillis)
                    checkers.checkAuthenticity(node: node.index, block: block, validators: validators,
                                               honest: { self.nodes[$0].isHonest })
                    checkers.checkCommit(node: node.index, block: block, certificate: certificate, repeated: repeated,
                                         submitted: submitted, quorum: validators.quorum, n: validators.count, verifier: verifier)
                    transactionLiveness.noteCommit(block)
                    if let healed = heightAtHeal, block.header.height > healed, node.committedAfterHeal == nil {
                        node.committedAfterHeal = tick
                    }
                }
                for tx in block.transactions { node.mempool.removeValue(forKey: tx.hash) }
            case .requestSync(let from, let to, let peers):
                serveSync(node, from: from, to: to, peers: peers)
            }
        }
    }

    func send(from node: SimNode, _ message: ConsensusMessage, to: Int?) {
        if node.isHonest {
            checkers.checkSigned(node: node.index, message)
            if case .vote(let v) = message, v.phase == .prepare {
                checkers.notePrepare(node: node.index, height: v.height, hash: v.blockHash, clockMillis: node.clockMillis)
            }
        }
        // Encoded once per message, not per recipient: for the trace digest and the wire check.
        let bytes = message.canonicalBytes
        let (onWire, digest) = wire(message, bytes: bytes)
        trace.send(tick: tick, node: node.index, to: to, digest)
        var outgoing: [(Int?, ConsensusMessage, Hash)] = [(to, onWire, digest)]
        if node.byzantine != nil {
            outgoing = node.byzantine!.rewrite(message, to: to, ledger: node.ledger).map { recipient, m in
                let (w, d) = wire(m, bytes: m.canonicalBytes)
                return (recipient, w, d)
            }
        }
        for (recipient, m, d) in outgoing {
            if let r = recipient {
                transmit(from: node.index, to: r, m, digest: d)
            } else {
                for peer in 0..<config.nodes where peer != node.index { transmit(from: node.index, to: peer, m, digest: d) }
            }
        }
    }

    /// Sync through the network: the first reachable peer that has the blocks sends up to 64.
    func serveSync(_ node: SimNode, from: UInt64, to: UInt64, peers: [Int]) {
        for p in peers where nodes[p].isUp && reachable(node.index, p) && nodes[p].ledger.height >= from {
            if let lie = nodes[p].byzantine?.lyingSyncAnswer(from: from, ledger: nodes[p].ledger) {
                if !lie.isEmpty { enqueue(.synced(to: node.index, lie), delay: Int.random(in: 1...3, using: &networkRNG)) }
                return
            }
            let last = min(to, nodes[p].ledger.height, from + 63)
            let blocks = (from...last).compactMap { nodes[p].ledger.block(at: $0) }
            enqueue(.synced(to: node.index, blocks), delay: Int.random(in: 1...3, using: &networkRNG))
            return
        }
    }
}

/// What one simulated run found.
public struct SimOutcome: Sendable {
    public let seed: UInt64
    public let failures: [String]
    public let ticks: Int
    /// Ticks from the heal to the last honest node's first new commit.
    public let recoveryTicks: Int?
    public let height: UInt64
    public let messages: Int
    /// New views installed, summed over honest replicas.
    public let viewChanges: Int
    /// Proposals refused, summed over honest replicas.
    public let proposalsRefused: Int
    public let faults: [String]
    /// The SHA-256 of the run's whole event trace (SimTrace): equal digests, equal runs.
    public let traceDigest: Hash
    /// The highest view-change timeout any honest replica ran with (the cap is
    /// `max_view_change_timeout_ticks`): how far backoff climbed.
    public var maxTimeoutTicks: UInt64 = 0
    /// Sync answers lying sync servers gave that withheld the range or were wrong.
    public var lyingSyncAnswers = 0
    public var passed: Bool { failures.isEmpty }
}
