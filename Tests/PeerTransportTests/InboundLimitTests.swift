import Foundation
import NIOCore
import NIOPosix
import Testing
@testable import PeerTransport

@Suite("Inbound connection limit")
struct InboundLimitTests {
    @Test("beyond maxConnections an accepted connection is closed at once; a closed one frees its place")
    func limit() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        // No handshake deadline in reach: under the whole suite on two cores this test's awaits
        // were resumed minutes late, so a 10 s — and then a 120 s — deadline closed a and b
        // before c was even accepted, and c took a freed place. The deadline is not what is tested.
        let limits = PeerConnectionLimits(handshakeTimeout: .hours(2), send: PeerSendLimits(maxQueuedBytes: 1 << 20))
        let endpoint = try PeerEndpoint(config: SocketTransportTests.config(Fixture.bob, limits: limits), group: group) { _ in }
        let listener = try await endpoint.listen(host: "127.0.0.1", port: 0, maxConnections: 2)
        let port = try #require(listener.localAddress?.port)
        func dial() async throws -> any Channel {
            try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: port).get()
        }
        let a = try await dial()
        let b = try await dial()
        let c = try await dial()
        // The third is closed by the server; the first two wait in their handshake.
        let deadline = Date().addingTimeInterval(300)
        while c.isActive, Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(!c.isActive)
        #expect(a.isActive && b.isActive)
        try await a.close()
        // The server frees a's place when it sees the close: dial until a connection stays open.
        var d = try await dial()
        let retryUntil = Date().addingTimeInterval(300)
        while Date() < retryUntil {
            try await Task.sleep(for: .milliseconds(300))
            if d.isActive { break }
            d = try await dial()
        }
        #expect(d.isActive, "a place freed by a closed connection is taken again")
        for ch in [b, d] { try? await ch.close() }
        try await listener.close()
        try await group.shutdownGracefully()
    }
}
