import ArgumentParser
import ChainTypes
import Ledger
import Logging
import RPC

/// `hansa rpc …`: tools for the JSON-RPC API (the client commands use it from a node's URL).
struct RPCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rpc",
        abstract: "The JSON-RPC API: print its OpenRPC document (docs/RPC.md).",
        subcommands: [OpenRPC.self])

    struct OpenRPC: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "openrpc",
            abstract: "Print the OpenRPC 1.3 document of every method (what rpc.discover returns; docs/openrpc.json is a copy).")

        func run() throws {
            let rpc = HansaRPC(service: NoNode(), abis: ABIRegistry([]), accessLog: AccessLog(node: "-"), logger: Logger(label: "hansa.rpc"))
            defer { rpc.shutdown() }
            print(pretty(rpc.openRPCDocument()))
        }
    }

    /// No node: the method table does not depend on one.
    struct NoNode: RPCNodeService {
        var snapshot: LedgerSnapshot? { nil }
        func nodeInfo() -> RPCNodeInfo { RPCNodeInfo(name: "-", role: .observer, version: "-") }
        func submit(_ tx: Transaction) async throws(SubmitRefusal) -> Hash { throw .unavailable("no node") }
        func receipt(of hash: Hash, timeout: Duration) async -> (height: UInt64, index: Int, receipt: Receipt)? { nil }
    }
}

/// JSON with two-space indentation, members in their order (for documents people read).
func pretty(_ v: JSON, indent: String = "") -> String {
    let inner = indent + "  "
    switch v {
    case .array(let items) where !items.isEmpty:
        return "[\n" + items.map { inner + pretty($0, indent: inner) }.joined(separator: ",\n") + "\n" + indent + "]"
    case .object(let o) where o.count > 0:
        return "{\n" + o.keys.map { inner + JSON.string($0).serialized() + ": " + pretty(o[$0]!, indent: inner) }.joined(separator: ",\n")
            + "\n" + indent + "}"
    default:
        return v.serialized()
    }
}
