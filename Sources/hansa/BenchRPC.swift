import ChainTypes
import Foundation
import HansaCrypto
import HummingbirdWSClient
import Ledger
import Logging
import NIOConcurrencyHelpers
import NodeHTTP
import RPC
import ServiceLifecycle

/// `hansa bench rpc`: what submitting over the JSON-RPC costs against the in-process intake,
/// both measured in the same run on the same admission work — each transaction's signature
/// checked and the transaction admitted to a mempool over a ledger's state (what a node's
/// intake does before gossip; consensus left out, so only the submission path differs).
///
/// - in-process: tasks call the intake directly, as `TransactionIntake.submit` is called;
/// - over RPC: WebSocket clients on 127.0.0.1 send `tx.submitBatch` requests of 64
///   transactions (a bank's back office submitting in bulk) to the node's real HTTP server,
///   and read every answer.
///
/// Prints both rates and their ratio; the goal is ≥ 0.90 (RPC costs < 10 % of throughput).
func rpcSuite(seconds: Double, users: Int, connections: Int = 4) async throws {
    let batchSize = Int(ProcessInfo.processInfo.environment["BENCH_RPC_BATCH"] ?? "") ?? 64
    print("rpc (tx.submitBatch over the node's HTTP server vs the in-process intake; the same admission work)")
    let perUser = 40
    let dev = DevChain(users: users)
    print("  signing \(users * perUser) transfers (\(users) senders × \(perUser))…")
    var txs: [Transaction] = []
    for nonce in 0..<UInt64(perUser) {
        for u in 0..<users { txs.append(dev.transfer(from: u, to: (u + 1) % users, amount: 1, nonce: nonce)) }
    }
    let intake = try BenchIntake(genesis: dev.genesis, capacity: txs.count)

    // Warm-up: one whole pass (every sender's key parsed and cached in the process), so neither
    // side pays first-touch costs the other does not; each measurement starts with a new
    // ledger and signature cache.
    _ = await intake.measure(txs, seconds: 60, tasks: 16) { tx in _ = try? await intake.submit(tx) }

    let rpc = HansaRPC(service: intake, abis: ABIRegistry([]), accessLog: AccessLog(node: "bench"), logger: Logger(label: "bench.rpc"))
    defer { rpc.shutdown() }
    var logger = Logger(label: "bench.http")
    logger.logLevel = .error
    let server = NodeHTTPServer(configuration: NodeHTTPConfiguration(host: "127.0.0.1", port: 0), status: BenchStatus(), metrics: NodeMetrics(),
                                logger: logger, extraRoutes: { rpc.register(on: $0) },
                                webSocket: { path, remote in rpc.webSocketHandler(path: path, remote: remote) })
    let group = ServiceGroup(services: [server], logger: logger)
    // Rounds alternate in-process and RPC (this machine's speed drifts); each admits fresh
    // copies of the transactions, as a node's intake sees decoded ones.
    let rounds = 3
    let (direct, overRPC): ([Double], [Double]) = try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        let port = try await server.boundPort()
        var direct: [Double] = [], overRPC: [Double] = []
        for round in 1...rounds {
            let fresh = txs.map { try! Transaction(canonicalBytes: $0.canonicalBytes) }
            direct.append(await intake.measure(fresh, seconds: seconds, tasks: 64) { tx in _ = try? await intake.submit(tx) })
            let dispatcher = await intake.measureDispatcher(txs, rpc: rpc, seconds: seconds, tasks: connections, batch: batchSize)
            overRPC.append(try await intake.measureOverWebSocket(txs, port: port, seconds: seconds, connections: connections, batch: batchSize))
            print(String(format: "  round %d: in-process %8.0f tx/s, JSON-RPC without sockets %8.0f tx/s, over RPC %8.0f tx/s",
                         round, direct.last!, dispatcher, overRPC.last!))
        }
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
        return (direct, overRPC)
    }
    let d = direct.sorted()[rounds / 2], r = overRPC.sorted()[rounds / 2]
    print(String(format: "  in-process intake:  %8.0f tx/s admitted (median; 64 submissions in flight)", d))
    print(String(format: "  over RPC:           %8.0f tx/s admitted (median; %d WebSocket connections, tx.submitBatch of %d)", r, connections, batchSize))
    print(String(format: "  ratio RPC / in-process: %.2f (goal ≥ 0.90)", r / d))
    breakdown(txs)

}

