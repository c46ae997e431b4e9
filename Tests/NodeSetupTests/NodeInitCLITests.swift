import ChainTypes
import Foundation
import HansaConfig
import HansaCrypto
import HansaTestSupport
import NodeSetup
import PeerTransport
import Testing

/// `hansa node init` through the built executable.
@Suite("hansa node init")
struct NodeInitCLITests {
    static func tempDir() -> String {
        let path = NSTemporaryDirectory() + "hansa-init-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func mode(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions]) as? Int) ?? -1
    }

    /// The last line of standard output: the fingerprint, alone.
    static func printedPin(_ out: String) -> String {
        out.split(separator: "\n").last.map(String.init) ?? ""
    }

    @Test func initWritesAHomeAndPrintsThePin() throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try KeyFile.write(TestHome.key("bank-2"), to: dir + "/bank-2.key")
        let home = dir + "/node"
        let r = try HansaExecutable.run(["node", "init", "--home", home, "--key", dir + "/bank-2.key",
                                         "--p2p-listen", "0.0.0.0:7102", "--http-listen", "127.0.0.1:9102"])
        #expect(r.status == 0, "\(r.err)")
        let pin = Self.printedPin(r.out)
        #expect(pin.count == 64 && Hex.decode(pin) != nil, "last line: \(pin)")
        let tls = try NodeTLSIdentity(certificatePEM: String(contentsOfFile: home + "/tls/cert.pem", encoding: .utf8),
                                      privateKeyPEM: String(contentsOfFile: home + "/tls/key.pem", encoding: .utf8))
        #expect(tls.fingerprint.hex == pin)
        #expect(try KeyFile.read(home + "/node.key").publicKey == TestHome.key("bank-2").publicKey)
        #expect(Self.mode(home + "/node.key") == 0o600)
        #expect(Self.mode(home + "/tls/key.pem") == 0o600)
        let config = try NodeConfig.read(home + "/config.toml")
        #expect(config.p2p.listen.description == "0.0.0.0:7102")
        #expect(config.httpListen.description == "127.0.0.1:9102")
        #expect(!FileManager.default.fileExists(atPath: home + "/genesis.json"))
        // No staging directory is left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["bank-2.key", "node"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: home).sorted() == ["config.toml", "node.key", "tls"])

