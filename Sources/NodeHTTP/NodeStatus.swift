/// What a node is in the consortium: a validator votes in PBFT; an observer (auditor, regulator,
/// a bank's read replica) follows committed blocks and never votes.
public enum NodeRole: String, Sendable, Codable, Equatable {
    case validator
    case observer
}

/// A snapshot of the node's state, as `/health` reports it and the degraded rules read it.
///
/// The node builds one on request (``NodeStatusSource``); NodeHTTP knows nothing of PBFT or the
/// ledger, only these numbers.
///
/// Invariant: counts are non-negative; `validatorPeersConnected ≤ peersConnected`;
/// times are milliseconds since 1970-01-01T00:00:00Z (wall clock), durations are seconds.
public struct NodeStatus: Sendable, Codable, Equatable {
    /// Validator or observer.
    public var role: NodeRole
    /// The node's name in the genesis (e.g. "bank-a-1").
    public var nodeName: String
    /// The chain id from the genesis.
    public var chainID: String
    /// Height of the last committed block (0 = only the genesis).
    public var height: UInt64
    /// Hash of the last committed block, lowercase hex.
    public var headHashHex: String
    /// The PBFT view the node is in (observers: the view of the last certificate they verified).
    public var view: UInt64
    /// Index in the validator set of the current view's primary; nil when not known (observers).
    public var primaryIndex: Int?
    /// Peer connections that passed the handshake (validators and observers).
    public var peersConnected: Int
    /// Peer connections the node is configured to keep.
    public var peersExpected: Int
    /// Of `peersConnected`, those to validators: what a validator's quorum needs.
    public var validatorPeersConnected: Int
    /// Size of the validator set `n` (quorum is 2f + 1 with f = ⌊(n − 1) / 3⌋).
    public var validatorCount: Int
    /// True while the node fetches blocks it is missing (block sync) instead of voting.
    public var syncing: Bool
    /// The height block sync is fetching up to; nil when not syncing.
    public var syncTargetHeight: UInt64?
    /// When the node last committed (or, syncing, applied) a block; nil if not since it started.
    public var lastCommitMillis: Int64?
    /// Transactions waiting in the mempool.
    public var mempoolTransactions: Int
    /// Encoded bytes of those transactions.
    public var mempoolBytes: Int
    /// Seconds since the node started.
    public var uptimeSeconds: Double
    /// The hansa version string.
    public var version: String

    public init(role: NodeRole, nodeName: String, chainID: String, height: UInt64, headHashHex: String,
                view: UInt64, primaryIndex: Int?, peersConnected: Int, peersExpected: Int,
                validatorPeersConnected: Int, validatorCount: Int, syncing: Bool, syncTargetHeight: UInt64?,
                lastCommitMillis: Int64?, mempoolTransactions: Int, mempoolBytes: Int,
                uptimeSeconds: Double, version: String) {
        self.role = role
        self.nodeName = nodeName
        self.chainID = chainID
        self.height = height
        self.headHashHex = headHashHex
        self.view = view
        self.primaryIndex = primaryIndex
        self.peersConnected = peersConnected
        self.peersExpected = peersExpected
        self.validatorPeersConnected = validatorPeersConnected
        self.validatorCount = validatorCount
        self.syncing = syncing
        self.syncTargetHeight = syncTargetHeight
        self.lastCommitMillis = lastCommitMillis
        self.mempoolTransactions = mempoolTransactions
        self.mempoolBytes = mempoolBytes
        self.uptimeSeconds = uptimeSeconds
        self.version = version
    }
}

/// Where `/health` gets the node's state. The node implements it (typically an actor that reads
/// its driver, transport and mempool); tests implement it with a fixed value.
///
/// `status()` should answer quickly: `/health` waits at most the configured request timeout and
/// reports `degraded` ("status unavailable") when it does not.
public protocol NodeStatusSource: Sendable {
    func status() async -> NodeStatus
}

/// A ``NodeStatusSource`` that returns whatever was last stored: for tests, and for a node that
/// prefers to push its status after every step rather than be asked.
public final class StoredNodeStatus: NodeStatusSource {
    private let box: LockedBox<NodeStatus>

    public init(_ status: NodeStatus) {
        self.box = LockedBox(status)
    }

    public func status() async -> NodeStatus {
        box.value
    }

    /// Replaces the stored status.
    public func set(_ status: NodeStatus) {
        box.value = status
    }

    /// Changes the stored status in place.
    public func update(_ change: (inout NodeStatus) -> Void) {
        box.withLock(change)
    }
}
