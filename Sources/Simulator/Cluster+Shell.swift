import ChainTypes
import Ledger
import NodeCore
import PBFT

// The shell of each node: it starts the node's driver, steps it, and routes what the step
// returns over the virtual network. It performs no replica action itself — the driver does.
extension Cluster {
    /// Boots or restarts `node` on what survived: a new application and driver over its
    /// chain and disk (in the real-ledger mode, the `Ledger` reopened on the same store).
    func start(_ node: SimNode) {
        trace.start(tick: tick, node: node.index)
        node.disk.faults.restarted()
        node.clockMillis = 0
        do {
            if let world, let store = node.disk.store {
                let ledger = try world.openLedger(on: store)
                node.chain.truncate(to: ledger.head.height)
                if node.isHonest { ledgerCheckers.checkKept(node: node.index, ledger: ledger, when: "after its restart it") }
                let app = RealLedgerApp(node: node, cluster: self, ledger: ledger)
                node.driver = try ReplicaDriver(app: app, config: replicaConfig(node.index), crypto: node.crypto)
                node.app = app
            } else {
                let app = SimApplication(node: node, cluster: self, checkTransactionSignatures: config.realCrypto)
                node.driver = try ReplicaDriver(app: app, config: replicaConfig(node.index), crypto: node.crypto)
                node.app = app
            }
        } catch {
            checkers.failures.append("restart: node \(node.index) cannot start on what its store holds: \(error)")
        }
    }

    /// Steps `node`'s driver on `input` and routes what it returns — all of it, or with a
    /// crash armed after the first k messages, only those.
    func run(_ node: SimNode, _ input: ReplicaInput) {
        guard let driver = node.driver else { return }
        if case .message = input {} else { trace.input(tick: tick, node: node.index, input) }
        let before = driver.replica.stats
        let out: [Outbound]
        do {
            out = try driver.step(input)
        } catch {
            stopped(node, error)
            return
        }
        if node.isHonest {
            let after = driver.replica.stats
            viewChangesInstalled += after.newViewsInstalled - before.newViewsInstalled
            proposalsRefused += after.rejectedProposals - before.rejectedProposals
        }
        if let k = node.crashAfterSends, out.count > k {
            for o in out.prefix(k) { route(node, o) }
            crash(node, .afterSends(k))
            return
        }
        for o in out { route(node, o) }
    }

    /// The driver threw: the node is down, and nothing of that step leaves it. An injected
    /// store crash or failure is expected (a failed store restarts after a while, as a
    /// supervisor would restart it); anything else is a bug the checkers report.
    func stopped(_ node: SimNode, _ error: DriverError) {
        switch node.disk.faults.outcome {
        case .crashed(let landed)?:
            crash(node, .atWrite(landed: landed))
        case .failed?:
            crash(node, .storeFailure)
            plan.events[tick + SimConfig.storeFailureRestartTicks, default: []].append(.restart([node.index]))
        case nil:
            if node.isHonest { checkers.failures.append("driver: node \(node.index) stopped at tick \(tick): \(error)") }
            crash(node, .storeFailure)
        }
    }

    func route(_ node: SimNode, _ outbound: Outbound) {
        switch outbound {
        case .send(let message, let to):
            send(from: node, message, to: to)
        case .broadcast(let message):
            send(from: node, message, to: nil)
        case .sync(let from, let to, let peers):
            trace.action(tick: tick, node: node.index, .requestSync(fromHeight: from, toHeight: to, peers: peers))
            serveSync(node, from: from, to: to, peers: peers)
        }
    }

    // MARK: What the applications report (trace and checkers)

    func traceAction(_ node: SimNode, _ action: ReplicaAction) {
        trace.action(tick: tick, node: node.index, action)
    }

    func traceProposal(_ node: SimNode, _ block: Block) {
        trace.input(tick: tick, node: node.index, .proposal(block))
    }

    /// A block committed at `node` (applied, or landed in its store as it crashed).
    func committed(_ node: SimNode, _ block: Block, _ certificate: CommitCertificate, repeated: [Hash]) {
        guard node.isHonest else { return }
        let p = SimConfig.parameters
        checkers.checkTimeliness(node: node.index, block: block, maxLagMillis: p.maxProposalLagMillis,
                                 maxLeadMillis: p.maxClockDriftMillis)
        checkers.checkAuthenticity(node: node.index, block: block, validators: validators, honest: { self.nodes[$0].isHonest })
        checkers.checkCommit(node: node.index, block: block, certificate: certificate, repeated: repeated,
                             submitted: submitted, quorum: validators.quorum, n: validators.count, verifier: verifier)
        transactionLiveness.noteCommit(block)
        for tx in block.transactions { honestCommitted.insert(tx.hash) }
        if let healed = heightAtHeal, block.header.height > healed, node.committedAfterHeal == nil {
            node.committedAfterHeal = tick
        }
    }

    // MARK: The network

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

    /// An honest send is checked (double signing, the prepare's clock for timeliness); a
    /// byzantine node's goes through its rewriting.
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
            outgoing = node.byzantine!.rewrite(message, to: to, ledger: node.chain).map { recipient, m in
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

    /// Sync through the network: the first reachable peer that has the blocks serves them
    /// from its driver (`ReplicaDriver.syncRange`: at most 64 blocks).
    func serveSync(_ node: SimNode, from: UInt64, to: UInt64, peers: [Int]) {
        for p in peers where reachable(node.index, p) && nodes[p].height >= from {
            guard let server = nodes[p].driver else { continue }
            if let lie = nodes[p].byzantine?.lyingSyncAnswer(from: from, ledger: nodes[p].chain) {
                if !lie.isEmpty { enqueue(.synced(to: node.index, lie), delay: Int.random(in: 1...3, using: &networkRNG)) }
                return
            }
            enqueue(.synced(to: node.index, server.syncRange(fromHeight: from, toHeight: to)), delay: Int.random(in: 1...3, using: &networkRNG))
            return
        }
    }
}
