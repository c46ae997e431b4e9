import Logging
import Testing
@testable import RPC

/// JSON-RPC 2.0 to the letter (https://www.jsonrpc.org/specification), section by section,
/// with a two-method server.
@Suite("JSON-RPC 2.0 envelope")
struct JSONRPCTests {
    static let server = JSONRPCServer(methods: [
        RPCMethod("echo", "returns its params", params: [RPCParam("a", "a value", schema: .object([:])),
                                                          RPCParam("b", required: false, "another", schema: .object([:]))],
                  result: "echo", schema: .object([:])) { call throws(RPCError) in .object(call.params.values) },
        RPCMethod("fail", "always fails", result: "none", schema: .object([:])) { _ throws(RPCError) in
            throw .invalidParams("no good")
        },
        RPCMethod("wsonly", "subscriptions", result: "none", schema: .object([:]), webSocketOnly: true) { _ throws(RPCError) in .null },
    ], limits: RPCLimits(), logger: Logger(label: "test"))

    func respond(_ text: String, transport: RPCTransport = .http) async throws -> JSON? {
        guard let answer = await Self.server.respond(to: Array(text.utf8), transport: transport, remote: "test") else { return nil }
        return try JSON.parse(answer)
    }

    func code(_ j: JSON?) -> Int? { j?["error"]?["code"]?.integer(Int.self) }

    @Test("§4: a call by name and by position; the result with the id")
    func call() async throws {
        let byName = try await respond(#"{"jsonrpc":"2.0","method":"echo","params":{"a":1},"id":7}"#)
        #expect(byName == .object(["jsonrpc": "2.0", "result": .object(["a": .number("1")]), "id": .number("7")]))
        let byPosition = try await respond(#"{"jsonrpc":"2.0","method":"echo","params":[1,"x"],"id":"s"}"#)
        #expect(byPosition?["result"] == .object(["a": .number("1"), "b": .string("x")]))
        #expect(byPosition?["id"] == .string("s"))
    }

    @Test("§5: the id is echoed exactly — a string, a number as written, or null", arguments: [#""abc""#, "1.50", "-0", "1e3", "null", "99999999999999999999"])
    func idEchoed(_ id: String) async throws {
        let answer = await Self.server.respond(to: Array(#"{"jsonrpc":"2.0","method":"echo","params":{"a":true},"id":\#(id)}"#.utf8),
                                               transport: .http, remote: "t")
        #expect(answer?.hasSuffix(#","id":\#(id)}"#) == true)
    }

    @Test("§4.1: a notification gets no response, even when it fails; a batch of notifications none at all")
    func notifications() async throws {
        #expect(try await respond(#"{"jsonrpc":"2.0","method":"echo","params":{"a":1}}"#) == nil)
        #expect(try await respond(#"{"jsonrpc":"2.0","method":"fail"}"#) == nil)
        #expect(try await respond(#"{"jsonrpc":"2.0","method":"nosuch"}"#) == nil)
        #expect(try await respond(#"[{"jsonrpc":"2.0","method":"echo","params":{"a":1}},{"jsonrpc":"2.0","method":"fail"}]"#) == nil)
    }

    @Test("§5.1: the standard error codes", arguments: [
        (#"{"jsonrpc":"2.0","method":"echo","params":{"a":1},"id":1"#, -32700),   // not JSON
        (#"{"jsonrpc":"1.0","method":"echo","id":1}"#, -32600),                    // wrong version
        (#"{"method":"echo","id":1}"#, -32600),                                     // no version
        (#"{"jsonrpc":"2.0","method":5,"id":1}"#, -32600),                          // method not a string
        (#"{"jsonrpc":"2.0","method":"echo","params":3,"id":1}"#, -32600),          // params not structured
        (#"{"jsonrpc":"2.0","method":"echo","id":{"x":1}}"#, -32600),               // id an object
        (#"{"jsonrpc":"2.0","method":"echo","id":[1]}"#, -32600),                   // id an array
        (#"{"jsonrpc":"2.0","method":"echo","id":true}"#, -32600),                  // id a boolean
        (#"{"jsonrpc":"2.0","method":"echo","id":1,"extra":1}"#, -32600),           // a member the spec does not define
        (#""just a string""#, -32600),
        (#"[]"#, -32600),                                                           // an empty batch
        (#"{"jsonrpc":"2.0","method":"nosuch","id":1}"#, -32601),
        (#"{"jsonrpc":"2.0","method":"echo","id":1}"#, -32602),                     // missing required a
        (#"{"jsonrpc":"2.0","method":"echo","params":{"a":1,"c":2},"id":1}"#, -32602),  // unknown name
        (#"{"jsonrpc":"2.0","method":"echo","params":[1,2,3],"id":1}"#, -32602),    // too many positional
        (#"{"jsonrpc":"2.0","method":"wsonly","id":1}"#, -32601),                    // over HTTP
    ])
    func errors(_ text: String, _ expected: Int) async throws {
        let answer = try #require(try await respond(text))
        #expect(code(answer) == expected, "\(answer)")
        #expect(answer["error"]?["message"]?.stringValue?.isEmpty == false)
        #expect(answer["error"]?["data"]?["reason"]?.stringValue?.isEmpty == false)
        #expect(answer["jsonrpc"] == "2.0")
    }

    @Test("§5.1: a parse error and an invalid request whose id cannot be read answer with id null")
    func nullIDs() async throws {
        #expect(try await respond("{")?["id"] == .null)
        #expect(try await respond(#"{"jsonrpc":"2.0","method":"echo","id":{}}"#)?["id"] == .null)
    }

    @Test("§6: a batch answers in order, leaving out notifications; an invalid element gets its own error")
    func batch() async throws {
        let answer = try #require(try await respond(#"""
            [{"jsonrpc":"2.0","method":"echo","params":{"a":1},"id":1},
             {"jsonrpc":"2.0","method":"echo","params":{"a":2}},
             1,
             {"jsonrpc":"2.0","method":"fail","id":"f"},
             {"jsonrpc":"2.0","method":"echo","params":{"a":3},"id":3}]
            """#)?.arrayValue)
        #expect(answer.count == 4)
        #expect(answer[0]["id"] == .number("1"))
        #expect(code(answer[1]) == -32600 && answer[1]["id"] == .null)
        #expect(code(answer[2]) == -32602 && answer[2]["id"] == "f")
        #expect(answer[3]["result"]?["a"] == .number("3"))
    }

    @Test("a batch longer than max_batch_requests is one limit error that names the limit")
    func batchLimit() async throws {
        let one = #"{"jsonrpc":"2.0","method":"echo","params":{"a":1},"id":1}"#
        let n = RPCLimits().maxBatchRequests
        let ok = try #require(try await respond("[" + Array(repeating: one, count: n).joined(separator: ",") + "]")?.arrayValue)
        #expect(ok.count == n)
        let over = try #require(try await respond("[" + Array(repeating: one, count: n + 1).joined(separator: ",") + "]"))
        #expect(code(over) == RPCError.codeLimitExceeded)
        #expect(over["error"]?["data"]?["limit"] == "max_batch_requests")
    }

    @Test("the WebSocket-only method is answered over a WebSocket")
    func webSocketOnly() async throws {
        #expect(try await respond(#"{"jsonrpc":"2.0","method":"wsonly","id":1}"#, transport: .webSocket)?["result"] == .null)
    }
}
