import ChainTypes
import Foundation
import HansaConfig
import HansaCrypto
import HansaTestSupport
import Ledger
import PeerTransport
import Testing

/// Issue 17's last "done when": a validator's TLS certificate is rotated by governance on the
/// running network (processes), and its old certificate is refused afterwards.
@Suite("Node processes: TLS rotation by governance", .serialized)
struct ProcessRotationTests {
    @Test("set_node_pin on the running network: the old certificate is cut off, the new one rejoins after a restart")
    func rotation() async throws {
        try await NetworkGate.exclusive {
            let net = try ProcessNetwork()
            defer { net.clean() }
            try await net.startAll()
            _ = try await net.commit(from: 0, to: 1)
            let rotated = 3
            let home = net.homes[rotated]
            // The operator makes a new key and certificate in a scratch home (node init prints the pin).
            let scratch = net.root + "/scratch"
            let made = try HansaExecutable.run(["node", "init", "--home", scratch, "--key", "\(home)/node.key"])
            #expect(made.status == 0, "\(made.err)")
            let newPin = try #require(made.out.split(separator: "\n").last.map(String.init))
            let snapshot = try #require(net.client?.snapshot)
            let pinBytes = try #require(Hex.decode(newPin))
            let pin = try #require(Hash(bytes: pinBytes))
            let tx = try net.dev.governanceTransaction(.setNodePin(node: net.dev.validatorKeys[rotated].publicKey, spki: pin), on: snapshot)
            let h = try await net.client!.submit(tx)
            let r = try #require(await net.client!.receipt(of: h, timeout: .seconds(60)), "\(net.describe())")
            #expect(r.receipt.status == .success)

            // No process restarted, and the old certificate is out: every peer closes the rotated
            // validator's connections and refuses its redials (the client, an observer, too).
            #expect(await net.eventually(20) { net.client?.status?.peerHeights[net.names[rotated]] == nil },
                    "\(net.describe())")
            try await Task.sleep(for: .seconds(3))
            #expect(net.client?.status?.peerHeights[net.names[rotated]] == nil, "the old certificate got back in: \(net.describe())")
            #expect(net.log(rotated).contains("no longer pinned"))
            let r2 = try await net.commit(from: 2, to: 3)

            // The operator installs the new certificate and restarts the node: it rejoins.
            #expect(await net.terminate(rotated) == 0)
            for f in ["key.pem", "cert.pem"] {
                try FileManager.default.removeItem(atPath: "\(home)/tls/\(f)")
                try FileManager.default.copyItem(atPath: "\(scratch)/tls/\(f)", toPath: "\(home)/tls/\(f)")
            }
            try net.start(rotated)
            #expect(await net.eventually(60) { (net.height(rotated) ?? 0) >= r2.height }, "\(net.describe())")
            net.kill9(2)
            let r3 = try await net.commit(from: 4, to: 5, timeout: .seconds(90))
            #expect(r3.height > r2.height)
            await net.stopAll()
        }
    }
}
