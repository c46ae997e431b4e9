import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NodeHTTP

extension HansaRPC {
    /// The HTTP endpoint's path.
    public static let httpPath = "/rpc"
    /// The WebSocket endpoint's path.
    public static let webSocketPath = "/ws"

    /// `POST /rpc`: one JSON-RPC request or batch per body (the server's body limit applies);
    /// 200 with the response, or 204 when every request was a notification.
    public func register(on router: Router<NodeRequestContext>) {
        router.post(RouterPath(Self.httpPath)) { [self] request, context -> Response in
            if let type = request.headers[.contentType], !type.lowercased().hasPrefix("application/json") {
                throw HTTPError(.unsupportedMediaType, message: "send JSON-RPC as application/json, not \(type)")
            }
            let body = try await request.body.collect(upTo: context.maxRequestBodyBytes)
            let remote = context.remoteAddress.map { "\($0)" } ?? "-"
            guard let answer = await respond(to: body.readableBytesView, transport: .http, remote: remote) else {
                return Response(status: .noContent)
            }
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            headers[.cacheControl] = "no-store"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: answer)))
        }
    }

    /// The WebSocket handler for `GET /ws` (nil for any other path), for the HTTP server's
    /// upgrade: each text message is a JSON-RPC request or batch, answered on the same
    /// connection; subscriptions push notifications. Limits: connections at once, message
    /// size, requests per second (a token bucket), subscriptions per connection.
    public func webSocketHandler(path: String, remote: String) -> WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>? {
        guard path == Self.webSocketPath || path.hasPrefix(Self.webSocketPath + "?") else { return nil }
        return { [self] inbound, outbound, _ in
            guard connections.withLockedValue({ n -> Bool in
                guard n < limits.maxWebSocketConnections else { return false }
                n += 1
                return true
            }) else {
                try await outbound.close(.policyViolation, reason: "too many WebSocket connections (\(limits.maxWebSocketConnections))")
                return
            }
            let session = WebSocketSession(rpc: self) { text in try await outbound.write(.text(text)) }
            var bucket = TokenBucket(rate: Double(limits.maxRequestsPerSecondPerConnection))
            defer {
                session.close()
                connections.withLockedValue { $0 -= 1 }
            }
            do {
                for try await message in inbound.messages(maxSize: limits.maxWebSocketMessageBytes) {
                    guard case .text(let text) = message else {
                        try await outbound.write(.text(JSONRPCServer.response(id: .null, error: .invalidRequest("send JSON-RPC as text messages")).serialized()))
                        continue
                    }
                    // A message in one frame is bounded by the frame size only: check the RPC's own limit.
                    guard text.utf8.count <= limits.maxWebSocketMessageBytes else {
                        let e = RPCError.limit("max_websocket_message_bytes", value: text.utf8.count, max: limits.maxWebSocketMessageBytes,
                                               "a message of \(text.utf8.count) bytes; at most \(limits.maxWebSocketMessageBytes) are allowed")
                        try await outbound.write(.text(JSONRPCServer.response(id: .null, error: e).serialized()))
                        try await outbound.close(.messageTooLarge, reason: "message over \(limits.maxWebSocketMessageBytes) bytes")
                        return
                    }
                    guard bucket.take(now: Date()) else {
                        let e = RPCError(code: RPCError.codeRateLimited, message: "more than \(limits.maxRequestsPerSecondPerConnection) requests a second on this connection",
                                         reason: "rate_limited")
                        try await outbound.write(.text(JSONRPCServer.response(id: .null, error: e).serialized()))
                        continue
                    }
                    if let answer = await respond(to: Array(text.utf8), transport: .webSocket, remote: remote, connection: session) {
                        try await outbound.write(.text(answer))
                    }
                }
            } catch {
                logger.debug("WebSocket connection ended", metadata: ["remote": "\(remote)", "error": "\(error)"])
            }
        }
    }

    var connections: NIOLockedValueBox<Int> { webSocketCount }
}

/// Requests a connection may send: `rate` a second, with a burst of `rate`.
struct TokenBucket {
    let rate: Double
    var tokens: Double
    var last = Date()

    init(rate: Double) { self.rate = rate; self.tokens = rate }

    mutating func take(now: Date) -> Bool {
        tokens = min(rate, tokens + now.timeIntervalSince(last) * rate)
        last = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
