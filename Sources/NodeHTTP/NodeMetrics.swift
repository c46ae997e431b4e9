import enum CoreMetrics.MetricsSystem
import Prometheus

/// The node's Prometheus metrics, created directly in one registry (no global state), so each
/// test and each node in a multi-node process can have its own.
///
/// | series | type | labels | meaning |
/// | --- | --- | --- | --- |
/// | `hansa_height` | gauge | – | height of the last committed block |
/// | `hansa_view` | gauge | – | current PBFT view |
/// | `hansa_view_changes_total` | counter | – | view changes since start |
/// | `hansa_peers_connected` | gauge | – | peers past the handshake |
/// | `hansa_mempool_transactions` | gauge | – | transactions waiting |
/// | `hansa_mempool_bytes` | gauge | – | their encoded bytes |
/// | `hansa_commit_latency_seconds` | histogram | – | proposal to commit of a block |
/// | `hansa_block_transactions` | histogram | – | transactions per committed block |
/// | `hansa_block_bytes` | histogram | – | encoded bytes per committed block |
/// | `hansa_sync_target_height` | gauge | – | height block sync fetches up to (0: not syncing) |
/// | `hansa_invalid_messages_total` | counter | `peer`, `reason` | messages refused, by sender and why |
/// | `hansa_tls_certificate_days_left` | gauge | `node` | whole days until a certificate's notAfter |
/// | `hansa_transactions_committed_total` | counter | – | transactions in committed blocks |
///
/// Invariant: the labelled series are bounded — at most `maxPeerLabels` distinct `peer` values,
/// `maxReasonLabels` distinct `reason` values and `maxNodeLabels` distinct `node` values; later
/// values are counted under "other". A peer that invents reasons or names cannot grow memory
/// or the scrape without bound.
public final class NodeMetrics: Sendable {
    /// The registry `/metrics` renders.
    public let registry: PrometheusCollectorRegistry
    /// Buckets of `hansa_commit_latency_seconds`: 10 ms to 10 s, about three per decade.
    public static let commitLatencyBucketsSeconds: [Double] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    /// Buckets of `hansa_block_transactions`: an empty block to the largest batches.
    public static let blockTransactionsBuckets: [Double] = [0, 1, 10, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000]
    /// Buckets of `hansa_block_bytes`: 1 KiB to 16 MiB, by factors of 4.
    public static let blockBytesBuckets: [Double] = [1_024, 4_096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304, 16_777_216]
    /// The label value that collects everything past a cap.
    public static let otherLabel = "other"

    let height: Prometheus.Gauge
    let view: Prometheus.Gauge
    let viewChanges: Prometheus.Counter
    let peersConnected: Prometheus.Gauge
    let mempoolTransactions: Prometheus.Gauge
    let mempoolBytes: Prometheus.Gauge
    let commitLatency: ValueHistogram
    let blockTransactions: ValueHistogram
    let blockBytes: ValueHistogram
    let syncTargetHeight: Prometheus.Gauge
    let transactionsCommitted: Prometheus.Counter
    let peerLabels: BoundedLabels
    let reasonLabels: BoundedLabels
    let nodeLabels: BoundedLabels

