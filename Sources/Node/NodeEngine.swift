import ChainTypes
import Foundation
import Ledger
import Logging
import NodeCore
import PBFT
import PeerTransport

/// What reaches the node loop.
enum NodeEvent: Sendable {
    /// A decoded message from an authenticated peer (transactions arrive as `.verified`).
    case peer(PeerInfo, WireMessage)
    /// Gossiped transactions whose signatures the pool checked (and the cache now holds).
    case verified([Transaction], from: PeerInfo)
    /// A client's transaction, its signature checked; `reply` gets the outcome.
    case submit(Transaction, reply: @Sendable (Result<Hash, IntakeError>) -> Void)
    /// Clients' transactions in one go (their signatures checked); one outcome each, in order.
    case submitBatch([Transaction], reply: @Sendable ([Result<Hash, IntakeError>]) -> Void)
    case connected(PeerInfo)
    case disconnected(PeerInfo)
    case stop
}

/// The node's single writer (docs/LEDGER.md "Concurrency model"): it owns the ledger, the
/// mempool and — on a validator — the replica driver, and runs on the node loop's thread.
/// Everything it learns arrives as a `NodeEvent` or a tick; everything it says goes out
/// through `PeerNetwork`, which never blocks it.
///
/// - A validator steps its driver on consensus messages and ticks and sends what each step
///   returns (persist before send is the driver's).
/// - Both kinds follow the chain by sync: a peer whose status is ahead is asked for a range;
///   blocks come back with certificates and are checked (a validator through PBFT's
///   `.synced`, an observer by the ledger's certificate check and re-execution); a peer that
///   serves a block that fails, or nothing within the timeout, is dropped and another asked.
/// - After every commit the new snapshot is published (readers, sync serving), receipt
///   waiters are answered, and a validator pushes the block to connected observers.
final class NodeEngine {
    let settings: NodeSettings
    let role: NodeRole
    let local: PeerInfo
    let directory: PeerDirectory
    let network: PeerNetwork
    let ledger: Ledger
    let mempool: Mempool
    let driver: LedgerReplicaDriver?
    let waiters: ReceiptWaiters
    let allowList: LiveAllowList
    let publish: @Sendable (NodeStatusSnapshot, LedgerSnapshot?) -> Void
    var logger: Logger

    /// Heads the peers reported (`status`), for sync.
    var peerHeads: [PublicKey: UInt64] = [:]
    /// Sync requests in flight: at most one per peer, at most `maxParallelSync` in all, for
    /// disjoint ranges.
    var syncRequests: [PublicKey: SyncRequest] = [:]
    /// Synced blocks above the next height, waiting for the ones below (at most the answers
    /// of `maxParallelSync - 1` requests: one frame each).
    var early: [UInt64: (block: WireMessage.CommittedBlock, peer: PublicKey)] = [:]
    /// Rotates the peer asked among those ahead.
    var syncRotation = 0
    var seen = SeenSet(capacity: 100_000)
    var lastStatusMillis: UInt64 = 0
    var lastSummaryMillis: UInt64 = 0
    var lastCommitWallMillis: UInt64?
    var lastPublishedMillis: UInt64 = 0
    var syncRequestsSent: [String: Int] = [:]
    var peakParallelSync = 0
    let startedMillis = NodeEngine.wallMillis()
    var transactionsCommitted: UInt64 = 0
    var viewChanges: UInt64 = 0
    /// Set when the engine must stop (a driver or store fault); the node then exits non-zero.
    var failure: NodeError?

    init(settings: NodeSettings, role: NodeRole, local: PeerInfo, directory: PeerDirectory, network: PeerNetwork,
         ledger: Ledger, waiters: ReceiptWaiters, allowList: LiveAllowList, publish: @escaping @Sendable (NodeStatusSnapshot, LedgerSnapshot?) -> Void) throws(NodeError) {
        self.settings = settings
        self.role = role
        self.local = local
        self.directory = directory
        self.network = network
        self.ledger = ledger
        self.waiters = waiters
        self.allowList = allowList
        self.publish = publish
        logger = settings.logger
        let mempool = Mempool(executor: ledger.executor, limits: settings.mempool)
        self.mempool = mempool
        if case .validator(let index) = role {
            let binding = ChainBinding(id: settings.genesis.chain, genesisHash: settings.genesis.hash)
            let config = ReplicaConfig(chain: binding, validators: settings.genesis.validators, selfIndex: index,
                                       parameters: settings.genesis.consensus)
            let crypto = Secp256k1ConsensusCrypto(chain: binding, validators: settings.genesis.validators, key: settings.nodeKey)
            do { driver = try ReplicaDriver(ledger: ledger, mempool: mempool, config: config, crypto: crypto) } catch { throw .driver(error) }
        } else {
            driver = nil
        }
        publishStatus(snapshot: try? ledger.snapshot(), replaceSnapshot: true)
    }

