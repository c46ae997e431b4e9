import ChainTypes
import Foundation
import Ledger
import Logging
import NIOConcurrencyHelpers
import Node
import NodeHTTP
import RPC
import ServiceLifecycle

/// The running node as the HTTP server sees it: nil until the node has started.
final class RuntimeHolder: Sendable {
    private let box = NIOLockedValueBox<NodeRuntime?>(nil)
    var runtime: NodeRuntime? { box.withLockedValue { $0 } }
    func set(_ runtime: NodeRuntime) { box.withLockedValue { $0 = runtime } }
}

/// `/health`'s view of the node, from the status the node loop publishes.
struct RuntimeStatusSource: NodeStatusSource {
    let holder: RuntimeHolder
    let name: String
    let isValidator: Bool
    let validatorCount: Int
    let chainID: String
    let started = Date()
    static let version = "0.1.0"

    func status() async -> NodeStatus {
        let role: NodeHTTP.NodeRole = isValidator ? .validator : .observer
        let uptime = Date().timeIntervalSince(started)
        guard let s = holder.runtime?.status else {
            // Starting: not yet serving; /health answers 503 "syncing".
            return NodeStatus(role: role, nodeName: name, chainID: chainID, height: 0, headHashHex: "", view: 0, primaryIndex: nil,
                              peersConnected: 0, peersExpected: 0, validatorPeersConnected: 0, validatorCount: validatorCount,
                              syncing: true, syncTargetHeight: nil, lastCommitMillis: nil, mempoolTransactions: 0, mempoolBytes: 0,
                              uptimeSeconds: uptime, version: Self.version)
        }
        return NodeStatus(role: role, nodeName: s.name, chainID: s.chainID, height: s.height, headHashHex: s.headHash.hex, view: s.view,
                          primaryIndex: s.primary, peersConnected: s.peersConnected, peersExpected: s.peersExpected,
                          validatorPeersConnected: s.peersConnected, validatorCount: validatorCount,
                          syncing: s.syncTarget != nil, syncTargetHeight: s.syncTarget,
                          lastCommitMillis: s.lastCommitWallMillis.map { Int64($0) },
                          mempoolTransactions: s.mempoolTransactions, mempoolBytes: s.mempoolBytes,
                          uptimeSeconds: uptime, version: Self.version)
    }
}

/// Node events into Prometheus.
struct MetricsTelemetry: NodeTelemetry {
    let metrics: NodeMetrics
    func committed(height: UInt64, transactions: Int, bytes: Int, latencySeconds: Double) {
        metrics.committed(height: height, transactions: transactions, bytes: bytes, latencySeconds: latencySeconds)
    }
    func viewChanged(to view: UInt64) { metrics.viewChanged(to: view) }
    func invalidMessage(peer: String, reason: String) { metrics.invalidMessage(peer: peer, reason: reason) }
}

/// Starts the node once the HTTP server listens (so a taken HTTP port stops the start before
/// the data directory is touched), runs it until graceful shutdown, and keeps the level
/// metrics (peers, mempool, sync target) and the certificate watch up to date.
struct NodeRunService: Service {
    let http: NodeHTTPServer
    let holder: RuntimeHolder
    let metrics: NodeMetrics
    let certificate: (node: String, notAfter: Date)
    let logger: Logger
    let start: @Sendable () async throws(NodeError) -> NodeRuntime

    func run() async throws {
        _ = try await http.boundPort()
        let runtime: NodeRuntime
        do { runtime = try await start() } catch { throw NodeStartFailure(error: error) }
        holder.set(runtime)
        if let s = runtime.status { metrics.restored(height: s.height, view: s.view) }
        _ = CertificateExpiry.watch([certificate], now: Date(), metrics: metrics, logger: logger)
        let updater = Task {
            var ticks = 0
            while !Task.isCancelled {
                if let s = runtime.status {
                    metrics.peers(connected: s.peersConnected)
                    metrics.mempool(count: s.mempoolTransactions, bytes: s.mempoolBytes)
                    metrics.syncTarget(height: s.syncTarget ?? 0)
                }
                ticks += 1
                if ticks % 86_400 == 0 { _ = CertificateExpiry.watch([certificate], now: Date(), metrics: metrics, logger: logger) }
                try? await Task.sleep(for: .seconds(1))
            }
        }
        defer { updater.cancel() }
        try await NodeService(runtime: runtime).run()
    }
}

/// The node could not start: its sentence is what the operator sees.
struct NodeStartFailure: Error, CustomStringConvertible {
    let error: NodeError
    var description: String { "\(error)" }
}

/// The running node as the JSON-RPC sees it (the RPC's node-service protocol): nil snapshot
/// until the node has started.
struct RuntimeRPCService: RPCNodeService {
    let holder: RuntimeHolder
    let name: String
    let isValidator: Bool

    var snapshot: LedgerSnapshot? { holder.runtime?.snapshot }

    func nodeInfo() -> RPCNodeInfo {
        let role: RPCNodeInfo.Role = isValidator ? .validator : .observer
        guard let runtime = holder.runtime, let s = runtime.status else {
            return RPCNodeInfo(name: name, role: role, version: RuntimeStatusSource.version)
        }
        let peers = s.peerHeights.keys.sorted().map { peer -> RPCNodeInfo.Peer in
            let info = runtime.directory.peers.first { $0.name == peer }
            return RPCNodeInfo.Peer(name: peer, role: info?.validatorIndex != nil ? "validator" : "observer", height: s.peerHeights[peer])
        }
        return RPCNodeInfo(name: s.name, role: role, version: RuntimeStatusSource.version, view: s.view, primaryIndex: s.primary,
                           syncTarget: s.syncTarget, peers: peers, mempoolTransactions: s.mempoolTransactions)
    }

    func submit(_ tx: Transaction) async throws(SubmitRefusal) -> Hash {
        guard let runtime = holder.runtime else { throw .unavailable("the node is starting") }
        do { return try await runtime.submit(tx) } catch {
            switch error {
            case .refused(let e): throw .refused(e)
            case .unavailable(let why): throw .unavailable(why)
            }
        }
    }

    func submit(batch txs: [Transaction]) async -> [Result<Hash, SubmitRefusal>] {
        guard let runtime = holder.runtime else { return txs.map { _ in .failure(.unavailable("the node is starting")) } }
        return await runtime.submit(batch: txs).map { r in
            r.mapError { e -> SubmitRefusal in
                switch e {
                case .refused(let t): .refused(t)
                case .unavailable(let why): .unavailable(why)
                }
            }
        }
    }

    func receipt(of hash: Hash, timeout: Duration) async -> (height: UInt64, index: Int, receipt: Receipt)? {
        guard let runtime = holder.runtime, let r = await runtime.receipt(of: hash, timeout: timeout) else { return nil }
        return (r.height, r.index, r.receipt)
    }
}
