import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Testing
@testable import PeerTransport

/// The whole transport over real TCP on 127.0.0.1 (port 0: the OS picks a free port): TLS 1.3
/// with pinned keys, the signed handshake, frames.
@Suite("Transport over sockets", .serialized)
struct SocketTransportTests {
    /// One listening node (bob) and one connecting node, each with its own event log.
    struct Pair {
        let group: MultiThreadedEventLoopGroup
        let server: any Channel
        let serverLog: EventLog
        let client: any Channel
        let clientLog: EventLog

        func shutdown() async throws {
            for channel in serverLog.establishedChannels + clientLog.establishedChannels {
                try? await channel.close()
            }
            try? await client.close()
            try await server.close()
            try await group.shutdownGracefully()
        }
    }

    static func config(_ node: TestNode, handshake: HandshakeConfig? = nil, maxFrameBytes: Int = Fixture.maxFrameBytes,
                       limits: PeerConnectionLimits? = nil,
                       now: @escaping @Sendable () -> Date = { Date() }) -> PeerEndpointConfig {
        PeerEndpointConfig(identity: node.tls, handshake: handshake ?? Fixture.handshake(node),
                           maxFrameBytes: maxFrameBytes, limits: limits, now: now, logger: Fixture.logger)
    }

    static func connect(server: PeerEndpointConfig, client: PeerEndpointConfig) async throws -> Pair {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let serverLog = EventLog(), clientLog = EventLog()
        let listener = try await PeerEndpoint(config: server, group: group, onEvent: serverLog.record).listen(host: "127.0.0.1", port: 0)
        let port = try #require(listener.localAddress?.port)
        let channel = try await PeerEndpoint(config: client, group: group, onEvent: clientLog.record).connect(host: "127.0.0.1", port: port)
        return Pair(group: group, server: listener, serverLog: serverLog, client: channel, clientLog: clientLog)
    }

    @Test("two pinned peers complete TLS and the handshake and exchange frames both ways")
    func exchange() async throws {
        let pair = try await Self.connect(server: Self.config(Fixture.bob), client: Self.config(Fixture.alice))
        // Each side establishes on the other's signature: wait for both, not one then read the other.
        #expect(await pair.clientLog.wait { $0.established.count == 1 })
        #expect(await pair.serverLog.wait { $0.established.count == 1 })
        #expect(pair.clientLog.established.first?.nodeKey == Fixture.bob.nodeKey.publicKey)
        #expect(pair.serverLog.established.first?.nodeKey == Fixture.alice.nodeKey.publicKey)
        let toBob = try #require(pair.clientLog.establishedChannels.first)
        let toAlice = try #require(pair.serverLog.establishedChannels.first)
        #expect(try await toBob.nioSSL_tlsVersion().get() == .tlsv13)
        try await toBob.writeAndFlush(PeerOutboundMessage(ByteBuffer(bytes: [1, 2, 3]), priority: .critical))
        try await toAlice.writeAndFlush(PeerOutboundMessage(ByteBuffer(bytes: [9]), priority: .critical))
        #expect(await pair.serverLog.wait { $0.messages == [[1, 2, 3]] })
        #expect(await pair.clientLog.wait { $0.messages == [[9]] })
        #expect(pair.serverLog.closeReasons.isEmpty && pair.clientLog.closeReasons.isEmpty)
        try await pair.shutdown()
    }

    @Test("a certificate whose key is not pinned is refused during TLS")
    func unpinned() async throws {
        let pair = try await Self.connect(server: Self.config(Fixture.bob),
                                          client: Self.config(Fixture.mallory, handshake: Fixture.handshake(Fixture.mallory)))
        #expect(await pair.serverLog.wait { !$0.closeReasons.isEmpty })
        #expect(pair.serverLog.closeReasons == [.notPinned(Fixture.mallory.tls.fingerprint)])
        // Refused inside TLS (the client gets an alert), not later by the handshake.
        #expect(await pair.clientLog.wait { !$0.closeReasons.isEmpty })
        #expect(pair.clientLog.closeReasons.allSatisfy { if case .tlsFailed = $0 { true } else { false } })
        #expect(pair.serverLog.established.isEmpty && pair.clientLog.established.isEmpty)
        try await pair.shutdown()
    }

