import ChainTypes

/// Events the node reports as they happen, for metrics (the node's HTTP server implements it
/// with Prometheus; tests may record). Called on the node loop's thread: keep it cheap.
/// Levels that are read rather than counted — height, peers, mempool — are in
/// `NodeRuntime.status`, which a metrics updater reads on its own schedule.
public protocol NodeTelemetry: Sendable {
    /// A block committed: its height, transaction count, encoded size, and the time from its
    /// timestamp (the proposer's clock) to this node's commit.
    func committed(height: UInt64, transactions: Int, bytes: Int, latencySeconds: Double)
    /// A new view was installed.
    func viewChanged(to view: UInt64)
    /// A peer was disconnected for what it sent (`reason` is a short label: undecodable,
    /// bad-signature, bad-sync-block, sync-timeout, role).
    func invalidMessage(peer: String, reason: String)
}
