import ChainTypes
import ContractVM
import Foundation
import Ledger
import LevelDBStore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NodeCore
import PeerTransport

/// A running node — validator or observer — and the handle the rest of the process uses:
/// status, the transaction intake, readers' snapshot, stop.
///
/// Threads (docs/OPERATIONS.md "Threads"): one NIO event loop for the peer network; one
/// node-loop thread, the single writer, that owns the ledger and the driver (`NodeEngine`)
/// and takes events and ticks in order; signature checks of gossip and client transactions
/// on a concurrent queue (both cores), never on the event loop or the node loop; sync
/// answers read from the published snapshot on that queue too, so serving a peer never
/// holds up consensus.
public final class NodeRuntime: TransactionIntake, Sendable {
    public let settings: NodeSettings
    public let role: NodeRole
    public let local: PeerInfo
    public let directory: PeerDirectory
    /// The port the node listens on for peers (nil for an observer).
    public let p2pPort: Int?
    /// The committed head the node found in its data directory (0 for a new one): a restart
    /// resumes from it, without replaying the chain from genesis.
    public let startHeight: UInt64
    let network: PeerNetwork
    let mailbox: Mailbox<NodeEvent>
    let group: MultiThreadedEventLoopGroup
    let waiters: ReceiptWaiters
    let signatures: SignatureCache
    /// The TLS pins in force (genesis, then governance): new connections are checked against
    /// it, and replacing it closes connections under a revoked pin.
    let allowList: LiveAllowList
    private let published: NIOLockedValueBox<Published>
    private let done: NIOLockedValueBox<Done>
    static let workers = DispatchQueue(label: "hansa.node.workers", attributes: .concurrent)

    struct Published: Sendable {
        var status: NodeStatusSnapshot?
        var snapshot: LedgerSnapshot?
    }

    struct Done: Sendable {
        var finished = false
        var failure: NodeError?
        var waiting: [CheckedContinuation<NodeError?, Never>] = []
    }

    /// Opens the data directory, listens, starts dialling and starts the node loop. Every
    /// failure is one sentence, and nothing is left running.
    public static func start(_ settings: NodeSettings) async throws(NodeError) -> NodeRuntime {
        let directory = try PeerDirectory.from(genesis: settings.genesis, dial: settings.dial)
        let key = settings.nodeKey.publicKey
        guard let local = directory.peer(nodeKey: key) else {
            throw .genesis("this node's key \(key.address.text) is neither a validator's nor an observer's in genesis \(settings.genesis.chain.value)")
        }
        let role: NodeRole = local.validatorIndex.map { .validator(index: $0) } ?? .observer
        return try await NodeRuntime(settings: settings, role: role, local: local, directory: directory)
    }

