import ChainTypes
import HansaCrypto

/// One parameter of a method, as `rpc.discover` describes it.
public struct RPCParam: Sendable {
    public let name: String
    public let required: Bool
    public let summary: String
    /// A JSON Schema (draft 7) of the value.
    public let schema: JSON

    public init(_ name: String, required: Bool = true, _ summary: String, schema: JSON) {
        self.name = name; self.required = required; self.summary = summary; self.schema = schema
    }
}

/// A method of the RPC: its description (for `rpc.discover`) and its handler.
///
/// Invariant: the handler sees only the parameters the method declares (``RPCParams`` refuses
/// any other name and any missing required one before the handler runs).
public struct RPCMethod: Sendable {
    public let name: String
    public let summary: String
    public let params: [RPCParam]
    public let resultName: String
    public let resultSchema: JSON
    /// Answered only over a WebSocket (subscriptions).
    public let webSocketOnly: Bool
    public let handler: @Sendable (RPCCall) async throws(RPCError) -> JSON

    public init(_ name: String, _ summary: String, params: [RPCParam] = [], result: String, schema: JSON,
                webSocketOnly: Bool = false, handler: @escaping @Sendable (RPCCall) async throws(RPCError) -> JSON) {
        self.name = name; self.summary = summary; self.params = params
        self.resultName = result; self.resultSchema = schema; self.webSocketOnly = webSocketOnly; self.handler = handler
    }
}

/// How a call reached the server.
public enum RPCTransport: String, Sendable {
    case http
    case webSocket = "websocket"
}

/// One call being answered.
public struct RPCCall: Sendable {
    public let method: String
    public let params: RPCParams
    public let transport: RPCTransport
    /// The client's address, for logs and the access log.
    public let remote: String
    /// The WebSocket connection the call came on (subscriptions), nil over HTTP.
    public let connection: (any RPCConnection)?
}

/// A WebSocket connection's side the subscription methods use.
public protocol RPCConnection: Sendable {
    func subscribe(_ subscription: Subscription) throws(RPCError) -> String
    func unsubscribe(_ id: String) -> Bool
}

/// A call's parameters by name, whether the client sent them by name (an object) or by
/// position (an array, in the method's declared order), checked against the declaration.
public struct RPCParams: Sendable {
    public let values: JSONObject

    init(_ raw: JSON?, declared: [RPCParam]) throws(RPCError) {
        var values = JSONObject()
        switch raw {
        case nil: break
        case .object(let o)?:
            for key in o.keys {
                guard declared.contains(where: { $0.name == key }) else {
                    let names = declared.map(\.name).joined(separator: ", ")
                    throw .invalidParams("unknown parameter \"\(key)\"; this method takes \(names.isEmpty ? "none" : names)", param: key)
                }
                values[key] = o[key]
            }
        case .array(let a)?:
            guard a.count <= declared.count else {
                throw .invalidParams("\(a.count) positional parameters; this method takes at most \(declared.count)")
            }
            for (i, v) in a.enumerated() { values[declared[i].name] = v }
        case let other?:
            throw .invalidRequest("params must be an array or an object, not \(other.kindName)")
        }
        for p in declared where p.required && (values[p.name] == nil || values[p.name] == .null) {
            throw .invalidParams("the parameter \"\(p.name)\" is required: \(p.summary)", param: p.name)
        }
        self.values = values
    }

    public init(_ values: JSONObject) { self.values = values }

    /// The value of `name`; nil when absent or null.
    public subscript(name: String) -> JSON? {
        guard let v = values[name], v != .null else { return nil }
        return v
    }

    func bad(_ name: String, _ expected: String) -> RPCError {
        .invalidParams("\"\(name)\" must be \(expected)", param: name)
    }

    public func string(_ name: String, maxBytes: Int = 4_096) throws(RPCError) -> String? {
        guard let v = self[name] else { return nil }
        guard let s = v.stringValue else { throw bad(name, "a string, not \(v.kindName)") }
        guard s.utf8.count <= maxBytes else { throw bad(name, "at most \(maxBytes) bytes long") }
        return s
    }

    public func bool(_ name: String) throws(RPCError) -> Bool? {
        guard let v = self[name] else { return nil }
        guard let b = v.boolValue else { throw bad(name, "true or false, not \(v.kindName)") }
        return b
    }

