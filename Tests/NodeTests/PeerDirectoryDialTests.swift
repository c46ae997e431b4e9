import ChainTypes
import Foundation
import Node
import PeerTransport
import Testing

/// config.toml `[p2p.dial]`: a validator dialled at another address than its genesis one.
@Suite("peer directory: [p2p.dial]")
struct PeerDirectoryDialTests {
    @Test("dial replaces a validator's genesis address by name, and only that one; a name that is no validator is refused")
    func dialByName() throws {
        let net = try TestNetwork(users: 1)
        defer { try? FileManager.default.removeItem(atPath: net.root) }
        let g = net.dev.genesis
        let name = g.validators.validators[1].name
        let proxy = PeerAddress(host: "127.0.0.1", port: 9)
        let d = try PeerDirectory.from(genesis: g, dial: [name: proxy])
        #expect(d.validator(1)?.address == proxy)
        #expect(d.validator(0)?.address == PeerAddress(g.validators.validators[0].p2pAddress))
        #expect(d.validator(1)?.spki == (try PeerDirectory.from(genesis: g)).validator(1)?.spki, "still pinned as genesis says")
        #expect { try PeerDirectory.from(genesis: g, dial: ["auditor-node": proxy]) } throws: {
            "\($0)".contains("[p2p.dial] names auditor-node, which is no validator")
        }
    }
}
