import Foundation
import HansaCrypto
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// Everything one node needs to accept and open peer connections.
public struct PeerEndpointConfig: Sendable {
    public let identity: NodeTLSIdentity
    public let handshake: HandshakeConfig
    /// The largest frame accepted or sent (see `FrameLimits.maxFrameBytes(maxBlockBytes:)`).
    public let maxFrameBytes: Int
    /// The handshake timeout and the per-peer send queue bounds.
    public let limits: PeerConnectionLimits
    /// Wall-clock time for certificate validity only; the protocol logic never reads it.
    public let now: @Sendable () -> Date
    public let makeNonce: @Sendable () -> [UInt8]
    public let logger: Logger

    public init(identity: NodeTLSIdentity, handshake: HandshakeConfig, maxFrameBytes: Int,
                limits: PeerConnectionLimits? = nil,
                now: @escaping @Sendable () -> Date = { Date() },
                makeNonce: @escaping @Sendable () -> [UInt8] = { SecureRandom.bytes(PeerHello.nonceBytes) },
                logger: Logger) {
        precondition(identity.fingerprint == handshake.localSPKI, "the handshake must claim this identity's TLS key")
        self.identity = identity
        self.handshake = handshake
        self.maxFrameBytes = maxFrameBytes
        self.limits = limits ?? PeerConnectionLimits(send: .forFrames(maxFrameBytes: maxFrameBytes))
        self.now = now
        self.makeNonce = makeNonce
        self.logger = logger
    }
}

/// Opens and accepts authenticated peer connections: TLS, then the handshake, then frames.
///
/// The pipeline of every connection: NIOSSL (server or client) → frame decoder/encoder →
/// `PeerConnectionHandler`. Events reach `onEvent` on the connection's event loop.
public final class PeerEndpoint: Sendable {
    public let config: PeerEndpointConfig
    private let group: any EventLoopGroup
    private let serverContext: NIOSSLContext
    private let clientContext: NIOSSLContext
    private let onEvent: @Sendable (PeerEvent) -> Void

    public init(config: PeerEndpointConfig, group: any EventLoopGroup,
                onEvent: @escaping @Sendable (PeerEvent) -> Void) throws {
        self.config = config
        self.group = group
        self.onEvent = onEvent
        self.serverContext = try NIOSSLContext(configuration: PeerTLS.configuration(identity: config.identity, server: true))
        self.clientContext = try NIOSSLContext(configuration: PeerTLS.configuration(identity: config.identity, server: false))
    }

    /// The allow list every new connection of this endpoint is checked against. Replace it
    /// when pins change: new connections follow at once, and established ones whose pin was
    /// removed are closed with `PeerTransportError.pinRevoked` (docs/TRANSPORT.md "Pin rotation").
    public var allowList: LiveAllowList { config.handshake.allowList }

    /// Listens on `host:port` (port 0 picks a free port: read it from the channel's `localAddress`).
    /// At most `maxConnections` accepted connections are open at once — authenticated or still
    /// in their handshake; one more is closed as soon as it is accepted (its TLS never starts),
    /// so a flood of connections costs a socket each, briefly, and no handshake work.
    public func listen(host: String, port: Int, maxConnections: Int = .max) async throws -> any Channel {
        let open = NIOLockedValueBox(0)
        let logger = config.logger
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let admitted = open.withLockedValue { n -> Bool in
                    guard n < maxConnections else { return false }
                    n += 1
                    return true
                }
                guard admitted else {
                    logger.warning("refusing an inbound connection: the limit of open inbound connections is reached",
                                   metadata: ["limit": "\(maxConnections)", "peer": "\(channel.remoteAddress.map { "\($0)" } ?? "?")"])
                    return channel.close()
                }
                channel.closeFuture.whenComplete { _ in open.withLockedValue { $0 -= 1 } }
                return channel.eventLoop.makeCompletedFuture { try self.addHandlers(to: channel, role: .responder) }
            }
            .bind(host: host, port: port)
            .get()
    }

    /// Connects to a peer; the returned channel is open, the handshake still under way
    /// (`.established` or `.closed` follows).
    public func connect(host: String, port: Int) async throws -> any Channel {
        try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try self.addHandlers(to: channel, role: .initiator) }
            }
            .connect(host: host, port: port)
            .get()
    }

    /// A dialer that keeps a connection to `host:port` open, redialling with `policy`'s backoff
    /// on `eventLoop` (one of this endpoint's group). Call `start()` on it.
    public func dialer<RNG: RandomNumberGenerator & Sendable>(host: String, port: Int, on eventLoop: any EventLoop,
                                                               policy: ReconnectBackoff.Policy = .init(),
                                                               rng: RNG) -> PeerDialer<RNG> {
        precondition(policy.stableAfter > config.limits.handshakeTimeout,
                     "a connection must outlive the handshake timeout to count as stable")
        return PeerDialer(eventLoop: eventLoop, policy: policy, rng: rng, logger: config.logger) {
            ClientBootstrap(group: eventLoop)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try self.addHandlers(to: channel, role: .initiator) }
                }
                .connect(host: host, port: port)
        }
    }

    private func addHandlers(to channel: any Channel, role: HandshakeRole) throws {
        let verifier = PinnedCertificateVerifier(allowed: config.handshake.allowList, now: config.now, logger: config.logger)
        let tls: NIOSSLHandler = switch role {
        case .responder:
            NIOSSLServerHandler(context: serverContext, customVerificationCallback: verifier.verify)
        case .initiator:
            // No hostname: peers are pinned by key, and NIOSSL refuses an IP address as SNI.
            try NIOSSLClientHandler(context: clientContext, serverHostname: nil, customVerificationCallback: verifier.verify)
        }
        let sync = channel.pipeline.syncOperations
        try sync.addHandler(tls)
        try sync.addHandler(ByteToMessageHandler(FrameDecoder(maxFrameBytes: config.maxFrameBytes)))
        try sync.addHandler(MessageToByteHandler(FrameEncoder(maxFrameBytes: config.maxFrameBytes)))
        try sync.addHandler(PeerConnectionHandler(role: role, config: config.handshake, limits: config.limits, logger: config.logger,
                                                  makeNonce: config.makeNonce, verifier: verifier, onEvent: onEvent))
    }
}
