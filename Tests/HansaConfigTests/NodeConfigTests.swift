import Foundation
import HansaConfig
import Testing

@Suite("Node configuration (config.toml)")
struct NodeConfigTests {
    @Test func defaultsAreTheDocumentedOnes() throws {
        let c = try NodeConfig.parse("", file: "config.toml")
        #expect(c == NodeConfig())
        #expect(c.files.genesis == "genesis.json" && c.files.nodeKey == "node.key")
        #expect(c.files.tlsKey == "tls/key.pem" && c.files.tlsCertificate == "tls/cert.pem" && c.files.dataDirectory == "data")
        #expect(c.p2p.listen.description == "127.0.0.1:26656")
        #expect(c.p2p.maxInboundPeers == 64 && c.p2p.handshakeTimeoutMillis == 10_000)
        #expect(c.httpListen.description == "127.0.0.1:26680")
        #expect(c.logLevel == .info)
        #expect(c.limits.mempoolMaxTransactions == 50_000 && c.limits.mempoolMaxBytes == 64 * 1024 * 1024)
        #expect(c.limits.sendQueueMaxMessages == 1024)
    }

    @Test func renderRoundTrips() throws {
        #expect(try NodeConfig.parse(NodeConfig().render(), file: "c") == NodeConfig())
        var c = NodeConfig()
        c.files.genesis = "/etc/hansa/genesis \"main\".json"
        c.files.dataDirectory = "/var/lib/hansa\\data"
        c.p2p.listen = HostPort(host: "::", port: 7000)
        c.p2p.maxInboundPeers = 7
        c.p2p.handshakeTimeoutMillis = 2_500
        c.httpListen = HostPort(host: "0.0.0.0", port: 8080)
        c.logLevel = .critical
        c.limits = NodeConfig.Limits()
        c.limits.mempoolMaxTransactions = 9
        c.limits.mempoolMaxBytes = 2 * 1024 * 1024
        c.limits.sendQueueMaxMessages = 3
        c.p2p.dial = ["bank-b": HostPort(host: "10.0.0.2", port: 26656), "bank-c": HostPort(host: "proxy.internal", port: 9000)]
        let text = c.render()
        #expect(try NodeConfig.parse(text, file: "c") == c)
        #expect(text.contains("listen = \"[::]:7000\""))
        #expect(text.contains("[p2p.dial]\n\"bank-b\" = \"10.0.0.2:26656\""), "\(text)")
    }

    @Test("[p2p.dial]: a validator's address to dial instead of its genesis one; a bad address is refused by name")
    func dialTable() throws {
        let c = try NodeConfig.parse("[p2p]\nlisten = \"127.0.0.1:7000\"\n[p2p.dial]\nbank-b = \"127.0.0.1:9001\"\n", file: "config.toml")
        #expect(c.p2p.dial == ["bank-b": HostPort(host: "127.0.0.1", port: 9001)])
        #expect { try NodeConfig.parse("[p2p.dial]\nbank-b = \"nowhere\"\n", file: "config.toml") } throws: { "\($0)".contains("p2p.dial.bank-b") }
        #expect { try NodeConfig.parse("[p2p.dial]\nbank-b = 9001\n", file: "config.toml") } throws: { "\($0)".contains("p2p.dial.bank-b") }
    }

    /// Every key the renderer writes carries a comment just above it (or above its group).
    @Test func everyRenderedKeyIsCommented() {
        let lines = NodeConfig().render().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for (i, line) in lines.enumerated() where line.contains(" = ") && !line.hasPrefix("#") {
            var j = i - 1
            while j >= 0, lines[j].contains(" = "), !lines[j].hasPrefix("#") { j -= 1 }
            #expect(j >= 0 && lines[j].hasPrefix("#"), "\(line) has no comment")
        }
    }

    /// (text, field, words)
    static let bad: [(String, String, String)] = [
        ("[p2p]\nlisten = \"localhost\"", "p2p.listen", "not host:port"),
        ("[p2p]\nlisten = \"127.0.0.1:0\"", "p2p.listen", "1 to 65535"),
        ("[p2p]\nlisten = \"127.0.0.1:70000\"", "p2p.listen", "1 to 65535"),
        ("[p2p]\nlisten = \":26656\"", "p2p.listen", "no host"),
        ("[p2p]\nlisten = \"[::1:26656\"", "p2p.listen", "[ipv6]:port"),
        ("[p2p]\nlisten = 26656", "p2p.listen", "expected a string"),
        ("[p2p]\nmax_inbound_peers = 0", "p2p.max_inbound_peers", "must be 1 to 1024"),
        ("[p2p]\nmax_inbound_peers = 5000", "p2p.max_inbound_peers", "must be 1 to 1024"),
        ("[p2p]\nhandshake_timeout_ms = 10", "p2p.handshake_timeout_ms", "must be 100 to 600000"),
        ("[p2p]\nhandshake_timeout_ms = \"10s\"", "p2p.handshake_timeout_ms", "expected an integer"),
        ("[p2p]\nlisten_address = \"127.0.0.1:1\"", "p2p.listen_address", "unknown key"),
        ("[http]\nlisten = \"127.0.0.1:26656\"\n[p2p]\nlisten = \"127.0.0.1:26656\"", "http.listen", "same address as p2p.listen"),
        ("[http]\nport = 80", "http.port", "unknown key"),
        ("[log]\nlevel = \"verbose\"", "log.level", "unknown level \"verbose\"; expected one of trace, debug, info"),
        ("[node]\ngenesis = \"\"", "node.genesis", "is empty"),
        ("[node]\ndata = \"x\"", "node.data", "unknown key"),
        ("[node]\nnode_key = 1", "node.node_key", "expected a string"),
        ("[limits]\nmempool_max_transactions = 0", "limits.mempool_max_transactions", "must be 1 to 10000000"),
        ("[limits]\nmempool_max_bytes = 1000", "limits.mempool_max_bytes", "must be 1048576 to"),
        ("[limits]\nsend_queue_max_messages = -1", "limits.send_queue_max_messages", "must be 1 to 1000000"),
        ("[limit]\nsend_queue_max_messages = 1", "limit", "unknown key"),
        ("node = 1", "node", "expected a table"),
    ]

    @Test(arguments: bad)
    func badValueNamesItsField(_ text: String, _ field: String, _ words: String) {
        do {
            _ = try NodeConfig.parse(text, file: "home/config.toml")
            Issue.record("accepted: \(text)")
        } catch let ConfigError.field(path, f, problem) {
            #expect(path == "home/config.toml")
            #expect(f == field)
            #expect(problem.contains(words), "message: \(problem)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func syntaxErrorHasALine() {
        #expect(throws: ConfigError.self) { try NodeConfig.parse("[p2p\nlisten = 1", file: "c.toml") }
    }

    @Test func relativePathsResolveAgainstHome() {
        var files = NodeConfig.Files()
        files.dataDirectory = "/srv/hansa"
        let p = NodePaths(home: "/home/n", files: files)
        #expect(p.config == "/home/n/config.toml")
        #expect(p.tlsCertificate == "/home/n/tls/cert.pem")
        #expect(p.dataDirectory == "/srv/hansa")
    }
}
