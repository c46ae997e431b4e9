import ChainTypes
import Foundation
import HansaConfig
import HansaCrypto
import Ledger
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import Node
import PeerTransport
import HummingbirdWSClient

/// `hansa bench network`: four validator processes (`hansa node run`, this binary) on
/// 127.0.0.1 and this process as the load: an observer identity pinned in the genesis that
/// gossips pre-signed transfers to the validators — the path a client's transaction takes —
/// and times each one from its send to the committed block the validators push to it.
///
/// Prints committed transactions/s and commit latency p50/p99 at saturation (a bounded
/// window of transactions in flight) and at 25 % of that rate (open loop), each validator's
/// resident memory, and the ratio of the saturated rate to the ceiling measured in the same
/// run: the 2-thread raw libsecp256k1 verify rate ÷ 4 (four nodes share the two cores and
/// each verifies every transaction once).
func networkSuite(seconds: Double, users: Int, blockTransactions: Int?, window maxWindow: Int, withRPC: Bool = false) async throws {
    print("network (4 validator processes on 127.0.0.1; this process gossips pre-signed transfers as an observer)")
    if let blockTransactions { print("  genesis max_block_transactions = \(blockTransactions) (the standard is \(ConsensusParameters.standard.maxBlockTransactions))") }
    let (ceiling, net, load) = try await loadedNetwork(users: users, blockTransactions: blockTransactions)
    defer { net.shutdown() }
    defer { load.shutdown() }

    let perUser = 200
    print("  signing \(users * perUser) transfers (\(users) senders × \(perUser))…")
    let txs = net.signTransfers(perUser: perUser)
    var cursor = 0
    // In flight at once: at most 16 per sender (transactions are sent nonce-major, so a window
    // of 16 × senders keeps every sender within the mempool's nonce gap of 64), at most
    // `maxWindow`. By Little's law the saturated rate is at most window ÷ latency.
    let window = min(maxWindow, 16 * users)
    print("  window: \(window) transactions in flight")

    // Warm-up, then saturation: keep `window` transactions in flight.
    _ = load.run(txs, from: &cursor, seconds: 3, window: window, rate: nil)
    let sat = load.run(txs, from: &cursor, seconds: seconds, window: window, rate: nil)
    print(String(format: "  saturation:  %8.0f tx/s committed; latency p50 %6.0f ms, p99 %6.0f ms (%d measured)",
                 sat.rate, sat.p50 * 1000, sat.p99 * 1000, sat.count))
    let quarter = load.run(txs, from: &cursor, seconds: seconds, window: window, rate: sat.rate / 4)
    print(String(format: "  25%% of it:   %8.0f tx/s committed; latency p50 %6.0f ms, p99 %6.0f ms (%d measured)",
                 quarter.rate, quarter.p50 * 1000, quarter.p99 * 1000, quarter.count))
    if withRPC {
        // The same saturation with every transaction submitted through the validators'
        // JSON-RPC (the path exporters' and banks' clients take) instead of the peer protocol.
        try await load.useRPC(net)
        _ = load.run(txs, from: &cursor, seconds: 3, window: window, rate: nil)
        let viaRPC = load.run(txs, from: &cursor, seconds: seconds, window: window, rate: nil)
        print(String(format: "  over RPC:    %8.0f tx/s committed; latency p50 %6.0f ms, p99 %6.0f ms (%d measured)",
                     viaRPC.rate, viaRPC.p50 * 1000, viaRPC.p99 * 1000, viaRPC.count))
        print(String(format: "  ratio RPC / peer-protocol intake: %.2f (goal ≥ 0.90: submitting over RPC costs < 10 %% of throughput)",
                     viaRPC.rate / sat.rate))
    }
    let rss = net.residentMiB()
    print("  resident memory per validator (MiB): " + rss.map { String(format: "%.0f", $0) }.joined(separator: ", "))
    print(String(format: "  ratio to ceiling: %.2f (bar 0.60, aim 0.80)", sat.rate / ceiling))
    if cursor >= txs.count { print("  note: the pre-signed transfers ran out: raise --users (BENCH_USERS)") }
}

