import ChainTypes
import Foundation
import HansaCrypto
import Ledger
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PBFT
import PeerTransport
import Testing
@testable import Node

/// Validator 3 is played by the test over the real transport (its genuine TLS key and node
/// key, so it passes every handshake) and misbehaves; validators 0–2 are real nodes.
@Suite("Node network: a misbehaving validator", .serialized)
struct BadPeerTests {
    /// The impostor's side: it listens where validator 3 should, records what happens, and
    /// answers with `respond`.
    final class Impostor: Sendable {
        let endpoint: PeerEndpoint
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let closed = NIOLockedValueBox<Int>(0)
        let established = NIOLockedValueBox<Int>(0)
        let syncRequests = NIOLockedValueBox<Int>(0)

        init(net: TestNetwork, respond: @escaping @Sendable (WireMessage, any Channel) -> Void) async throws {
            let directory = try PeerDirectory.from(genesis: net.dev.genesis)
            let config = directory.endpointConfig(genesis: net.dev.genesis, identity: net.tls[3], nodeKey: net.dev.validatorKeys[3],
                                                  logger: TestNetwork.logger)
            let channels = NIOLockedValueBox<[PublicKey: any Channel]>([:])
            let (closed, established, syncRequests) = (closed, established, syncRequests)
            endpoint = try PeerEndpoint(config: config, group: group) { event in
                switch event {
                case .established(let peer, _, let channel):
                    established.withLockedValue { $0 += 1 }
                    channels.withLockedValue { $0[peer.nodeKey] = channel }
                case .message(let peer, var buffer):
                    guard let m = try? WireMessage(bytes: buffer.readBytes(length: buffer.readableBytes) ?? []),
                          let channel = channels.withLockedValue({ $0[peer.nodeKey] }) else { return }
                    if case .syncRequest = m { syncRequests.withLockedValue { $0 += 1 } }
                    respond(m, channel)
                case .closed(let peer, _, _):
                    if peer != nil { closed.withLockedValue { $0 += 1 } }
                }
            }
            _ = try await endpoint.listen(host: "127.0.0.1", port: net.ports[3])
        }

        static func send(_ m: WireMessage, on channel: any Channel) {
            channel.writeAndFlush(PeerOutboundMessage(channel.allocator.buffer(bytes: m.bytes), priority: .critical), promise: nil)
        }

        func shutdown() { try? group.syncShutdownGracefully() }
    }

    @Test("a peer that claims to be ahead and serves a block with a forged certificate is dropped; the others commit on")
    func lyingSyncServer() async throws {
        try await NetworkGate.exclusive {
            let net = try TestNetwork()
            // A block at height 1 on the real genesis whose certificate carries no valid signature.
            let forged: WireMessage.CommittedBlock = {
                let header = BlockHeader(height: 1, previousHash: net.dev.genesis.hash, timestampMillis: net.dev.genesis.genesisTimeMillis + 1,
                                         transactionsRoot: Block.transactionsRoot([]), stateRoot: .zero, receiptsRoot: .zero,
                                         proposer: net.dev.genesis.validators.validators[3].address, view: 0)
                let block = Block(header: header, transactions: [])
                let sig = try! Signature(compact: [UInt8](repeating: 7, count: 64))
                let signers = (0..<3).map { CommitCertificate.Signer(validatorIndex: UInt16($0), signature: sig) }
                return .init(block: block, certificate: CommitCertificate(view: 0, height: 1, blockHash: block.hash, signers: signers))
            }()
            let impostor = try await Impostor(net: net) { m, channel in
                switch m {
                case .status: Impostor.send(.status(height: 50, headHash: forged.block.hash), on: channel)
                case .syncRequest: Impostor.send(.syncBlocks([forged]), on: channel)
                default: break
                }
            }
            try await net.start([0, 1, 2])
            #expect(await net.eventually(20) { impostor.syncRequests.withLockedValue { $0 } > 0 && impostor.closed.withLockedValue { $0 } > 0 })
            // No one took the forged block, and the three honest validators (a quorum) commit.
            let h = try await net.nodes[0]!.submit(net.transfer(from: 0, to: 1))
            let r = try #require(await net.nodes[0]!.receipt(of: h, timeout: .seconds(30)))
            #expect(r.receipt.status == .success)
            #expect(await net.eventually { net.allAt(r.height) })
            for i in 0..<3 {
                let b = try #require(try net.nodes[i]?.snapshot?.block(at: 1))
                #expect(b.hash != forged.block.hash)
            }
            await net.stopAll()
            impostor.shutdown()
        }
    }

    @Test("a peer that sends bytes that are no message is disconnected and refused for a while; commits go on")
    func garbageMessages() async throws {
        try await NetworkGate.exclusive {
            let net = try TestNetwork()
            let impostor = try await Impostor(net: net) { m, channel in
                if case .status = m {
                    channel.writeAndFlush(PeerOutboundMessage(channel.allocator.buffer(bytes: [0xee, 1, 2, 3]), priority: .critical), promise: nil)
                }
            }
            try await net.start([0, 1, 2])
            #expect(await net.eventually(20) { impostor.closed.withLockedValue { $0 } >= 3 })
            let h = try await net.nodes[1]!.submit(net.transfer(from: 2, to: 3))
            let r = try #require(await net.nodes[1]!.receipt(of: h, timeout: .seconds(30)))
            #expect(r.receipt.status == .success)
            await net.stopAll()
            impostor.shutdown()
        }
    }
}
