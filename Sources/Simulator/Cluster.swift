import ChainTypes
import Ledger
import PBFT

/// A whole cluster in one process on a seeded virtual network and clock. Each node runs the
/// one replica driver (NodeCore) over its application — the fast stand-in or the real
/// ledger (`SimConfig.ledger`); the cluster performs nothing itself: it routes what the
/// drivers return over the network, injects the faults and runs the checkers.
public final class Cluster {
    public let config: SimConfig
    /// The simulated chain of the fast mode: id "hansa-sim", genesis hash SHA-256("hansa sim
    /// genesis"). The real-ledger mode's chain has the same id and its genesis's hash.
    public static let chain = ChainBinding(id: try! ChainID("hansa-sim"), genesisHash: SHA256.hash(utf8: "hansa sim genesis"))
    let chain: ChainBinding
    let validators: ValidatorSet
    let genesis: ChainTip
    /// The real-ledger mode's chain and contract (nil in the fast mode).
    let world: RealLedgerWorld?
    let nodes: [SimNode]
    let submitted = SubmittedTransactions()
    var checkers = Checkers()
    var ledgerCheckers = LedgerCheckers()
    var transactionLiveness = TransactionLiveness()
    var workload: any SimWorkload
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
    /// Transactions some honest replica committed.
    var honestCommitted: Set<Hash> = []
    /// Offers a replica refused, retried every `SimConfig.refusalRetryTicks` (in order).
    var refused: [(node: Int, hash: Hash, order: Int)] = []
    /// The latest refusal of each transaction, for the client's reports.
    var lastRefusal: [Hash: String] = [:]
    public internal(set) var messagesDelivered = 0
    /// New views installed by honest replicas, including incarnations that later crashed.
    var viewChangesInstalled = 0
    /// Proposals honest replicas refused (`proposalRejection`), over all incarnations.
    var proposalsRefused = 0
    /// The highest view-change timeout an honest replica ran with (Byzantine+Normal.swift).
    var maxTimeoutTicks: UInt64 = 0
    /// The lone-commit scenario's cut in force (the validator and the tick it ends), and the
    /// first tick the next may start.
    var loneCut: (node: Int, until: Int)?
    var nextLoneCut = 0
    /// Every event of the run, hashed as it happens (SimTrace).
    let trace: SimTrace
    /// Why each node went down, in order (for the tests of the crash points).
    var crashes: [SimTrace.CrashCause] = []

    enum Delivery {
        /// `digest` is the SHA-256 of the message's canonical bytes (for the trace).
        case message(from: Int, to: Int, ConsensusMessage, digest: Hash)
        case synced(to: Int, [(Block, CommitCertificate)])
    }