/// `hansa bench load` (issue 14): the network benchmark's four validator processes, loaded at
/// 100 %, 50 % and 25 % of the saturated rate, first through the peer protocol (an observer
/// gossiping, as a bank's intake does), then through the validators' JSON-RPC over WebSocket
/// and then over HTTP (`POST /rpc`, `tx.submitBatch`, as clients do); committed transactions/s and commit latency p50/p99 at
/// each level, the ratios to the ceiling measured in the same run, and (`plotData`) the points
/// as CSV for scripts/bench's plot of latency against throughput.
func loadSuite(seconds: Double, users: Int, window maxWindow: Int, plotData: String?) async throws {
    print("load (4 validator processes on 127.0.0.1; pre-signed transfers at 100 %, 50 % and 25 % of saturation)")
    let (ceiling, net, load) = try await loadedNetwork(users: users, blockTransactions: nil)
    defer { net.shutdown() }
    defer { load.shutdown() }
    // Enough for three paths × (warm-up + three levels) at up to 0.6 of the ceiling.
    let perUser = max(200, Int(0.6 * ceiling * (seconds * 1.75 + 5) * 3 / Double(users)) + 1)
    print("  signing \(users * perUser) transfers (\(users) senders × \(perUser))…")
    let txs = net.signTransfers(perUser: perUser)
    var cursor = 0
    let window = min(maxWindow, 16 * users)
    var rows = ["path,level,offered_tx_s,committed_tx_s,p50_ms,p99_ms,measured"]
    var saturated: [String: Double] = [:]
    // A validator that found this observer too slow to take its pushed blocks disconnects it
    // (docs/TRANSPORT.md's send-queue policy); dial it again, as a node's redialler would.
    let redial = Task {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(500))
            await load.reconnect()
        }
    }
    defer { redial.cancel() }
    for path in ["peer", "websocket", "http"] {
        if path != "peer" { try await load.useRPC(net, http: path == "http") }
        // The sending loop blocks its thread; it gets one of its own, so that the WebSocket
        // sessions' tasks (answers, pings) keep the cooperative threads of this 2-core machine.
        let from = cursor
        let (full, lower, next) = await onOwnThread { () -> (LoadGenerator.Result, [(Int, Double, LoadGenerator.Result)], Int) in
            var cursor = from
            _ = load.run(txs, from: &cursor, seconds: 3, window: window, rate: nil)
            let full = load.run(txs, from: &cursor, seconds: seconds, window: window, rate: nil)
            var lower: [(Int, Double, LoadGenerator.Result)] = []
            // Each lower level starts from an idle network (the saturated run's backlog
            // committed) and runs 2 s unmeasured first, so that it measures its own steady state.
            for level in [50, 25] {
                let offered = full.rate * Double(level) / 100
                load.waitDrained(seconds: 20)
                _ = load.run(txs, from: &cursor, seconds: 2, window: window, rate: offered)
                lower.append((level, offered, load.run(txs, from: &cursor, seconds: seconds, window: window, rate: offered)))
            }
            load.waitDrained(seconds: 20)
            return (full, lower, cursor)
        }
        cursor = next
        saturated[path] = full.rate
        if path != "peer" {
            let o = load.rpcOutcome
            if o.refused > 0 || o.closed > 0 {
                print("  \(path): \(o.refused) answers refused something, \(o.closed) of 4 connections closed" + (o.first.map { "; first: \($0)" } ?? ""))
            }
        }
        for (level, offered, r) in [(100, full.rate, full)] + lower {
            print(String(format: "  %-10@ %3d %%: %7.0f tx/s offered, %7.0f committed; latency p50 %5.0f ms, p99 %5.0f ms (%d of %d sent measured; %d peers)",
                         path as NSString, level, offered, r.rate, r.p50 * 1000, r.p99 * 1000, r.count, r.sent, load.snapshot().connected))
            rows.append(String(format: "%@,%d,%.0f,%.0f,%.1f,%.1f,%d", path as NSString, level, offered, r.rate, r.p50 * 1000, r.p99 * 1000, r.count))
        }
    }
    if cursor >= txs.count { print("  note: the pre-signed transfers ran out: raise --users (BENCH_USERS)") }
    let peer = max(saturated["peer"] ?? 1, 1)
    print(String(format: "  ratio to ceiling at saturation: peer %.2f, websocket %.2f, http %.2f (bar 0.60, aim 0.80); websocket / peer %.2f, http / peer %.2f",
                 peer / ceiling, (saturated["websocket"] ?? 0) / ceiling, (saturated["http"] ?? 0) / ceiling,
                 (saturated["websocket"] ?? 0) / peer, (saturated["http"] ?? 0) / peer))
    print("  resident memory per validator (MiB): " + net.residentMiB().map { String(format: "%.0f", $0) }.joined(separator: ", "))
    if let plotData {
        try (rows.joined(separator: "\n") + "\n").write(toFile: plotData, atomically: true, encoding: .utf8)
        print("  measurements: \(plotData)")
    }
}

/// Runs `body` on a thread of its own and waits for it without holding a cooperative thread.
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { c in Thread.detachNewThread { c.resume(returning: body()) } }
}

