import ChainTypes
import Foundation
import HansaCrypto
import HummingbirdWSClient
import Logging
import NIOConcurrencyHelpers
import RPC

/// Why a client command could not do what it was asked; each is one sentence, and each kind
/// has its exit code (docs/RPC.md "The hansa client").
public enum ClientError: Error, CustomStringConvertible, Sendable {
    /// Bad arguments or files on this side (exit 1).
    case local(String)
    /// The node answered with an error (exit 2).
    case refused(code: Int, reason: String, message: String, data: JSON)
    /// The node could not be reached, or the connection broke (exit 3).
    case unreachable(String)
    /// Submitted, but not committed within the wait (exit 4).
    case pending(hash: String, waited: Int)
    /// Committed, but it failed when it ran (a contract's `require`, a payment refused); the
    /// nonce is used and nothing else changed (exit 5).
    case failed(hash: String, height: String, reason: String)

    public var description: String {
        switch self {
        case .local(let why): why
        case .refused(_, _, let message, _): "the node refused: \(message)"
        case .unreachable(let why): "cannot reach the node: \(why)"
        case .pending(let hash, let waited): "transaction \(hash) was accepted but had not committed after \(waited / 1000) s; "
            + "look it up later with `hansa tx show \(hash)`"
        case .failed(let hash, let height, let reason): "transaction \(hash.prefix(16))… committed in block \(height) but failed: \(reason)"
        }
    }

    public var exitCode: Int32 {
        switch self {
        case .local: 1
        case .refused: 2
        case .unreachable: 3
        case .pending: 4
        case .failed: 5
        }
    }
}

/// A JSON-RPC session with one node over its WebSocket endpoint (`/ws`), which carries the
/// same methods as `POST /rpc` and also the subscriptions `hansa watch` needs. Requests may
/// be in flight at once; answers are matched by id; notifications go to `onNotification`.
public final class RPCSession: Sendable {
    public let url: String
    private struct State {
        var outbound: WebSocketOutboundWriter?
        var waiting: [Int: CheckedContinuation<Result<JSON, ClientError>, Never>] = [:]
        var ready: [CheckedContinuation<Result<Void, ClientError>, Never>] = []
        var nextID = 1
        var closed: ClientError?
        var opened = false
    }
    private let state = NIOLockedValueBox(State())
    private let task = NIOLockedValueBox<Task<Void, Never>?>(nil)
    private let onNotification: @Sendable (JSON) -> Void
    private let onClose: @Sendable (ClientError) -> Void

    /// `rpc`: the node's HTTP address (`http://127.0.0.1:26680`, with or without `/rpc`) or its
    /// WebSocket URL (`ws://…/ws`).
    public static func webSocketURL(_ rpc: String) throws(ClientError) -> String {
        var u = rpc.trimmingCharacters(in: .whitespaces)
        if u.hasPrefix("http://") { u = "ws://" + u.dropFirst(7) } else if u.hasPrefix("https://") { u = "wss://" + u.dropFirst(8) }
        guard u.hasPrefix("ws://") || u.hasPrefix("wss://") else {
            throw .local("the RPC address \(rpc) must start with http://, https://, ws:// or wss://")
        }
        if u.hasSuffix("/rpc") { u = String(u.dropLast(4)) }
        if u.hasSuffix("/") { u = String(u.dropLast()) }
        return u.hasSuffix("/ws") ? u : u + "/ws"
    }

    /// Connects; throws `unreachable` when the node does not answer the upgrade.
    /// `onClose` is called once when the connection ends (closed by either side, or broken).
    public static func connect(_ rpc: String, onNotification: @escaping @Sendable (JSON) -> Void = { _ in },
                               onClose: @escaping @Sendable (ClientError) -> Void = { _ in }) async throws(ClientError) -> RPCSession {
        let session = RPCSession(url: try webSocketURL(rpc), onNotification: onNotification, onClose: onClose)
        try await session.open()
        return session
    }

    private init(url: String, onNotification: @escaping @Sendable (JSON) -> Void, onClose: @escaping @Sendable (ClientError) -> Void) {
        self.url = url
        self.onNotification = onNotification
        self.onClose = onClose
    }

