import ChainTypes
import Foundation
import HansaCrypto
import HummingbirdWSClient
import Ledger
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NodeHTTP
@testable import RPC
import ServiceLifecycle
import Testing

/// The RPC on the node's real HTTP server on 127.0.0.1 (a port the kernel picks): JSON-RPC
/// over HTTP POST, and WebSocket subscriptions that resume after a dropped connection.
@Suite("RPC on a socket", .serialized, .timeLimit(.minutes(2)))
struct RPCSocketTests {
    struct Status: NodeStatusSource {
        func status() async -> NodeStatus {
            NodeStatus(role: .validator, nodeName: "instant", chainID: "dev", height: 0, headHashHex: "", view: 0, primaryIndex: 0,
                       peersConnected: 0, peersExpected: 0, validatorPeersConnected: 0, validatorCount: 4, syncing: false,
                       syncTargetHeight: nil, lastCommitMillis: nil, mempoolTransactions: 0, mempoolBytes: 0, uptimeSeconds: 0, version: "test")
        }
    }

    static func withServer<T>(_ rpc: HansaRPC, _ body: (Int) async throws -> T) async throws -> T {
        let server = NodeHTTPServer(configuration: NodeHTTPConfiguration(host: "127.0.0.1", port: 0), status: Status(), metrics: NodeMetrics(),
                                    logger: Logger(label: "rpc-socket-test"), extraRoutes: { rpc.register(on: $0) },
                                    webSocket: { path, remote in rpc.webSocketHandler(path: path, remote: remote) })
        let group = ServiceGroup(services: [server], logger: Logger(label: "test"))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let port = try await server.boundPort()
            let result = try await body(port)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        }
    }

    /// POSTs `body` to /rpc with `Connection: close` and returns the status code and body.
    static func post(_ body: String, port: Int, contentType: String = "application/json") async throws -> (Int, String) {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port) { ch in
            ch.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: ch) }
        }
        let request = "POST /rpc HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.utf8.count)\r\n"
            + "Connection: close\r\n\r\n" + body
        var answer = ByteBuffer()
        try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: request))
            for try await var part in inbound { answer.writeBuffer(&part) }
        }
        let text = String(buffer: answer)
        let status = Int(text.split(separator: " ").dropFirst().first ?? "") ?? 0
        let payload = text.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
        return (status, payload)
    }

    @Test("HTTP: a call, a batch, a notification (204), a wrong content type (415), a parse error")
    func http() async throws {
        let node = try InstantNode()
        let rpc = node.rpc()
        defer { rpc.shutdown() }
        try await Self.withServer(rpc) { port in
            let (status, body) = try await Self.post(#"{"jsonrpc":"2.0","method":"chain.info","id":1}"#, port: port)
            #expect(status == 200)
            #expect(try JSON.parse(body)["result"]?["height"] == "4")
            let (_, batch) = try await Self.post(#"[{"jsonrpc":"2.0","method":"chain.info","id":1},{"jsonrpc":"2.0","method":"x","id":2}]"#, port: port)
            #expect(try JSON.parse(batch).arrayValue?.count == 2)
            #expect(try await Self.post(#"{"jsonrpc":"2.0","method":"chain.info"}"#, port: port).0 == 204)
            #expect(try await Self.post("{}", port: port, contentType: "text/plain").0 == 415)
            let (_, bad) = try await Self.post("{", port: port)
            #expect(try JSON.parse(bad)["error"]?["code"] == .number("-32700"))
        }
    }

    /// Subscribes over a WebSocket, collects `count` notifications (after sending `then` once
    /// subscribed), and closes.
    static func subscribe(port: Int, _ params: JSONObject, count: Int, then: @escaping @Sendable () async throws -> Void = {}) async throws -> [JSON] {
        let received = NIOLockedValueBox<[JSON]>([])
        let request: JSON = .object(["jsonrpc": "2.0", "method": "subscribe", "params": .object(params), "id": .int(1)])
        let client = WebSocketClient(url: "ws://127.0.0.1:\(port)/ws", logger: Logger(label: "ws-client")) { inbound, outbound, _ in
            try await outbound.write(.text(request.serialized()))
            var subscribed = false
            for try await message in inbound.messages(maxSize: 1 << 20) {
                guard case .text(let text) = message, let j = try? JSON.parse(text) else { continue }
                if !subscribed {
                    #expect(j["result"]?.stringValue != nil, "\(j)")
                    subscribed = true
                    try await then()
                    continue
                }
                let n = received.withLockedValue { r -> Int in r.append(j); return r.count }
                if n == count { break }
            }
            try await outbound.close(.normalClosure, reason: nil)
        }
        try await client.run()
        return received.withLockedValue { $0 }
    }

    @Test("WebSocket: heads arrive as blocks commit; an events subscription resumed after a drop from its last cursor misses none and repeats none")
    func subscriptions() async throws {
        let node = try InstantNode()
        let rpc = node.rpc()
        defer { rpc.shutdown() }
        let importer = node.chain.importer
        let to = node.chain.exporter.publicKey.address
        @Sendable func transfer() async throws {
            let tx = node.signed(importer, .transfer, TransferPayload(to: to, currency: node.chain.dev.usd, amount: 1))
            _ = try await node.submit(tx)
        }
        try await Self.withServer(rpc) { port in
            let heads = try await Self.subscribe(port: port, ["kind": "heads"], count: 2) {
                try await transfer()
                try await transfer()
            }
            #expect(heads.map { $0["params"]?["result"]?["header"]?["height"] } == ["5", "6"])

            // All of the importer's events from the start, then a drop after 3, then the rest.
            let params: JSONObject = ["kind": "events", "party": .string(importer.publicKey.address.text), "from_height": "1"]
            var signedParams = params
            signedParams["auth"] = node.auth(importer, "subscribe", params)
            let first = try await Self.subscribe(port: port, signedParams, count: 3)
            let cursor = try #require(first.last?["params"]?["result"]?["cursor"])
            try await transfer()
            var resume: JSONObject = ["kind": "events", "party": .string(importer.publicKey.address.text), "after": cursor]
            resume["auth"] = node.auth(importer, "subscribe", resume)
            let expectedTotal = try await call(rpc, "events.query", {
                var p: JSONObject = ["party": .string(importer.publicKey.address.text)]
                p["auth"] = node.auth(importer, "events.query", p)
                return p
            }())["result"]?["events"]?.arrayValue?.count ?? 0
            let rest = try await Self.subscribe(port: port, resume, count: expectedTotal - 3)
            let cursors = (first + rest).compactMap { $0["params"]?["result"]?["cursor"]?.stringValue }
            #expect(cursors.count == expectedTotal)
            #expect(Set(cursors).count == cursors.count, "no event twice")
            let ordered = cursors.compactMap(EventCursor.init(text:))
            #expect(ordered == ordered.sorted(), "in chain order")
        }
    }

    @Test("limits on a socket: a body over the server's limit is 413; a WebSocket message over its limit closes that connection")
    func transportLimits() async throws {
        let node = try InstantNode()
        var limits = RPCLimits()
        limits.maxWebSocketMessageBytes = 4_096
        let rpc = node.rpc(limits: limits)
        defer { rpc.shutdown() }
        try await Self.withServer(rpc) { port in
            let big = #"{"jsonrpc":"2.0","method":"chain.info","params":{"pad":""# + String(repeating: "x", count: NodeHTTPConfiguration().maxRequestBodyBytes) + #""},"id":1}"#
            #expect(try await Self.post(big, port: port).0 == 413)

            let answers = NIOLockedValueBox(0)
            let client = WebSocketClient(url: "ws://127.0.0.1:\(port)/ws", logger: Logger(label: "ws-big")) { inbound, outbound, _ in
                try await outbound.write(.text(#"{"jsonrpc":"2.0","method":"chain.info","id":1}"#))
                try await outbound.write(.text(String(repeating: " ", count: 8_192) + "{}"))
                for try await _ in inbound.messages(maxSize: 1 << 20) { answers.withLockedValue { $0 += 1 } }
            }
            let closed = try await client.run()
            #expect(answers.withLockedValue { $0 } == 2)  // chain.info, then the limit error
            #expect(closed?.closeCode == .messageTooLarge, "\(String(describing: closed))")
        }
    }

    @Test("WebSocket connections over the limit are closed at once, without an answer")
    func connectionLimit() async throws {
        let node = try InstantNode()
        var limits = RPCLimits()
        limits.maxWebSocketConnections = 1
        let rpc = node.rpc(limits: limits)
        defer { rpc.shutdown() }
        try await Self.withServer(rpc) { port in
            let holding = AsyncStream<Void>.makeStream()
            let release = AsyncStream<Void>.makeStream()
            let first = Task {
                let client = WebSocketClient(url: "ws://127.0.0.1:\(port)/ws", logger: Logger(label: "ws-1")) { inbound, outbound, _ in
                    try await outbound.write(.text(#"{"jsonrpc":"2.0","method":"chain.info","id":1}"#))
                    var it = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                    _ = try await it.next()
                    holding.continuation.yield()
                    for await _ in release.stream { break }
                    try await outbound.close(.normalClosure, reason: nil)
                }
                return try await client.run()
            }
            for await _ in holding.stream { break }
            let second = NIOLockedValueBox<[String]>([])
            let client = WebSocketClient(url: "ws://127.0.0.1:\(port)/ws", logger: Logger(label: "ws-2")) { inbound, outbound, _ in
                try? await outbound.write(.text(#"{"jsonrpc":"2.0","method":"chain.info","id":2}"#))
                for try await m in inbound.messages(maxSize: 1 << 20) { if case .text(let t) = m { second.withLockedValue { $0.append(t) } } }
            }
            let closed = try await client.run()
            #expect(second.withLockedValue { $0 }.isEmpty)
            #expect(closed?.closeCode == .policyViolation, "\(String(describing: closed))")
            release.continuation.yield()
            _ = try await first.value
        }
    }

    @Test("WebSocket: over the per-connection request rate, requests get rate_limited until the bucket refills")
    func rateLimit() async throws {
        let node = try InstantNode()
        var limits = RPCLimits()
        limits.maxRequestsPerSecondPerConnection = 5
        let rpc = node.rpc(limits: limits)
        defer { rpc.shutdown() }
        try await Self.withServer(rpc) { port in
            let answers = NIOLockedValueBox<[JSON]>([])
            let client = WebSocketClient(url: "ws://127.0.0.1:\(port)/ws", logger: Logger(label: "ws-client")) { inbound, outbound, _ in
                for i in 0..<20 { try await outbound.write(.text(#"{"jsonrpc":"2.0","method":"chain.info","id":\#(i)}"#)) }
                for try await message in inbound.messages(maxSize: 1 << 20) {
                    guard case .text(let text) = message, let j = try? JSON.parse(text) else { continue }
                    if answers.withLockedValue({ $0.append(j); return $0.count }) == 20 { break }
                }
                try await outbound.close(.normalClosure, reason: nil)
            }
            try await client.run()
            let got = answers.withLockedValue { $0 }
            let limited = got.filter { $0["error"]?["data"]?["reason"] == "rate_limited" }.count
            #expect(limited >= 10 && limited <= 15, "\(limited) of 20 rate-limited")
            #expect(got.filter { $0["result"] != nil }.count == 20 - limited)
        }
    }

    @Test("WebSocket: subscriptions per connection are limited; unsubscribe ends one; subscribe over HTTP is refused")
    func limits() async throws {
        let node = try InstantNode()
        var limits = RPCLimits()
        limits.maxSubscriptionsPerConnection = 1
        let rpc = node.rpc(limits: limits)
        defer { rpc.shutdown() }
        try await Self.withServer(rpc) { port in
            let (_, body) = try await Self.post(#"{"jsonrpc":"2.0","method":"subscribe","params":{"kind":"heads"},"id":1}"#, port: port)
            #expect(try JSON.parse(body)["error"]?["data"]?["reason"] == "websocket_only")
            let answers = NIOLockedValueBox<[JSON]>([])
            let client = WebSocketClient(url: "ws://127.0.0.1:\(port)/ws", logger: Logger(label: "ws-client")) { inbound, outbound, _ in
                let sub = #"{"jsonrpc":"2.0","method":"subscribe","params":{"kind":"heads"},"id":1}"#
                try await outbound.write(.text(sub))
                try await outbound.write(.text(sub.replacingOccurrences(of: "\"id\":1", with: "\"id\":2")))
                try await outbound.write(.text(#"{"jsonrpc":"2.0","method":"unsubscribe","params":{"subscription":"1"},"id":3}"#))
                for try await message in inbound.messages(maxSize: 1 << 20) {
                    guard case .text(let text) = message, let j = try? JSON.parse(text) else { continue }
                    if answers.withLockedValue({ $0.append(j); return $0.count }) == 3 { break }
                }
                try await outbound.close(.normalClosure, reason: nil)
            }
            try await client.run()
            let got = answers.withLockedValue { $0 }
            #expect(got[0]["result"] == "1")
            #expect(got[1]["error"]?["data"]?["limit"] == "max_subscriptions_per_connection")
            #expect(got[2]["result"] == true)
        }
    }
}