private struct BenchStatus: NodeStatusSource {
    func status() async -> NodeStatus {
        NodeStatus(role: .validator, nodeName: "bench", chainID: "bench", height: 0, headHashHex: "", view: 0, primaryIndex: 0,
                   peersConnected: 0, peersExpected: 0, validatorPeersConnected: 0, validatorCount: 4, syncing: false,
                   syncTargetHeight: nil, lastCommitMillis: nil, mempoolTransactions: 0, mempoolBytes: 0, uptimeSeconds: 0, version: "bench")
    }
}

/// A node's intake without consensus, as `NodeRuntime` does it: the signature checked on a
/// worker queue through the ledger's signature cache, then the transaction admitted to a
/// mempool (under a lock) against the committed state — whose own check then hits the cache.
/// `reset()` starts over with a new ledger, cache and mempool, so no measurement finds the
/// signatures another one checked.
final class BenchIntake: RPCNodeService, @unchecked Sendable {
    struct Parts {
        let snapshot: LedgerSnapshot
        let executor: Executor
        let signatures: SignatureCache
        var mempool: Mempool
    }
    let genesis: Genesis
    let capacity: Int
    private let parts: NIOLockedValueBox<Parts>
    private let admitted = NIOLockedValueBox(0)

    init(genesis: Genesis, capacity: Int) throws {
        self.genesis = genesis
        self.capacity = capacity
        parts = NIOLockedValueBox(try Self.parts(genesis, capacity))
    }

    static func parts(_ genesis: Genesis, _ capacity: Int) throws -> Parts {
        let signatures = SignatureCache()
        let ledger = try Ledger(store: MemoryStore(), genesis: genesis, signatures: signatures)
        var limits = Mempool.Limits()
        limits.maxTransactions = capacity
        limits.maxPerSender = 64
        return Parts(snapshot: try ledger.snapshot(), executor: ledger.executor, signatures: signatures,
                     mempool: Mempool(executor: ledger.executor, limits: limits))
    }

    var snapshot: LedgerSnapshot? { parts.withLockedValue { $0.snapshot } }
    func nodeInfo() -> RPCNodeInfo { RPCNodeInfo(name: "bench", role: .validator, version: "bench") }

    /// Signatures are checked on a concurrent queue, as the node's intake does (both cores).
    static let workers = DispatchQueue(label: "bench.intake.workers", attributes: .concurrent)