    private func open() async throws(ClientError) {
        var logger = Logger(label: "hansa.client")
        logger.logLevel = .critical
        let client = WebSocketClient(url: url, configuration: .init(maxFrameSize: 1 << 24), logger: logger) { [self] inbound, outbound, _ in
            let pending = state.withLockedValue { st -> [CheckedContinuation<Result<Void, ClientError>, Never>] in
                st.outbound = outbound
                st.opened = true
                defer { st.ready = [] }
                return st.ready
            }
            for c in pending { c.resume(returning: .success(())) }
            for try await message in inbound.messages(maxSize: 1 << 24) {
                guard case .text(let text) = message, let json = try? JSON.parse(text) else { continue }
                deliver(json)
            }
        }
        let t = Task { [self] in
            do { try await client.run() } catch {
                finish(.unreachable("\(url): \(error)"))
                return
            }
            finish(.unreachable("the node closed the connection"))
        }
        task.withLockedValue { $0 = t }
        let result = await withCheckedContinuation { (c: CheckedContinuation<Result<Void, ClientError>, Never>) in
            let now: Result<Void, ClientError>? = state.withLockedValue { st in
                if st.opened { return .success(()) }
                if let e = st.closed { return .failure(e) }
                st.ready.append(c)
                return nil
            }
            if let now { c.resume(returning: now) }
        }
        try result.get()
    }

    private func deliver(_ json: JSON) {
        if let items = json.arrayValue { for item in items { deliver(item) }; return }
        guard let id = json["id"]?.integer(Int.self) else {
            if json["method"] != nil { onNotification(json) }
            return
        }
        let c = state.withLockedValue { $0.waiting.removeValue(forKey: id) }
        if let error = json["error"] {
            c?.resume(returning: .failure(.refused(code: error["code"]?.integer(Int.self) ?? 0, reason: error["data"]?["reason"]?.stringValue ?? "",
                                                   message: error["message"]?.stringValue ?? "\(error)", data: error["data"] ?? .null)))
        } else {
            c?.resume(returning: .success(json["result"] ?? .null))
        }
    }

    private func finish(_ error: ClientError) {
        let (waiting, ready, first) = state.withLockedValue { st -> ([CheckedContinuation<Result<JSON, ClientError>, Never>], [CheckedContinuation<Result<Void, ClientError>, Never>], Bool) in
            let first = st.closed == nil
            if first { st.closed = error }
            st.outbound = nil
            defer { st.waiting = [:]; st.ready = [] }
            return (Array(st.waiting.values), st.ready, first)
        }
        for c in waiting { c.resume(returning: .failure(error)) }
        for c in ready { c.resume(returning: .failure(error)) }
        if first { onClose(error) }
    }

    /// Calls `method`; the result, or the node's error as `refused`.
    public func call(_ method: String, _ params: JSONObject = [:]) async throws(ClientError) -> JSON {
        let result = await withCheckedContinuation { (c: CheckedContinuation<Result<JSON, ClientError>, Never>) in
            let (id, writer, closed) = state.withLockedValue { st -> (Int, WebSocketOutboundWriter?, ClientError?) in
                if let e = st.closed { return (0, nil, e) }
                let id = st.nextID
                st.nextID += 1
                st.waiting[id] = c
                return (id, st.outbound, nil)
            }
            if let closed { c.resume(returning: .failure(closed)); return }
            let request: JSON = .object(["jsonrpc": "2.0", "method": .string(method), "params": .object(params), "id": .int(id)])
            Task {
                do { try await writer?.write(.text(request.serialized())) } catch {
                    let c = self.state.withLockedValue { $0.waiting.removeValue(forKey: id) }
                    c?.resume(returning: .failure(.unreachable("cannot send: \(error)")))
                }
            }
        }
        return try result.get()
    }

    /// Closes the connection.
    public func close() async {
        let writer = state.withLockedValue { $0.outbound }
        try? await writer?.close(.normalClosure, reason: nil)
        let t = task.withLockedValue { $0 }
        await t?.value
    }
}