    /// A non-negative integer, as a JSON number or a decimal string (64-bit values do not fit
    /// a double, so the RPC writes them as strings and reads both).
    public func uint64(_ name: String) throws(RPCError) -> UInt64? {
        guard let v = self[name] else { return nil }
        if let n = v.integer(UInt64.self) { return n }
        if let s = v.stringValue, let n = UInt64(s), String(n) == s { return n }
        throw bad(name, "a non-negative integer (a number or a decimal string)")
    }

    public func int(_ name: String, in range: ClosedRange<Int>) throws(RPCError) -> Int? {
        guard let n = try uint64(name) else { return nil }
        guard n <= UInt64(range.upperBound), Int(n) >= range.lowerBound else { throw bad(name, "between \(range.lowerBound) and \(range.upperBound)") }
        return Int(n)
    }

    public func hash(_ name: String) throws(RPCError) -> Hash? {
        guard let s = try string(name, maxBytes: 80) else { return nil }
        guard let h = Hash(hex: s.hasPrefix("0x") ? String(s.dropFirst(2)) : s) else { throw bad(name, "a 32-byte hash as 64 hex digits") }
        return h
    }

    public func address(_ name: String) throws(RPCError) -> Address? {
        guard let s = try string(name, maxBytes: 80) else { return nil }
        guard let a = Address(text: s) else { throw bad(name, "an address: hx followed by 40 hex digits") }
        return a
    }

    public func hex(_ name: String, maxBytes: Int) throws(RPCError) -> [UInt8]? {
        guard let s = try string(name, maxBytes: 2 * maxBytes + 2) else { return nil }
        guard let b = Hex.decode(s.hasPrefix("0x") ? String(s.dropFirst(2)) : s) else { throw bad(name, "hex digits (an even number of them)") }
        return b
    }

    /// An event cursor `height.receipt.event`.
    public func cursor(_ name: String) throws(RPCError) -> EventCursor? {
        guard let text = try string(name, maxBytes: 64) else { return nil }
        guard let c = EventCursor(text: text) else { throw bad(name, "a cursor height.receipt.event") }
        return c
    }

    public func object(_ name: String) throws(RPCError) -> JSONObject? {
        guard let v = self[name] else { return nil }
        guard let o = v.objectValue else { throw bad(name, "an object, not \(v.kindName)") }
        return o
    }

    public func required<T>(_ name: String, _ read: (String) throws(RPCError) -> T?) throws(RPCError) -> T {
        guard let v = try read(name) else { throw .invalidParams("the parameter \"\(name)\" is required", param: name) }
        return v
    }
}

/// JSON Schemas for parameters and results (the shapes docs/RPC.md describes).
public enum Schema {
    public static func string(_ description: String, pattern: String? = nil) -> JSON {
        var o: JSONObject = ["type": "string", "description": .string(description)]
        if let pattern { o["pattern"] = .string(pattern) }
        return .object(o)
    }
    public static let hash = string("a 32-byte hash, 64 lowercase hex digits", pattern: "^(0x)?[0-9a-fA-F]{64}$")
    public static let address = string("an address: hx and 40 hex digits", pattern: "^hx[0-9a-f]{40}$")
    public static let hex = string("bytes as hex digits", pattern: "^(0x)?([0-9a-fA-F]{2})*$")
    public static let uint64 = JSON.object([
        "description": "a non-negative 64-bit integer, as a decimal string or a number",
        "oneOf": .array([.object(["type": "string", "pattern": "^(0|[1-9][0-9]{0,19})$"]), .object(["type": "integer", "minimum": .int(0)])]),
    ])
    public static func integer(_ description: String, minimum: Int, maximum: Int) -> JSON {
        .object(["type": "integer", "description": .string(description), "minimum": .int(minimum), "maximum": .int(maximum)])
    }
    public static let boolean = JSON.object(["type": "boolean"])
    public static func object(_ description: String) -> JSON { .object(["type": "object", "description": .string(description)]) }
    public static func array(_ description: String) -> JSON { .object(["type": "array", "description": .string(description)]) }
    public static func nullable(_ schema: JSON) -> JSON { .object(["oneOf": .array([schema, .object(["type": "null"])])]) }
}

extension JSON: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
}
