import ChainTypes
import Foundation
import HansaConfig
import HansaCrypto
import NodeSetup
import PeerTransport
import Testing

/// A node home written by hand (not by `NodeHomeInit`), so that each test can break one thing.
struct TestHome {
    static func key(_ label: String) -> PrivateKey { try! PrivateKey(secret: SHA256.hash(utf8: "node setup \(label)").bytes) }
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    let dir: String
    let tls: NodeTLSIdentity
    let nodeKey: PrivateKey
    var paths: NodePaths { NodePaths(home: dir, files: NodeConfig().files) }

    /// `as`: "validator" (bank-2's key) or "observer" (auditor-node's key). `pin` replaces the
    /// pin genesis holds for the node (`.some(nil)`: no pin).
    init(as role: String = "validator", pin: Hash?? = .none) throws {
        dir = NSTemporaryDirectory() + "hansa-node-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir + "/tls", withIntermediateDirectories: true)
        tls = try NodeTLSIdentity.generate(commonName: "test", now: Self.now)
        nodeKey = role == "validator" ? Self.key("bank-2") : Self.key("auditor-node")
        let genesis = Self.genesis(nodeKey: nodeKey.publicKey, pin: pin ?? Hash(bytes: tls.fingerprint.bytes))
        try NodeConfig().render().write(toFile: paths.config, atomically: true, encoding: .utf8)
        try GenesisFile.write(genesis, to: paths.genesis)
        try KeyFile.write(nodeKey, to: paths.nodeKey)
        try tls.privateKeyPEM.write(toFile: paths.tlsKey, atomically: true, encoding: .utf8)
        try tls.certificatePEM.write(toFile: paths.tlsCertificate, atomically: true, encoding: .utf8)
    }

    /// Four validator banks and one auditor observer; `nodeKey`'s entry carries `pin`, every
    /// other node a pin of its own.
    static func genesis(nodeKey: PublicKey, pin: Hash?) -> Genesis {
        let banks = (0..<4).map { key("bank-\($0)") }
        let validators = banks.enumerated().map { i, k in
            Validator(name: "bank-\(i)", publicKey: k.publicKey, p2pAddress: "127.0.0.1:\(7100 + i)",
                      tlsSPKISHA256: k.publicKey == nodeKey ? pin : SHA256.hash(utf8: "pin bank-\(i)"))
        }
        let auditor = key("auditor-node").publicKey
        let observer = Observer(name: "auditor-node", nodeKey: auditor, role: .auditor, bank: nil,
                                tlsSPKISHA256: auditor == nodeKey ? pin ?? SHA256.hash(utf8: "none") : SHA256.hash(utf8: "pin auditor"))
        let g = Genesis(chain: try! ChainID("hansa-node-test"), genesisTimeMillis: 1_000, validators: try! ValidatorSet(validators),
                        participants: validators.map { Participant(name: $0.name, publicKey: $0.publicKey, role: .validatorBank, bank: nil) },
                        observers: [observer], currencies: [], deposits: [], consensus: .standard, governanceThreshold: 3)
        try! g.validate()
        return g
    }

    func remove() { try? FileManager.default.removeItem(atPath: dir) }
}

@Suite("Node home: loading and its checks")
struct NodeHomeTests {
    @Test func validatorHomeLoads() throws {
        let h = try TestHome()
        defer { h.remove() }
        let home = try NodeHome.load(h.dir, now: TestHome.now)
        let index = try #require(home.genesis.validators.index(of: h.nodeKey.publicKey.address))
        #expect(home.membership == .validator(index: index, name: "bank-2"))
        #expect(home.tls.fingerprint == h.tls.fingerprint)
        #expect(home.nodeKey.publicKey == h.nodeKey.publicKey)
        #expect(home.config == NodeConfig())
        #expect(home.paths.dataDirectory == h.dir + "/data")
    }

    @Test func observerHomeLoads() throws {
        let h = try TestHome(as: "observer")
        defer { h.remove() }
        let home = try NodeHome.load(h.dir, now: TestHome.now)
        #expect(home.membership == .observer(.auditor, name: "auditor-node"))
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        var role = "validator"
        var pin: Hash?? = .none
        var nowOffset: TimeInterval = 0
        /// Breaks the home; nil leaves it intact.
        var breakHome: (@Sendable (TestHome) throws -> Void)? = nil
        /// Words the one-sentence description must contain (a file name among them).
        let says: [String]
        let matches: @Sendable (NodeSetupError) -> Bool
        var testDescription: String { name }
    }

    static func write(_ text: String, _ path: String) throws { try text.write(toFile: path, atomically: true, encoding: .utf8) }

