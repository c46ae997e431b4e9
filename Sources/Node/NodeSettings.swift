import ChainTypes
import HansaCrypto
import Ledger
import Logging
import NIOCore
import PeerTransport

/// Everything a node needs to run, read from its home directory by `hansa node run`
/// (or made by a test). No field is read from the environment or a clock.
public struct NodeSettings: Sendable {
    public var genesis: Genesis
    /// The secp256k1 key the application handshake proves (and, for a validator, its
    /// consensus key): the genesis pairs it with `tls`'s SPKI.
    public var nodeKey: PrivateKey
    public var tls: NodeTLSIdentity
    /// The LevelDB directory (created on first start).
    public var dataDirectory: String
    /// Where a validator listens for peers (observers do not listen).
    public var p2pListen: PeerAddress
    public var mempool: Mempool.Limits
    /// TLS and the application handshake together must finish within this.
    public var handshakeTimeout: TimeAmount
    /// Redialling a peer: capped, jittered backoff (docs/TRANSPORT.md "Reconnection").
    public var redial: ReconnectBackoff.Policy
    /// A peer that sent something invalid is refused this long.
    public var penaltyDuration: TimeAmount
    /// How often a node tells its peers its head (what a node that is behind syncs by).
    public var statusIntervalMillis: UInt64
    /// After the start, how long the first sync waits to hear every validator's head (so that
    /// it can ask several peers at once rather than the first that answered); it starts as soon
    /// as all have been heard.
    public var syncGatherMillis: UInt64 = 2_000
    /// Blocks asked for in one sync request (at most `WireMessage.maxSyncBlocks`).
    public var syncBatchBlocks: Int = WireMessage.maxSyncBlocks
    /// A sync request unanswered for this long is given up and its peer dropped.
    public var syncTimeoutMillis: UInt64
    /// Most peer messages waiting for the node loop; more are dropped (PBFT retransmits,
    /// sync fetches again) so that a flood cannot grow memory.
    public var maxQueuedPeerMessages: Int
    /// Inbound connections open at once (authenticated or in their handshake); more are closed
    /// as soon as they are accepted.
    public var maxInboundPeers: Int
    /// Messages waiting to be sent to one peer (docs/TRANSPORT.md "Send queues").
    public var sendQueueMaxMessages: Int
    /// Addresses to dial instead of validators' genesis `p2p_address`, by validator name
    /// (config.toml `[p2p.dial]`): NAT, internal names, or `hansa dev chaos`'s fault proxies.
    /// The peer is still authenticated by its genesis pin and key, wherever it is dialled.
    public var dial: [String: PeerAddress] = [:]
    /// Where commits, view changes and misbehaving peers are reported (metrics); nil: nowhere.
    public var telemetry: (any NodeTelemetry)?
    public var logger: Logger

    public init(genesis: Genesis, nodeKey: PrivateKey, tls: NodeTLSIdentity, dataDirectory: String,
                p2pListen: PeerAddress, mempool: Mempool.Limits = Mempool.Limits(),
                handshakeTimeout: TimeAmount = .seconds(10),
                redial: ReconnectBackoff.Policy = ReconnectBackoff.Policy(initialDelay: .milliseconds(100), maxDelay: .seconds(5),
                                                                         stableAfter: .seconds(15)),
                penaltyDuration: TimeAmount = .seconds(10), statusIntervalMillis: UInt64 = 1_000,
                syncTimeoutMillis: UInt64 = 10_000, maxQueuedPeerMessages: Int = 50_000, sendQueueMaxMessages: Int = 1024,
                maxInboundPeers: Int = 64, telemetry: (any NodeTelemetry)? = nil, logger: Logger) {
        self.genesis = genesis; self.nodeKey = nodeKey; self.tls = tls; self.dataDirectory = dataDirectory
        self.p2pListen = p2pListen; self.mempool = mempool; self.handshakeTimeout = handshakeTimeout
        self.redial = redial; self.penaltyDuration = penaltyDuration; self.statusIntervalMillis = statusIntervalMillis
        self.syncTimeoutMillis = syncTimeoutMillis; self.maxQueuedPeerMessages = maxQueuedPeerMessages
        self.sendQueueMaxMessages = sendQueueMaxMessages; self.maxInboundPeers = maxInboundPeers; self.telemetry = telemetry; self.logger = logger
    }
}

/// What a node is in its network.
public enum NodeRole: Equatable, Sendable, CustomStringConvertible {
    case validator(index: Int)
    case observer

    public var description: String {
        switch self {
        case .validator(let i): "validator \(i)"
        case .observer: "observer"
        }
    }
}

/// What the node publishes after every step, for status pages, metrics and readers
/// (`/health`, the RPC). Read off the node loop; never blocks it.
public struct NodeStatusSnapshot: Sendable {
    public var name: String
    public var role: NodeRole
    public var chainID: String
    public var height: UInt64
    public var headHash: Hash
    public var headTimeMillis: UInt64
    public var view: UInt64
    public var primary: Int?
    public var viewChanging: Bool
    public var viewChanges: UInt64
    public var peersConnected: Int
    public var peersExpected: Int
    /// The highest head a peer reported, when above this node's (it is syncing to it).
    public var syncTarget: UInt64?
    public var mempoolTransactions: Int
    public var mempoolBytes: Int
    public var lastCommitWallMillis: UInt64?
    public var transactionsCommitted: UInt64
    /// Sync requests sent to each peer since the start, by name (where this node catches up from).
    public var syncRequestsSent: [String: Int]
    /// The most sync requests that were in flight at once since the start.
    public var peakParallelSync: Int
    /// The head each connected peer last reported, by name.
    public var peerHeights: [String: UInt64]
}