    func submit(_ tx: Transaction) async throws(SubmitRefusal) -> Hash {
        let (signatures, store, now) = parts.withLockedValue { ($0.signatures, $0.snapshot.store, $0.snapshot.head.timestampMillis) }
        let verified = await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
            Self.workers.async { c.resume(returning: signatures.verify(tx)) }
        }
        guard verified else { throw .refused(.badSignature) }
        let result: TransactionError? = parts.withLockedValue { p in
            do throws(TransactionError) { try p.mempool.add(tx, state: store, nowMillis: now); return nil } catch { return error }
        }
        if let result { throw .refused(result) }
        admitted.withLockedValue { $0 += 1 }
        return tx.hash
    }

    func receipt(of hash: Hash, timeout: Duration) async -> (height: UInt64, index: Int, receipt: Receipt)? { nil }

    func reset() {
        let fresh = try! Self.parts(genesis, capacity)
        parts.withLockedValue { $0 = fresh }
        admitted.withLockedValue { $0 = 0 }
    }

    var admittedCount: Int { admitted.withLockedValue { $0 } }

    /// Admissions per second with `tasks` tasks calling `submit` for up to `seconds`.
    func measure(_ txs: [Transaction], seconds: Double, tasks: Int = 4, _ submit: @escaping @Sendable (Transaction) async -> Void) async -> Double {
        await drive(items: txs.count, tasks: tasks, seconds: seconds) { await submit(txs[$0]) }
    }

    /// Admissions per second while `tasks` tasks take items 0..<items in turn and run `work`
    /// on each, for up to `seconds` (the intake starts empty).
    func drive(items: Int, tasks: Int, seconds: Double, _ work: @escaping @Sendable (Int) async -> Void) async -> Double {
        reset()
        let cursor = NIOLockedValueBox(0)
        let start = Date()
        let deadline = start.addingTimeInterval(seconds)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<tasks {
                group.addTask {
                    while Date() < deadline {
                        let i = cursor.withLockedValue { c -> Int in defer { c += 1 }; return c }
                        guard i < items else { return }
                        await work(i)
                    }
                }
            }
        }
        return Double(admittedCount) / Date().timeIntervalSince(start)
    }

    /// One `tx.submitBatch` request per `batch` transactions.
    static func batches(_ txs: [Transaction], _ batch: Int) -> [String] {
        stride(from: 0, to: txs.count, by: batch).map { from in
            let list = txs[from..<min(txs.count, from + batch)].map { "\"" + Hex.encode($0.canonicalBytes) + "\"" }.joined(separator: ",")
            return #"{"jsonrpc":"2.0","method":"tx.submitBatch","params":{"transactions":[\#(list)]},"id":\#(from)}"#
        }
    }

    /// The JSON-RPC layer alone: `tasks` tasks hand batches to the server's dispatcher, no
    /// sockets (where the RPC's cost is, when it is not the transport).
    func measureDispatcher(_ txs: [Transaction], rpc: HansaRPC, seconds: Double, tasks: Int, batch: Int) async -> Double {
        let requests = Self.batches(txs, batch).map { Array($0.utf8) }
        return await drive(items: requests.count, tasks: tasks, seconds: seconds) {
            _ = await rpc.respond(to: requests[$0], transport: .webSocket, remote: "bench")
        }
    }

    /// Admissions per second over `connections` WebSockets, each sending batches of `batch`
    /// `tx.submit` requests and waiting for each batch's answer before the next.
    func measureOverWebSocket(_ txs: [Transaction], port: Int, seconds: Double, connections: Int, batch: Int) async throws -> Double {
        reset()
        // The requests' text is made before the clock starts: the client's side is not the node's cost.
        let requests = Self.batches(txs, batch)
        let cursor = NIOLockedValueBox(0)
        let failures = NIOLockedValueBox(0)
        let start = Date()
        let deadline = start.addingTimeInterval(seconds)
        let logger: Logger = {
            var l = Logger(label: "bench.ws")
            l.logLevel = .error
            return l
        }()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<connections {
                group.addTask {
                    let client = WebSocketClient(url: "ws://127.0.0.1:\(port)/ws", configuration: .init(maxFrameSize: 1 << 24), logger: logger) { inbound, outbound, _ in
                        var messages = inbound.messages(maxSize: 1 << 24).makeAsyncIterator()
                        while Date() < deadline {
                            let i = cursor.withLockedValue { c -> Int in defer { c += 1 }; return c }
                            guard i < requests.count else { break }
                            try await outbound.write(.text(requests[i]))
                            guard case .text(let answer)? = try await messages.next() else { break }
                            if answer.contains("\"error\"") { failures.withLockedValue { $0 += 1 } }
                        }
                        try await outbound.close(.normalClosure, reason: nil)
                    }
                    try await client.run()
                }
            }
            try await group.waitForAll()
        }
        let f = failures.withLockedValue { $0 }
        if f > 0 { print("  note: \(f) batches had refusals (rate limits or the mempool); only admitted transactions count") }
        return Double(admittedCount) / Date().timeIntervalSince(start)
    }
}

/// Where the JSON-RPC layer's time goes for one `tx.submit`, step by step on one thread
/// (µs per transaction): read the request, decode the hex, decode the transaction, write the answer.
func breakdown(_ txs: [Transaction]) {
    let sample = Array(txs.prefix(5_000))
    let requests = sample.map { tx in
        Array(#"{"jsonrpc":"2.0","method":"tx.submit","params":{"transaction":"\#(Hex.encode(tx.canonicalBytes))"},"id":7}"#.utf8)
    }
    func time(_ label: String, _ body: () -> Void) {
        let start = ContinuousClock().now
        body()
        let d = ContinuousClock().now - start
        let us = (Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12) / Double(sample.count)
        print("    " + label.padding(toLength: 34, withPad: " ", startingAt: 0) + String(format: "%6.2f µs", us))
    }
    print("  one tx.submit, step by step (one thread):")
    var parsed: [JSON] = []
    time("read the request (JSON)") { parsed = requests.map { try! JSON.parse($0) } }
    var hex: [String] = []
    time("take the params") { hex = parsed.map { $0["params"]!["transaction"]!.stringValue! } }
    var bytes: [[UInt8]] = []
    time("decode the hex") { bytes = hex.map { Hex.decode($0)! } }
    var decoded: [Transaction] = []
    time("decode the transaction") { decoded = bytes.map { try! Transaction(canonicalBytes: $0) } }
    time("its hash") { for t in decoded { _ = t.hash } }
    time("write the answer (JSON)") {
        for t in decoded {
            _ = JSON.object(["jsonrpc": "2.0", "result": .object(["hash": .string(t.hash.hex), "status": "pending"]), "id": .number("7")]).serialized()
        }
    }
    time("verify the signature (for scale)") { for t in decoded { _ = t.verifySignature() } }
}
