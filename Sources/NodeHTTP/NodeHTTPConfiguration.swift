/// Where the node's HTTP server listens and the limits it enforces. Names carry their unit.
public struct NodeHTTPConfiguration: Sendable, Equatable {
    /// Interface to bind. Loopback by default: `/metrics` and `/health` tell an outsider a lot
    /// about the consortium, so exposing them is a deliberate choice in config.toml.
    public var host: String
    /// TCP port; 0 lets the kernel choose (read it back with ``NodeHTTPServer/boundPort()``).
    public var port: Int
    /// Largest request body accepted; larger ones get 413 before the handler runs (by
    /// Content-Length) or while it reads (chunked). `/health` and `/metrics` take none; the
    /// JSON-RPC routes read bodies under this limit.
    public var maxRequestBodyBytes: Int
    /// Longest a handler may take before the client gets 503 (the handler is cancelled).
    public var requestTimeout: Duration
    /// A connection with no request in flight and nothing read for this long is closed, so
    /// idle or slow clients do not hold sockets.
    public var idleTimeout: Duration
    /// Thresholds of the degraded rules of `/health`.
    public var health: HealthThresholds

    /// The default port of the node's HTTP server.
    public static let defaultPort = 26_680

    public init(host: String = "127.0.0.1", port: Int = NodeHTTPConfiguration.defaultPort,
                maxRequestBodyBytes: Int = 1 << 20, requestTimeout: Duration = .seconds(10),
                idleTimeout: Duration = .seconds(60), health: HealthThresholds = HealthThresholds()) {
        self.host = host
        self.port = port
        self.maxRequestBodyBytes = maxRequestBodyBytes
        self.requestTimeout = requestTimeout
        self.idleTimeout = idleTimeout
        self.health = health
    }
}

/// What goes wrong with the HTTP server, in a sentence.
public enum NodeHTTPError: Error, CustomStringConvertible, Equatable {
    /// The listening socket could not be opened (port in use, address not local, …).
    case cannotListen(host: String, port: Int, reason: String)
    /// The server stopped (or never started) before it was listening.
    case notListening
    /// A handler ran past ``NodeHTTPConfiguration/requestTimeout``.
    case deadlineExceeded(Duration)

    public var description: String {
        switch self {
        case let .cannotListen(host, port, reason):
            "cannot listen for HTTP on \(host):\(port): \(reason)"
        case .notListening:
            "the HTTP server is not listening"
        case let .deadlineExceeded(timeout):
            "the request took longer than \(timeout)"
        }
    }
}
