import ChainTypes
import HansaCrypto
import NIOCore
import Testing
@testable import PeerTransport

/// The application handshake as a pure state machine: no channel, no TLS, fixed nonces.
@Suite("Handshake state machine")
struct HandshakeStateMachineTests {
    typealias Machine = HandshakeStateMachine

    static func sent(_ actions: [HandshakeAction]) -> ByteBuffer {
        guard actions.count == 1, case .send(let bytes) = actions[0] else { preconditionFailure("expected one send, got \(actions)") }
        return ByteBuffer(bytes: bytes)
    }

    /// Alice initiates to bob; returns both machines after TLS and each one's hello.
    static func start(alice: HandshakeConfig = Fixture.handshake(Fixture.alice), bob: HandshakeConfig = Fixture.handshake(Fixture.bob),
                      aliceTLS: SPKIFingerprint = Fixture.alice.tls.fingerprint)
        throws -> (a: Machine, b: Machine, helloA: ByteBuffer, helloB: ByteBuffer) {
        var a = Machine(role: .initiator, config: alice)
        var b = Machine(role: .responder, config: bob)
        let helloA = sent(try a.tlsEstablished(peerSPKI: Fixture.bob.tls.fingerprint, negotiatedProtocol: PeerTLS.alpn, nonce: Fixture.nonce(1)))
        let helloB = sent(try b.tlsEstablished(peerSPKI: aliceTLS, negotiatedProtocol: PeerTLS.alpn, nonce: Fixture.nonce(2)))
        return (a, b, helloA, helloB)
    }

    @Test("two pinned nodes on one chain authenticate each other and then exchange messages")
    func success() throws {
        var (a, b, helloA, helloB) = try Self.start()
        let authA = Self.sent(try a.receive(helloB))
        let authB = Self.sent(try b.receive(helloA))
        #expect(try a.receive(authB) == [.established(PeerIdentity(spki: Fixture.bob.tls.fingerprint, nodeKey: Fixture.bob.nodeKey.publicKey))])
        #expect(try b.receive(authA) == [.established(PeerIdentity(spki: Fixture.alice.tls.fingerprint, nodeKey: Fixture.alice.nodeKey.publicKey))])
        #expect(a.isEstablished && b.isEstablished)
        #expect(try b.receive(ByteBuffer(bytes: [FrameKind.message.rawValue, 42])) == [.deliver(ByteBuffer(bytes: [42]))])
    }

    /// The hello checks, each refusing with its own reason (issue 17, "Transport").
    @Test("a hello is refused with the reason that names what is wrong", arguments: [
        ("another chain id", Fixture.handshake(Fixture.alice, chain: Fixture.otherChain),
         PeerTransportError.wrongChain(expected: "hansa-test", got: "hansa-other")),
        ("another genesis", Fixture.handshake(Fixture.alice, chain: Fixture.otherGenesis),
         .wrongGenesis(expected: Fixture.chain.genesisHash, got: Fixture.otherGenesis.genesisHash)),
        ("another version", Fixture.handshake(Fixture.alice, version: 2), .wrongVersion(expected: 1, got: 2)),
        ("the wrong node key", Fixture.handshake(Fixture.alice, nodeKey: Fixture.mallory.nodeKey),
         .nodeKeyMismatch(spki: Fixture.alice.tls.fingerprint, expected: Fixture.alice.nodeKey.publicKey,
                          claimed: Fixture.mallory.nodeKey.publicKey)),
    ])
    func refusedHello(_ what: String, alice: HandshakeConfig, reason: PeerTransportError) throws {
        var (_, b, helloA, _) = try Self.start(alice: alice)
        #expect(throws: reason) { try b.receive(helloA) }
        // Once refused, nothing more is accepted.
        #expect(throws: PeerTransportError.unexpectedFrame(.hello, phase: "failed")) { try b.receive(helloA) }
    }