/// The ceiling (printed), four validator processes, and the load generator connected to them.
/// The caller shuts both down.
func loadedNetwork(users: Int, blockTransactions: Int?) async throws -> (ceiling: Double, net: BenchNetwork, load: LoadGenerator) {
    let ceiling = twoThreadVerifyRate(seconds: 2) / 4
    print(String(format: "  ceiling: 2-thread raw libsecp256k1 verify rate / 4 = %.0f tx/s", ceiling))
    let net = try BenchNetwork(users: users, blockTransactions: blockTransactions)
    do {
        try net.startValidators()
        let load = try await LoadGenerator(net: net)
        guard await load.waitConnected(seconds: 30) else {
            load.shutdown()
            throw CLIError("the load generator did not reach the 4 validators: logs in \(net.root)/logs")
        }
        return (ceiling, net, load)
    } catch {
        net.shutdown()
        throw error
    }
}

/// Raw libsecp256k1 verifications per second on two threads.
func twoThreadVerifyRate(seconds: Double) -> Double {
    let key = try! PrivateKey(secret: SHA256.hash(utf8: "bench key").bytes)
    let digest = SHA256.hash(utf8: "message")
    let signature = key.sign(digest: digest)
    let counts = NIOLockedValueBox([0, 0])
    let start = Date()
    DispatchQueue.concurrentPerform(iterations: 2) { t in
        var n = 0
        while Date().timeIntervalSince(start) < seconds {
            n += RawBenchmarks.secp256k1Verify(key: key.publicKey, signature: signature, digest: digest, iterations: 200)
        }
        counts.withLockedValue { $0[t] = n }
    }
    return Double(counts.withLockedValue { $0[0] + $0[1] }) / Date().timeIntervalSince(start)
}

/// The benchmark's network: homes, genesis and processes under a temporary folder.
final class BenchNetwork: @unchecked Sendable {
    let root = NSTemporaryDirectory() + "hansa-bench-net-\(UUID().uuidString.prefix(8))"
    let dev: DevChain
    let homes: [String]
    let ports: [Int]
    /// The validators' HTTP (JSON-RPC) ports, in genesis order like `ports`.
    let httpPorts: [Int]
    let loadKey = PrivateKey.generate()
    let loadTLS: NodeTLSIdentity
    var processes: [Process] = []
    /// With `chaos`: every validator dials every peer through its own proxy port (`[p2p.dial]`),
    /// one directed link each, in genesis order; and an auditor's observer (home 4) runs too.
    private(set) var links: [(from: Int, to: Int, port: Int, target: Int)] = []
    let chaos: Bool
    var genesisPath: String { root + "/genesis.json" }

