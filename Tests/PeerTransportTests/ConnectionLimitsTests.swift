import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import Testing
@testable import PeerTransport

/// The handshake deadline and the bounded send queue inside `PeerConnectionHandler`, on
/// embedded channels: time moves only when the test advances the `EmbeddedEventLoop`, and
/// writability is set by hand (what NIO does at its water marks).
@Suite("Connection limits (embedded, manual clock)")
struct ConnectionLimitsTests {
    typealias H = PeerConnectionHandlerTests

    /// alice ↔ bob, established.
    static func pair() throws -> (a: H.End, b: H.End) {
        let a = try H.end(Fixture.alice, role: .initiator, nonce: 1)
        let b = try H.end(Fixture.bob, role: .responder, nonce: 2)
        H.tls(a, peer: Fixture.bob)
        H.tls(b, peer: Fixture.alice)
        try H.pump(a, b)
        try #require(a.log.established.count == 1 && b.log.established.count == 1)
        return (a, b)
    }

    static func message(_ tag: UInt8, _ priority: PeerSendPriority) -> PeerOutboundMessage {
        PeerOutboundMessage(ByteBuffer(bytes: [tag]), priority: priority)
    }

    /// The payload tags of every frame `end` has written, oldest first.
    static func sent(_ end: H.End) throws -> [UInt8] {
        var tags: [UInt8] = []
        while let frame = try end.channel.readOutbound(as: ByteBuffer.self) {
            #expect(frame.getInteger(at: 0, as: UInt8.self) == FrameKind.message.rawValue)
            tags.append(frame.getInteger(at: 1)!)
        }
        return tags
    }

    /// Records how each write's promise completed.
    final class Outcomes: Sendable {
        private let box = NIOLockedValueBox<[UInt8: Result<Void, PeerTransportError>]>([:])
        func track(_ tag: UInt8, _ future: EventLoopFuture<Void>) {
            future.whenComplete { result in
                self.box.withLockedValue { $0[tag] = result.mapError { $0 as? PeerTransportError ?? .connectionFailed("\($0)") } }
            }
        }
        func failure(_ tag: UInt8) -> PeerTransportError? {
            if case .failure(let error) = box.withLockedValue({ $0[tag] }) { error } else { nil }
        }
        func succeeded(_ tag: UInt8) -> Bool {
            if case .success = box.withLockedValue({ $0[tag] }) { true } else { false }
        }
        func pending(_ tag: UInt8) -> Bool { box.withLockedValue { $0[tag] } == nil }
    }

    // MARK: handshake deadline

    @Test("a peer that never completes TLS is closed at the deadline, not a moment before")
    func timeoutBeforeTLS() throws {
        let a = try H.end(Fixture.alice, role: .responder, nonce: 1)
        defer { _ = try? a.channel.finish() }
        a.channel.embeddedEventLoop.advanceTime(by: .milliseconds(4_999))
        #expect(a.channel.isActive)
        #expect(a.log.closeReasons.isEmpty)
        a.channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(!a.channel.isActive)
        #expect(a.log.closeReasons == [.handshakeTimedOut(afterMilliseconds: 5_000, phase: "waiting for TLS")])
    }

    @Test("a peer that completes TLS but never sends its hello is closed at the deadline")
    func timeoutAwaitingHello() throws {
        let a = try H.end(Fixture.alice, role: .initiator, nonce: 1)
        defer { _ = try? a.channel.finish() }
        H.tls(a, peer: Fixture.bob)
        #expect(try a.channel.readOutbound(as: ByteBuffer.self) != nil)  // our hello left
        a.channel.embeddedEventLoop.advanceTime(by: .seconds(5))
        #expect(!a.channel.isActive)
        #expect(a.log.closeReasons == [.handshakeTimedOut(afterMilliseconds: 5_000, phase: "waiting for the hello")])
    }