    static func openLedger(_ settings: NodeSettings, signatures: SignatureCache) throws(NodeError) -> Ledger {
        let path = settings.dataDirectory
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw .dataDirectory(path: path, why: "cannot create it: \(error.localizedDescription)")
        }
        let store: LevelDBLedgerStore
        do { store = try LevelDBLedgerStore(path: path) } catch {
            throw .dataDirectory(path: path, why: "cannot open it (is another node using it?): \(error)")
        }
        do {
            return try Ledger(store: store, genesis: settings.genesis, engine: HansaVM(), signatures: signatures)
        } catch {
            throw .dataDirectory(path: path, why: "\(error)")
        }
    }

    /// Listens first (a port in use stops the start before the data directory is touched),
    /// then opens the ledger, starts the engine, dials, and starts the loop.
    private init(settings: NodeSettings, role: NodeRole, local: PeerInfo, directory: PeerDirectory) async throws(NodeError) {
        self.settings = settings
        self.role = role
        self.local = local
        self.directory = directory
        let signatures = SignatureCache()
        self.signatures = signatures
        let mailbox = Mailbox<NodeEvent>(maxOptional: settings.maxQueuedPeerMessages)
        self.mailbox = mailbox
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.group = group
        self.waiters = ReceiptWaiters()
        let published = NIOLockedValueBox(Published())
        self.published = published
        self.done = NIOLockedValueBox(Done())
        let logger = settings.logger

        let allowList = LiveAllowList(directory.allowList)
        self.allowList = allowList
        let endpoint = directory.endpointConfig(genesis: settings.genesis, identity: settings.tls, nodeKey: settings.nodeKey,
                                                allowList: allowList, handshakeTimeout: settings.handshakeTimeout,
                                                sendQueueMaxMessages: settings.sendQueueMaxMessages, logger: logger)
        let maxFrame = endpoint.maxFrameBytes
        // The network's handlers run on its event loop: decode (done), then hand off.
        let networkBox = NIOLockedValueBox<PeerNetwork?>(nil)
        let handlers = PeerNetwork.Handlers(
            message: { peer, message in
                switch message {
                case .transactions(let txs):
                    Self.workers.async {
                        guard let network = networkBox.withLockedValue({ $0 }) else { return }
                        Self.verifyGossip(txs, from: peer, signatures: signatures, mailbox: mailbox, network: network)
                    }
                case .syncRequest(let from, let to):
                    Self.workers.async {
                        guard let network = networkBox.withLockedValue({ $0 }) else { return }
                        let snapshot = published.withLockedValue { $0.snapshot }
                        Self.serveSync(from: from, to: to, snapshot: snapshot, maxFrameBytes: maxFrame, peer: peer, network: network)
                    }
                default:
                    if !mailbox.offer(.peer(peer, message)), !mailbox.isClosed {
                        logger.warning("node loop overloaded; dropping a peer message", metadata: ["peer": "\(peer.name)"])
                    }
                }
            },
            connected: { mailbox.post(.connected($0)) },
            disconnected: { mailbox.post(.disconnected($0)) },
            invalid: { peer, reason in settings.telemetry?.invalidMessage(peer: peer.name, reason: reason) })
        let network = PeerNetwork(directory: directory, local: local, endpoint: endpoint, group: group,
                                  penaltyDuration: settings.penaltyDuration, logger: logger, handlers: handlers)
        networkBox.withLockedValue { $0 = network }
        self.network = network

        let engine: NodeEngine
        let ledger: Ledger
        do throws(NodeError) {
            let listen: PeerAddress? = if case .validator = role { settings.p2pListen } else { nil }
            p2pPort = try await network.listen(listen, maxConnections: settings.maxInboundPeers)
            ledger = try Self.openLedger(settings, signatures: signatures)
            let pins = try PinsInForce.read(ledger, directory: directory)
            allowList.replace(pins.allowList)
            guard pins.pin(of: local.nodeKey) == settings.tls.fingerprint else {
                throw .genesis("the TLS certificate's SPKI SHA-256 is \(settings.tls.fingerprint.hex), but the pin in force for "
                               + "\(local.name) is \(pins.pin(of: local.nodeKey)?.hex ?? "none") (genesis, or governance since)")
            }
            engine = try NodeEngine(settings: settings, role: role, local: local, directory: directory, network: network,
                                    ledger: ledger, waiters: waiters, allowList: allowList) { status, snapshot in
                published.withLockedValue { $0.status = status; $0.snapshot = snapshot }
            }
            network.dial(redial: settings.redial)
        } catch {
            await network.stop()
            try? await group.shutdownGracefully()
            throw error
        }
        startHeight = ledger.head.height
        logger.info("node started", metadata: ["role": "\(role)", "name": "\(local.name)", "height": "\(ledger.head.height)",
                                               "p2p": "\(p2pPort.map(String.init) ?? "-")"])
        let box = EngineBox(engine)
        let thread = Thread { [self] in self.loop(box) }
        thread.name = "hansa-node-loop"
        thread.start()
    }

    /// The engine crosses to the loop thread once, and only that thread touches it after.
    private final class EngineBox: @unchecked Sendable {
        var engine: NodeEngine?
        init(_ engine: NodeEngine) { self.engine = engine }
    }

    private func loop(_ box: EngineBox) {
        guard let engine = box.engine else { return }
        let tick = Double(settings.genesis.consensus.tickMillis) / 1000
        var next = Date()
        loop: while engine.failure == nil {
            if Date() >= next {
                engine.tick()
                next = max(next.addingTimeInterval(tick), Date().addingTimeInterval(tick / 4))
                continue
            }
            switch mailbox.take(until: next) {
            case .timeout: continue
            case .closed: break loop
            case .event(let event):
                if case .stop = event { break loop }
                engine.handle(event)
            }
        }
        let failure = engine.failure
        mailbox.close()
        // Drain what is left so no client waits forever.
        while case .event(let event) = mailbox.take(until: Date()) {
            if case .submit(_, let reply) = event { reply(.failure(.unavailable("the node is stopping"))) }
            if case .submitBatch(let txs, let reply) = event { reply(txs.map { _ in .failure(.unavailable("the node is stopping")) }) }
        }
        box.engine = nil  // the ledger, the driver and LevelDB close here, on the writer's thread
        published.withLockedValue { $0.snapshot = nil }
        waiters.cancelAll()
        let waiting = done.withLockedValue { d -> [CheckedContinuation<NodeError?, Never>] in
            d.finished = true
            d.failure = failure
            defer { d.waiting = [] }
            return d.waiting
        }
        for c in waiting { c.resume(returning: failure) }
    }

    /// Waits until the node loop has ended (stopped, or failed: then the error).
    public func finished() async -> NodeError? {
        await withCheckedContinuation { (c: CheckedContinuation<NodeError?, Never>) in
            let now: NodeError?? = done.withLockedValue { d in
                if d.finished { return .some(d.failure) }
                d.waiting.append(c)
                return nil
            }
            if let failure = now { c.resume(returning: failure) }
        }
    }

    /// Asks the node loop to stop after the event in hand (returns at once; `stop()` waits).
    public func requestStop() { mailbox.post(.stop) }

    /// Stops: the event in hand is finished whole, the loop ends, the ledger closes (its
    /// last batch was synced), then the network closes. Returns the failure that stopped
    /// the node earlier, if one did.
    @discardableResult
    public func stop() async -> NodeError? {
        mailbox.post(.stop)
        let failure = await finished()
        await network.stop()
        try? await group.shutdownGracefully()
        settings.logger.info("node stopped", metadata: ["name": "\(local.name)"])
        return failure
    }

    /// Cuts the node off from every peer, or heals it (tests: a partition in one process).
    func isolate(_ on: Bool) { network.isolate(on) }

    /// The latest status the node loop published.
    public var status: NodeStatusSnapshot? { published.withLockedValue { $0.status } }
    /// The latest committed state, for readers (never the writer's).
    public var snapshot: LedgerSnapshot? { published.withLockedValue { $0.snapshot } }

    // MARK: The intake

    public func submit(_ tx: Transaction) async throws(IntakeError) -> Hash {
        let signatures = signatures
        let verified = await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
            Self.workers.async { c.resume(returning: signatures.verify(tx)) }
        }
        guard verified else { throw .refused(.badSignature) }
        let mailbox = mailbox
        let result = await withCheckedContinuation { (c: CheckedContinuation<Result<Hash, IntakeError>, Never>) in
            if !mailbox.post(.submit(tx, reply: { c.resume(returning: $0) })) {
                c.resume(returning: .failure(.unavailable("the node is stopping")))
            }
        }
        return try result.get()
    }

    /// At most this many transactions in one `submit(batch:)`.
    public static let maxBatchTransactions = 1_000

    public func submit(batch txs: [Transaction]) async -> [Result<Hash, IntakeError>] {
        guard txs.count <= Self.maxBatchTransactions else {
            return txs.map { _ in .failure(.unavailable("a batch of \(txs.count) transactions; at most \(Self.maxBatchTransactions)")) }
        }
        let signatures = signatures
        // Signatures on the worker queue, spread over both cores; one trip to the node loop.
        let verified = await withCheckedContinuation { (c: CheckedContinuation<[Bool], Never>) in
            Self.workers.async {
                let ok = NIOLockedValueBox([Bool](repeating: false, count: txs.count))
                DispatchQueue.concurrentPerform(iterations: max(1, min(txs.count, 8))) { part in
                    var i = part
                    while i < txs.count {
                        let good = signatures.verify(txs[i])
                        ok.withLockedValue { $0[i] = good }
                        i += max(1, min(txs.count, 8))
                    }
                }
                c.resume(returning: ok.withLockedValue { $0 })
            }
        }
        let good = txs.indices.filter { verified[$0] }.map { txs[$0] }
        var results = [Result<Hash, IntakeError>](repeating: .failure(.refused(.badSignature)), count: txs.count)
        guard !good.isEmpty else { return results }
        let mailbox = mailbox
        let admitted = await withCheckedContinuation { (c: CheckedContinuation<[Result<Hash, IntakeError>], Never>) in
            if !mailbox.post(.submitBatch(good, reply: { c.resume(returning: $0) })) {
                c.resume(returning: good.map { _ in .failure(.unavailable("the node is stopping")) })
            }
        }
        var next = admitted.makeIterator()
        for i in txs.indices where verified[i] { results[i] = next.next()! }
        return results
    }

    public func receipt(of hash: Hash, timeout: Duration) async -> CommittedReceipt? {
        let published = published
        return await waiters.wait(for: hash, timeout: timeout) {
            guard let snapshot = published.withLockedValue({ $0.snapshot }), let found = try? snapshot.transaction(hash) else {
                return nil
            }
            return CommittedReceipt(height: found.height, index: found.index, receipt: found.receipt)
        }
    }

    // MARK: Work off the loop

    /// Checks gossiped signatures on the worker queue; a peer that forwards a transaction
    /// whose signature fails broke the rule that nodes check before they forward: dropped.
    static func verifyGossip(_ txs: [Transaction], from peer: PeerInfo, signatures: SignatureCache,
                             mailbox: Mailbox<NodeEvent>, network: PeerNetwork) {
        for tx in txs where !signatures.verify(tx) {
            network.reportInvalid(peer, reason: "bad-signature")
            network.disconnect(peer.nodeKey, reason: "forwarded transaction \(tx.hash.hex.prefix(16))… whose signature does not verify")
            return
        }
        _ = mailbox.offer(.verified(txs, from: peer))
    }

    /// Answers a sync request from the published snapshot: whole blocks in order, cut to fit
    /// one frame (at least one block when there is one).
    static func serveSync(from: UInt64, to: UInt64, snapshot: LedgerSnapshot?, maxFrameBytes: Int, peer: PeerInfo,
                          network: PeerNetwork) {
        guard let snapshot, from <= snapshot.head.height else {
            network.send(.syncBlocks([]), to: peer.nodeKey, priority: .bulk)
            return
        }
        let range = (try? LedgerReplicaDriver.syncRange(from: snapshot, fromHeight: from, toHeight: to)) ?? []
        var blocks: [WireMessage.CommittedBlock] = []
        var bytes = 16
        for (block, certificate) in range.prefix(WireMessage.maxSyncBlocks) {
            let size = block.canonicalBytes.count + certificate.canonicalBytes.count
            if !blocks.isEmpty, bytes + size > maxFrameBytes - 1024 { break }
            bytes += size
            blocks.append(.init(block: block, certificate: certificate))
        }
        network.send(.syncBlocks(blocks), to: peer.nodeKey, priority: .bulk)
    }
}
