import ChainTypes
import ContractVM
import Foundation
import Ledger
import Logging
import NIOConcurrencyHelpers

/// The Hansa JSON-RPC API: its method table over a node service. `register(on:)` (RPCRoutes)
/// puts it on the node's HTTP server at `POST /rpc` and `GET /ws`.
///
/// Methods are grouped by what they read: `chain.*` (the node and the chain's head),
/// `block.*`, `tx.*`, `account.*`, `contract.*` (driven by contracts' ABIs), `lc.*` (letters of
/// credit), `events.*`, `proof.*`, `access.*`, and `subscribe`/`unsubscribe` on the
/// WebSocket; docs/RPC.md describes each, and `rpc.discover` returns the OpenRPC document.
public final class HansaRPC: Sendable {
    public let service: any RPCNodeService
    public let abis: ABIRegistry
    public let limits: RPCLimits
    public let accessLog: AccessLog
    let readAuth: ReadAuthenticator
    let heads: HeadWatch
    /// WebSocket connections open now.
    let webSocketCount = NIOLockedValueBox(0)
    let logger: Logger
    /// The wall clock in milliseconds since 1970 (tests pin it).
    let nowMillis: @Sendable () -> Int64
    /// Built once the methods exist (they refer to `self`).
    private let box = RPCServerBox()

    public init(service: any RPCNodeService, abis: ABIRegistry, accessLog: AccessLog, limits: RPCLimits = RPCLimits(),
                logger: Logger, nowMillis: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }) {
        self.service = service
        self.abis = abis
        self.limits = limits
        self.accessLog = accessLog
        self.logger = logger
        self.nowMillis = nowMillis
        self.readAuth = ReadAuthenticator()
        self.heads = HeadWatch(service: service)
        box.set(JSONRPCServer(methods: chainMethods() + ledgerMethods() + contractMethods() + creditMethods() + eventMethods()
                                + proofMethods() + auditMethods() + accessMethods() + subscriptionMethods() + [discoverMethod()],
                              limits: limits, logger: logger))
        heads.start()
    }

    /// The JSON-RPC 2.0 server with every method.
    public var server: JSONRPCServer { box.value! }

    /// Answers one request text (HTTP body or WebSocket message).
    public func respond(to body: some Collection<UInt8>, transport: RPCTransport, remote: String,
                        connection: (any RPCConnection)? = nil) async -> String? {
        await server.respond(to: body, transport: transport, remote: remote, connection: connection)
    }

    /// The committed state, or `unavailable` while the node starts.
    func snapshot() throws(RPCError) -> LedgerSnapshot {
        guard let s = service.snapshot else { throw .unavailable("the node is starting or stopping; try again shortly") }
        return s
    }

    /// Stops the head watch (the server stops).
    public func shutdown() { heads.stop() }
}

/// Holds the method table, set once in `HansaRPC.init`.
final class RPCServerBox: @unchecked Sendable {
    // Written once in init before the object is shared, read-only after.
    private(set) var value: JSONRPCServer?
    func set(_ server: JSONRPCServer) { value = server }
}

/// Wraps a throwing ledger read into the RPC's error.
func read<T>(_ body: () throws(LedgerError) -> T) throws(RPCError) -> T {
    do { return try body() } catch { throw .ledger(error) }
}
