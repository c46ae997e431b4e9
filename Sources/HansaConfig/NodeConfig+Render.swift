import Foundation

extension NodeConfig {
    /// The configuration as `config.toml`, every key written with a comment saying what it
    /// does and its default (docs/OPERATIONS.md "Configuration reference" says the same).
    /// Invariant: `NodeConfig.parse(c.render(), file:) == c`.
    public func render() -> String {
        let d = NodeConfig()
        func q(_ s: String) -> String { Self.tomlString(s) }
        let dialTable = p2p.dial.isEmpty ? ""
            : "[p2p.dial]\n" + p2p.dial.keys.sorted().map { "\(q($0)) = \(q(p2p.dial[$0]!.description))" }.joined(separator: "\n") + "\n"
        return """
        # Hansa node configuration (written by hansa node init).
        # Everything consensus-relevant is in the genesis; this file is the operator's own.
        # Paths are relative to this directory unless absolute. Every key may be left out (the
        # default applies); an unknown key is refused. docs/OPERATIONS.md explains each one.

        [node]
        # The genesis file (JSON, from hansa genesis). The node refuses to start unless its node
        # key is a validator's or an observer's in it and the pin matches tls_cert.
        genesis = \(q(files.genesis))
        # This node's secp256k1 key file (hansa keygen's format, mode 0600): signs votes
        # (validators) and the peer handshake (every node).
        node_key = \(q(files.nodeKey))
        # The TLS private key (PEM, P-256, mode 0600) and its self-signed certificate (PEM). The
        # genesis pins the certificate's SubjectPublicKeyInfo hash (tls_spki_sha256).
        tls_key = \(q(files.tlsKey))
        tls_cert = \(q(files.tlsCertificate))
        # Where the node keeps its chain (LevelDB) and its consensus state.
        data_dir = \(q(files.dataDirectory))

        [p2p]
        # host:port the peer transport listens on (mutual TLS). Default \(d.p2p.listen); use
        # 0.0.0.0:PORT to accept peers on every interface. Peers dial the genesis p2p_address.
        listen = \(q(p2p.listen.description))
        # Most inbound peer connections held at once (\(Self.maxInboundPeersRange.lowerBound) to \(Self.maxInboundPeersRange.upperBound); default \(d.p2p.maxInboundPeers)).
        max_inbound_peers = \(p2p.maxInboundPeers)
        # Milliseconds a new connection has to finish TLS and the signed handshake
        # (\(Self.handshakeTimeoutMillisRange.lowerBound) to \(Self.handshakeTimeoutMillisRange.upperBound); default \(d.p2p.handshakeTimeoutMillis)).
        handshake_timeout_ms = \(p2p.handshakeTimeoutMillis)
        # [p2p.dial]: addresses to dial instead of a validator's genesis p2p_address, by name
        # (NAT, internal DNS names, a fault-injecting proxy); the peer is still authenticated by
        # its genesis pin and key. E.g.  [p2p.dial]  then  bank-b = "10.0.0.2:26656"
        \(dialTable)

        [http]
        # host:port of the HTTP server (/metrics, /health, JSON-RPC). Default \(d.httpListen):
        # loopback only; open it to other hosts deliberately, behind a firewall.
        listen = \(q(httpListen.description))

        [log]
        # trace, debug, info, notice, warning, error or critical (default \(d.logLevel.rawValue)).
        level = \(q(logLevel.rawValue))

        [limits]
        # Most transactions the mempool holds; beyond it new ones are refused (default \(d.limits.mempoolMaxTransactions)).
        mempool_max_transactions = \(limits.mempoolMaxTransactions)
        # Most bytes of encoded transactions the mempool holds (default \(d.limits.mempoolMaxBytes), 64 MiB).
        mempool_max_bytes = \(limits.mempoolMaxBytes)
        # Most messages waiting for one peer's socket. When full, docs/TRANSPORT.md's send-queue
        # policy applies: bulk messages go first, a peer still too slow is disconnected (default \(d.limits.sendQueueMaxMessages)).
        send_queue_max_messages = \(limits.sendQueueMaxMessages)

        """
    }

    /// A TOML basic string: quotes, backslashes and control characters escaped.
    static func tomlString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if u.value < 0x20 || u.value == 0x7f { out += String(format: "\\u%04X", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}