    @Test("the right certificate with the wrong node key is refused")
    func wrongNodeKey() async throws {
        // Alice's TLS key, pinned, but mallory's node key: a stolen TLS key alone is not enough.
        let client = Self.config(Fixture.alice, handshake: Fixture.handshake(Fixture.alice, nodeKey: Fixture.mallory.nodeKey))
        let pair = try await Self.connect(server: Self.config(Fixture.bob), client: client)
        #expect(await pair.serverLog.wait { !$0.closeReasons.isEmpty })
        #expect(pair.serverLog.closeReasons == [.nodeKeyMismatch(spki: Fixture.alice.tls.fingerprint, expected: Fixture.alice.nodeKey.publicKey,
                                                                 claimed: Fixture.mallory.nodeKey.publicKey)])
        #expect(pair.serverLog.established.isEmpty)
        try await pair.shutdown()
    }

    @Test("a peer with another chain's genesis hash is refused")
    func otherGenesis() async throws {
        let client = Self.config(Fixture.alice, handshake: Fixture.handshake(Fixture.alice, chain: Fixture.otherGenesis))
        let pair = try await Self.connect(server: Self.config(Fixture.bob), client: client)
        #expect(await pair.serverLog.wait { !$0.closeReasons.isEmpty })
        #expect(pair.serverLog.closeReasons == [.wrongGenesis(expected: Fixture.chain.genesisHash, got: Fixture.otherGenesis.genesisHash)])
        #expect(pair.serverLog.established.isEmpty && pair.clientLog.established.isEmpty)
        try await pair.shutdown()
    }

    @Test("a peer whose certificate has expired is refused during TLS")
    func expired() async throws {
        let inThreeYears = Date().addingTimeInterval(3 * 365 * 24 * 3600)
        let pair = try await Self.connect(server: Self.config(Fixture.bob, now: { inThreeYears }), client: Self.config(Fixture.alice))
        #expect(await pair.serverLog.wait { !$0.closeReasons.isEmpty })
        #expect(await pair.clientLog.wait { !$0.closeReasons.isEmpty })
        #expect(pair.clientLog.closeReasons.allSatisfy { if case .tlsFailed = $0 { true } else { false } })
        guard case .certificateNotValidNow = pair.serverLog.closeReasons.first else {
            Issue.record("expected an expired-certificate refusal, got \(pair.serverLog.closeReasons)")
            try await pair.shutdown()
            return
        }
        #expect(pair.serverLog.established.isEmpty)
        try await pair.shutdown()
    }

    @Test("an oversize frame after the handshake disconnects the sender")
    func oversizeFrame() async throws {
        // The client allows itself bigger frames than bob accepts.
        let pair = try await Self.connect(server: Self.config(Fixture.bob), client: Self.config(Fixture.alice, maxFrameBytes: 1 << 20))
        #expect(await pair.clientLog.wait { $0.established.count == 1 })
        let toBob = try #require(pair.clientLog.establishedChannels.first)
        try await toBob.writeAndFlush(PeerOutboundMessage(ByteBuffer(repeating: 0x55, count: Fixture.maxFrameBytes + 1), priority: .critical))
        #expect(await pair.serverLog.wait { !$0.closeReasons.isEmpty })
        #expect(pair.serverLog.closeReasons == [.frameTooLarge(bytes: Fixture.maxFrameBytes + 2, maxFrameBytes: Fixture.maxFrameBytes)])
        #expect(pair.serverLog.messages.isEmpty)
        #expect(await pair.clientLog.wait { !$0.closeReasons.isEmpty })
        try await pair.shutdown()
    }

    /// A raw TLS client from `tls`, or plain TCP when nil; returns the server's event log.
    static func rawClient(_ tls: TLSConfiguration?, send bytes: [UInt8] = [], limits: PeerConnectionLimits? = nil)
        async throws -> (EventLog, MultiThreadedEventLoopGroup, any Channel, any Channel) {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let serverLog = EventLog()
        let listener = try await PeerEndpoint(config: config(Fixture.bob, limits: limits), group: group, onEvent: serverLog.record).listen(host: "127.0.0.1", port: 0)
        let port = try #require(listener.localAddress?.port)
        let context = try tls.map { try NIOSSLContext(configuration: $0) }
        let client = try await ClientBootstrap(group: group).channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                if let context { try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil)) }
            }
        }.connect(host: "127.0.0.1", port: port).get()
        if !bytes.isEmpty { try await client.writeAndFlush(ByteBuffer(bytes: bytes)) }
        return (serverLog, group, listener, client)
    }

    @Test("a TLS client that presents no certificate is refused (both sides must authenticate)")
    func noClientCertificate() async throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .none
        tls.applicationProtocols = [PeerTLS.alpn]
        let (log, group, listener, client) = try await Self.rawClient(tls)
        #expect(await log.wait { !$0.closeReasons.isEmpty })
        #expect(log.established.isEmpty)
        #expect(log.closeReasons.allSatisfy { if case .tlsFailed = $0 { true } else { false } }, "\(log.closeReasons)")
        try? await client.close(); try await listener.close(); try await group.shutdownGracefully()
    }

    @Test("garbage bytes instead of TLS are refused")
    func garbageBytes() async throws {
        let (log, group, listener, client) = try await Self.rawClient(nil, send: Array("GET / HTTP/1.1\r\n\r\n".utf8))
        #expect(await log.wait { !$0.closeReasons.isEmpty })
        #expect(log.established.isEmpty)
        #expect(log.closeReasons.allSatisfy { if case .tlsFailed = $0 { true } else { false } }, "\(log.closeReasons)")
        try? await client.close(); try await listener.close(); try await group.shutdownGracefully()
    }

    @Test("a TCP client that connects and stays silent is closed at the handshake deadline")
    func silentClientTimesOut() async throws {
        let limits = PeerConnectionLimits(handshakeTimeout: .milliseconds(200),
                                          send: .forFrames(maxFrameBytes: Fixture.maxFrameBytes))
        let (log, group, listener, client) = try await Self.rawClient(nil, limits: limits)
        #expect(await log.wait { !$0.closeReasons.isEmpty })
        #expect(log.closeReasons == [.handshakeTimedOut(afterMilliseconds: 200, phase: "waiting for TLS")])
        #expect(await Self.closed(client))
        try? await client.close(); try await listener.close(); try await group.shutdownGracefully()
    }

    /// Whether `channel` is closed within a few seconds (real time; polled).
    static func closed(_ channel: any Channel) async -> Bool {
        for _ in 0..<500 where channel.isActive { try? await Task.sleep(for: .milliseconds(10)) }
        return !channel.isActive
    }

    @Test("a peer that stops reading fills its sender's queue and is closed as too slow")
    func stalledReaderClosedAsTooSlow() async throws {
        let small = PeerConnectionLimits(send: PeerSendLimits(maxQueuedMessages: 64, maxQueuedBytes: 4 * Fixture.maxFrameBytes))
        let pair = try await Self.connect(server: Self.config(Fixture.bob), client: Self.config(Fixture.alice, limits: small))
        #expect(await pair.clientLog.wait { $0.established.count == 1 })
        #expect(await pair.serverLog.wait { $0.established.count == 1 })
        // bob stops reading: the kernel buffers fill, then NIO's, then alice's queue.
        try await pair.serverLog.establishedChannels[0].setOption(ChannelOptions.autoRead, value: false).get()
        let toBob = try #require(pair.clientLog.establishedChannels.first)
        let payload = ByteBuffer(repeating: 0x42, count: Fixture.maxFrameBytes - 64)
        var written = 0
        while written < 20_000, pair.clientLog.closeReasons.isEmpty {  // ≤ 80 MB: far past loopback buffers
            for _ in 0..<256 { toBob.writeAndFlush(PeerOutboundMessage(payload, priority: .critical), promise: nil) }
            written += 256
            try await toBob.eventLoop.submit {}.get()  // let the loop catch up
        }
        #expect(await pair.clientLog.wait { !$0.closeReasons.isEmpty })
        #expect(pair.clientLog.closeReasons.allSatisfy { if case .peerTooSlow = $0 { true } else { false } },
                "\(pair.clientLog.closeReasons)")
        #expect(pair.serverLog.messages.isEmpty)  // bob really read nothing
        // The channel itself stays open up to NIOSSL's shutdown timeout (5 s by default): its
        // close_notify cannot leave an unwritable socket. Shutting down waits for that.
        try await pair.shutdown()
    }
}
