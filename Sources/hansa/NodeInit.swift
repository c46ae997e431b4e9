import ArgumentParser
import ChainTypes
import Foundation
import HansaConfig
import NodeSetup

/// `hansa node`: prepare and (later) run a validator or observer node.
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Prepare a node's home directory (init) and run the node (run, the default).",
        subcommands: [NodeRun.self, NodeInit.self],
        defaultSubcommand: NodeRun.self)
}

struct NodeInit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a node's home directory: node key, TLS key and certificate, config.toml.",
        discussion: """
        Copies the secp256k1 key file to DIR/node.key, makes a P-256 TLS key and a self-signed \
        certificate (DIR/tls/key.pem, DIR/tls/cert.pem), writes a commented DIR/config.toml, and \
        prints the SHA-256 of the certificate's SubjectPublicKeyInfo on a line of its own: paste \
        it as tls_spki_sha256 into the genesis template (genesis/README.md). With --genesis it \
        also copies the genesis to DIR/genesis.json after checking that the key is a validator's \
        or an observer's in it, and says whether the genesis pins this certificate's key. \
        On any error nothing is written.
        """)

    @Option(help: "The node's home directory (created if missing).")
    var home: String

    @Option(help: "The node's secp256k1 key file (from hansa keygen).")
    var key: String

    @Option(help: "A genesis file (JSON) to check the node against and copy in.")
    var genesis: String?

    @Option(help: "host:port the peer transport listens on (default 127.0.0.1:26656).")
    var p2pListen: String?

    @Option(help: "host:port of the HTTP server (default 127.0.0.1:26680).")
    var httpListen: String?

    @Flag(help: "Replace config.toml, node.key, the TLS files and genesis.json if present (makes a new TLS key).")
    var force = false

    func run() throws {
        let setup = NodeHomeInit(home: home, keyFile: key, genesisFile: genesis,
                                 p2pListen: try listen(p2pListen, "--p2p-listen"),
                                 httpListen: try listen(httpListen, "--http-listen"), force: force)
        let report = try setup.run(now: Date())
        print("home:        \(report.paths.home)")
        print("node key:    \(report.nodeKey.address.text) (\(report.nodeKey.hex))")
        print("config:      \(report.paths.config)")
        print("TLS:         \(report.paths.tlsCertificate), valid until \(isoDate(report.notValidAfter))")
        if let m = report.membership {
            print("genesis:     \(report.paths.genesis): this node is \(m)")
            if report.pinMatches {
                print("TLS pin:     the genesis pins this certificate's key")
            } else {
                let why = report.genesisPin.map { "pins \($0.hex)" } ?? "has no tls_spki_sha256"
                let warning = "warning: the genesis \(why) for \(m.name); it must pin this node's TLS key \(report.fingerprint.hex) before the node can join"
                print(warning)
                FileHandle.standardError.write(Data((warning + "\n").utf8))
            }
        }
        print("tls_spki_sha256 (the SHA-256 of the certificate's SubjectPublicKeyInfo, for the genesis template):")
        print(report.fingerprint.hex)
    }

    private func listen(_ text: String?, _ option: String) throws -> HostPort? {
        guard let text else { return nil }
        switch HostPort.parse(text) {
        case .success(let hp): return hp
        case .failure(let e): throw CLIError("\(option): \(e)")
        }
    }

    private func isoDate(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }
}