    init(users: Int, blockTransactions: Int?, chaos: Bool = false) throws {
        self.chaos = chaos
        let bankKeys = (0..<4).map { _ in PrivateKey.generate() }
        let userKeys = (0..<users).map { _ in PrivateKey.generate() }
        loadTLS = try NodeTLSIdentity.generate(commonName: "load", now: Date())
        let tls = try (0..<4).map { try NodeTLSIdentity.generate(commonName: "bank-\($0)", now: Date()) }
        let ports = try LoopbackPorts.free(chaos ? 8 + 12 + 1 : 8)
        let observerKey = PrivateKey.generate()
        let observerTLS = try NodeTLSIdentity.generate(commonName: "auditor-node", now: Date())
        let validators = try ValidatorSet((0..<4).map {
            Validator(name: "bank-\($0)", publicKey: bankKeys[$0].publicKey, p2pAddress: "127.0.0.1:\(ports[$0])",
                      tlsSPKISHA256: Hash(bytes: tls[$0].fingerprint.bytes))
        })
        let usd = try CurrencyCode("USD")
        let bank0 = bankKeys[0].publicKey.address
        var participants = validators.validators.map { Participant(name: $0.name, publicKey: $0.publicKey, role: .validatorBank, bank: nil) }
        participants += userKeys.enumerated().map { Participant(name: "user-\($0.offset)", publicKey: $0.element.publicKey, role: .exporter, bank: bank0) }
        let genesis = Genesis(
            chain: try ChainID("bench-net"), genesisTimeMillis: UInt64(Date().timeIntervalSince1970 * 1000) - 60_000,
            validators: validators, participants: participants,
            observers: [Observer(name: "load", nodeKey: loadKey.publicKey, role: .auditor, bank: nil,
                                 tlsSPKISHA256: Hash(bytes: loadTLS.fingerprint.bytes)!)]
                + (chaos ? [Observer(name: "auditor-node", nodeKey: observerKey.publicKey, role: .auditor, bank: nil,
                                     tlsSPKISHA256: Hash(bytes: observerTLS.fingerprint.bytes)!)] : []),
            currencies: [Currency(code: usd, decimals: 2, issuers: validators.validators.map(\.address))],
            deposits: userKeys.map { Deposit(account: $0.publicKey.address, currency: usd, amount: 1_000_000_00) },
            consensus: {
                var c = ConsensusParameters.standard
                if let blockTransactions { c.maxBlockTransactions = UInt64(blockTransactions) }
                return c
            }(), governanceThreshold: 3)
        let order = genesis.validators.validators.map { v in bankKeys.firstIndex { $0.publicKey == v.publicKey }! }
        dev = DevChain(genesis: genesis, validatorKeys: order.map { bankKeys[$0] }, userKeys: userKeys)
        var homes: [String] = []
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try GenesisFile.write(genesis, to: root + "/genesis.json")
        // The proxy of the link from bank b to bank c (bank numbers, not genesis order).
        func proxyPort(_ b: Int, _ c: Int) -> Int { ports[8 + b * 3 + (c < b ? c : c - 1)] }
        let logLevel = ProcessInfo.processInfo.environment["BENCH_NODE_LOG"].flatMap(NodeLogLevel.init(rawValue:)) ?? (chaos ? .info : .warning)
        func writeHome(_ home: String, key: PrivateKey, tls: NodeTLSIdentity, configure: (inout NodeConfig) -> Void) throws {
            try FileManager.default.createDirectory(atPath: home + "/tls", withIntermediateDirectories: true)
            try KeyFile.write(key, to: home + "/node.key")
            try tls.privateKeyPEM.write(toFile: home + "/tls/key.pem", atomically: true, encoding: .utf8)
            try tls.certificatePEM.write(toFile: home + "/tls/cert.pem", atomically: true, encoding: .utf8)
            try GenesisFile.write(genesis, to: home + "/genesis.json")
            var config = NodeConfig()
            // BENCH_NODE_LOG=trace|debug|… shows what the nodes do (their logs are kept with HANSA_KEEP=1).
            config.logLevel = logLevel
            configure(&config)
            try config.render().write(toFile: home + "/config.toml", atomically: true, encoding: .utf8)
            homes.append(home)
        }
        for i in order {
            try writeHome("\(root)/bank-\(i)", key: bankKeys[i], tls: tls[i]) { config in
                config.p2p.listen = HostPort(host: "127.0.0.1", port: UInt16(ports[i]))
                config.httpListen = HostPort(host: "127.0.0.1", port: UInt16(ports[4 + i]))
                if chaos {
                    for c in 0..<4 where c != i { config.p2p.dial["bank-\(c)"] = HostPort(host: "127.0.0.1", port: UInt16(proxyPort(i, c))) }
                }
            }
        }
        if chaos {
            try writeHome("\(root)/auditor-node", key: observerKey, tls: observerTLS) { config in
                config.httpListen = HostPort(host: "127.0.0.1", port: UInt16(ports[20]))
            }
            for b in 0..<4 {
                for c in 0..<4 where c != b {
                    links.append((order.firstIndex(of: b)!, order.firstIndex(of: c)!, proxyPort(b, c), ports[c]))
                }
            }
        }
        self.homes = homes
        self.ports = order.map { ports[$0] }
        self.httpPorts = order.map { ports[4 + $0] }
    }

    /// Starts every home's node (the validators, and with `chaos` the observer too).
    func startValidators() throws {
        for i in homes.indices { processes.append(try launch(i)) }
    }

