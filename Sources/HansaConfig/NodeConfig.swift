import Foundation

/// A `host:port` a node listens on. IPv6 hosts are written in brackets: `[::1]:26656`.
///
/// Invariant: `host` is non-empty and holds no whitespace; `port` is 1 to 65535.
public struct HostPort: Hashable, Sendable, CustomStringConvertible {
    public let host: String
    public let port: UInt16

    public init(host: String, port: UInt16) {
        precondition(!host.isEmpty && port > 0, "a listen address has a host and a non-zero port")
        self.host = host
        self.port = port
    }

    /// Parses `host:port` or `[v6]:port`, or says why the text is neither.
    public static func parse(_ text: String) -> Result<HostPort, HostPortError> {
        let host: Substring, portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                return .failure(HostPortError("\"\(text)\" is not [ipv6]:port"))
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else {
                return .failure(HostPortError("\"\(text)\" is not host:port (write an IPv6 host as [::1]:26656)"))
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, !host.contains(where: \.isWhitespace) else {
            return .failure(HostPortError("\"\(text)\" has no host (write e.g. 127.0.0.1:26656, or 0.0.0.0:26656 for every interface)"))
        }
        guard let port = UInt16(portText), port > 0 else {
            return .failure(HostPortError("\"\(text)\" has no port from 1 to 65535"))
        }
        return .success(HostPort(host: String(host), port: port))
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Why a `host:port` was refused, as a sentence.
public struct HostPortError: Error, Equatable, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// How much a node logs: swift-log's levels by their names (`Logger.Level(rawValue:)` reads them).
public enum NodeLogLevel: String, Sendable, CaseIterable {
    case trace, debug, info, notice, warning, error, critical
}

/// A node's `config.toml`: where its files are, where it listens, how much it logs, and the
/// bounds on its queues. Everything consensus-relevant lives in genesis instead; this file is
/// the operator's (docs/OPERATIONS.md "Configuration reference" documents every key).
///
/// Paths are relative to the node's home directory unless absolute. Every key is optional in
/// the file (the default applies) and an unknown key is refused, with file, field and reason.
/// Invariant: each value lies in the range its `…Range` names.
public struct NodeConfig: Equatable, Sendable {
    /// The `[node]` table: the files the node reads and the directory it writes.
    public struct Files: Equatable, Sendable {
        public var genesis = "genesis.json"
        public var nodeKey = "node.key"
        public var tlsKey = "tls/key.pem"
        public var tlsCertificate = "tls/cert.pem"
        public var dataDirectory = "data"
        public init() {}
    }

    /// The `[p2p]` table: the peer transport (docs/TRANSPORT.md).
    public struct P2P: Equatable, Sendable {
        public var listen = HostPort(host: "127.0.0.1", port: 26656)
        public var maxInboundPeers = 64
        public var handshakeTimeoutMillis: UInt64 = 10_000
        /// `[p2p.dial]`: addresses to dial instead of validators' genesis `p2p_address`, by
        /// validator name (NAT, internal names, a fault-injecting proxy). Empty by default.
        public var dial: [String: HostPort] = [:]
        public init() {}
    }

    /// The `[limits]` table: bounds on the node's queues.
    public struct Limits: Equatable, Sendable {
        public var mempoolMaxTransactions = 50_000
        public var mempoolMaxBytes = 64 * 1024 * 1024
        public var sendQueueMaxMessages = 1024
        public init() {}
    }

    public var files = Files()
    public var p2p = P2P()
    /// `[http] listen`: metrics, health and (later) JSON-RPC. Loopback unless the operator opens it.
    public var httpListen = HostPort(host: "127.0.0.1", port: 26680)
    public var logLevel = NodeLogLevel.info
    public var limits = Limits()

    public init() {}

    // Named bounds on each value: wide enough for any real deployment, narrow enough that a
    // typo (an extra zero or three) is caught before the node allocates for it.
    public static let maxInboundPeersRange = 1...1024
    public static let handshakeTimeoutMillisRange = 100...600_000
    public static let mempoolMaxTransactionsRange = 1...10_000_000
    public static let mempoolMaxBytesRange = (1024 * 1024)...(16 * 1024 * 1024 * 1024)
    public static let sendQueueMaxMessagesRange = 1...1_000_000

    /// The file name of the configuration inside a node's home directory.
    public static let fileName = "config.toml"

    /// Reads the configuration from `path`.
    public static func read(_ path: String) throws(ConfigError) -> NodeConfig {
        try parse(FileIO.readText(path), file: path)
    }

    /// Parses `config.toml` text; `file` names it in errors.
    public static func parse(_ text: String, file: String) throws(ConfigError) -> NodeConfig {
        let doc = try DocTable.parseTOML(text, file: file)
        var c = NodeConfig()
        if let t = try doc.optionalTable("node") {
            c.files.genesis = try path(t, "genesis", c.files.genesis)
            c.files.nodeKey = try path(t, "node_key", c.files.nodeKey)
            c.files.tlsKey = try path(t, "tls_key", c.files.tlsKey)
            c.files.tlsCertificate = try path(t, "tls_cert", c.files.tlsCertificate)
            c.files.dataDirectory = try path(t, "data_dir", c.files.dataDirectory)
            try t.finish()
        }
        if let t = try doc.optionalTable("p2p") {
            c.p2p.listen = try hostPort(t, "listen", c.p2p.listen)
            c.p2p.maxInboundPeers = try bounded(t, "max_inbound_peers", c.p2p.maxInboundPeers, maxInboundPeersRange)
            c.p2p.handshakeTimeoutMillis = UInt64(try bounded(t, "handshake_timeout_ms", Int(c.p2p.handshakeTimeoutMillis),
                                                               handshakeTimeoutMillisRange))
            if let d = try t.optionalTable("dial") {
                for name in d.keys {
                    switch HostPort.parse(try d.string(name)) {
                    case .success(let hp): c.p2p.dial[name] = hp
                    case .failure(let e): throw d.fail(name, e.description)
                    }
                }
                try d.finish()
            }
            try t.finish()
        }
        if let t = try doc.optionalTable("http") {
            c.httpListen = try hostPort(t, "listen", c.httpListen)
            try t.finish()
        }
        if let t = try doc.optionalTable("log") {
            if let name = try t.optionalString("level") {
                guard let level = NodeLogLevel(rawValue: name) else {
                    throw t.fail("level", "unknown level \"\(name)\"; expected one of \(NodeLogLevel.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                c.logLevel = level
            }
            try t.finish()
        }
        if let t = try doc.optionalTable("limits") {
            c.limits.mempoolMaxTransactions = try bounded(t, "mempool_max_transactions", c.limits.mempoolMaxTransactions, mempoolMaxTransactionsRange)
            c.limits.mempoolMaxBytes = try bounded(t, "mempool_max_bytes", c.limits.mempoolMaxBytes, mempoolMaxBytesRange)
            c.limits.sendQueueMaxMessages = try bounded(t, "send_queue_max_messages", c.limits.sendQueueMaxMessages, sendQueueMaxMessagesRange)
            try t.finish()
        }
        try doc.finish()
        guard c.p2p.listen != c.httpListen else {
            throw .field(path: file, field: "http.listen", problem: "is the same address as p2p.listen (\(c.p2p.listen)); each needs its own port")
        }
        return c
    }

    private static func path(_ t: DocTable, _ key: String, _ fallback: String) throws(ConfigError) -> String {
        guard let value = try t.optionalString(key) else { return fallback }
        guard !value.isEmpty, !value.contains("\0") else { throw t.fail(key, "is empty; give a file path (relative to the home directory, or absolute)") }
        return value
    }

    private static func hostPort(_ t: DocTable, _ key: String, _ fallback: HostPort) throws(ConfigError) -> HostPort {
        guard let text = try t.optionalString(key) else { return fallback }
        switch HostPort.parse(text) {
        case .success(let hp): return hp
        case .failure(let e): throw t.fail(key, e.description)
        }
    }

    private static func bounded(_ t: DocTable, _ key: String, _ fallback: Int, _ range: ClosedRange<Int>) throws(ConfigError) -> Int {
        guard let i = try t.optionalInteger(key) else { return fallback }
        guard i >= Int64(range.lowerBound), i <= Int64(range.upperBound) else {
            throw t.fail(key, "is \(i); must be \(range.lowerBound) to \(range.upperBound)")
        }
        return Int(i)
    }
}

/// The files of a node's home directory with the configuration's relative paths resolved
/// against the home directory (absolute ones kept).
public struct NodePaths: Equatable, Sendable {
    public let home: String
    public let config: String
    public let genesis: String
    public let nodeKey: String
    public let tlsKey: String
    public let tlsCertificate: String
    public let dataDirectory: String

    public init(home: String, files: NodeConfig.Files) {
        self.home = home
        config = Self.configPath(home: home)
        genesis = Self.resolve(files.genesis, home: home)
        nodeKey = Self.resolve(files.nodeKey, home: home)
        tlsKey = Self.resolve(files.tlsKey, home: home)
        tlsCertificate = Self.resolve(files.tlsCertificate, home: home)
        dataDirectory = Self.resolve(files.dataDirectory, home: home)
    }

    /// `config.toml` inside `home`.
    public static func configPath(home: String) -> String { resolve(NodeConfig.fileName, home: home) }

    public static func resolve(_ path: String, home: String) -> String {
        path.hasPrefix("/") ? path : (home as NSString).appendingPathComponent(path)
    }
}