    @Test("the deadline also runs when the handler joins a channel that is already active")
    func timeoutAddedWhenActive() throws {
        let log = EventLog()
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish() }
        try channel.connect(to: .init(ipAddress: "127.0.0.1", port: 1)).wait()
        try channel.pipeline.syncOperations.addHandler(PeerConnectionHandler(
            role: .responder, config: Fixture.handshake(Fixture.alice), limits: Fixture.limits, logger: Fixture.logger,
            makeNonce: { Fixture.nonce(1) }, onEvent: log.record))
        channel.embeddedEventLoop.advanceTime(by: .seconds(5))
        #expect(log.closeReasons == [.handshakeTimedOut(afterMilliseconds: 5_000, phase: "waiting for TLS")])
    }

    @Test("an established connection outlives the deadline")
    func establishedKeepsOpen() throws {
        let (a, b) = try Self.pair()
        defer { _ = try? a.channel.finish(); _ = try? b.channel.finish() }
        a.channel.embeddedEventLoop.advanceTime(by: .hours(1))
        b.channel.embeddedEventLoop.advanceTime(by: .hours(1))
        #expect(a.channel.isActive && b.channel.isActive)
        #expect(a.log.closeReasons.isEmpty && b.log.closeReasons.isEmpty)
    }

    // MARK: send queue and backpressure

    @Test("while the channel is unwritable messages wait; writable again, they leave in order")
    func waitsForWritability() throws {
        let (a, b) = try Self.pair()
        defer { _ = try? a.channel.finish(); _ = try? b.channel.finish() }
        let outcomes = Outcomes()
        a.channel.isWritable = false
        a.channel.pipeline.fireChannelWritabilityChanged()
        for tag: UInt8 in 1...3 { outcomes.track(tag, a.channel.writeAndFlush(Self.message(tag, .critical))) }
        #expect(try Self.sent(a) == [])
        #expect(outcomes.pending(1) && outcomes.pending(3))
        a.channel.isWritable = true
        a.channel.pipeline.fireChannelWritabilityChanged()
        #expect(try Self.sent(a) == [1, 2, 3])
        #expect(outcomes.succeeded(1) && outcomes.succeeded(3))
    }

    @Test("a full queue drops the oldest bulk message and fails its write; critical ones stay")
    func fullQueueDropsBulk() throws {
        let (a, b) = try Self.pair()
        defer { _ = try? a.channel.finish(); _ = try? b.channel.finish() }
        let outcomes = Outcomes()
        a.channel.isWritable = false
        let writes: [(UInt8, PeerSendPriority)] = [(1, .critical), (2, .bulk), (3, .bulk), (4, .critical), (5, .critical)]
        for (tag, priority) in writes { outcomes.track(tag, a.channel.writeAndFlush(Self.message(tag, priority))) }
        #expect(outcomes.failure(2) == .droppedFromSendQueue)
        #expect(outcomes.pending(1) && outcomes.pending(3))
        #expect(a.channel.isActive)
        a.channel.isWritable = true
        a.channel.pipeline.fireChannelWritabilityChanged()
        #expect(try Self.sent(a) == [1, 3, 4, 5])
    }

    @Test("a peer whose queue is full of critical messages is closed as too slow; another peer is unaffected")
    func slowPeerClosedOthersFlow() throws {
        let (slow, slowPeer) = try Self.pair()
        let (fast, fastPeer) = try Self.pair()
        defer { for end in [slow, slowPeer, fast, fastPeer] { _ = try? end.channel.finish() } }
        let outcomes = Outcomes()
        slow.channel.isWritable = false
        for tag: UInt8 in 1...5 {
            outcomes.track(tag, slow.channel.writeAndFlush(Self.message(tag, .critical)))
            // The same broadcast to the other peer leaves at once, whatever the slow one does.
            fast.channel.writeAndFlush(Self.message(tag, .critical), promise: nil)
        }
        #expect(try Self.sent(fast) == [1, 2, 3, 4, 5])
        #expect(!slow.channel.isActive)
        let tooSlow = PeerTransportError.peerTooSlow(queuedMessages: 4, queuedBytes: 4)
        #expect(slow.log.closeReasons == [tooSlow])
        #expect(outcomes.failure(5) == tooSlow)
        #expect(outcomes.failure(1) == tooSlow)  // queued writes fail on close, none left pending
        #expect((1...5).allSatisfy { !outcomes.pending($0) })
        #expect(try Self.sent(slow) == [])
        #expect(fast.channel.isActive && fast.log.closeReasons.isEmpty)
    }

    @Test("a message larger than the queue's byte bound fails its write and keeps the peer")
    func oversizeWriteKeepsPeer() throws {
        let (a, b) = try Self.pair()
        defer { _ = try? a.channel.finish(); _ = try? b.channel.finish() }
        let big = PeerOutboundMessage(ByteBuffer(repeating: 7, count: 65), priority: .critical)
        #expect(throws: PeerTransportError.frameTooLarge(bytes: 65, maxFrameBytes: 64)) { try a.channel.writeOutbound(big) }
        #expect(a.channel.isActive)
    }
}