    /// Node `i` (a validator in genesis order; 4 is chaos's observer) as a process, its log
    /// appended to `logs/validator-i.log` (or `observer.log`).
    func launch(_ i: Int) throws -> Process {
        try FileManager.default.createDirectory(atPath: root + "/logs", withIntermediateDirectories: true)
        let me = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
        let log = "\(root)/logs/" + (i < 4 ? "validator-\(i).log" : "observer.log")
        if !FileManager.default.fileExists(atPath: log) { _ = FileManager.default.createFile(atPath: log, contents: nil) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        handle.seekToEndOfFile()
        let p = Process()
        p.executableURL = me
        p.arguments = ["node", "run", "--home", homes[i]]
        p.standardError = handle
        p.standardOutput = handle
        try p.run()
        return p
    }

    /// kill -9 of node `i`, then (`restart`) a new process on the same home.
    func kill9(_ i: Int) {
        kill(processes[i].processIdentifier, SIGKILL)
        processes[i].waitUntilExit()
    }

    func restart(_ i: Int) throws {
        guard !processes[i].isRunning else { return }
        processes[i] = try launch(i)
    }

    /// `perUser` transfers from every user, nonces 0..<perUser, signed on both cores, in send order
    /// (round-robin over senders, so each validator's mempool sees every sender's run in order).
    func signTransfers(perUser: Int) -> [Transaction] {
        let users = dev.userKeys.count
        let out = NIOLockedValueBox([[Transaction]](repeating: [], count: users))
        DispatchQueue.concurrentPerform(iterations: users) { u in
            let txs = (0..<perUser).map { dev.transfer(from: u, to: (u + 1) % users, amount: 1, nonce: UInt64($0)) }
            out.withLockedValue { $0[u] = txs }
        }
        let byUser = out.withLockedValue { $0 }
        var txs: [Transaction] = []
        txs.reserveCapacity(users * perUser)
        for n in 0..<perUser { for u in 0..<users { txs.append(byUser[u][n]) } }
        return txs
    }

    func residentMiB() -> [Double] {
        processes.map { p in
            let status = (try? String(contentsOfFile: "/proc/\(p.processIdentifier)/status", encoding: .utf8)) ?? ""
            let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
            let kb = Double(line.split(separator: " ").dropFirst().first ?? "") ?? 0
            return kb / 1024
        }
    }

    func shutdown() {
        for p in processes where p.isRunning { p.terminate() }
        for p in processes { p.waitUntilExit() }
        if ProcessInfo.processInfo.environment["HANSA_KEEP"] == nil { try? FileManager.default.removeItem(atPath: root) }
    }
}

/// The load: an observer connection to each validator that gossips transactions and hears
/// the committed blocks validators push to observers.
final class LoadGenerator: @unchecked Sendable {
    struct Result { let rate: Double; let p50: Double; let p99: Double; let count: Int; var sent = 0 }
    private struct State {
        var channels: [PublicKey: any Channel] = [:]
        var sentAt: [Hash: Double] = [:]
        var committedAt: [Hash: Double] = [:]
        var heights: Set<UInt64> = []
        /// With `keepPending` (chaos): what was sent and not yet seen committed, to send again.
        var pending: [Hash: (tx: Transaction, lastSent: Double)] = [:]
        var keepPending = false
        /// Each validator's last status (height, head hash), and the last committed header's view.
        var heads: [PublicKey: (height: UInt64, hash: Hash)] = [:]
        var lastView: UInt64 = 0
        var commitTimes: [Double] = []
    }
    private let state = NIOLockedValueBox(State())
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let endpoint: PeerEndpoint
    private let validators: [PublicKey]
    /// Each sender's transactions go to one validator, in nonce order, as a client's would.
    private let route: [PublicKey: Int]
    private let clock0 = Date()
    /// With RPC sessions, transactions go to each validator's JSON-RPC (`tx.submit` batches over
    /// its WebSocket) instead of the peer protocol; commits are still seen as an observer.
    private let rpc = NIOLockedValueBox<[any RPCSubmitter]>([])
    private var addresses: [PeerAddress] = []

    /// Sends the next runs through the validators' JSON-RPC instead of the peer protocol: over
    /// one WebSocket each, or (`http`) as `POST /rpc` requests on a kept-alive HTTP/1.1 connection.
    func useRPC(_ net: BenchNetwork, http: Bool = false) async throws {
        for s in rpc.withLockedValue({ $0 }) { s.close() }
        var sessions: [any RPCSubmitter] = []
        for port in net.httpPorts { sessions.append(http ? try await HTTPRPCLoad.connect(port: port) : try await RPCLoad.connect(port: port)) }
        rpc.withLockedValue { $0 = sessions }
    }

