import ChainTypes
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PeerTransport

/// The node's peers over the authenticated transport (docs/TRANSPORT.md): it listens, keeps
/// one dialer per peer this node dials (`PeerDirectory.dials`), holds one open connection per
/// peer, decodes every message with the canonical decoders and hands it on, and sends.
///
/// - Sending never waits: a message goes into the peer's bounded send queue (the transport's
///   policy: bulk dropped first, a peer that cannot take critical messages closed), so a slow
///   or dead peer never holds up the others.
/// - A peer that sends bytes that do not decode, or that dials when it should be dialled, is
///   disconnected and refused for `penaltyDuration` (its own dialer's backoff does the same
///   the other way).
/// - A second connection from a peer replaces the first (the peer restarted; the old socket
///   may not have noticed yet).
public final class PeerNetwork: Sendable {
    public let directory: PeerDirectory
    public let local: PeerInfo
    public let penaltyDuration: TimeAmount
    private let group: MultiThreadedEventLoopGroup
    private let endpointConfig: PeerEndpointConfig
    private let state = NIOLockedValueBox(State())
    private let logger: Logger
    private let handlers: Handlers

    struct State {
        var endpoint: PeerEndpoint?
        var listener: (any Channel)?
        var connections: [PublicKey: any Channel] = [:]
        var penalties: [PublicKey: NIODeadline] = [:]
        var dialers: [PeerDialer<SystemRandomNumberGenerator>] = []
        var stopped = false
        /// Tests' partition: every connection closed and refused, nothing sent.
        var isolated = false
    }

    /// What the network reports; called on an event loop (keep them short: post to the node loop).
    public struct Handlers: Sendable {
        public var message: @Sendable (PeerInfo, WireMessage) -> Void
        public var connected: @Sendable (PeerInfo) -> Void
        public var disconnected: @Sendable (PeerInfo) -> Void
        /// A peer sent something invalid (`reason` is a short label for metrics).
        public var invalid: @Sendable (PeerInfo, String) -> Void

        public init(message: @escaping @Sendable (PeerInfo, WireMessage) -> Void,
                    connected: @escaping @Sendable (PeerInfo) -> Void = { _ in },
                    disconnected: @escaping @Sendable (PeerInfo) -> Void = { _ in },
                    invalid: @escaping @Sendable (PeerInfo, String) -> Void = { _, _ in }) {
            self.message = message; self.connected = connected; self.disconnected = disconnected; self.invalid = invalid
        }
    }

    public init(directory: PeerDirectory, local: PeerInfo, endpoint: PeerEndpointConfig, group: MultiThreadedEventLoopGroup,
                penaltyDuration: TimeAmount = .seconds(10), logger: Logger, handlers: Handlers) {
        self.directory = directory
        self.local = local
        self.endpointConfig = endpoint
        self.group = group
        self.penaltyDuration = penaltyDuration
        self.logger = logger
        self.handlers = handlers
    }

    /// Sets up TLS and listens on `listen` (a validator; an observer passes nil). Returns the
    /// bound port (useful with port 0). Dialling starts with `dial`.
    @discardableResult
    public func listen(_ listen: PeerAddress?, maxConnections: Int = 64) async throws(NodeError) -> Int? {
        let endpoint: PeerEndpoint
        do {
            endpoint = try PeerEndpoint(config: endpointConfig, group: group) { [weak self] event in self?.handle(event) }
        } catch {
            throw .genesis("cannot set up TLS with this node's certificate: \(error)")
        }
        state.withLockedValue { $0.endpoint = endpoint }
        guard let listen else { return nil }
        do {
            let channel = try await endpoint.listen(host: listen.host, port: listen.port, maxConnections: maxConnections)
            state.withLockedValue { $0.listener = channel }
            return channel.localAddress?.port
        } catch {
            throw .cannotListen(what: "peers", address: listen.description, why: Self.sentence(error))
        }
    }

    /// Starts one dialer per peer this node dials (`PeerDirectory.dials`), redialling with `redial`.
    public func dial(redial: ReconnectBackoff.Policy) {
        guard let endpoint = state.withLockedValue({ $0.endpoint }) else { preconditionFailure("listen before dial") }
        for peer in directory.dialled(by: local) {
            guard let address = peer.address else { continue }
            let dialer = endpoint.dialer(host: address.host, port: address.port, on: group.next(), policy: redial,
                                         rng: SystemRandomNumberGenerator())
            state.withLockedValue { $0.dialers.append(dialer) }
            dialer.start()
        }
    }

    /// Closes the listener, stops the dialers and closes every connection.
    public func stop() async {
        let (listener, dialers, channels) = state.withLockedValue { s in
            s.stopped = true
            defer { s.connections = [:]; s.dialers = [] }
            return (s.listener, s.dialers, Array(s.connections.values))
        }
        for d in dialers { d.stop() }
        try? await listener?.close()
        for c in channels { try? await c.close() }
    }

    /// Peers with an open, authenticated connection.
    public var connected: [PeerInfo] {
        let keys = state.withLockedValue { Array($0.connections.keys) }
        return keys.compactMap { directory.peer(nodeKey: $0) }
    }

    public func isConnected(_ peer: PublicKey) -> Bool { state.withLockedValue { $0.connections[peer] != nil } }

