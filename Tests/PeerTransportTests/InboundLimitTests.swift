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
        let endpoint = try PeerEndpoint(config: SocketTransportTests.config(Fixture.bob), group: group) { _ in }
        let listener = try await endpoint.listen(host: "127.0.0.1", port: 0, maxConnections: 2)
        let port = try #require(listener.localAddress?.port)
        func dial() async throws -> any Channel {
            try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: port).get()
        }
        let a = try await dial()
        let b = try await dial()
        let c = try await dial()
        // The third is closed by the server; the first two wait in their handshake (5 s deadline here is 10 s).
        let deadline = Date().addingTimeInterval(5)
        while c.isActive, Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(!c.isActive)
        #expect(a.isActive && b.isActive)
        try await a.close()
        try await Task.sleep(for: .milliseconds(200))
        let d = try await dial()
        try await Task.sleep(for: .milliseconds(300))
        #expect(d.isActive, "a place freed by a closed connection is taken again")
        for ch in [b, d] { try? await ch.close() }
        try await listener.close()
        try await group.shutdownGracefully()
    }
}