    /// - Parameters:
    ///   - registry: where the series live; a fresh one by default.
    ///   - maxPeerLabels: distinct `peer` values before "other" (a consortium has tens of nodes).
    ///   - maxReasonLabels: distinct `reason` values before "other".
    ///   - maxNodeLabels: distinct `node` values of the certificate gauge before "other".
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
                maxPeerLabels: Int = 64, maxReasonLabels: Int = 32, maxNodeLabels: Int = 128) {
        self.registry = registry
        height = registry.makeGauge(descriptor: Self.name("hansa_height", "Height of the last committed block."))
        view = registry.makeGauge(descriptor: Self.name("hansa_view", "Current PBFT view."))
        viewChanges = registry.makeCounter(descriptor: Self.name("hansa_view_changes_total", "View changes since the node started."))
        peersConnected = registry.makeGauge(descriptor: Self.name("hansa_peers_connected", "Peer connections past the handshake."))
        mempoolTransactions = registry.makeGauge(descriptor: Self.name("hansa_mempool_transactions", "Transactions waiting in the mempool."))
        mempoolBytes = registry.makeGauge(descriptor: Self.name("hansa_mempool_bytes", "Encoded bytes of the transactions in the mempool."))
        commitLatency = registry.makeValueHistogram(
            descriptor: Self.name("hansa_commit_latency_seconds", "Seconds from a block's proposal to its commit."),
            buckets: Self.commitLatencyBucketsSeconds)
        blockTransactions = registry.makeValueHistogram(
            descriptor: Self.name("hansa_block_transactions", "Transactions per committed block."),
            buckets: Self.blockTransactionsBuckets)
        blockBytes = registry.makeValueHistogram(
            descriptor: Self.name("hansa_block_bytes", "Encoded bytes per committed block."),
            buckets: Self.blockBytesBuckets)
        syncTargetHeight = registry.makeGauge(descriptor: Self.name("hansa_sync_target_height", "Height block sync fetches up to; 0 when not syncing."))
        transactionsCommitted = registry.makeCounter(descriptor: Self.name("hansa_transactions_committed_total", "Transactions in committed blocks since the node started."))
        peerLabels = BoundedLabels(limit: maxPeerLabels)
        reasonLabels = BoundedLabels(limit: maxReasonLabels)
        nodeLabels = BoundedLabels(limit: maxNodeLabels)
    }

    static var invalidMessagesName: MetricNameDescriptor {
        name("hansa_invalid_messages_total", "Messages refused, by the peer that sent them and why.")
    }
    static var certificateDaysName: MetricNameDescriptor {
        name("hansa_tls_certificate_days_left", "Whole days until the TLS certificate's notAfter (negative: expired).")
    }

    /// A descriptor with the full name in `metricName` (the registry joins the parts with "_").
    static func name(_ fullName: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: fullName, unitName: "", helpText: help)
    }

    // MARK: What the node calls

    /// Sets the gauges at start (restored height and view) without counting a view change.
    public func restored(height: UInt64, view: UInt64) {
        self.height.set(Double(height))
        self.view.set(Double(view))
    }

    /// A block was committed: the height, the block histograms, the latency, the counter.
    public func committed(height: UInt64, transactions: Int, bytes: Int, latencySeconds: Double) {
        self.height.set(Double(height))
        blockTransactions.record(Double(transactions))
        blockBytes.record(Double(bytes))
        commitLatency.record(latencySeconds)
        transactionsCommitted.increment(by: Int64(transactions))
    }

    /// The node entered view `view` by a view change (Castro & Liskov 1999, §4.4).
    public func viewChanged(to view: UInt64) {
        self.view.set(Double(view))
        viewChanges.increment()
    }

    public func peers(connected: Int) {
        peersConnected.set(Double(connected))
    }

    public func mempool(count: Int, bytes: Int) {
        mempoolTransactions.set(Double(count))
        mempoolBytes.set(Double(bytes))
    }

    /// A message from `peer` was refused for `reason` (a short, fixed word such as "signature").
    /// Past the caps, the peer or the reason is counted as "other".
    public func invalidMessage(peer: String, reason: String) {
        let labels = [("peer", peerLabels.admit(peer)), ("reason", reasonLabels.admit(reason))]
        registry.makeCounter(descriptor: Self.invalidMessagesName, labels: labels).increment()
    }

    /// Days until `node`'s TLS certificate expires (see ``CertificateExpiry``).
    public func certificateDaysLeft(node: String, days: Int) {
        let labels = [("node", nodeLabels.admit(node))]
        registry.makeGauge(descriptor: Self.certificateDaysName, labels: labels).set(Double(days))
    }

    /// The height block sync is fetching up to; 0 when sync is over.
    public func syncTarget(height: UInt64) {
        syncTargetHeight.set(Double(height))
    }

    // MARK: Export

    /// The Prometheus text exposition (format 0.0.4) of every series in the registry.
    public func exposition() -> [UInt8] {
        registry.emitToBuffer()
    }

    /// Points swift-metrics' global `MetricsSystem` at this registry, so that libraries that
    /// use swift-metrics (Hummingbird's MetricsMiddleware, for one) export here too.
    ///
    /// `MetricsSystem.bootstrap` may run once per process and traps on a second call: the node
    /// calls this once at start; tests never do (they read their own registry).
    public func bootstrapMetricsSystem() {
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    }
}

/// Label values admitted up to a limit; past it, every new value becomes "other".
///
/// Invariant: at most `limit` distinct values are ever returned besides "other".
final class BoundedLabels: Sendable {
    private let seen: LockedBox<Set<String>>
    let limit: Int

    init(limit: Int) {
        precondition(limit >= 0, "a label limit is a count")
        self.limit = limit
        self.seen = LockedBox([])
    }

    /// `value` if it was admitted before or there is room; otherwise "other".
    func admit(_ value: String) -> String {
        seen.withLock { seen in
            if seen.contains(value) { return value }
            guard seen.count < limit else { return NodeMetrics.otherLabel }
            seen.insert(value)
            return value
        }
    }
}