        // The pin it printed, put into a genesis, makes a home the node loads.
        let genesis = TestHome.genesis(nodeKey: TestHome.key("bank-2").publicKey, pin: Hash(bytes: Hex.decode(pin)!))
        try GenesisFile.write(genesis, to: home + "/genesis.json")
        let loaded = try NodeHome.load(home, now: Date())
        #expect(loaded.membership.name == "bank-2")
    }

    @Test func existingHomeIsRefusedUnlessForced() throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try KeyFile.write(TestHome.key("bank-1"), to: dir + "/k.key")
        let home = dir + "/node"
        let args = ["node", "init", "--home", home, "--key", dir + "/k.key"]
        #expect(try HansaExecutable.run(args).status == 0)
        let cert = try Data(contentsOf: URL(fileURLWithPath: home + "/tls/cert.pem"))
        let again = try HansaExecutable.run(args)
        #expect(again.status != 0)
        #expect(again.err.contains("already holds config.toml, node.key, tls/key.pem, tls/cert.pem; pass --force"), "\(again.err)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: home + "/tls/cert.pem")) == cert)
        let forced = try HansaExecutable.run(args + ["--force"])
        #expect(forced.status == 0, "\(forced.err)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: home + "/tls/cert.pem")) != cert)
        #expect(try FileManager.default.contentsOfDirectory(atPath: home).sorted() == ["config.toml", "node.key", "tls"])
    }

    /// (arguments after --home/--key, words on standard error). The key is bank-3's; the genesis
    /// does not hold it unless said.
    static let failures: [([String], String)] = [
        (["--p2p-listen", "nowhere"], "--p2p-listen: \"nowhere\" is not host:port"),
        (["--p2p-listen", "127.0.0.1:5000", "--http-listen", "127.0.0.1:5000"], "http.listen: is the same address as p2p.listen"),
        (["--genesis", "GENESIS_OTHER"], "is neither a validator's nor an observer's in this genesis"),
        (["--genesis", "/nonexistent/genesis.json"], "the genesis cannot be used: /nonexistent/genesis.json: cannot read: no such file"),
    ]

    @Test("writes nothing on error", arguments: failures)
    func writesNothingOnError(_ extra: [String], _ words: String) throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try KeyFile.write(TestHome.key("bank-3"), to: dir + "/k.key")
        // A genesis without bank-3: its place taken by bank-9.
        let other = TestHome.genesis(nodeKey: TestHome.key("bank-0").publicKey, pin: nil)
        var validators = other.validators.validators.filter { $0.name != "bank-3" }
        validators.append(Validator(name: "bank-9", publicKey: TestHome.key("bank-9").publicKey, p2pAddress: "127.0.0.1:7109", tlsSPKISHA256: nil))
        let g = Genesis(chain: other.chain, genesisTimeMillis: 1, validators: try ValidatorSet(validators),
                        participants: validators.map { Participant(name: $0.name, publicKey: $0.publicKey, role: .validatorBank, bank: nil) },
                        currencies: [], deposits: [], consensus: .standard, governanceThreshold: 3)
        try GenesisFile.write(g, to: dir + "/other.json")
        let args = extra.map { $0 == "GENESIS_OTHER" ? dir + "/other.json" : $0 }
        for home in [dir + "/fresh", dir + "/empty"] {
            if home.hasSuffix("empty") { try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: false) }
            let r = try HansaExecutable.run(["node", "init", "--home", home, "--key", dir + "/k.key"] + args)
            #expect(r.status != 0)
            #expect(r.err.contains(words), "\(r.err)")
            #expect(r.err.split(separator: "\n").count == 1, "\(r.err)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/fresh"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/empty").isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["empty", "k.key", "other.json"])
    }

    @Test func genesisIsCheckedAndCopied() throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try KeyFile.write(TestHome.key("auditor-node"), to: dir + "/k.key")
        let g = TestHome.genesis(nodeKey: TestHome.key("auditor-node").publicKey, pin: SHA256.hash(utf8: "an older key"))
        try GenesisFile.write(g, to: dir + "/genesis.json")
        let home = dir + "/node"
        let r = try HansaExecutable.run(["node", "init", "--home", home, "--key", dir + "/k.key", "--genesis", dir + "/genesis.json"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("this node is observer auditor-node (auditor)"), "\(r.out)")
        let pin = Self.printedPin(r.out)
        // The genesis pins another key: it still writes, and says what the genesis must pin.
        #expect(r.err.contains("warning: the genesis pins \(SHA256.hash(utf8: "an older key").hex) for auditor-node; it must pin this node's TLS key \(pin)"),
                "\(r.err)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: home + "/genesis.json")) == Data(contentsOf: URL(fileURLWithPath: dir + "/genesis.json")))
        // The node would refuse to start until the genesis pins the new key.
        #expect(throws: NodeSetupError.self) { try NodeHome.load(home, now: Date()) }
    }

    @Test func validatorWithoutAPinIsToldWhatToPin() throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try KeyFile.write(TestHome.key("bank-0"), to: dir + "/k.key")
        let g = TestHome.genesis(nodeKey: TestHome.key("bank-0").publicKey, pin: nil)
        try GenesisFile.write(g, to: dir + "/genesis.json")
        let r = try HansaExecutable.run(["node", "init", "--home", dir + "/node", "--key", dir + "/k.key", "--genesis", dir + "/genesis.json"])
        #expect(r.status == 0, "\(r.err)")
        let index = try #require(g.validators.index(of: TestHome.key("bank-0").publicKey.address))
        #expect(r.out.contains("this node is validator bank-0 (index \(index))"))
        #expect(r.err.contains("warning: the genesis has no tls_spki_sha256 for bank-0"), "\(r.err)")
    }
}
