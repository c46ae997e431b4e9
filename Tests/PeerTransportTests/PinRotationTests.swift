import Foundation
import HansaCrypto
import NIOCore
import Testing
@testable import PeerTransport

/// Issue 17: governance rotates a node's TLS pin and peers follow it without a restart — new
/// connections are checked against the replaced list, and connections under a revoked pin close
/// (docs/TRANSPORT.md "Pin rotation").
@Suite("Pin rotation over sockets", .serialized)
struct PinRotationTests {
    /// Alice's node key with a new TLS key: her renewed certificate.
    static let aliceRenewed = TestNode(tls: try! NodeTLSIdentity.generate(commonName: "alice renewed", now: Date()),
                                       nodeKey: Fixture.alice.nodeKey)
    /// The list after governance pinned alice's new key in place of her old one.
    static let rotated = PeerAllowList([aliceRenewed.tls.fingerprint: Fixture.alice.nodeKey.publicKey,
                                        Fixture.bob.tls.fingerprint: Fixture.bob.nodeKey.publicKey])

    /// Bob listening under `live`.
    static func bob(_ live: LiveAllowList) -> PeerEndpointConfig {
        SocketTransportTests.config(Fixture.bob, handshake: Fixture.handshake(Fixture.bob, allowList: live))
    }

    @Test("replace returns the pins it removed or gave to another node key, and nothing else")
    func replaceReportsRevokedPins() {
        let live = LiveAllowList(Fixture.allowed)
        #expect(live.replace(Fixture.allowed).isEmpty)
        #expect(live.replace(Self.rotated) == [Fixture.alice.tls.fingerprint])
        #expect(live.current.nodeKeys == Self.rotated.nodeKeys)
        let remapped = PeerAllowList([Self.aliceRenewed.tls.fingerprint: Fixture.mallory.nodeKey.publicKey,
                                      Fixture.bob.tls.fingerprint: Fixture.bob.nodeKey.publicKey])
        #expect(live.replace(remapped) == [Self.aliceRenewed.tls.fingerprint])
    }

    @Test("after a rotation the old certificate is refused inside TLS and the new one is accepted")
    func newConnectionsFollowTheList() async throws {
        let live = LiveAllowList(Fixture.allowed)
        live.replace(Self.rotated)

        let old = try await SocketTransportTests.connect(server: Self.bob(live), client: SocketTransportTests.config(Fixture.alice))
        #expect(await old.serverLog.wait { !$0.closeReasons.isEmpty })
        #expect(old.serverLog.closeReasons == [.notPinned(Fixture.alice.tls.fingerprint)])
        // Refused by the TLS verification callback (the client gets an alert), not by the handshake.
        #expect(await old.clientLog.wait { !$0.closeReasons.isEmpty })
        #expect(old.clientLog.closeReasons.allSatisfy { if case .tlsFailed = $0 { true } else { false } }, "\(old.clientLog.closeReasons)")
        #expect(old.serverLog.established.isEmpty && old.clientLog.established.isEmpty)
        try await old.shutdown()

        let renewed = try await SocketTransportTests.connect(server: Self.bob(live), client: SocketTransportTests.config(Self.aliceRenewed))
        #expect(await renewed.serverLog.wait { $0.established.count == 1 })
        #expect(await renewed.clientLog.wait { $0.established.count == 1 })
        #expect(renewed.serverLog.established.first == PeerIdentity(spki: Self.aliceRenewed.tls.fingerprint, nodeKey: Fixture.alice.nodeKey.publicKey))
        #expect(live.admittedConnections == 1)
        // A connection that closes for any reason is forgotten.
        try await renewed.client.close()
        #expect(await renewed.serverLog.wait { !$0.closeReasons.isEmpty })
        #expect(live.admittedConnections == 0)
        try await renewed.shutdown()
    }

    @Test("an established connection under a revoked pin is closed by the replace; others stay")
    func establishedConnectionUnderRevokedPinCloses() async throws {
        let live = LiveAllowList(Fixture.allowed)
        let pair = try await SocketTransportTests.connect(server: Self.bob(live), client: SocketTransportTests.config(Fixture.alice))
        #expect(await pair.serverLog.wait { $0.established.count == 1 })
        #expect(await pair.clientLog.wait { $0.established.count == 1 })
        #expect(live.admittedConnections == 1)

        // A replacement that keeps alice's pin leaves her connection alone.
        let widened = PeerAllowList(Fixture.allowed.nodeKeys.merging([Fixture.mallory.tls.fingerprint: Fixture.mallory.nodeKey.publicKey]) { a, _ in a })
        #expect(live.replace(widened).isEmpty)
        try await Task.sleep(for: .milliseconds(100))
        #expect(pair.serverLog.closeReasons.isEmpty && pair.clientLog.closeReasons.isEmpty)

        #expect(live.replace(Self.rotated) == [Fixture.alice.tls.fingerprint, Fixture.mallory.tls.fingerprint])
        #expect(await pair.serverLog.wait { !$0.closeReasons.isEmpty })
        #expect(pair.serverLog.closeReasons == [.pinRevoked(Fixture.alice.tls.fingerprint)])
        #expect(await pair.clientLog.wait { !$0.closeReasons.isEmpty }, "alice sees the close")
        #expect(live.admittedConnections == 0)
        try await pair.shutdown()
    }
}

/// The pure state machine takes the allow list current when TLS completed.
@Suite("Handshake with a live allow list")
struct LiveAllowListHandshakeTests {
    @Test("the list passed at TLS time decides, not the config's list when the machine was made")
    func listAtTLSTimeDecides() throws {
        let live = LiveAllowList(PeerAllowList([:]))
        var machine = HandshakeStateMachine(role: .responder, config: Fixture.handshake(Fixture.bob, allowList: live))
        let actions = try machine.tlsEstablished(peerSPKI: Fixture.alice.tls.fingerprint, negotiatedProtocol: PeerTLS.alpn,
                                                 nonce: Fixture.nonce(1), allowed: Fixture.allowed)
        #expect(actions.count == 1)
        var refused = HandshakeStateMachine(role: .responder, config: Fixture.handshake(Fixture.bob, allowList: live))
        #expect(throws: PeerTransportError.notPinned(Fixture.alice.tls.fingerprint)) {
            _ = try refused.tlsEstablished(peerSPKI: Fixture.alice.tls.fingerprint, negotiatedProtocol: PeerTLS.alpn, nonce: Fixture.nonce(1))
        }
    }
}
