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

/// The per-connection bounds: how long the handshake may take and how much may wait to be sent.
public struct PeerConnectionLimits: Sendable, Equatable {
    /// From the connection becoming active (TCP) to `established`: TLS and the application
    /// handshake together. A peer that takes longer is closed with `handshakeTimedOut`.
    public let handshakeTimeout: TimeAmount
    public let send: PeerSendLimits

    public init(handshakeTimeout: TimeAmount = .seconds(10), send: PeerSendLimits) {
        precondition(handshakeTimeout > .zero, "the handshake timeout must be positive")
        self.handshakeTimeout = handshakeTimeout
        self.send = send
    }
}

/// Drives `HandshakeStateMachine` on a channel of frame bodies and, once established, turns
/// `message` frames into inbound `ByteBuffer`s and outbound `PeerOutboundMessage`s into
/// `message` frames.
///
/// Outbound messages wait in a bounded `PeerSendQueue` and go to the socket only while the
/// channel is writable (`channelWritabilityChanged` resumes them), so a slow peer fills its own
/// queue — dropping bulk messages, then being closed as `peerTooSlow` — and never holds up the
/// writer, which sends to the other peers' channels without waiting.
///
/// Any refusal — TLS, handshake, frame, timeout or overflow — is logged with its reason,
/// reported once as `.closed`, and closes the connection. Invariants: `.closed` is reported
/// exactly once; every write's promise completes (written, dropped, or failed on close).
public final class PeerConnectionHandler: ChannelDuplexHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = PeerOutboundMessage
    public typealias OutboundOut = ByteBuffer

    private var machine: HandshakeStateMachine
    private let makeNonce: @Sendable () -> [UInt8]
    private let onEvent: @Sendable (PeerEvent) -> Void
    private let verifier: PinnedCertificateVerifier?
    private var logger: Logger
    private var peer: PeerIdentity?
    private var reason: PeerTransportError?
    private var reportedClose = false
    private let limits: PeerConnectionLimits
    private var sendQueue: PeerSendQueue
    private var handshakeTimer: Scheduled<Void>?
    /// Whether the connection was admitted to the live allow list (and must be forgotten).
    private var admitted = false

    public convenience init(role: HandshakeRole, config: HandshakeConfig, limits: PeerConnectionLimits, logger: Logger,
                makeNonce: @escaping @Sendable () -> [UInt8],
                onEvent: @escaping @Sendable (PeerEvent) -> Void) {
        self.init(role: role, config: config, limits: limits, logger: logger, makeNonce: makeNonce, verifier: nil,
                  onEvent: onEvent)
    }

    init(role: HandshakeRole, config: HandshakeConfig, limits: PeerConnectionLimits, logger: Logger,
         makeNonce: @escaping @Sendable () -> [UInt8],
         verifier: PinnedCertificateVerifier?, onEvent: @escaping @Sendable (PeerEvent) -> Void) {
        self.machine = HandshakeStateMachine(role: role, config: config)
        self.limits = limits
        self.sendQueue = PeerSendQueue(limits: limits.send)
        self.makeNonce = makeNonce
        self.verifier = verifier
        self.onEvent = onEvent
        self.logger = logger
        self.logger[metadataKey: "role"] = "\(role.rawValue)"
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        // A server's child channel may already be active when its handlers are added.
        if context.channel.isActive { startHandshakeTimer(context: context) }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        cancelHandshakeTimer()
        forgetAdmission(context: context)
        failQueued(reason ?? .connectionClosed)
    }

    public func channelActive(context: ChannelHandlerContext) {
        if let remote = context.remoteAddress { logger[metadataKey: "peer"] = "\(remote)" }
        startHandshakeTimer(context: context)
        context.fireChannelActive()
    }

    /// Arms the deadline for TLS + handshake, once, on the channel's own event loop (its clock:
    /// an `EmbeddedEventLoop` in tests, advanced by hand).
    private func startHandshakeTimer(context: ChannelHandlerContext) {
        guard handshakeTimer == nil, !machine.isEstablished, reason == nil else { return }
        let timeout = limits.handshakeTimeout
        // Cancelled on `.established` and on close; cancelling on the loop means it never runs.
        handshakeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            refuse(context: context, PeerTransportError.handshakeTimedOut(
                afterMilliseconds: timeout.nanoseconds / 1_000_000, phase: machine.phaseName))
        }
    }

    private func cancelHandshakeTimer() {
        handshakeTimer?.cancel()
        handshakeTimer = nil
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case let tls as PeerTLSEstablished:
            tlsDone(context: context, spki: tls.peerSPKI, negotiatedProtocol: tls.negotiatedProtocol)
        case let revoked as PeerPinRevoked:
            refuse(context: context, PeerTransportError.pinRevoked(revoked.spki))
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

    /// Admits the connection to the live allow list (checked and recorded at once, so a later
    /// `replace` closes it) and runs the handshake with the list of this moment.
    private func tlsDone(context: ChannelHandlerContext, spki: SPKIFingerprint, negotiatedProtocol: String?) {
        guard let allowed = machine.config.allowList.admit(spki, channel: context.channel) else {
            refuse(context: context, PeerTransportError.notPinned(spki))
            return
        }
        admitted = true
        do {
            perform(try machine.tlsEstablished(peerSPKI: spki, negotiatedProtocol: negotiatedProtocol,
                                               nonce: makeNonce(), allowed: allowed), context: context)
        } catch {
            refuse(context: context, error)
        }
    }

    private func forgetAdmission(context: ChannelHandlerContext) {
        guard admitted else { return }
        admitted = false
        machine.config.allowList.forget(context.channel)
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
                cancelHandshakeTimer()
                peer = identity
                logger[metadataKey: "peer_key"] = "\(identity.nodeKey.hex.prefix(16))"
                logger.info("peer authenticated")
                onEvent(.established(identity, role: machine.role, channel: context.channel))
            case .deliver(let message):
                onEvent(.message(peer!, message))
                context.fireChannelRead(wrapInboundOut(message))
            }
        }
    }

    /// Queues the message under `PeerSendQueue`'s policy; `flush` (or the channel becoming
    /// writable again) moves it to the socket.
    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard machine.isEstablished, reason == nil else {
            promise?.fail(reason ?? PeerTransportError.notEstablished)
            return
        }
        let message = unwrapOutboundIn(data)
        switch sendQueue.enqueue(.init(message: message, promise: promise)) {
        case .queued(let evicted):
            if !evicted.isEmpty {
                logger.debug("send queue full: dropped bulk messages", metadata: ["dropped": "\(evicted.count)"])
            }
            for entry in evicted { entry.promise?.fail(PeerTransportError.droppedFromSendQueue) }
        case .droppedIncoming:
            logger.debug("send queue full: dropped an incoming bulk message")
            promise?.fail(PeerTransportError.droppedFromSendQueue)
        case .tooLarge:
            promise?.fail(PeerTransportError.frameTooLarge(bytes: message.payload.readableBytes,
                                                           maxFrameBytes: limits.send.maxQueuedBytes))
        case .overflow:
            let tooSlow = PeerTransportError.peerTooSlow(queuedMessages: sendQueue.count, queuedBytes: sendQueue.bytes)
            promise?.fail(tooSlow)
            refuse(context: context, tooSlow)
        }
    }

    public func flush(context: ChannelHandlerContext) {
        drain(context: context)
    }

    public func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { drain(context: context) }
        context.fireChannelWritabilityChanged()
    }

    /// Writes queued messages, oldest first, while the channel stays writable (NIO turns it
    /// unwritable above the high water mark), then flushes what was written.
    private func drain(context: ChannelHandlerContext) {
        var wrote = false
        while context.channel.isWritable, let entry = sendQueue.popFirst() {
            let payload = entry.message.payload
            var frame = context.channel.allocator.buffer(capacity: payload.readableBytes + 1)
            frame.writeInteger(FrameKind.message.rawValue)
            frame.writeImmutableBuffer(payload)
            context.write(wrapOutboundOut(frame), promise: entry.promise)
            wrote = true
        }
        if wrote { context.flush() }
    }

    private func failQueued(_ why: PeerTransportError) {
        for entry in sendQueue.removeAll() { entry.promise?.fail(why) }
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        refuse(context: context, error)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        cancelHandshakeTimer()
        forgetAdmission(context: context)
        failQueued(reason ?? .connectionClosed)
        reportClose(reason ?? .connectionClosed)
        context.fireChannelInactive()
    }

    /// Records the first reason, logs it, and closes. Later errors (the close's own) are ignored.
    private func refuse(context: ChannelHandlerContext, _ error: any Error) {
        guard reason == nil else { return }
        let typed = classify(error)
        reason = typed
        cancelHandshakeTimer()
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
