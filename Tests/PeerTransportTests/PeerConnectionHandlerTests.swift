import NIOCore
import NIOEmbedded
import Testing
@testable import PeerTransport

/// The connection handler on embedded channels: two in-memory ends, bytes pumped by hand, TLS
/// replaced by the `PeerTLSEstablished` event it would raise.
@Suite("Peer connection handler (embedded)")
struct PeerConnectionHandlerTests {
    struct End {
        let channel: EmbeddedChannel
        let log: EventLog
    }

    static func end(_ node: TestNode, role: HandshakeRole, config: HandshakeConfig? = nil,
                    limits: PeerConnectionLimits = Fixture.limits, nonce: UInt8) throws -> End {
        let log = EventLog()
        let channel = EmbeddedChannel()
        let handler = PeerConnectionHandler(role: role, config: config ?? Fixture.handshake(node),
                                            limits: limits, logger: Fixture.logger,
                                            makeNonce: { Fixture.nonce(nonce) }, onEvent: log.record)
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: .init(ipAddress: "127.0.0.1", port: 1)).wait()
        return End(channel: channel, log: log)
    }

    /// Moves every outbound frame of `from` into `to`, both ways, until neither has more.
    static func pump(_ x: End, _ y: End) throws {
        var moved = true
        while moved {
            moved = false
            for (from, to) in [(x, y), (y, x)] where to.channel.isActive {
                while let frame = try from.channel.readOutbound(as: ByteBuffer.self) {
                    try to.channel.writeInbound(frame)
                    moved = true
                }
            }
        }
    }

    static func tls(_ end: End, peer: TestNode) {
        end.channel.pipeline.fireUserInboundEventTriggered(
            PeerTLSEstablished(peerSPKI: peer.tls.fingerprint, negotiatedProtocol: PeerTLS.alpn))
    }

    @Test("both ends establish, then messages flow both ways as inbound buffers")
    func establishAndExchange() throws {
        let a = try Self.end(Fixture.alice, role: .initiator, nonce: 1)
        let b = try Self.end(Fixture.bob, role: .responder, nonce: 2)
        defer { _ = try? a.channel.finish(); _ = try? b.channel.finish() }
        Self.tls(a, peer: Fixture.bob)
        Self.tls(b, peer: Fixture.alice)
        try Self.pump(a, b)
        #expect(a.log.established.map(\.nodeKey) == [Fixture.bob.nodeKey.publicKey])
        #expect(b.log.established.map(\.nodeKey) == [Fixture.alice.nodeKey.publicKey])
        try a.channel.writeOutbound(PeerOutboundMessage(ByteBuffer(bytes: [1, 2, 3]), priority: .critical))
        try b.channel.writeOutbound(PeerOutboundMessage(ByteBuffer(bytes: [4]), priority: .critical))
        try Self.pump(a, b)
        #expect(b.log.messages == [[1, 2, 3]])
        #expect(a.log.messages == [[4]])
        #expect(try b.channel.readInbound(as: ByteBuffer.self) == ByteBuffer(bytes: [1, 2, 3]))
    }

    @Test("a message written before the handshake completes fails and is not sent")
    func writeBeforeEstablished() throws {
        let a = try Self.end(Fixture.alice, role: .initiator, nonce: 1)
        defer { _ = try? a.channel.finish() }
        #expect(throws: PeerTransportError.notEstablished) {
            try a.channel.writeOutbound(PeerOutboundMessage(ByteBuffer(bytes: [1]), priority: .critical))
        }
        #expect(try a.channel.readOutbound(as: ByteBuffer.self) == nil)
    }

    @Test("a refused hello closes the connection and reports the reason once")
    func refusalCloses() throws {
        let a = try Self.end(Fixture.alice, role: .initiator, config: Fixture.handshake(Fixture.alice, chain: Fixture.otherGenesis), nonce: 1)
        let b = try Self.end(Fixture.bob, role: .responder, nonce: 2)
        defer { _ = try? a.channel.finish(); _ = try? b.channel.finish() }
        Self.tls(a, peer: Fixture.bob)
        Self.tls(b, peer: Fixture.alice)
        try Self.pump(a, b)
        #expect(!b.channel.isActive)
        #expect(b.log.closeReasons == [.wrongGenesis(expected: Fixture.chain.genesisHash, got: Fixture.otherGenesis.genesisHash)])
        #expect(b.log.established.isEmpty)
    }

    @Test("a garbage frame after the handshake closes the connection with its reason")
    func garbageAfterEstablished() throws {
        let a = try Self.end(Fixture.alice, role: .initiator, nonce: 1)
        let b = try Self.end(Fixture.bob, role: .responder, nonce: 2)
        defer { _ = try? a.channel.finish(); _ = try? b.channel.finish() }
        Self.tls(a, peer: Fixture.bob)
        Self.tls(b, peer: Fixture.alice)
        try Self.pump(a, b)
        try b.channel.writeInbound(ByteBuffer(bytes: [0xEE, 0xFF]))
        #expect(!b.channel.isActive)
        #expect(b.log.closeReasons == [.unknownFrameKind(0xEE)])
    }

    @Test("a second hello after the handshake is refused")
    func helloAfterEstablished() throws {
        let a = try Self.end(Fixture.alice, role: .initiator, nonce: 1)
        let b = try Self.end(Fixture.bob, role: .responder, nonce: 2)
        defer { _ = try? a.channel.finish(); _ = try? b.channel.finish() }
        Self.tls(a, peer: Fixture.bob)
        Self.tls(b, peer: Fixture.alice)
        try Self.pump(a, b)
        try b.channel.writeInbound(ByteBuffer(bytes: [FrameKind.hello.rawValue, 1]))
        #expect(b.log.closeReasons == [.unexpectedFrame(.hello, phase: "established")])
    }
}