    static func wallMillis() -> UInt64 { UInt64(max(0, Date().timeIntervalSince1970 * 1000)) }

    // MARK: Events

    func handle(_ event: NodeEvent) {
        let before = ledger.head.height
        switch event {
        case .peer(let peer, let message): receive(message, from: peer)
        case .verified(let txs, let peer): admitGossip(txs, from: peer)
        case .submit(let tx, let reply): reply(admitClient(tx))
        case .submitBatch(let txs, let reply): reply(admitClients(txs))
        case .connected(let peer):
            network.send(.status(height: ledger.head.height, headHash: ledger.head.hash), to: peer.nodeKey, priority: .bulk)
            resendMempool(to: peer)
        case .disconnected(let peer):
            peerHeads[peer.nodeKey] = nil
            syncRequests[peer.nodeKey] = nil
        case .stop: break
        }
        afterStep(from: before)
    }

    func receive(_ message: WireMessage, from peer: PeerInfo) {
        switch message {
        case .consensus(let m):
            guard let driver, let from = peer.validatorIndex else {
                return refuse(peer, "sent a consensus message to or as a non-validator", label: "role")
            }
            step(driver, .message(m, from: from))
        case .status(let height, _):
            peerHeads[peer.nodeKey] = height
            syncIfBehind(now: Self.wallMillis())
        case .syncBlocks(let blocks):
            take(blocks, from: peer)
        case .committed(let block):
            guard peer.isValidator else { return refuse(peer, "pushed a committed block but is not a validator", label: "role") }
            peerHeads[peer.nodeKey] = max(peerHeads[peer.nodeKey] ?? 0, block.block.header.height)
            take([block], from: peer, answer: false)
        case .transactions, .syncRequest:
            // Handled before the loop (signature pool, snapshot reader).
            break
        }
    }

    /// Drops a peer for what it sent; `label` names the reason for metrics.
    func refuse(_ peer: PeerInfo, _ why: String, label: String) {
        settings.telemetry?.invalidMessage(peer: peer.name, reason: label)
        network.disconnect(peer.nodeKey, reason: why)
    }

    // MARK: Ticks

    func tick() {
        let now = Self.wallMillis()
        let before = ledger.head.height
        if let driver { step(driver, driver.tickInput(nowMillis: now)) }
        if now >= lastStatusMillis + settings.statusIntervalMillis {
            lastStatusMillis = now
            let status = WireMessage.status(height: ledger.head.height, headHash: ledger.head.hash)
            network.send(status, to: network.connected.map(\.nodeKey), priority: .bulk)
            syncIfBehind(now: now)
        }
        if now >= lastSummaryMillis + 10_000 {
            lastSummaryMillis = now
            logger.info("node", metadata: ["height": "\(ledger.head.height)", "view": "\(driver?.replica.view ?? 0)",
                                           "peers": "\(network.connected.count)", "mempool": "\(mempool.count)"])
        }
        afterStep(from: before)
    }

    /// Steps the driver and sends what it returns; a driver error stops the node.
    func step(_ driver: LedgerReplicaDriver, _ input: ReplicaInput) {
        guard failure == nil else { return }
        let views = driver.replica.stats.newViewsInstalled
        let started = driver.replica.stats.viewChangesStarted
        do {
            for o in try driver.step(input) { route(o) }
        } catch {
            logger.critical("consensus stopped", metadata: ["error": "\(error)"])
            failure = .driver(error)
        }
        if driver.replica.stats.viewChangesStarted > started {
            logger.notice("view change started", metadata: ["view": "\(driver.replica.view)",
                                                           "height": "\(ledger.head.height)"])
        }
        let installed = driver.replica.stats.newViewsInstalled - views
        if installed > 0 {
            viewChanges += UInt64(installed)
            settings.telemetry?.viewChanged(to: driver.replica.view)
            logger.notice("view changed", metadata: ["view": "\(driver.replica.view)", "height": "\(ledger.head.height)"])
        }
    }