    /// Sends `message` to `peer` if it is connected (false when it is not).
    @discardableResult
    public func send(_ message: WireMessage, to peer: PublicKey, priority: PeerSendPriority) -> Bool {
        send(bytes: message.bytes, to: [peer], priority: priority) > 0
    }

    /// Sends the same message to each of `peers` that is connected; returns how many.
    @discardableResult
    public func send(_ message: WireMessage, to peers: [PublicKey], priority: PeerSendPriority) -> Int {
        send(bytes: message.bytes, to: peers, priority: priority)
    }

    private func send(bytes: [UInt8], to peers: [PublicKey], priority: PeerSendPriority) -> Int {
        let channels = state.withLockedValue { s in s.isolated ? [] : peers.compactMap { s.connections[$0] } }
        for channel in channels {
            let buffer = channel.allocator.buffer(bytes: bytes)
            channel.writeAndFlush(PeerOutboundMessage(buffer, priority: priority), promise: nil)
        }
        return channels.count
    }

    /// Counts a misbehaviour of `peer` (metrics), without disconnecting.
    public func reportInvalid(_ peer: PeerInfo, reason: String) { handlers.invalid(peer, reason) }

    /// Closes the connection to `peer` and refuses it for `penaltyDuration`.
    public func disconnect(_ peer: PublicKey, reason: String) {
        let channel = state.withLockedValue { s -> (any Channel)? in
            s.penalties[peer] = .now() + penaltyDuration
            return s.connections.removeValue(forKey: peer)
        }
        if let info = directory.peer(nodeKey: peer) {
            logger.warning("disconnecting peer", metadata: ["peer": "\(info.name)", "reason": "\(reason)"])
            if channel != nil { handlers.disconnected(info) }
        }
        channel?.close(promise: nil)
    }

    /// Cuts this node off (tests: a partition without a proxy): closes every connection and
    /// refuses new ones until called with false; the dialers keep redialling.
    func isolate(_ on: Bool) {
        let dropped = state.withLockedValue { s -> [(PublicKey, any Channel)] in
            s.isolated = on
            guard on else { return [] }
            defer { s.connections = [:] }
            return Array(s.connections)
        }
        for (key, c) in dropped {
            if let info = directory.peer(nodeKey: key) { handlers.disconnected(info) }
            c.close(promise: nil)
        }
    }

    // MARK: Events, on the connection's event loop

    private func handle(_ event: PeerEvent) {
        switch event {
        case .established(let identity, let role, let channel):
            established(identity, role: role, channel: channel)
        case .message(let identity, var buffer):
            guard let peer = directory.peer(nodeKey: identity.nodeKey) else { return }
            let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
            let message: WireMessage
            do {
                message = try WireMessage(bytes: bytes)
            } catch {
                handlers.invalid(peer, "undecodable")
                disconnect(identity.nodeKey, reason: "sent a message that does not decode: \(error)")
                return
            }
            handlers.message(peer, message)
        case .closed:
            // Removal happens when the channel has really closed (`closeFuture`, armed in
            // `established`): the transport reports `.closed` as it starts closing.
            break
        }
    }

    private func established(_ identity: PeerIdentity, role: HandshakeRole, channel: any Channel) {
        guard let peer = directory.peer(nodeKey: identity.nodeKey) else {
            channel.close(promise: nil)
            return
        }
        if role == .responder, !PeerDirectory.dials(peer, local) {
            logger.warning("refusing a connection from a peer that should be dialled, not dial",
                           metadata: ["peer": "\(peer.name)"])
            channel.close(promise: nil)
            return
        }
        let (accepted, old) = state.withLockedValue { s -> (Bool, (any Channel)?) in
            if s.stopped || s.isolated { return (false, nil) }
            if let until = s.penalties[identity.nodeKey] {
                if until > .now() { return (false, nil) }
                s.penalties[identity.nodeKey] = nil
            }
            let old = s.connections[identity.nodeKey]
            s.connections[identity.nodeKey] = channel
            return (true, old)
        }
        guard accepted else {
            logger.notice("refusing a peer that is backed off or a network that is stopping", metadata: ["peer": "\(peer.name)"])
            channel.close(promise: nil)
            return
        }
        old?.close(promise: nil)
        // When this channel closes, it leaves the table — unless a newer one replaced it.
        channel.closeFuture.whenComplete { [weak self] _ in
            guard let self else { return }
            let removed = self.state.withLockedValue { s -> Bool in
                guard let c = s.connections[identity.nodeKey], ObjectIdentifier(c) == ObjectIdentifier(channel) else { return false }
                s.connections[identity.nodeKey] = nil
                return true
            }
            if removed { self.handlers.disconnected(peer) }
        }
        logger.info("peer connected", metadata: ["peer": "\(peer.name)", "direction": "\(role == .initiator ? "out" : "in")"])
        handlers.connected(peer)
    }

    static func sentence(_ error: any Error) -> String {
        if let io = error as? IOError {
            if io.errnoCode == EADDRINUSE { return "the address is already in use (is another node or program listening there?)" }
            if io.errnoCode == EADDRNOTAVAIL { return "no network interface of this machine has that address" }
            if io.errnoCode == EACCES { return "permission denied (ports below 1024 need privileges)" }
            return String(cString: strerror(io.errnoCode))
        }
        return "\(error)"
    }
}