    static let cases: [Case] = [
        Case(name: "config.toml missing", breakHome: { try FileManager.default.removeItem(atPath: $0.paths.config) },
             says: ["config.toml", "no such file"]) { if case .config(.cannotRead) = $0 { true } else { false } },
        Case(name: "config.toml with an unknown key", breakHome: { try write("[p2p]\nlisten_on = \"x\"\n", $0.paths.config) },
             says: ["config.toml", "p2p.listen_on", "unknown key"]) { if case .config(.field) = $0 { true } else { false } },
        Case(name: "config.toml with a bad address", breakHome: { try write("[http]\nlisten = \"localhost\"\n", $0.paths.config) },
             says: ["config.toml", "http.listen", "not host:port"]) { if case .config(.field) = $0 { true } else { false } },
        Case(name: "genesis missing", breakHome: { try FileManager.default.removeItem(atPath: $0.paths.genesis) },
             says: ["genesis.json", "no such file"]) { if case .genesis(.cannotRead) = $0 { true } else { false } },
        Case(name: "genesis edited", breakHome: { h in
                 let text = try String(contentsOfFile: h.paths.genesis, encoding: .utf8)
                 try write(text.replacingOccurrences(of: "127.0.0.1:7101", with: "127.0.0.1:7999"), h.paths.genesis)
             }, says: ["genesis.json", "genesis_hash"]) { if case .genesis(.field) = $0 { true } else { false } },
        Case(name: "node key missing", breakHome: { try FileManager.default.removeItem(atPath: $0.paths.nodeKey) },
             says: ["node.key", "no such file"]) { if case .nodeKey(.cannotRead) = $0 { true } else { false } },
        Case(name: "node key readable by others", breakHome: { _ = chmod($0.paths.nodeKey, 0o644) },
             says: ["node.key", "chmod 600"]) { if case .nodeKey(.insecurePermissions) = $0 { true } else { false } },
        Case(name: "node key not in genesis", breakHome: { h in
                 try FileManager.default.removeItem(atPath: h.paths.nodeKey)
                 try KeyFile.write(TestHome.key("stranger"), to: h.paths.nodeKey)
             }, says: ["genesis.json", TestHome.key("stranger").publicKey.address.text, "neither a validator's nor an observer's"]) {
            if case .notInGenesis = $0 { true } else { false }
        },
        Case(name: "validator pin differs", pin: .some(SHA256.hash(utf8: "another key")),
             says: ["cert.pem", SHA256.hash(utf8: "another key").hex, "validator bank-2"]) { if case .pinMismatch = $0 { true } else { false } },
        Case(name: "observer pin differs", role: "observer", pin: .some(SHA256.hash(utf8: "another key")),
             says: ["cert.pem", "observer auditor-node"]) { if case .pinMismatch = $0 { true } else { false } },
        Case(name: "validator without a pin", pin: .some(nil),
             says: ["genesis.json", "has no tls_spki_sha256", "bank-2"]) { if case .notPinned = $0 { true } else { false } },
        Case(name: "certificate expired", nowOffset: NodeTLSIdentity.defaultValiditySeconds + 1,
             says: ["cert.pem", "expired"]) { if case .certificateExpired = $0 { true } else { false } },
        Case(name: "certificate not yet valid", nowOffset: -7200,
             says: ["cert.pem", "not valid before"]) { if case .certificateNotYetValid = $0 { true } else { false } },
        Case(name: "TLS key of another certificate", breakHome: { h in
                 try write(try NodeTLSIdentity.generate(commonName: "other", now: TestHome.now).privateKeyPEM, h.paths.tlsKey)
             }, says: ["key.pem", "does not belong to the certificate", "cert.pem"]) { if case .tlsKeyMismatch = $0 { true } else { false } },
        Case(name: "certificate missing", breakHome: { try FileManager.default.removeItem(atPath: $0.paths.tlsCertificate) },
             says: ["cert.pem", "no such file"]) { if case .cannotReadTLS = $0 { true } else { false } },
        Case(name: "certificate not PEM", breakHome: { try write("hello\n", $0.paths.tlsCertificate) },
             says: ["cert.pem", "not a readable PEM"]) { if case .invalidTLS = $0 { true } else { false } },
        Case(name: "TLS key not PEM", breakHome: { try write("hello\n", $0.paths.tlsKey) },
             says: ["key.pem", "not a readable PEM"]) { if case .invalidTLS = $0 { true } else { false } },
    ]

    @Test("refused with one sentence naming the file", arguments: cases)
    func refused(_ c: Case) throws {
        let h = try TestHome(as: c.role, pin: c.pin)
        defer { h.remove() }
        try c.breakHome?(h)
        do {
            let home = try NodeHome.load(h.dir, now: TestHome.now.addingTimeInterval(c.nowOffset))
            Issue.record("loaded: \(home.membership)")
        } catch {
            #expect(c.matches(error), "\(error)")
            for words in c.says { #expect(error.description.contains(words), "\(error.description) lacks \(words)") }
            #expect(!error.description.contains("\n"))
        }
    }
}
