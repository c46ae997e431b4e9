import ChainTypes
import Foundation
import HansaCrypto
import Ledger
import Logging
import NIOCore
import NIOPosix
import Node
import PeerTransport

/// A four-validator network and one observer (an auditor's node, index 4) in this process:
/// real TCP on 127.0.0.1 with ports picked at run time, real TLS and handshakes, a LevelDB
/// directory per node under a temporary folder.
final class TestNetwork: @unchecked Sendable {
    let dev: DevChain
    var tls: [NodeTLSIdentity]
    /// The observer's node key (its TLS identity is `tls[4]`).
    let observerKey = PrivateKey.generate()
    static let observer = 4
    let ports: [Int]
    let root: String
    var nodes: [NodeRuntime?]
    var nonces: [Int: UInt64] = [:]

    static let logger: Logger = {
        var l = Logger(label: "hansa.node.test")
        l.logLevel = ProcessInfo.processInfo.environment["HANSA_TEST_LOG"].flatMap { Logger.Level(rawValue: $0) } ?? .critical
        return l
    }()

    init(users: Int = 8) throws {
        let base = DevChain(users: users)
        let ports = try LoopbackPorts.free(base.validatorKeys.count)
        let tls = try (0...base.validatorKeys.count).map { try NodeTLSIdentity.generate(commonName: "node-\($0)", now: Date()) }
        self.ports = ports
        self.tls = tls
        var genesis = base.genesis
        let validators = genesis.validators.validators.enumerated().map { i, v in
            Validator(name: v.name, publicKey: v.publicKey, p2pAddress: "127.0.0.1:\(ports[i])",
                      tlsSPKISHA256: Hash(bytes: tls[i].fingerprint.bytes))
        }
        genesis.validators = try ValidatorSet(validators)
        genesis.observers = [Observer(name: "auditor-node", nodeKey: observerKey.publicKey, role: .auditor, bank: nil,
                                      tlsSPKISHA256: Hash(bytes: tls[Self.observer].fingerprint.bytes)!)]
        genesis.genesisTimeMillis = UInt64(Date().timeIntervalSince1970 * 1000) - 60_000
        dev = DevChain(genesis: genesis, validatorKeys: base.validatorKeys, userKeys: base.userKeys)
        root = NSTemporaryDirectory() + "hansa-node-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        nodes = Array(repeating: nil, count: validators.count + 1)
    }

    /// Blocks per sync request (small in the parallel-sync test).
    var syncBatchBlocks = WireMessage.maxSyncBlocks
    var syncGatherMillis: UInt64 = 2_000

    func settings(_ i: Int, dataDirectory: String? = nil) -> NodeSettings {
        var logger = Self.logger
        logger[metadataKey: "node"] = "node-\(i)"
        let observer = i == Self.observer
        var settings = NodeSettings(genesis: dev.genesis, nodeKey: observer ? observerKey : dev.validatorKeys[i], tls: tls[i],
                            dataDirectory: dataDirectory ?? "\(root)/node-\(i)",
                            p2pListen: PeerAddress(host: "127.0.0.1", port: observer ? 0 : ports[i]),
                            handshakeTimeout: .seconds(5),
                            redial: .init(initialDelay: .milliseconds(50), maxDelay: .milliseconds(500), stableAfter: .seconds(6)),
                            penaltyDuration: .seconds(2), statusIntervalMillis: 300, syncTimeoutMillis: 3_000, logger: logger)
        settings.syncBatchBlocks = syncBatchBlocks
        settings.syncGatherMillis = syncGatherMillis
        return settings
    }

    func start(_ indices: [Int]? = nil) async throws {
        for i in indices ?? Array(nodes.indices) { nodes[i] = try await NodeRuntime.start(settings(i)) }
    }

    func stop(_ i: Int) async {
        await nodes[i]?.stop()
        nodes[i] = nil
    }

    func stopAll() async {
        for i in nodes.indices { await stop(i) }
        try? FileManager.default.removeItem(atPath: root)
    }

    /// A signed transfer from user `from` with its next nonce.
    func transfer(from: Int, to: Int, amount: UInt64 = 100) -> Transaction {
        let n = nonces[from, default: 0]
        nonces[from] = n + 1
        return dev.transfer(from: from, to: to, amount: amount, nonce: n)
    }

    var running: [NodeRuntime] { nodes.compactMap { $0 } }

    /// Waits (polling, up to `seconds`) until `condition` holds; false at the deadline.
    func eventually(_ seconds: Double = 30, _ condition: () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return condition()
    }

    /// Every running node at `height` or above with the same hash at the lowest common head.
    func allAt(_ height: UInt64) -> Bool {
        let heads = running.compactMap(\.status)
        return heads.count == running.count && heads.allSatisfy { $0.height >= height }
    }

    /// Block hashes at `height` on every running node (nil where a node lacks it).
    func hashes(at height: UInt64) -> [Hash?] {
        running.map { node in (try? node.snapshot?.block(at: height))?.hash }
    }

    /// One line per running node, for failure messages.
    func describe() -> String {
        running.compactMap(\.status).map {
            "\($0.name) \($0.role): height \($0.height) view \($0.view)\($0.viewChanging ? " (changing)" : "") peers \($0.peersConnected) mempool \($0.mempoolTransactions)"
        }.joined(separator: "; ")
    }

}

/// One network at a time: the suites that start nodes run one after another (each is
/// serialized, but Swift Testing runs suites in parallel), so two networks never compete for
/// the two cores or for ports.
actor NetworkGate {
    static let shared = NetworkGate()
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        if !busy {
            busy = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
    }

    /// Runs `body` holding the gate.
    static func exclusive<T>(_ body: () async throws -> T) async throws -> T {
        await shared.acquire()
        do {
            let value = try await body()
            await shared.release()
            return value
        } catch {
            await shared.release()
            throw error
        }
    }
}
