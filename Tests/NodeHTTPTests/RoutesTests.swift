import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
@testable import NodeHTTP

/// The routes through HummingbirdTesting's router client (no socket).
@Suite("HTTP routes")
struct RoutesTests {
    static func app(status: any NodeStatusSource, metrics: NodeMetrics = NodeMetrics(),
                    configuration: NodeHTTPConfiguration = NodeHTTPConfiguration(),
                    extraRoutes: @escaping @Sendable (Router<NodeRequestContext>) -> Void = { _ in }) -> some ApplicationProtocol {
        let server = NodeHTTPServer(configuration: configuration, status: status, metrics: metrics,
                                    logger: Logger(label: "test"), nowMillis: { Fixture.nowMillis },
                                    extraRoutes: extraRoutes)
        return Application(router: server.makeRouter())
    }

    static func json(_ response: TestResponse) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8))
        return try #require(object as? [String: Any])
    }

    @Test("/health of a healthy node: 200, every status field, status ok")
    func healthOK() async throws {
        let source = StoredNodeStatus(Fixture.validator())
        try await Self.app(status: source).test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
                let body = try Self.json(response)
                #expect(body["status"] as? String == "ok")
                #expect((body["reasons"] as? [String]) == [])
                #expect(body["role"] as? String == "validator")
                #expect(body["nodeName"] as? String == "bank-a-1")
                #expect(body["chainID"] as? String == "hansa-test")
                #expect(body["height"] as? Int == 42)
                #expect(body["headHashHex"] as? String == String(repeating: "ab", count: 32))
                #expect(body["view"] as? Int == 3)
                #expect(body["primaryIndex"] as? Int == 3)
                #expect(body["peersConnected"] as? Int == 4)
                #expect(body["peersExpected"] as? Int == 4)
                #expect(body["syncing"] as? Bool == false)
                #expect(body["lastCommitMillis"] as? Int == Int(Fixture.nowMillis - 1_000))
                #expect(body["mempoolTransactions"] as? Int == 5)
                #expect(body["mempoolBytes"] as? Int == 1_200)
                #expect((body["uptimeSeconds"] as? NSNumber)?.doubleValue == 3_600)
                #expect(body["version"] as? String == "0.1.0-test")
            }
        }
    }

    @Test("/health follows the node: ok → syncing (503) → degraded (503) → ok")
    func healthTransitions() async throws {
        let source = StoredNodeStatus(Fixture.validator())
        try await Self.app(status: source).test(.router) { client in
            func check(_ code: Int, _ state: String, reasonContains word: String?) async throws {
                try await client.execute(uri: "/health", method: .get) { response in
                    #expect(response.status.code == code)
                    let body = try Self.json(response)
                    #expect(body["status"] as? String == state)
                    let reasons = body["reasons"] as? [String] ?? []
                    if let word { #expect(reasons.contains { $0.contains(word) }, "\(reasons)") } else { #expect(reasons.isEmpty) }
                }
            }
            try await check(200, "ok", reasonContains: nil)
            source.update { $0.syncing = true; $0.syncTargetHeight = 500 }
            try await check(503, "syncing", reasonContains: "500")
            source.update { $0.syncing = false; $0.syncTargetHeight = nil; $0.validatorPeersConnected = 1 }
            try await check(503, "degraded", reasonContains: "quorum")
            source.update { $0.validatorPeersConnected = 3; $0.lastCommitMillis = Fixture.nowMillis - 45_000 }
            try await check(503, "degraded", reasonContains: "no commit")
            source.update { $0.lastCommitMillis = Fixture.nowMillis }
            try await check(200, "ok", reasonContains: nil)
        }
    }

    @Test("/health answers 503 degraded when the node does not answer within the timeout")
    func healthOfAStuckNode() async throws {
        /// Ignores cancellation, like a node stuck in a loop, until released (or a minute passed).
        /// A 503 can only come from the deadline: unreleased, this answers ok after a minute.
        struct Stuck: NodeStatusSource {
            let released = LockedBox(false)
            func status() async -> NodeStatus {
                let until = ContinuousClock.now + .seconds(60)
                while !released.value, ContinuousClock.now < until { try? await Task.sleep(for: .milliseconds(20)) }
                return Fixture.validator()
            }
        }
        let configuration = NodeHTTPConfiguration(requestTimeout: .milliseconds(100))
        let stuck = Stuck()
        defer { stuck.released.value = true }
        try await Self.app(status: stuck, configuration: configuration).test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let body = try Self.json(response)
                #expect(body["status"] as? String == "degraded")
                #expect((body["reasons"] as? [String])?.first?.contains("did not answer") == true)
            }
        }
    }

    @Test("/metrics: Prometheus text with the node's series")
    func metrics() async throws {
        let metrics = NodeMetrics()
        metrics.committed(height: 12, transactions: 3, bytes: 900, latencySeconds: 0.05)
        metrics.invalidMessage(peer: "bank-c-1", reason: "decode")
        try await Self.app(status: StoredNodeStatus(Fixture.validator()), metrics: metrics).test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
                let text = String(buffer: response.body)
                #expect(text.contains("hansa_height 12.0\n"))
                #expect(text.contains("hansa_transactions_committed_total 3\n"))
                #expect(text.contains(#"hansa_invalid_messages_total{peer="bank-c-1",reason="decode"} 1"#))
            }
        }
    }

    @Test("unknown routes and methods: 404 with a JSON error")
    func notFound() async throws {
        try await Self.app(status: StoredNodeStatus(Fixture.validator())).test(.router) { client in
            for (uri, method) in [("/nope", HTTPRequest.Method.get), ("/", .get), ("/health", .post)] {
                try await client.execute(uri: uri, method: method) { response in
                    #expect(response.status == .notFound, "\(method) \(uri)")
                    let error = try #require(try Self.json(response)["error"] as? [String: Any])
                    #expect((error["message"] as? String)?.contains(uri) == true)
                }
            }
        }
    }

    @Test("extra routes join the router and share its limits")
    func extraRoutesAndBodyLimit() async throws {
        let configuration = NodeHTTPConfiguration(maxRequestBodyBytes: 64)
        let app = Self.app(status: StoredNodeStatus(Fixture.validator()), configuration: configuration) { router in
            router.post("/rpc") { request, context -> String in
                let body = try await request.body.collect(upTo: .max)
                return "\(body.readableBytes) bytes, limit \(context.maxUploadSize)"
            }
        }
        try await app.test(.router) { client in
            try await client.execute(uri: "/rpc", method: .post, body: ByteBuffer(string: String(repeating: "x", count: 64))) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "64 bytes, limit 64")
            }
            try await client.execute(uri: "/rpc", method: .post, body: ByteBuffer(string: String(repeating: "x", count: 65))) { response in
                #expect(response.status == .contentTooLarge)
                let error = try #require(try Self.json(response)["error"] as? [String: Any])
                #expect((error["message"] as? String) == "request body of 65 bytes exceeds the limit of 64 bytes")
            }
        }
    }

    @Test("a handler past the deadline gets 503 through withRequestDeadline")
    func handlerDeadline() async throws {
        let configuration = NodeHTTPConfiguration(requestTimeout: .milliseconds(50))
        let app = Self.app(status: StoredNodeStatus(Fixture.validator()), configuration: configuration) { router in
            router.get("/slow") { _, context -> String in
                try await withRequestDeadline(context.requestTimeout) {
                    try await Task.sleep(for: .seconds(60))
                    return "late"
                }
            }
        }
        try await app.test(.router) { client in
            try await client.execute(uri: "/slow", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(String(buffer: response.body).contains("longer than"))
            }
        }
    }
}