    @Test("a hello that claims a TLS key other than the one used in TLS is refused")
    func spkiMismatch() throws {
        // Bob's TLS saw mallory's key (pinned for this test), but the hello claims alice's.
        let allowed = PeerAllowList(Fixture.allowed.nodeKeys.merging([Fixture.mallory.tls.fingerprint: Fixture.mallory.nodeKey.publicKey]) { a, _ in a })
        var (_, b, helloA, _) = try Self.start(bob: Fixture.handshake(Fixture.bob, allowed: allowed), aliceTLS: Fixture.mallory.tls.fingerprint)
        #expect(throws: PeerTransportError.spkiMismatch(claimed: Fixture.alice.tls.fingerprint, tls: Fixture.mallory.tls.fingerprint)) {
            try b.receive(helloA)
        }
    }

    @Test("a TLS key that is not pinned is refused before any hello is sent")
    func notPinned() {
        var b = Machine(role: .responder, config: Fixture.handshake(Fixture.bob))
        #expect(throws: PeerTransportError.notPinned(Fixture.mallory.tls.fingerprint)) {
            try b.tlsEstablished(peerSPKI: Fixture.mallory.tls.fingerprint, negotiatedProtocol: PeerTLS.alpn, nonce: Fixture.nonce(2))
        }
    }

    @Test("TLS without ALPN hansa/1 is refused", arguments: [nil, "h2", "hansa/2"] as [String?])
    func alpn(_ negotiated: String?) {
        var b = Machine(role: .responder, config: Fixture.handshake(Fixture.bob))
        #expect(throws: PeerTransportError.alpnMismatch(negotiated: negotiated)) {
            try b.tlsEstablished(peerSPKI: Fixture.alice.tls.fingerprint, negotiatedProtocol: negotiated, nonce: Fixture.nonce(2))
        }
    }

    @Test("a node presenting this node's own TLS key is refused")
    func selfConnection() throws {
        var b = Machine(role: .responder, config: Fixture.handshake(Fixture.bob))
        var bobAsPeer = Machine(role: .initiator, config: Fixture.handshake(Fixture.bob))
        let hello = Self.sent(try bobAsPeer.tlsEstablished(peerSPKI: Fixture.bob.tls.fingerprint, negotiatedProtocol: PeerTLS.alpn, nonce: Fixture.nonce(1)))
        _ = try b.tlsEstablished(peerSPKI: Fixture.bob.tls.fingerprint, negotiatedProtocol: PeerTLS.alpn, nonce: Fixture.nonce(2))
        #expect(throws: PeerTransportError.selfConnection) { try b.receive(hello) }
    }

    @Test("a signature by another key than the claimed node key is refused")
    func forgedSignature() throws {
        var (_, b, helloA, helloB) = try Self.start()
        _ = try b.receive(helloA)
        // Mallory stole alice's TLS key but not her node key: she claims alice's node key and
        // signs the right transcript with her own.
        let aliceHello = try PeerHello.decode(Array(helloA.readableBytesView.dropFirst()), expectedVersion: 1)
        let bobHello = try PeerHello.decode(Array(helloB.readableBytesView.dropFirst()), expectedVersion: 1)
        let digest = HandshakeTranscript.digest(chain: Fixture.chain, signer: .initiator, initiator: aliceHello, responder: bobHello)
        let forged = Fixture.mallory.nodeKey.sign(digest: digest)
        #expect(throws: PeerTransportError.badSignature) { try b.receive(ByteBuffer(bytes: [FrameKind.auth.rawValue] + forged.compact)) }
    }

    @Test("a signature from an earlier handshake (other nonces) is refused")
    func replayedSignature() throws {
        // A recorded session: alice's auth for nonces (1, 2).
        var (a1, b1, helloA1, helloB1) = try Self.start()
        let oldAuthA = Self.sent(try a1.receive(helloB1))
        _ = try b1.receive(helloA1)
        // A new session where bob picks another nonce; replaying alice's old hello and auth fails.
        var b2 = Machine(role: .responder, config: Fixture.handshake(Fixture.bob))
        _ = try b2.tlsEstablished(peerSPKI: Fixture.alice.tls.fingerprint, negotiatedProtocol: PeerTLS.alpn, nonce: Fixture.nonce(3))
        _ = try b2.receive(helloA1)
        #expect(throws: PeerTransportError.badSignature) { try b2.receive(oldAuthA) }
    }

    @Test("alice's signature made as responder cannot pass as her initiator's (roles are signed)")
    func reflectedRole() throws {
        var (_, b, helloA, helloB) = try Self.start()
        _ = try b.receive(helloA)
        let initiator = try PeerHello.decode(Array(helloA.readableBytesView.dropFirst()), expectedVersion: 1)
        let responder = try PeerHello.decode(Array(helloB.readableBytesView.dropFirst()), expectedVersion: 1)
        // Same key, same nonces and TLS keys; only the signer's role differs.
        let asResponder = HandshakeTranscript.digest(chain: Fixture.chain, signer: .responder, initiator: initiator, responder: responder)
        let signature = Fixture.alice.nodeKey.sign(digest: asResponder)
        #expect(throws: PeerTransportError.badSignature) { try b.receive(ByteBuffer(bytes: [FrameKind.auth.rawValue] + signature.compact)) }
    }

    @Test("frames out of order, unknown or empty are refused", arguments: [
        ([FrameKind.message.rawValue, 1], PeerTransportError.unexpectedFrame(.message, phase: "waiting for the hello")),
        ([FrameKind.auth.rawValue] + [UInt8](repeating: 1, count: 64), .unexpectedFrame(.auth, phase: "waiting for the hello")),
        ([0x7F, 1, 2], .unknownFrameKind(0x7F)),
        ([], .emptyFrame),
    ] as [([UInt8], PeerTransportError)])
    func badFrames(_ body: [UInt8], reason: PeerTransportError) throws {
        var (_, b, _, _) = try Self.start()
        #expect(throws: reason) { try b.receive(ByteBuffer(bytes: body)) }
    }

    @Test("a truncated hello is malformed, with the field named")
    func truncatedHello() throws {
        var (_, b, helloA, _) = try Self.start()
        let cut = ByteBuffer(bytes: Array(helloA.readableBytesView.dropLast(5)))
        #expect { try b.receive(cut) } throws: { error in
            guard case .malformedFrame(let decode) = error as? PeerTransportError else { return false }
            return decode.field.contains("nodeKey")
        }
    }
}