    init(net: BenchNetwork) async throws {
        let directory = try PeerDirectory.from(genesis: net.dev.genesis)
        validators = directory.validators.map(\.nodeKey)
        route = Dictionary(uniqueKeysWithValues: net.dev.userKeys.enumerated().map { ($0.element.publicKey, $0.offset % 4) })
        var logger = Logger(label: "hansa.bench.load")
        logger.logLevel = .error
        let state = state
        let clock0 = clock0
        endpoint = try PeerEndpoint(config: directory.endpointConfig(genesis: net.dev.genesis, identity: net.loadTLS, nodeKey: net.loadKey,
                                                                     logger: logger), group: group) { event in
            switch event {
            case .established(let peer, _, let channel):
                state.withLockedValue { $0.channels[peer.nodeKey] = channel }
            case .message(let peer, var buffer):
                let message = try? WireMessage(bytes: buffer.readBytes(length: buffer.readableBytes) ?? [])
                if case .status(let height, let hash)? = message {
                    state.withLockedValue { $0.heads[peer.nodeKey] = (height, hash) }
                    return
                }
                guard case .committed(let b)? = message else { return }
                let now = Date().timeIntervalSince(clock0)
                state.withLockedValue { s in
                    guard s.heights.insert(b.block.header.height).inserted else { return }
                    s.lastView = max(s.lastView, b.block.header.view)
                    s.commitTimes.append(now)
                    for tx in b.block.transactions where s.committedAt[tx.hash] == nil {
                        s.committedAt[tx.hash] = now
                        s.pending.removeValue(forKey: tx.hash)
                    }
                }
            case .closed(let peer, _, _):
                if let peer { state.withLockedValue { _ = $0.channels.removeValue(forKey: peer.nodeKey) } }
            }
        }
        addresses = directory.validators.compactMap(\.address)
        for p in directory.validators {
            guard let a = p.address else { continue }
            for attempt in 0..<100 {
                do {
                    _ = try await endpoint.connect(host: a.host, port: a.port)
                    break
                } catch {
                    if attempt == 99 { throw error }
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
        }
    }

    func waitConnected(seconds: Double) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if state.withLockedValue({ $0.channels.count }) == validators.count { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    /// Sends from `txs[cursor...]` for `seconds`: with `rate` nil, as fast as `window` transactions
    /// in flight allow; else at `rate` per second. Measures what was sent and committed in the run.
    func run(_ txs: [Transaction], from cursor: inout Int, seconds: Double, window: Int, rate: Double?) -> Result {
        let start = Date().timeIntervalSince(clock0)
        var sentHere: [Hash] = []
        var lastSend = -1.0
        while Date().timeIntervalSince(clock0) - start < seconds, cursor < txs.count {
            let now = Date().timeIntervalSince(clock0)
            let inFlight = state.withLockedValue { s in s.sentAt.count - s.committedAt.count }
            var budget: Int
            budget = window - inFlight
            if let rate { budget = min(budget, Int(rate * (now - start)) - sentHere.count) }
            budget = min(budget, txs.count - cursor, 512)
            // Below 64 at a time, at most one send per 10 ms: each send is a request on each
            // validator's connection, and the JSON-RPC refuses more than 200 a second on one
            // (docs/RPC.md limits), as it should refuse a client that does not batch.
            if budget >= 64 || (rate != nil && budget > 0 && now - lastSend >= 0.01) {
                let batch = Array(txs[cursor..<(cursor + budget)])
                cursor += budget
                lastSend = now
                send(batch, at: now)
                sentHere += batch.map(\.hash)
            } else {
                usleep(2_000)
            }
        }
        let end = Date().timeIntervalSince(clock0)
        // Let what was sent near the end commit, so its latency counts.
        let drainUntil = Date().addingTimeInterval(10)
        while Date() < drainUntil, state.withLockedValue({ s in sentHere.contains { s.committedAt[$0] == nil } }) { usleep(20_000) }
        return state.withLockedValue { s in
            let committedInRun = s.committedAt.values.filter { $0 >= start && $0 <= end }.count
            var latencies = sentHere.compactMap { h -> Double? in
                guard let c = s.committedAt[h], let t = s.sentAt[h] else { return nil }
                return c - t
            }
            latencies.sort()
            func pct(_ p: Double) -> Double { latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
            return Result(rate: Double(committedInRun) / (end - start), p50: pct(0.5), p99: pct(0.99), count: latencies.count, sent: sentHere.count)
        }
    }

    private func send(_ batch: [Transaction], at now: Double, again: Bool = false) {
        var byValidator = [[Transaction]](repeating: [], count: validators.count)
        let channels: [(any Channel)?] = state.withLockedValue { s in
            for tx in batch {
                if !again { s.sentAt[tx.hash] = now }
                if s.keepPending { s.pending[tx.hash] = (tx, now) }
            }
            return validators.map { s.channels[$0] }
        }
        let live = channels.indices.filter { channels[$0] != nil }
        for tx in batch {
            var i = route[tx.body.sender] ?? 0
            // A sender's validator that is down (chaos): another one takes its transactions.
            if channels[i] == nil, !live.isEmpty { i = live[Int(tx.body.nonce % UInt64(live.count))] }
            byValidator[i].append(tx)
        }
        let sessions = rpc.withLockedValue { $0 }
        if !sessions.isEmpty {
            for (i, txs) in byValidator.enumerated() where !txs.isEmpty { sessions[i].submit(txs) }
            return
        }
        for (i, txs) in byValidator.enumerated() where !txs.isEmpty {
            guard let channel = channels[i] else { continue }
            let bytes = WireMessage.transactions(txs).bytes
            channel.writeAndFlush(PeerOutboundMessage(channel.allocator.buffer(bytes: bytes), priority: .bulk), promise: nil)
        }
    }

    private let closed = NIOLockedValueBox(false)

    func shutdown() {
        guard !closed.withLockedValue({ let was = $0; $0 = true; return was }) else { return }
        for s in rpc.withLockedValue({ $0 }) { s.close() }
        try? group.syncShutdownGracefully()
    }

    /// The RPC sessions' refusals (the first one's text) and closed connections.
    var rpcOutcome: (refused: Int, first: String?, closed: Int) {
        let all = rpc.withLockedValue { $0 }.map(\.outcome)
        return (all.map(\.refused).reduce(0, +), all.compactMap(\.firstRefusal).first, all.filter(\.closed).count)
    }

    /// Waits until everything sent has committed (at most `seconds`).
    func waitDrained(seconds: Double) {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline, state.withLockedValue({ $0.sentAt.count > $0.committedAt.count }) { usleep(50_000) }
    }

    // --- For hansa chaos -------------------------------------------------------------------

    /// Keeps what was sent until it is seen committed, for `resendPending`.
    func keepPending() { state.withLockedValue { $0.keepPending = true } }

    /// Sends again what was sent more than `seconds` ago and is not committed yet (a client
    /// whose node died, or whose transaction a restarted node's mempool lost, submits again).
    func resendPending(olderThan seconds: Double) {
        let now = Date().timeIntervalSince(clock0)
        let stale = state.withLockedValue { s in s.pending.values.filter { now - $0.lastSent > seconds }.map(\.tx) }
        let sorted = stale.sorted { ($0.body.sender.hex, $0.body.nonce) < ($1.body.sender.hex, $1.body.nonce) }
        for start in stride(from: 0, to: sorted.count, by: 512) {
            send(Array(sorted[start..<min(start + 512, sorted.count)]), at: now, again: true)
        }
    }

    /// Dials the validators this load generator has no connection to (restarted ones).
    func reconnect() async {
        guard !closed.withLockedValue({ $0 }) else { return }
        let connected = state.withLockedValue { Set($0.channels.keys) }
        for (i, key) in validators.enumerated() where !connected.contains(key) && i < addresses.count {
            _ = try? await endpoint.connect(host: addresses[i].host, port: addresses[i].port)
        }
    }

    struct Snapshot {
        var sent: Int
        var committed: Int
        var pending: Int
        var connected: Int
        var heads: [PublicKey: (height: UInt64, hash: Hash)]
        var lastView: UInt64
        var commitTimes: [Double]
        var committedHashes: [Hash]
    }

    /// Counts and heads; with `full`, also every commit's time and every committed hash (large:
    /// for the end of a run, not for a polling loop).
    func snapshot(full: Bool = false) -> Snapshot {
        state.withLockedValue { s in
            Snapshot(sent: s.sentAt.count, committed: s.committedAt.count, pending: s.pending.count, connected: s.channels.count,
                     heads: s.heads, lastView: s.lastView, commitTimes: full ? s.commitTimes : [],
                     committedHashes: full ? Array(s.committedAt.keys) : [])
        }
    }

    var validatorKeys: [PublicKey] { validators }
}

/// One WebSocket JSON-RPC session to a validator for the load: each send is one
/// `tx.submitBatch` (a bank's bulk submission), in order; answers are read and counted
/// (refusals), not waited for.
final class RPCLoad: RPCSubmitter, @unchecked Sendable {
    private let outbound: NIOLockedValueBox<WebSocketOutboundWriter?>
    private let queue: AsyncStream<String>.Continuation
    private let task: Task<Void, Never>
    private let outcomeBox: NIOLockedValueBox<RPCOutcome>
    var outcome: RPCOutcome { outcomeBox.withLockedValue { $0 } }

    private init(outbound: NIOLockedValueBox<WebSocketOutboundWriter?>, queue: AsyncStream<String>.Continuation, task: Task<Void, Never>,
                 outcome: NIOLockedValueBox<RPCOutcome>) {
        self.outbound = outbound; self.queue = queue; self.task = task; self.outcomeBox = outcome
    }

    static func connect(port: Int) async throws -> RPCLoad {
        let (stream, queue) = AsyncStream<String>.makeStream()
        let outbound = NIOLockedValueBox<WebSocketOutboundWriter?>(nil)
        let ready = AsyncStream<Void>.makeStream()
        let outcome = NIOLockedValueBox(RPCOutcome())
        var logger = Logger(label: "bench.rpc-load")
        logger.logLevel = .error
        let client = WebSocketClient(url: "ws://127.0.0.1:\(port)/ws", configuration: .init(maxFrameSize: 1 << 24), logger: logger) { inbound, out, _ in
            outbound.withLockedValue { $0 = out }
            ready.continuation.yield()
            // Sends in order from the queue; answers are read by a child task.
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await message in inbound.messages(maxSize: 1 << 24) {
                        if case .text(let t) = message { outcome.withLockedValue { $0.answer(t) } }
                    }
                }
                for await text in stream { try await out.write(.text(text)) }
                try await out.close(.normalClosure, reason: nil)
                try await group.waitForAll()
            }
        }
        let task = Task {
            _ = try? await client.run()
            outcome.withLockedValue { $0.closed = true }
            ready.continuation.finish()
        }
        for await _ in ready.stream { break }
        guard outbound.withLockedValue({ $0 }) != nil else { throw CLIError("cannot open a JSON-RPC WebSocket to 127.0.0.1:\(port)") }
        return RPCLoad(outbound: outbound, queue: queue, task: task, outcome: outcome)
    }

    func submit(_ txs: [Transaction]) {
        let list = txs.map { "\"" + Hex.encode($0.canonicalBytes) + "\"" }.joined(separator: ",")
        queue.yield(#"{"jsonrpc":"2.0","method":"tx.submitBatch","params":{"transactions":[\#(list)]},"id":1}"#)
    }

    func close() { queue.finish() }
}

/// Where the load submits transactions over the JSON-RPC: each call one `tx.submitBatch`.
protocol RPCSubmitter: Sendable {
    func submit(_ txs: [Transaction])
    func close()
    /// Answers that refused something, the first of them, and whether the connection closed.
    var outcome: RPCOutcome { get }
}

struct RPCOutcome: Sendable {
    var refused = 0
    var firstRefusal: String?
    var closed = false
    mutating func answer(_ text: String) {
        guard text.contains("\"error\"") else { return }
        refused += 1
        if firstRefusal == nil { firstRefusal = String(text.prefix(300)) }
    }
}

/// One kept-alive HTTP/1.1 connection to a validator's `POST /rpc`: each send is one
/// `tx.submitBatch` request, sent in order, the next after the previous answer (no
/// pipelining); answers are read and refusals counted, not waited for by the sender.
final class HTTPRPCLoad: RPCSubmitter, @unchecked Sendable {
    private let queue: AsyncStream<String>.Continuation
    private let outcomeBox = NIOLockedValueBox(RPCOutcome())
    var outcome: RPCOutcome { outcomeBox.withLockedValue { $0 } }

    private init(queue: AsyncStream<String>.Continuation) { self.queue = queue }

    /// Hands each response's end to the sender, so that it sends the next request.
    private final class Answers: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPClientResponsePart
        let ended: AsyncStream<String>.Continuation
        var body = ""
        init(ended: AsyncStream<String>.Continuation) { self.ended = ended }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head): body = head.status == .ok ? "" : "HTTP \(head.status.code) \"error\" "
            case .body(let b): body += String(buffer: b)
            case .end:
                ended.yield(body)
                body = ""
            }
        }
        func channelInactive(context: ChannelHandlerContext) { ended.finish() }
        func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
    }

