import ChainTypes
import Foundation
import Ledger
import NIOConcurrencyHelpers

/// A WebSocket subscription: new heads, or events by filter, from a starting point — so a
/// client that reconnects and subscribes again from its last cursor (or height) receives every
/// event it missed, in order, none twice (docs/RPC.md "Subscriptions").
public struct Subscription: Sendable {
    public enum Kind: Sendable {
        /// Every committed header from `fromHeight` on (default: the next one).
        case heads
        /// Events matching a filter, after `after` (default: from the next block).
        case events(EventFilter)
    }
    public let kind: Kind
    /// Heads: the first height to send. Events: the first height to read.
    public let fromHeight: UInt64
    /// Events: send only those after this cursor.
    public let after: EventCursor?
    let reader: Reader
}

extension Reader: @unchecked Sendable {}

extension HansaRPC {
    /// How far back a subscription may start: blocks before the head it may replay.
    static let maxReplayBlocks: UInt64 = 100_000

    func subscriptionMethods() -> [RPCMethod] {
        [
            RPCMethod("subscribe", "WebSocket: follow new heads or events from a height or cursor; notifications carry each event's cursor to resume after.",
                      params: [RPCParam("kind", "heads or events", schema: .object(["type": "string", "enum": ["heads", "events"]]))]
                          + Self.filterParams + [
                          RPCParam("from_height", required: false, "first height to send (default: the next block)", schema: Schema.uint64),
                          RPCParam("after", required: false, "events: resume after this cursor (height.receipt.event)", schema: Schema.string("a cursor")),
                          authParam,
                      ],
                      result: "subscription", schema: Schema.string("the subscription id"), webSocketOnly: true) { [self] call throws(RPCError) in
                guard let connection = call.connection else { throw .invalidRequest("subscriptions need a WebSocket") }
                let s = try snapshot()
                let p = call.params
                let reader = try reader(call, s)
                let after = try p.cursor("after")
                let from = try p.uint64("from_height") ?? after?.height ?? (s.head.height + 1)
                guard from >= 1 else { throw .invalidParams("from_height starts at 1", param: "from_height") }
                if s.head.height > from, s.head.height - from > Self.maxReplayBlocks {
                    throw .limit("max_replay_blocks", value: Int(clamping: s.head.height - from), max: Int(Self.maxReplayBlocks),
                                 "the subscription would replay \(s.head.height - from) blocks; at most \(Self.maxReplayBlocks): page through events.query first")
                }
                let kind: Subscription.Kind
                switch try p.string("kind", maxBytes: 16) {
                case "heads": kind = .heads
                case "events":
                    let f = try filter(p)
                    if let c = f.contract { try authorizeContractRead(reader, call, c, s) }
                    kind = .events(f)
                default: throw .invalidParams("kind must be heads or events", param: "kind")
                }
                heads.start()
                return .string(try connection.subscribe(Subscription(kind: kind, fromHeight: from, after: after, reader: reader)))
            },
            RPCMethod("unsubscribe", "WebSocket: ends a subscription.",
                      params: [RPCParam("subscription", "the id subscribe returned", schema: Schema.string("an id"))],
                      result: "ended", schema: Schema.boolean, webSocketOnly: true) { call throws(RPCError) in
                guard let connection = call.connection else { throw .invalidRequest("subscriptions need a WebSocket") }
                let id = try call.params.required("subscription") { (n: String) throws(RPCError) in try call.params.string(n, maxBytes: 64) }
                return .bool(connection.unsubscribe(id))
            },
        ]
    }

    /// Runs one subscription until cancelled: sends what exists from its start, then waits for
    /// each new head. `send` delivers one notification's `result` (and throws once the
    /// connection is gone).
    func run(_ sub: Subscription, send: @Sendable (JSON) async throws -> Void) async throws {
        var nextHeight = sub.fromHeight
        var after = sub.after
        while !Task.isCancelled {
            let indexed = heads.height
            if let s = service.snapshot, indexed >= nextHeight {
                let to = min(indexed, s.head.height)
                switch sub.kind {
                case .heads:
                    while nextHeight <= to, !Task.isCancelled {
                        try await send(try blockJSON(s, height: nextHeight, full: false))
                        nextHeight += 1
                    }
                case .events(let f):
                    let page = try events(f, from: nextHeight, to: to, after: after, limit: 100, reader: sub.reader, s)
                    for e in page.events { try await send(e) }
                    if let last = page.events.last?["cursor"]?.stringValue.flatMap(EventCursor.init(text:)) { after = last }
                    if page.next != nil {
                        nextHeight = after!.height
                        continue  // a full page: read on before waiting
                    }
                    nextHeight = to + 1
                }
            }
            await heads.wait(above: max(indexed, nextHeight - 1), timeout: .seconds(30))
        }
    }
}

/// One WebSocket client's subscriptions; each runs in its own task and ends with the
/// connection.
final class WebSocketSession: RPCConnection, @unchecked Sendable {
    let rpc: HansaRPC
    let send: @Sendable (String) async throws -> Void
    private let tasks = NIOLockedValueBox([String: Task<Void, Never>]())
    private let counter = NIOLockedValueBox(0)

    init(rpc: HansaRPC, send: @escaping @Sendable (String) async throws -> Void) {
        self.rpc = rpc
        self.send = send
    }

    func subscribe(_ subscription: Subscription) throws(RPCError) -> String {
        let id = counter.withLockedValue { c -> String in c += 1; return String(c, radix: 16) }
        let max = rpc.limits.maxSubscriptionsPerConnection
        let added = tasks.withLockedValue { t -> Bool in
            guard t.count < max else { return false }
            t[id] = Task { [rpc, send] in
                do {
                    try await rpc.run(subscription) { result in
                        let note: JSON = .object(["jsonrpc": "2.0", "method": "subscription",
                                                  "params": .object(["subscription": .string(id), "result": result])])
                        try await send(note.serialized())
                    }
                } catch {
                    // The connection closed, or the ledger failed: say so once, then end.
                    let note: JSON = .object(["jsonrpc": "2.0", "method": "subscription_error",
                                              "params": .object(["subscription": .string(id), "error": .string("\(error)")])])
                    try? await send(note.serialized())
                }
            }
            return true
        }
        guard added else {
            throw .limit("max_subscriptions_per_connection", value: max + 1, max: max, "at most \(max) subscriptions per connection")
        }
        return id
    }

    func unsubscribe(_ id: String) -> Bool {
        guard let task = tasks.withLockedValue({ $0.removeValue(forKey: id) }) else { return false }
        task.cancel()
        return true
    }

    func close() {
        let all = tasks.withLockedValue { t -> [Task<Void, Never>] in defer { t = [:] }; return Array(t.values) }
        for task in all { task.cancel() }
    }
}