    /// Consensus messages this node signs are critical (a peer that cannot take them is
    /// closed); everything else is bulk (docs/TRANSPORT.md "Send queues").
    func route(_ outbound: Outbound) {
        switch outbound {
        case .send(let m, let to):
            guard let peer = directory.validator(to) else { return }
            network.send(.consensus(m), to: peer.nodeKey, priority: .critical)
        case .broadcast(let m):
            let others = directory.validators.filter { $0.nodeKey != local.nodeKey }.map(\.nodeKey)
            network.send(.consensus(m), to: others, priority: .critical)
        case .sync(let from, let to, let peers):
            let preferred = peers.compactMap { directory.validator($0)?.nodeKey }
            // PBFT's own request (a certificate or checkpoint above the head): the range's
            // start goes to a peer PBFT names, unless it is already asked for.
            if from <= to, syncRequests.count < Self.maxParallelSync, let range = nextUncovered(upTo: to), range.lowerBound == from {
                requestBlocks(range, candidates: preferred, now: Self.wallMillis())
            }
        }
    }

    /// After an event or tick: if blocks committed, publish the snapshot, answer receipt
    /// waiters, push the blocks to observers; publish the status either way.
    func afterStep(from before: UInt64) {
        let head = ledger.head.height
        if head > before {
            let snapshot = try? ledger.snapshot()
            publishStatus(snapshot: snapshot, replaceSnapshot: true)
            lastCommitWallMillis = Self.wallMillis()
            for h in (before + 1)...head { committed(height: h, snapshot: snapshot) }
        } else if Self.wallMillis() >= lastPublishedMillis + Self.statusRefreshMillis {
            // Between commits the status is refreshed at most every `statusRefreshMillis`:
            // building it after each of thousands of messages a second would cost more than
            // the messages.
            publishStatus()
        }
    }

    /// How stale the published status may get between commits.
    static let statusRefreshMillis: UInt64 = 100

    private func committed(height: UInt64, snapshot: LedgerSnapshot?) {
        guard let (block, certificate) = try? ledger.committedBlock(at: height) else { return }
        transactionsCommitted += UInt64(block.transactions.count)
        followPins(after: block)
        if let telemetry = settings.telemetry {
            let latency = Double(Int64(Self.wallMillis()) - Int64(block.header.timestampMillis)) / 1000
            telemetry.committed(height: height, transactions: block.transactions.count, bytes: block.encodedByteCount,
                                latencySeconds: max(0, latency))
        }
        logger.debug("committed", metadata: ["height": "\(height)", "transactions": "\(block.transactions.count)"])
        if driver == nil { mempool.prune(nextNonce: nextNonce, nowMillis: Self.wallMillis()) }
        waiters.committed(block.transactions.map(\.hash)) { hash in
            guard let found = try? snapshot?.transaction(hash) else { return nil }
            return CommittedReceipt(height: found.height, index: found.index, receipt: found.receipt)
        }
        if driver != nil {
            let observers = network.connected.filter { !$0.isValidator }.map(\.nodeKey)
            if !observers.isEmpty {
                network.send(.committed(.init(block: block, certificate: certificate)), to: observers, priority: .bulk)
            }
        }
    }

    func nextNonce(_ a: Address) -> UInt64 { (try? ledger.account(a)?.nonce) ?? 0 }

    private var publishedSnapshot: LedgerSnapshot?

    func publishStatus(snapshot: LedgerSnapshot? = nil, replaceSnapshot: Bool = false) {
        if replaceSnapshot { publishedSnapshot = snapshot }
        lastPublishedMillis = Self.wallMillis()
        let connected = network.connected
        let expected: Int = switch role {
        case .validator: directory.validators.count - 1
        case .observer: directory.validators.count
        }
        let best = peerHeads.values.max() ?? 0
        let status = NodeStatusSnapshot(
            name: local.name, role: role, chainID: settings.genesis.chain.value, height: ledger.head.height,
            headHash: ledger.head.hash, headTimeMillis: ledger.head.timestampMillis,
            view: driver?.replica.view ?? 0,
            primary: driver.map { $0.replica.config.primary(of: $0.replica.view) },
            viewChanging: driver?.replica.isViewChanging ?? false, viewChanges: viewChanges,
            peersConnected: connected.filter { $0.isValidator }.count, peersExpected: expected,
            syncTarget: best > ledger.head.height ? best : nil,
            mempoolTransactions: mempool.count, mempoolBytes: mempool.byteCount,
            lastCommitWallMillis: lastCommitWallMillis, transactionsCommitted: transactionsCommitted,
            syncRequestsSent: syncRequestsSent, peakParallelSync: peakParallelSync,
            peerHeights: Dictionary(peerHeads.compactMap { key, h in directory.peer(nodeKey: key).map { ($0.name, h) } },
                                    uniquingKeysWith: max))
        publish(status, publishedSnapshot)
    }
}
