import Logging
import NIOCore
import NIOSSL
import NIOTLS

/// What a connection reports to the node, on its event loop.
public enum PeerEvent: Sendable {
    /// The handshake completed; `channel` accepts `ByteBuffer` messages to send to the peer.
    case established(PeerIdentity, role: HandshakeRole, channel: any Channel)
    /// An application message from an authenticated peer.
    case message(PeerIdentity, ByteBuffer)
    /// The connection closed; `peer` is nil when it closed before the handshake completed.
    case closed(peer: PeerIdentity?, role: HandshakeRole, reason: PeerTransportError)
}

/// Raised inbound by the TLS layer's owner once TLS is done. The real pipeline derives it from
/// NIOSSL's `handshakeCompleted`; embedded-channel tests fire it directly.
public struct PeerTLSEstablished: Sendable {
    public let peerSPKI: SPKIFingerprint
    public let negotiatedProtocol: String?

    public init(peerSPKI: SPKIFingerprint, negotiatedProtocol: String?) {
        self.peerSPKI = peerSPKI
        self.negotiatedProtocol = negotiatedProtocol
    }
}

/// Drives `HandshakeStateMachine` on a channel of frame bodies and, once established, turns
/// `message` frames into inbound `ByteBuffer`s and outbound `ByteBuffer`s into `message` frames.
///
/// Any refusal — TLS, handshake or frame — is logged with its reason, reported once as
/// `.closed`, and closes the connection. Invariant: `.closed` is reported exactly once.
public final class PeerConnectionHandler: ChannelDuplexHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    private var machine: HandshakeStateMachine
    private let makeNonce: @Sendable () -> [UInt8]
    private let onEvent: @Sendable (PeerEvent) -> Void
    private let verifier: PinnedCertificateVerifier?
    private var logger: Logger
    private var peer: PeerIdentity?
    private var reason: PeerTransportError?
    private var reportedClose = false

    public convenience init(role: HandshakeRole, config: HandshakeConfig, logger: Logger,
                makeNonce: @escaping @Sendable () -> [UInt8],
                onEvent: @escaping @Sendable (PeerEvent) -> Void) {
        self.init(role: role, config: config, logger: logger, makeNonce: makeNonce, verifier: nil, onEvent: onEvent)
    }

    init(role: HandshakeRole, config: HandshakeConfig, logger: Logger, makeNonce: @escaping @Sendable () -> [UInt8],
         verifier: PinnedCertificateVerifier?, onEvent: @escaping @Sendable (PeerEvent) -> Void) {
        self.machine = HandshakeStateMachine(role: role, config: config)
        self.makeNonce = makeNonce
        self.verifier = verifier
        self.onEvent = onEvent
        self.logger = logger
        self.logger[metadataKey: "role"] = "\(role.rawValue)"
    }

    public func channelActive(context: ChannelHandlerContext) {
        if let remote = context.remoteAddress { logger[metadataKey: "peer"] = "\(remote)" }
        context.fireChannelActive()
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case let tls as PeerTLSEstablished:
            tlsDone(context: context, spki: tls.peerSPKI, negotiatedProtocol: tls.negotiatedProtocol)
        case TLSUserEvent.handshakeCompleted(let negotiated):
            do {
                let spki = try peerSPKI(in: context.pipeline.syncOperations)
                tlsDone(context: context, spki: spki, negotiatedProtocol: negotiated)
            } catch {
                refuse(context: context, error)
            }
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    private func tlsDone(context: ChannelHandlerContext, spki: SPKIFingerprint, negotiatedProtocol: String?) {
        do {
            perform(try machine.tlsEstablished(peerSPKI: spki, negotiatedProtocol: negotiatedProtocol,
                                               nonce: makeNonce()), context: context)
        } catch {
            refuse(context: context, error)
        }
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard reason == nil else { return }
        do {
            perform(try machine.receive(unwrapInboundIn(data)), context: context)
        } catch {
            refuse(context: context, error)
        }
    }

    private func perform(_ actions: [HandshakeAction], context: ChannelHandlerContext) {
        for action in actions {
            switch action {
            case .send(let body):
                context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: body)), promise: nil)
            case .established(let identity):
                peer = identity
                logger[metadataKey: "node"] = "\(identity.nodeKey.hex.prefix(16))"
                logger.info("peer authenticated")
                onEvent(.established(identity, role: machine.role, channel: context.channel))
            case .deliver(let message):
                onEvent(.message(peer!, message))
                context.fireChannelRead(wrapInboundOut(message))
            }
        }
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard machine.isEstablished else {
            promise?.fail(PeerTransportError.notEstablished)
            return
        }
        let message = unwrapOutboundIn(data)
        var frame = context.channel.allocator.buffer(capacity: message.readableBytes + 1)
        frame.writeInteger(FrameKind.message.rawValue)
        frame.writeImmutableBuffer(message)
        context.write(wrapOutboundOut(frame), promise: promise)
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        refuse(context: context, error)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        reportClose(reason ?? .connectionClosed)
        context.fireChannelInactive()
    }

    /// Records the first reason, logs it, and closes. Later errors (the close's own) are ignored.
    private func refuse(context: ChannelHandlerContext, _ error: any Error) {
        guard reason == nil else { return }
        let typed = classify(error)
        reason = typed
        logger.warning("closing peer connection", metadata: ["reason": "\(typed)"])
        reportClose(typed)
        context.close(promise: nil)
    }

    private func classify(_ error: any Error) -> PeerTransportError {
        if let typed = error as? PeerTransportError { return typed }
        if let refusal = verifier?.refusal { return refusal }
        if error is NIOSSLError || error is BoringSSLError { return .tlsFailed("\(error)") }
        if let channelError = error as? ChannelError, channelError == .eof { return .connectionClosed }
        return .connectionFailed("\(error)")
    }

    private func reportClose(_ why: PeerTransportError) {
        guard !reportedClose else { return }
        reportedClose = true
        onEvent(.closed(peer: peer, role: machine.role, reason: why))
    }
}