    public init(_ config: SimConfig) {
        precondition(config.nodes >= 4 && config.byzantine <= config.f, "need n ≥ 4 and at most f byzantine replicas")
        precondition(config.ledger == .fast || config.letterOfCredit != nil, "the real-ledger mode needs the letter-of-credit contract")
        self.config = config
        trace = SimTrace(config)
        var rng = SimRandom(seed: config.seed)
        let keys = (0..<config.nodes).map { try! PrivateKey(secret: SHA256.hash(utf8: "hansa sim validator \($0)").bytes) }
        let set = try! ValidatorSet(keys.map {
            Validator(name: "v\($0.publicKey.address.text.prefix(8))", publicKey: $0.publicKey, p2pAddress: "sim:0", tlsSPKISHA256: nil)
        })
        validators = set
        let ordered = set.validators.map { v in keys.first { $0.publicKey == v.publicKey }! }
        if config.ledger == .real, let contract = config.letterOfCredit {
            let world = RealLedgerWorld(validators: set, keys: ordered, contract: contract)
            self.world = world
            chain = world.genesis.binding
            genesis = ChainTip(height: 0, hash: world.genesis.hash, timestampMillis: world.genesis.genesisTimeMillis, certificate: nil)
        } else {
            world = nil
            chain = Self.chain
            genesis = ChainTip(height: 0, hash: Self.chain.genesisHash, timestampMillis: 1_000_000, certificate: nil)
        }
        var secrets: [UInt64] = []
        for _ in 0..<config.nodes { secrets.append(rng.next()) }
        let realCrypto = config.signsWithSecp256k1
        let (chain, genesis) = (chain, genesis)
        nodes = (0..<config.nodes).map { i in
            let crypto: any ConsensusCrypto = realCrypto
                ? Secp256k1ConsensusCrypto(chain: chain, validators: set, key: ordered[i])
                : StandInCrypto(secrets: secrets, selfIndex: i)
            return SimNode(index: i, address: set.validators[i].address, crypto: crypto, genesis: genesis)
        }
        verifier = realCrypto
            ? Secp256k1ConsensusCrypto(chain: chain, validators: set, key: nil)
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
        if let world {
            workload = TradeClient(world: world, rng: rng.fork(), seam: config.seam)
            for node in nodes {
                node.disk.store = FaultyStore(index: node.index, faults: node.disk.faults)
                node.disk.store!.seam = config.seam
            }
        } else {
            workload = RequestClient()
        }
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

    public var faultSummary: [String] {
        let byz = nodes.compactMap { n in n.byzantine.map { "node \(n.index) byzantine: \($0.behaviour.rawValue)" } }
        return byz + plan.description
    }

    /// Every checker's failures so far, the consensus ones first.
    var failures: [String] { checkers.failures + ledgerCheckers.failures }

    // MARK: Running

    /// Runs until every honest node committed after the faults healed (and, in the
    /// real-ledger mode, the letter of credit has run its course), or a bound passed.
    public func run() -> SimOutcome {
        let bound = config.livenessBoundTicks
        while true {
            step()
            if !failures.isEmpty { break }
            if tick > config.faultTicks {
                if let late = transactionLiveness.overdue(now: tick, boundTicks: config.transactionLivenessBoundTicks) {
                    checkers.failures.append(late)
                    break
                }
                let honest = nodes.filter(\.isHonest)
                let allCommitted = honest.allSatisfy { $0.committedAfterHeal != nil }
                if allCommitted && transactionLiveness.settled(through: config.faultTicks) && workload.finished { break }
                if !allCommitted && tick > config.faultTicks + bound {
                    let stuck = honest.filter { $0.committedAfterHeal == nil }.map(\.index)
                    checkers.failures.append("liveness: nodes \(stuck) committed nothing new within \(bound) ticks after faults healed at tick \(config.faultTicks) (heights \(honest.map(\.height)))")
                    break
                }
                if !workload.finished && tick > config.faultTicks + config.workloadBoundTicks {
                    checkers.failures.append(workload.unfinished(self))
                    break
                }
            }
        }
        if failures.isEmpty { finalChecks() }
        let recovery = nodes.filter(\.isHonest).compactMap(\.committedAfterHeal).max().map { $0 - config.faultTicks }
        let all = failures
        return SimOutcome(seed: config.seed, failures: all, ticks: tick, recoveryTicks: recovery,
                          height: nodes.filter(\.isHonest).map(\.height).max() ?? 0,
                          messages: messagesDelivered, viewChanges: viewChangesInstalled, proposalsRefused: proposalsRefused,
                          faults: faultSummary, workload: workload.summary, traceDigest: trace.finish(tick: tick, failures: all))
    }

    /// At the end of a run that passed so far: the clients' goal, and (real ledger) every
    /// receipt still at every honest replica.
    func finalChecks() {
        checkers.failures += workload.finalFailures(self)
        let ledgers = nodes.filter(\.isHonest).compactMap { n in (n.app as? RealLedgerApp).map { (n.index, $0.ledger) } }
        if !ledgers.isEmpty { ledgerCheckers.checkEverywhere(ledgers) }
    }

    /// One line per node, for `hansa sim --trace`.
    public func stateLine() -> String {
        "t\(tick) " + nodes.map { n in
            guard let r = n.replica else { return "[\(n.index) down h\(n.height)]" }
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
        for tx in workload.transactions(at: tick, in: self) { submit(tx) }
        if tick % SimConfig.clientRetryTicks == 0 { resubmitPending() }
        if tick % SimConfig.refusalRetryTicks == 0 { retryRefused() }
        var due = inFlight.removeValue(forKey: tick) ?? []
        due.shuffle(using: &networkRNG)
        for delivery in due { deliver(delivery) }
        for node in nodes {
            guard let driver = node.driver else { continue }
            node.clockMillis = clock(of: node)
            run(node, driver.tickInput(nowMillis: node.clockMillis))
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
            // Pending mid-batch crashes and store faults belong to the fault period.
            node.crashAfterSends = nil
            node.disk.faults.armed = nil
            if !node.isUp { start(node) }
        }
        heightAtHeal = nodes.filter(\.isHonest).map(\.height).max() ?? 0
        for node in nodes where node.isHonest {
            guard let app = node.app else { continue }
            for hash in submitted.order where app.holds(hash) { transactionLiveness.await(hash, since: tick) }
        }
    }

    func apply(_ event: FaultPlan.Event) {
        switch event {
        case .crash(let victims, let midBatch):
            for v in victims where nodes[v].isUp {
                if midBatch { armCrash(nodes[v]) } else { crash(nodes[v], .plan) }
            }
        case .restart(let victims):
            for v in victims where !nodes[v].isUp { start(nodes[v]) }
        case .partition(let groups):
            partition = groups
            trace.partition(tick: tick, groups)
        case .heal:
            partition = nil
            trace.heal(tick: tick)
        case .storeFailure(let victims):
            for v in victims where nodes[v].isUp {
                nodes[v].disk.faults.armed = .fail
                trace.armStoreFailure(tick: tick, node: v)
            }
        }
    }

    /// A crash mid-step, at one of the two places a real node can die, drawn from the seed:
    /// (a) its store crashes at its k-th write from now — a durable-state persist or a
    /// ledger batch, which lands whole or not at all — and the driver's step throws, so
    /// nothing from that step is sent; (b) after a step returns, the node sends only the
    /// first k of the step's outbound messages, then dies.
    func armCrash(_ node: SimNode) {
        if rng.chance(0.5) {
            let k = Int.random(in: 1...3, using: &rng)
            let lands = rng.chance(0.5)
            node.disk.faults.armed = .crash(atWrite: k, lands: lands)
            trace.armCrash(tick: tick, node: node.index, atWrite: k, lands: lands)
        } else {
            let k = Int.random(in: 0...2, using: &rng)
            node.crashAfterSends = k
            trace.armCrash(tick: tick, node: node.index, afterSends: k)
        }
    }

    func crash(_ node: SimNode, _ cause: SimTrace.CrashCause) {
        trace.crash(tick: tick, node: node.index, cause)
        crashes.append(cause)
        node.crash()
    }

    // MARK: Clients

    /// A client's new transaction, offered to every replica that is up.
    func submit(_ tx: Transaction) {
        submitted.add(tx)
        for node in nodes {
            guard let app = node.app else { continue }
            if !app.offer(tx, order: submittedCount, nowMillis: clock(of: node)) { refuse(node.index, tx.hash, order: submittedCount) }
        }
        if tick >= config.faultTicks, nodes.contains(where: { $0.isHonest && $0.isUp }) {
            transactionLiveness.await(tx.hash, since: tick)
        }
        submittedCount += 1
    }

    func refuse(_ node: Int, _ hash: Hash, order: Int) {
        if refused.count >= SimConfig.maxRefusalsKept { refused.removeFirst() }
        refused.append((node, hash, order))
    }

    func noteRefusal(_ node: SimNode, _ hash: Hash, _ error: any Error) {
        lastRefusal[hash] = "node \(node.index) refused it at tick \(tick): \(error)"
    }

    /// Clients retransmit (Castro & Liskov 1999, §4.1: a client without a reply broadcasts
    /// its request to all replicas): every transaction no honest replica has committed goes
    /// to every up replica that lacks it — those that restarted after a crash included.
    func resubmitPending() {
        for (order, hash) in submitted.order.enumerated() {
            guard !honestCommitted.contains(hash), let tx = submitted.byHash[hash] else { continue }
            for node in nodes {
                guard let app = node.app, !app.holds(hash), !node.chain.committedTransactions.contains(hash) else { continue }
                _ = app.offer(tx, order: order, nowMillis: clock(of: node))
            }
        }
    }

    /// A refused offer is made again (a lagging replica's nonce gap, or a contract call whose
    /// previous step it has not committed yet), until the replica takes it or it commits.
    func retryRefused() {
        let pending = refused
        refused = []
        for (i, hash, order) in pending {
            let node = nodes[i]
            guard let app = node.app, !honestCommitted.contains(hash), !app.holds(hash),
                  !node.chain.committedTransactions.contains(hash), let tx = submitted.byHash[hash] else { continue }
            if !app.offer(tx, order: order, nowMillis: clock(of: node)) { refuse(i, hash, order: order) }
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
    /// What the clients achieved, in words (the real-ledger mode's letter of credit), or nil.
    public let workload: String?
    /// The SHA-256 of the run's whole event trace (SimTrace): equal digests, equal runs.
    public let traceDigest: Hash
    /// The highest view-change timeout any honest replica ran with (the cap is
    /// `max_view_change_timeout_ticks`): how far backoff climbed.
    public var maxTimeoutTicks: UInt64 = 0
    /// Sync answers lying sync servers gave that withheld the range or were wrong.
    public var lyingSyncAnswers = 0
    public var passed: Bool { failures.isEmpty }
}
