import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Testing
@testable import NodeHTTP

/// The server on a real socket: 127.0.0.1, port 0, under a ServiceGroup like the node's.
@Suite("HTTP server on a socket", .timeLimit(.minutes(1)))
struct SocketTests {
    /// A response read by ``get(_:port:)``.
    struct RawResponse {
        let statusCode: Int
        let headers: [String: String]
        let body: String
    }

    /// A minimal HTTP/1.1 client: one GET with `Connection: close`, read to EOF, split head/body.
    static func get(_ path: String, port: Int) async throws -> RawResponse {
        try await send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", port: port)
    }

    /// Sends `raw` bytes as they are (the request must ask for `Connection: close`), reads to EOF.
    static func send(_ raw: String, port: Int) async throws -> RawResponse {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        var received = ByteBuffer()
        try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: raw))
            for try await var chunk in inbound { received.writeBuffer(&chunk) }
        }
        let text = String(buffer: received)
        let parts = text.split(separator: "\r\n\r\n", maxSplits: 1, omittingEmptySubsequences: false)
        let headLines = try #require(parts.first).split(separator: "\r\n")
        let statusLine = try #require(headLines.first).split(separator: " ")
        let code = try #require(Int(statusLine[1]))
        var headers: [String: String] = [:]
        for line in headLines.dropFirst() {
            let pair = line.split(separator: ":", maxSplits: 1)
            headers[pair[0].lowercased()] = pair[1].trimmingCharacters(in: .whitespaces)
        }
        return RawResponse(statusCode: code, headers: headers, body: parts.count > 1 ? String(parts[1]) : "")
    }

    static func withServer<T>(_ server: NodeHTTPServer, _ body: (Int) async throws -> T) async throws -> T {
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

    @Test("port 0: the bound port is readable; /metrics and /health answer over TCP; shutdown is graceful")
    func realSocket() async throws {
        let metrics = NodeMetrics()
        metrics.committed(height: 77, transactions: 4, bytes: 2_000, latencySeconds: 0.2)
        let source = StoredNodeStatus(Fixture.validator())
        let server = NodeHTTPServer(configuration: NodeHTTPConfiguration(port: 0), status: source, metrics: metrics,
                                    logger: Logger(label: "test"), nowMillis: { Fixture.nowMillis })
        try await Self.withServer(server) { port in
            #expect(port > 0)
            let metricsResponse = try await Self.get("/metrics", port: port)
            #expect(metricsResponse.statusCode == 200)
            #expect(metricsResponse.headers["content-type"] == NodeHTTPRoutes.metricsContentType)
            #expect(metricsResponse.body.contains("hansa_height 77.0\n"))
            #expect(metricsResponse.body.contains("hansa_commit_latency_seconds_count 1\n"))

            let health = try await Self.get("/health", port: port)
            #expect(health.statusCode == 200)
            #expect(health.body.contains(#""status":"ok""#))

            source.update { $0.syncing = true; $0.syncTargetHeight = 100 }
            let syncing = try await Self.get("/health", port: port)
            #expect(syncing.statusCode == 503)
            #expect(syncing.body.contains(#""status":"syncing""#))

            let missing = try await Self.get("/admin", port: port)
            #expect(missing.statusCode == 404)
            #expect(missing.body.contains(#""error""#))
        }
        await #expect(throws: NodeHTTPError.notListening) { try await server.boundPort() }
    }

    @Test("a port in use: run throws a sentence naming the address, boundPort does not hang")
    func portInUse() async throws {
        let first = NodeHTTPServer(configuration: NodeHTTPConfiguration(port: 0), status: StoredNodeStatus(Fixture.validator()),
                                   metrics: NodeMetrics(), logger: Logger(label: "test"))
        try await Self.withServer(first) { port in
            var configuration = NodeHTTPConfiguration(port: port)
            configuration.host = "127.0.0.1"
            let second = NodeHTTPServer(configuration: configuration, status: StoredNodeStatus(Fixture.validator()),
                                        metrics: NodeMetrics(), logger: Logger(label: "test"))
            // One caller waits before the failure (checked by the hook, so the test is not a race).
            let waiter = Task { try await second.boundPort() }
            while second.pendingWaiters == 0 { try await Task.sleep(for: .milliseconds(5)) }
            do {
                try await second.run()
                Issue.record("a second server bound \(port)")
            } catch let error as NodeHTTPError {
                guard case .cannotListen(let host, let badPort, _) = error else { Issue.record("\(error)"); return }
                #expect(host == "127.0.0.1" && badPort == port)
                #expect(error.description.hasPrefix("cannot listen for HTTP on 127.0.0.1:\(port): "))
            }
            // run() resumed the waiter before it threw; the deadline only turns a lost waiter into
            // a failure instead of a hang.
            for attempt in ["waiting before", "asking after"] {
                do {
                    _ = try await withRequestDeadline(.seconds(120)) {
                        attempt == "waiting before" ? try await waiter.value : try await second.boundPort()
                    }
                    Issue.record("boundPort answered for a server that never listened (\(attempt))")
                } catch {
                    guard case NodeHTTPError.cannotListen = error else { Issue.record("\(attempt): \(error)"); continue }
                }
            }
        }
    }

    @Test("a chunked body (no Content-Length) is cut with 413 once it passes the limit")
    func chunkedBodyLimit() async throws {
        let server = NodeHTTPServer(configuration: NodeHTTPConfiguration(port: 0, maxRequestBodyBytes: 64),
                                    status: StoredNodeStatus(Fixture.validator()), metrics: NodeMetrics(),
                                    logger: Logger(label: "test"), extraRoutes: { router in
            router.post("/rpc") { request, _ -> String in
                var count = 0
                for try await buffer in request.body { count += buffer.readableBytes }
                return "\(count) bytes"
            }
        })
        try await Self.withServer(server) { port in
            func chunked(_ chunks: Int) -> String {
                let chunk = String(repeating: "z", count: 30)
                let body = String(repeating: "1e\r\n\(chunk)\r\n", count: chunks) + "0\r\n\r\n"
                return "POST /rpc HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + body
            }
            let small = try await Self.send(chunked(2), port: port)
            #expect(small.statusCode == 200)
            #expect(small.body == "60 bytes")
            let large = try await Self.send(chunked(3), port: port)
            #expect(large.statusCode == 413)
            #expect(large.body.contains("request body exceeds the limit of 64 bytes"))
        }
    }
}
