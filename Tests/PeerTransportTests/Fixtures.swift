import ChainTypes
import Foundation
import HansaCrypto
import Logging
import NIOConcurrencyHelpers
import NIOCore
@testable import PeerTransport

/// A small consortium: nodes with TLS identities and node keys, all on one chain.
struct TestNode {
    let tls: NodeTLSIdentity
    let nodeKey: PrivateKey

    static func make(_ name: String) -> TestNode {
        TestNode(tls: try! NodeTLSIdentity.generate(commonName: name, now: Date()), nodeKey: PrivateKey.generate())
    }
}

enum Fixture {
    static let chain = ChainBinding(id: try! ChainID("hansa-test"), genesisHash: HansaCrypto.SHA256.hash(utf8: "genesis A"))
    static let otherGenesis = ChainBinding(id: try! ChainID("hansa-test"), genesisHash: HansaCrypto.SHA256.hash(utf8: "genesis B"))
    static let otherChain = ChainBinding(id: try! ChainID("hansa-other"), genesisHash: HansaCrypto.SHA256.hash(utf8: "genesis A"))
    static let maxFrameBytes = 4096
    /// Embedded tests: a 5 s handshake deadline and a small send queue (4 messages, 64 bytes).
    static let limits = PeerConnectionLimits(handshakeTimeout: .seconds(5),
                                             send: PeerSendLimits(maxQueuedMessages: 4, maxQueuedBytes: 64))

    /// Generated once: key generation is the slow part of these tests.
    static let alice = TestNode.make("alice")
    static let bob = TestNode.make("bob")
    static let mallory = TestNode.make("mallory")

    static let logger = Logger(label: "hansa.peer.test")

    /// Genesis pins alice and bob (not mallory).
    static let allowed = PeerAllowList([alice.tls.fingerprint: alice.nodeKey.publicKey,
                                        bob.tls.fingerprint: bob.nodeKey.publicKey])

    static func handshake(_ node: TestNode, chain: ChainBinding = chain, version: UInt16 = HandshakeConfig.currentProtocolVersion,
                          nodeKey: PrivateKey? = nil, allowed: PeerAllowList = allowed,
                          allowList: LiveAllowList? = nil) -> HandshakeConfig {
        HandshakeConfig(chain: chain, protocolVersion: version, localSPKI: node.tls.fingerprint,
                        nodeKey: nodeKey ?? node.nodeKey, allowList: allowList ?? LiveAllowList(allowed))
    }

    static func nonce(_ byte: UInt8) -> [UInt8] { [UInt8](repeating: byte, count: 32) }
}

/// Collects a connection's events from whichever thread reports them.
final class EventLog: Sendable {
    private let events = NIOLockedValueBox<[PeerEvent]>([])

    var record: @Sendable (PeerEvent) -> Void { { event in self.events.withLockedValue { $0.append(event) } } }
    var all: [PeerEvent] { events.withLockedValue { $0 } }

    var closeReasons: [PeerTransportError] {
        all.compactMap { if case .closed(_, _, let reason) = $0 { reason } else { nil } }
    }
    var established: [PeerIdentity] {
        all.compactMap { if case .established(let peer, _, _) = $0 { peer } else { nil } }
    }
    var establishedChannels: [any Channel] {
        all.compactMap { if case .established(_, _, let channel) = $0 { channel } else { nil } }
    }
    var messages: [[UInt8]] {
        all.compactMap { if case .message(_, let buffer) = $0 { Array(buffer.readableBytesView) } else { nil } }
    }

    /// Waits (polling, real time) until `condition` holds or `seconds` pass; returns whether it held.
    func wait(seconds: Double = 10, until condition: (EventLog) -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition(self) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition(self)
    }
}
