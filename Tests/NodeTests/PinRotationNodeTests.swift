import ChainTypes
import Foundation
import Ledger
import PeerTransport
import Testing
@testable import Node

/// Issue 17: "rotating a node's TLS certificate … must not need a new genesis — a governance
/// transaction changes the pin in consensus state, and peers follow it without a restart."
@Suite("Node network: TLS pin rotation by governance", .serialized)
struct PinRotationNodeTests {
    @Test("a validator's pin is rotated on the running network: its old certificate is refused at once, the new one joins")
    func rotation() async throws {
        try await NetworkGate.exclusive {
            let net = try TestNetwork()
            try await net.start()
            _ = try #require(await net.nodes[0]!.receipt(of: try await net.nodes[0]!.submit(net.transfer(from: 0, to: 1)), timeout: .seconds(30)))
            let rotated = 3
            let newTLS = try NodeTLSIdentity.generate(commonName: "node-3-rotated", now: Date())
            let snapshot = try #require(net.nodes[0]?.snapshot)
            let tx = try net.dev.governanceTransaction(.setNodePin(node: net.dev.validatorKeys[rotated].publicKey,
                                                                   spki: try #require(Hash(bytes: newTLS.fingerprint.bytes))), on: snapshot)
            let h = try await net.nodes[0]!.submit(tx)
            let r = try #require(await net.nodes[0]!.receipt(of: h, timeout: .seconds(30)))
            #expect(r.receipt.status == .success)
            #expect(await net.eventually { net.allAt(r.height) })

            // No peer restarted, yet the old certificate is out: validator 3, still running with it,
            // is disconnected and every redial it gets is refused.
            #expect(await net.eventually(15) { net.nodes[rotated]?.status?.peersConnected == 0 }, "\(net.describe())")
            try await Task.sleep(for: .seconds(2))
            #expect(net.nodes[rotated]?.status?.peersConnected == 0, "a peer let the old certificate back in: \(net.describe())")
            // The other three still commit (a quorum).
            let h2 = try await net.nodes[1]!.submit(net.transfer(from: 2, to: 3))
            let r2 = try #require(await net.nodes[1]!.receipt(of: h2, timeout: .seconds(30)))

            // Restarted with the certificate governance pinned, it joins, catches up and votes.
            await net.stop(rotated)
            net.tls[rotated] = newTLS
            try await net.start([rotated])
            #expect(await net.eventually { (net.nodes[rotated]?.status?.height ?? 0) >= r2.height }, "\(net.describe())")
            await net.stop(2)
            let h3 = try await net.nodes[rotated]!.submit(net.transfer(from: 4, to: 5))
            let r3 = await net.nodes[rotated]!.receipt(of: h3, timeout: .seconds(60))
            #expect(r3 != nil, "\(net.describe())")
            await net.stopAll()
        }
    }

    @Test("a node whose certificate is not the pin in force refuses to start, in one sentence")
    func startRefusedUnderOldPin() async throws {
        try await NetworkGate.exclusive {
            let net = try TestNetwork()
            net.tls[1] = try NodeTLSIdentity.generate(commonName: "unpinned", now: Date())
            await #expect(throws: NodeError.self) { try await net.start([1]) }
            await net.stopAll()
        }
    }
}
