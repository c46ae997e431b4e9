import ChainTypes
import Foundation
import HansaConfig
import HansaCrypto
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PeerTransport
import Testing
@testable import Node

/// Connections a validator process must drop, each while the network keeps committing:
/// an unknown certificate, the right certificate with the wrong node key, another chain's
/// genesis, bytes that are not TLS, and a frame above the maximum after a valid handshake.
@Suite("Node processes: clients that must be dropped", .serialized)
struct ProcessBadClientTests {
    /// Records one connection's events.
    final class Events: Sendable {
        let established = NIOLockedValueBox(0)
        let closed = NIOLockedValueBox<[String]>([])
        let channels = NIOLockedValueBox<[any Channel]>([])
        var record: @Sendable (PeerEvent) -> Void {
            { event in
                switch event {
                case .established(_, _, let channel):
                    self.established.withLockedValue { $0 += 1 }
                    self.channels.withLockedValue { $0.append(channel) }
                case .closed(_, _, let reason): self.closed.withLockedValue { $0.append("\(reason)") }
                case .message: break
                }
            }
        }
    }

    /// Dials validator 0 as `identity`/`nodeKey` on `chain`, with frames up to `maxFrameBytes`.
    static func dial(_ net: ProcessNetwork, identity: NodeTLSIdentity, nodeKey: PrivateKey, chain: ChainBinding? = nil,
                     maxFrameBytes: Int? = nil, group: MultiThreadedEventLoopGroup) async throws -> Events {
        let directory = try PeerDirectory.from(genesis: net.dev.genesis)
        let events = Events()
        let config = directory.endpointConfig(genesis: net.dev.genesis, identity: identity, nodeKey: nodeKey, chain: chain,
                                              maxFrameBytes: maxFrameBytes, logger: TestNetwork.logger)
        let endpoint = try PeerEndpoint(config: config, group: group, onEvent: events.record)
        _ = try await endpoint.connect(host: "127.0.0.1", port: net.p2pPorts[0])
        return events
    }

    @Test("each bad client is dropped by the validator while commits go on")
    func badClients() async throws {
        try await NetworkGate.exclusive {
            let net = try ProcessNetwork()
            defer { net.clean() }
            for i in 0..<4 { try net.start(i) }
            try await net.startClient()
            _ = try await net.commit(from: 0, to: 1)
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let stranger = try NodeTLSIdentity.generate(commonName: "stranger", now: Date())
            // The auditor's own identity (its process is not running): pinned, so it gets through.
            let home = net.homes[ProcessNetwork.observer]
            let auditorTLS = try NodeTLSIdentity(certificatePEM: String(contentsOfFile: "\(home)/tls/cert.pem", encoding: .utf8),
                                                 privateKeyPEM: String(contentsOfFile: "\(home)/tls/key.pem", encoding: .utf8))
            let auditorKey = try KeyFile.read("\(home)/node.key")
            let otherChain = ChainBinding(id: net.dev.genesis.chain, genesisHash: SHA256.hash(utf8: "another launch"))

            let unknown = try await Self.dial(net, identity: stranger, nodeKey: PrivateKey.generate(), group: group)
            let wrongKey = try await Self.dial(net, identity: auditorTLS, nodeKey: PrivateKey.generate(), group: group)
            let wrongChain = try await Self.dial(net, identity: auditorTLS, nodeKey: auditorKey, chain: otherChain, group: group)
            for (name, e) in [("unknown certificate", unknown), ("wrong node key", wrongKey), ("another genesis", wrongChain)] {
                #expect(await net.eventually(15) { !e.closed.withLockedValue { $0 }.isEmpty }, "\(name) was not dropped")
                #expect(e.established.withLockedValue { $0 } == 0, "\(name) got through the handshake")
            }

            // Bytes that are not TLS at all.
            let raw = try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: net.p2pPorts[0]).get()
            try await raw.writeAndFlush(ByteBuffer(bytes: Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8) + [UInt8](repeating: 0xff, count: 512)))
            #expect(await net.eventually(15) { !raw.isActive }, "garbage bytes: the connection stayed open")

            // A frame above the maximum, after a handshake that succeeds.
            let limit = PeerDirectory.maxFrameBytes(net.dev.genesis)
            let big = try await Self.dial(net, identity: auditorTLS, nodeKey: auditorKey, maxFrameBytes: limit * 2, group: group)
            #expect(await net.eventually(15) { big.established.withLockedValue { $0 } == 1 })
            let channel = try #require(big.channels.withLockedValue { $0.first })
            channel.writeAndFlush(PeerOutboundMessage(ByteBuffer(repeating: 0x55, count: limit + 1), priority: .critical), promise: nil)
            #expect(await net.eventually(15) { !big.closed.withLockedValue { $0 }.isEmpty }, "the oversize sender was not dropped")

            // And the network still commits.
            let r = try await net.commit(from: 2, to: 3)
            #expect(r.receipt.status == .success)
            #expect(net.log(0).contains("refus") || net.log(0).contains("too large"))
            await net.stopAll()
            try? await group.shutdownGracefully()
        }
    }
}
