import ChainTypes
import Foundation
import Ledger
import NIOConcurrencyHelpers

/// Where an event is: block height, receipt index in the block, event index in the receipt.
/// Its text form `height.receipt.event` is the cursor that event queries and subscriptions
/// resume after; cursors order events as the chain does.
public struct EventCursor: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let height: UInt64
    public let receipt: Int
    public let event: Int

    public init(height: UInt64, receipt: Int, event: Int) { self.height = height; self.receipt = receipt; self.event = event }

    public init?(text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let h = UInt64(parts[0]), let r = Int(parts[1]), let e = Int(parts[2]), r >= 0, e >= 0,
              String(h) == parts[0], String(r) == parts[1], String(e) == parts[2] else { return nil }
        self.init(height: h, receipt: r, event: e)
    }

    public var description: String { "\(height).\(receipt).\(event)" }

    public static func < (a: EventCursor, b: EventCursor) -> Bool {
        (a.height, a.receipt, a.event) < (b.height, b.receipt, b.event)
    }
}

/// What the RPC remembers of the chain beyond the ledger's own indexes: for every contract,
/// where it was deployed and where each of its events is — so a credit's timeline and the
/// credits of a party are found without scanning the chain. It is built from the receipts
/// (in memory, from genesis at the node's start, then one block at a time as the head moves).
///
/// Invariant: `height` blocks have been read, in order, each once.
final class ChainIndex: Sendable {
    struct Contract: Sendable {
        var deployedAt: UInt64
        var deployer: Address?
        var events: [EventCursor] = []
    }
    struct State: Sendable {
        var height: UInt64 = 0
        var contracts: [Address: Contract] = [:]
        var order: [Address] = []
    }
    /// Blocks read per catch-up step (so the first start on a long chain yields between steps).
    static let blocksPerStep: UInt64 = 500

    private let state = NIOLockedValueBox(State())

    var height: UInt64 { state.withLockedValue { $0.height } }

    /// Reads the blocks after the indexed height up to `s`'s head (at most `blocksPerStep`);
    /// returns true when it reached the head.
    @discardableResult
    func catchUp(_ s: LedgerSnapshot) -> Bool {
        let from = state.withLockedValue { $0.height } + 1
        guard from <= s.head.height else { return true }
        let to = min(s.head.height, from + Self.blocksPerStep - 1)
        var found: [(UInt64, [(Address, Contract?, EventCursor?)])] = []
        for h in from...to {
            guard let receipts = try? s.receipts(at: h) else { break }
            var items: [(Address, Contract?, EventCursor?)] = []
            for (ri, r) in receipts.enumerated() {
                for (ei, e) in r.events.enumerated() {
                    if e.topics.first == Self.deployedTopic, e.topics.count == 2, let contract = LedgerEvents.address(e.topics[1]) {
                        items.append((contract, Contract(deployedAt: h, deployer: Address(bytes: e.data)), nil))
                    }
                    items.append((e.emitter, nil, EventCursor(height: h, receipt: ri, event: ei)))
                }
            }
            found.append((h, items))
        }
        state.withLockedValue { st in
            for (h, items) in found where h == st.height + 1 {
                for (address, deployed, cursor) in items {
                    if let deployed, st.contracts[address] == nil {
                        st.contracts[address] = deployed
                        st.order.append(address)
                    }
                    if let cursor, st.contracts[address] != nil { st.contracts[address]!.events.append(cursor) }
                }
                st.height = h
            }
        }
        return to == s.head.height
    }

    static let deployedTopic = Event.topic("Deployed")

    func contract(_ a: Address) -> Contract? { state.withLockedValue { $0.contracts[a] } }

    /// Contracts in deployment order.
    func contracts() -> [(Address, Contract)] {
        state.withLockedValue { st in st.order.map { ($0, st.contracts[$0]!) } }
    }
}

/// Follows the node's head for the subscriptions, the waiters and the index: one task polls
/// the published snapshot every `pollMillis` and wakes whoever waits for a new height.
final class HeadWatch: Sendable {
    static let pollMillis = 25

    private struct State {
        var height: UInt64 = 0
        var waiters: [UUID: CheckedContinuation<Void, Never>] = [:]
        var task: Task<Void, Never>?
        var stopped = false
    }
    private let state = NIOLockedValueBox(State())
    let index = ChainIndex()
    private let service: any RPCNodeService

    init(service: any RPCNodeService) { self.service = service }

    /// Starts the poll (once).
    func start() {
        state.withLockedValue { st in
            guard st.task == nil, !st.stopped else { return }
            st.task = Task { [self] in
                while !Task.isCancelled {
                    if let s = service.snapshot {
                        while !index.catchUp(s), !Task.isCancelled { await Task.yield() }
                        publish(s.head.height)
                    }
                    try? await Task.sleep(for: .milliseconds(Self.pollMillis))
                }
            }
        }
    }

    func stop() {
        let (task, waiters) = state.withLockedValue { st -> (Task<Void, Never>?, [CheckedContinuation<Void, Never>]) in
            st.stopped = true
            defer { st.waiters = [:]; st.task = nil }
            return (st.task, Array(st.waiters.values))
        }
        task?.cancel()
        for w in waiters { w.resume() }
    }

    private func publish(_ height: UInt64) {
        let waiters = state.withLockedValue { st -> [CheckedContinuation<Void, Never>] in
            guard height > st.height else { return [] }
            st.height = height
            defer { st.waiters = [:] }
            return Array(st.waiters.values)
        }
        for w in waiters { w.resume() }
    }

    /// The indexed head: every block up to it is in `index`.
    var height: UInt64 { state.withLockedValue { $0.height } }

    /// Returns once the indexed head is above `height`, the watch stops, or `timeout` passes.
    func wait(above height: UInt64, timeout: Duration) async {
        let id = UUID()
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLockedValue { st -> Bool in
                if st.height > height || st.stopped { return true }
                st.waiters[id] = c
                return false
            }
            if now { c.resume(); return }
            Task { [self] in
                try? await Task.sleep(for: timeout)
                let w = state.withLockedValue { $0.waiters.removeValue(forKey: id) }
                w?.resume()
            }
        }
    }
}
