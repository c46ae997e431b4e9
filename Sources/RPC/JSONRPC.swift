import Logging

/// The limits of the JSON-RPC endpoint (docs/RPC.md "Limits"); each is answered with a
/// `limit_exceeded` error that names it.
public struct RPCLimits: Sendable, Equatable {
    /// Requests in one batch.
    public var maxBatchRequests = 100
    /// Transactions in one `tx.submitBatch`.
    public var maxSubmitBatch = 1_000
    /// Blocks one events query or timeline may scan.
    public var maxQueryBlocks = 10_000
    /// Items one page may hold (events, credits, access-log entries).
    public var maxPageItems = 1_000
    /// Longest a submission may wait for its receipt.
    public var maxWaitMillis = 60_000
    /// Subscriptions one WebSocket connection may hold.
    public var maxSubscriptionsPerConnection = 16
    /// Requests one WebSocket connection may send per second (a token bucket with this rate
    /// and this burst); over it, a `rate_limited` error.
    public var maxRequestsPerSecondPerConnection = 200
    /// WebSocket connections at once.
    public var maxWebSocketConnections = 256
    /// Largest WebSocket message a client may send.
    public var maxWebSocketMessageBytes = 1 << 20
    /// Blocks one `audit.blocks` page may hold, and the stored bytes after which it stops
    /// adding more (at least one block; hex doubles them on the wire).
    public var maxAuditBlocks = 256
    public var maxAuditPageBytes = 4 << 20

    public init() {}
}

/// JSON-RPC 2.0 (https://www.jsonrpc.org/specification) over any transport: it takes a
/// request text and gives the response text, or nil when nothing is to be sent (a
/// notification, or a batch of notifications only).
///
/// To the letter: `jsonrpc` must be exactly "2.0"; an id is a string, a number or null and is
/// echoed exactly (its text is kept); a request without id is a notification and gets no
/// response, even on error; an empty batch is one invalid-request error; a batch answers
/// its requests in order, leaving out the notifications.
public struct JSONRPCServer: Sendable {
    public let methods: [String: RPCMethod]
    /// Method names in the order they were registered (the OpenRPC document's order).
    public let methodNames: [String]
    public let limits: RPCLimits
    let logger: Logger

    public init(methods: [RPCMethod], limits: RPCLimits, logger: Logger) {
        var table: [String: RPCMethod] = [:]
        for m in methods {
            precondition(table[m.name] == nil, "method \(m.name) registered twice")
            table[m.name] = m
        }
        self.methods = table
        self.methodNames = methods.map(\.name)
        self.limits = limits
        self.logger = logger
    }

    /// Answers one HTTP body or WebSocket message.
    public func respond(to body: some Collection<UInt8>, transport: RPCTransport, remote: String,
                        connection: (any RPCConnection)? = nil) async -> String? {
        let parsed: JSON
        do { parsed = try JSON.parse(body) } catch {
            return Self.response(id: .null, error: .parseError("\(error)")).serialized()
        }
        switch parsed {
        case .array(let items):
            guard !items.isEmpty else { return Self.response(id: .null, error: .invalidRequest("an empty batch")).serialized() }
            guard items.count <= limits.maxBatchRequests else {
                return Self.response(id: .null, error: .limit("max_batch_requests", value: items.count, max: limits.maxBatchRequests,
                                                               "a batch of \(items.count) requests; at most \(limits.maxBatchRequests) are allowed")).serialized()
            }
            // The requests of a batch run concurrently (§6 allows any order of processing); the
            // answers keep the requests' order.
            let answers = await withTaskGroup(of: (Int, JSON?).self) { group -> [JSON] in
                for (i, item) in items.enumerated() {
                    group.addTask { (i, await self.one(item, transport: transport, remote: remote, connection: connection)) }
                }
                var byIndex = [JSON?](repeating: nil, count: items.count)
                for await (i, answer) in group { byIndex[i] = answer }
                return byIndex.compactMap { $0 }
            }
            return answers.isEmpty ? nil : JSON.array(answers).serialized()
        default:
            return await one(parsed, transport: transport, remote: remote, connection: connection)?.serialized()
        }
    }

    /// One request object; nil for a notification.
    func one(_ request: JSON, transport: RPCTransport, remote: String, connection: (any RPCConnection)?) async -> JSON? {
        guard case .object(let o) = request else {
            return Self.response(id: .null, error: .invalidRequest("a request must be an object, not \(request.kindName)"))
        }
        // The id first, so the errors below can echo it.
        let id: JSON?
        switch o["id"] {
        case nil: id = nil
        case .some(let v):
            switch v {
            case .string, .number, .null: id = v
            default: return Self.response(id: .null, error: .invalidRequest("the id must be a string, a number or null, not \(v.kindName)"))
            }
        }
        for key in o.keys where !["jsonrpc", "method", "params", "id"].contains(key) {
            return id.map { Self.response(id: $0, error: .invalidRequest("unknown member \"\(key)\"")) }
        }
        guard o["jsonrpc"] == .string("2.0") else {
            return id.map { Self.response(id: $0, error: .invalidRequest("\"jsonrpc\" must be exactly \"2.0\"")) }
        }
        guard let name = o["method"]?.stringValue else {
            return id.map { Self.response(id: $0, error: .invalidRequest("\"method\" must be a string")) }
        }
        let result: Result<JSON, RPCError>
        if let method = methods[name], !(method.webSocketOnly && transport != .webSocket) {
            do {
                let params = try RPCParams(o["params"], declared: method.params)
                result = .success(try await method.handler(RPCCall(method: name, params: params, transport: transport, remote: remote,
                                                                   connection: connection)))
            } catch {
                result = .failure(error)
            }
        } else if methods[name] != nil {
            result = .failure(RPCError(code: -32601, message: "\(name) is answered only over the WebSocket endpoint /ws",
                                       reason: "websocket_only", ["method": .string(name)]))
        } else {
            result = .failure(.methodNotFound(name))
        }
        if case .failure(let e) = result, e.code == -32603 {
            logger.error("RPC method failed", metadata: ["method": "\(name)", "error": "\(e.message)", "remote": "\(remote)"])
        }
        guard let id else { return nil }  // a notification: no response, even to an error (§4.1)
        switch result {
        case .success(let value): return .object(["jsonrpc": "2.0", "result": value, "id": id])
        case .failure(let e): return Self.response(id: id, error: e)
        }
    }

    static func response(id: JSON, error: RPCError) -> JSON {
        .object(["jsonrpc": "2.0", "error": error.json, "id": id])
    }
}
