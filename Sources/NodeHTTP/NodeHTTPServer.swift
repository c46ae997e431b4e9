import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import ServiceLifecycle

/// The node's HTTP server — `/health`, `/metrics`, and the routes other modules add — as a
/// swift-service-lifecycle `Service`: the node puts it in its `ServiceGroup`, which starts it
/// and shuts it down gracefully on SIGTERM/SIGINT (in-flight requests finish, then it stops).
///
/// ```swift
/// let http = NodeHTTPServer(configuration: config.http, status: node, metrics: metrics,
///                           logger: logger) { router in rpc.register(on: router) }
/// let group = ServiceGroup(services: [..., http], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
/// ```
///
/// Invariant: ``boundPort()`` returns only once the socket is listening, and throws once the
/// server stopped without ever listening (so a port in use is a sentence, not a hang).
public final class NodeHTTPServer: Service, Sendable {
    public let configuration: NodeHTTPConfiguration
    private let status: any NodeStatusSource
    private let metrics: NodeMetrics
    private let logger: Logger
    private let nowMillis: @Sendable () -> Int64
    private let extraRoutes: @Sendable (Router<NodeRequestContext>) -> Void
    private let webSocket: WebSocketRoute?
    private let listening = LockedBox(ListenState.waiting([]))

    private enum ListenState: Sendable {
        case waiting([CheckedContinuation<Int, any Error>])
        case listening(Int)
        case stopped(NodeHTTPError)
    }

    /// - Parameters:
    ///   - nowMillis: the wall clock for the health rules (milliseconds since 1970); tests pin it.
    ///   - extraRoutes: registers more routes on the server's router (the JSON-RPC endpoints).
    ///   - webSocket: the handler of WebSocket upgrades (the JSON-RPC's `/ws`): given the
    ///     request's path and the client's address, a handler, or nil to refuse the upgrade.
    public init(configuration: NodeHTTPConfiguration = NodeHTTPConfiguration(), status: any NodeStatusSource,
                metrics: NodeMetrics, logger: Logger,
                nowMillis: @escaping @Sendable () -> Int64 = NodeHTTPServer.systemNowMillis,
                extraRoutes: @escaping @Sendable (Router<NodeRequestContext>) -> Void = { _ in },
                webSocket: WebSocketRoute? = nil) {
        self.configuration = configuration
        self.status = status
        self.metrics = metrics
        self.logger = logger
        self.nowMillis = nowMillis
        self.extraRoutes = extraRoutes
        self.webSocket = webSocket
    }

    /// Chooses the handler of a WebSocket upgrade from the path and the client's address.
    public typealias WebSocketRoute = @Sendable (_ path: String, _ remote: String) -> WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>?

    /// Milliseconds since 1970-01-01T00:00:00Z from the system clock.
    public static let systemNowMillis: @Sendable () -> Int64 = {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }

    /// The router this server serves, for tests that drive it without a socket.
    public func makeRouter() -> Router<NodeRequestContext> {
        NodeHTTPRoutes.makeRouter(configuration: configuration, status: status, metrics: metrics,
                                  nowMillis: nowMillis, extraRoutes: extraRoutes)
    }

    /// Serves until graceful shutdown (or cancellation). Throws
    /// ``NodeHTTPError/cannotListen(host:port:reason:)`` when the socket cannot be opened.
    public func run() async throws {
        let http1 = HTTP1Channel.Configuration(idleTimeout: TimeAmount(configuration.idleTimeout))
        let server: HTTPServerBuilder
        if let webSocket {
            server = .http1WebSocketUpgrade(configuration: .init(http1: http1, ws: .init(maxFrameSize: 1 << 20))) { request, channel, _ in
                let remote = channel.remoteAddress.map { "\($0)" } ?? "-"
                guard let handler = webSocket(request.path ?? "", remote) else { return .dontUpgrade }
                return .upgrade([:], handler)
            }
        } else {
            server = .http1(configuration: http1)
        }
        let app = Application(
            router: makeRouter(),
            server: server,
            configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port),
                                                    serverName: "hansa"),
            onServerRunning: { [self] channel in self.didListen(port: channel.localAddress?.port ?? configuration.port) },
            logger: logger)
        do {
            try await app.run()
        } catch {
            let failure = NodeHTTPError.cannotListen(host: configuration.host, port: configuration.port, reason: "\(error)")
            let neverListened = stop(with: failure)
            if neverListened { throw failure }
            throw error
        }
        _ = stop(with: .notListening)
    }

    /// The TCP port the server listens on (the kernel's choice when configured with 0); waits
    /// until it listens. Throws ``NodeHTTPError`` if it stopped before listening.
    public func boundPort() async throws -> Int {
        try await withCheckedThrowingContinuation { continuation in
            let answer: Result<Int, NodeHTTPError>? = listening.withLock { state in
                switch state {
                case .waiting(var waiters):
                    waiters.append(continuation)
                    state = .waiting(waiters)
                    return nil
                case .listening(let port): return .success(port)
                case .stopped(let error): return .failure(error)
                }
            }
            if let answer { continuation.resume(with: answer) }
        }
    }

    /// Callers of ``boundPort()`` waiting for the server to listen (for tests).
    var pendingWaiters: Int {
        listening.withLock { state in
            if case .waiting(let waiters) = state { return waiters.count }
            return 0
        }
    }

    private func didListen(port: Int) {
        logger.info("HTTP server listening", metadata: ["address": "\(configuration.host):\(port)"])
        let waiters = listening.withLock { state in
            guard case .waiting(let waiters) = state else { return [CheckedContinuation<Int, any Error>]() }
            state = .listening(port)
            return waiters
        }
        for waiter in waiters { waiter.resume(returning: port) }
    }

    /// Records the stop; true when the server had never listened.
    private func stop(with error: NodeHTTPError) -> Bool {
        let waiters: [CheckedContinuation<Int, any Error>]? = listening.withLock { state in
            defer { state = .stopped(error) }
            guard case .waiting(let pending) = state else { return nil }
            return pending
        }
        for waiter in waiters ?? [] { waiter.resume(throwing: error) }
        return waiters != nil
    }
}
