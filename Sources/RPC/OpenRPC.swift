// rpc.discover — the OpenRPC document (https://spec.open-rpc.org, version 1.3.2) made from
// the method table itself, so it cannot leave a method out; docs/openrpc.json is a copy that
// a test keeps equal to it, and scripts/check-openrpc validates against the meta-schema.
extension HansaRPC {
    public static let openRPCVersion = "1.3.2"
    public static let apiVersion = "1.0.0"

    func discoverMethod() -> RPCMethod {
        RPCMethod("rpc.discover", "This API's OpenRPC document.", result: "OpenRPC", schema: Schema.object("an OpenRPC 1.3 document")) { [self] _ throws(RPCError) in
            openRPCDocument()
        }
    }

    /// The OpenRPC document of every method but `rpc.discover` itself, in registration order.
    public func openRPCDocument() -> JSON {
        let methods = server.methodNames.filter { $0 != "rpc.discover" }.map { name -> JSON in
            let m = server.methods[name]!
            var o: JSONObject = ["name": .string(m.name), "summary": .string(m.summary), "paramStructure": "either"]
            o["params"] = .array(m.params.map { p in
                .object(["name": .string(p.name), "summary": .string(p.summary), "required": .bool(p.required), "schema": p.schema])
            })
            o["result"] = .object(["name": .string(m.resultName), "schema": m.resultSchema])
            if m.webSocketOnly { o["description"] = "Answered only over the WebSocket endpoint /ws." }
            return .object(o)
        }
        return .object([
            "openrpc": .string(Self.openRPCVersion),
            "info": .object(["title": "Hansa JSON-RPC", "version": .string(Self.apiVersion),
                             "description": "A Hansa node's JSON-RPC 2.0 API over HTTP (POST /rpc) and WebSocket (/ws); docs/RPC.md explains each method, the errors and who may read what."]),
            "methods": .array(methods),
        ])
    }
}