    static func connect(port: Int) async throws -> HTTPRPCLoad {
        let (stream, queue) = AsyncStream<String>.makeStream()
        let (ended, endedQueue) = AsyncStream<String>.makeStream()
        let answers = Answers(ended: endedQueue)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.pipeline.addHTTPClientHandlers().flatMap { channel.pipeline.addHandler(answers) }
            }
            .connect(host: "127.0.0.1", port: port).get()
        let load = HTTPRPCLoad(queue: queue)
        let outcome = load.outcomeBox
        Task {
            var answersLeft = ended.makeAsyncIterator()
            for await body in stream {
                var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/rpc")
                head.headers.add(name: "Host", value: "127.0.0.1:\(port)")
                head.headers.add(name: "Content-Type", value: "application/json")
                head.headers.add(name: "Content-Length", value: String(body.utf8.count))
                channel.write(HTTPClientRequestPart.head(head), promise: nil)
                channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(string: body))), promise: nil)
                channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
                guard let answer = await answersLeft.next() else { break }
                outcome.withLockedValue { $0.answer(answer) }
            }
            outcome.withLockedValue { $0.closed = true }
            try? await channel.close()
        }
        return load
    }

    func submit(_ txs: [Transaction]) {
        let list = txs.map { "\"" + Hex.encode($0.canonicalBytes) + "\"" }.joined(separator: ",")
        queue.yield(#"{"jsonrpc":"2.0","method":"tx.submitBatch","params":{"transactions":[\#(list)]},"id":1}"#)
    }

    func close() { queue.finish() }
}
