import ChainTypes
import Foundation
import Ledger
import NIOConcurrencyHelpers

/// The one way clients' transactions enter a node — what the JSON-RPC server and the
/// `hansa` client's local mode call. It never touches consensus or the node's internals.
public protocol TransactionIntake: Sendable {
    /// Checks `tx` (decoding is the caller's; here: chain, signature, nonce, balance by a dry
    /// run against the committed state) and admits it to the mempool, then gossips it to the
    /// validators. Returns its hash, or why it was refused.
    func submit(_ tx: Transaction) async throws(IntakeError) -> Hash
    /// The receipt of a committed transaction, waiting up to `timeout` for it to commit;
    /// nil when it has not committed by then.
    func receipt(of hash: Hash, timeout: Duration) async -> CommittedReceipt?
    /// Many transactions at once (a client's bulk submission): checked and admitted as
    /// `submit` does, one outcome each in order, relayed to the validators together.
    func submit(batch txs: [Transaction]) async -> [Result<Hash, IntakeError>]
}

extension TransactionIntake {
    /// One by one (for intakes without a batch path of their own).
    public func submit(batch txs: [Transaction]) async -> [Result<Hash, IntakeError>] {
        var out: [Result<Hash, IntakeError>] = []
        for tx in txs {
            do { out.append(.success(try await submit(tx))) } catch { out.append(.failure(error)) }
        }
        return out
    }
}

/// Why the intake refused a transaction.
public enum IntakeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The transaction itself is not admissible (the ledger's typed reason).
    case refused(TransactionError)
    /// The node cannot take transactions now (stopping, or too many waiting to be checked).
    case unavailable(String)

    public var description: String {
        switch self {
        case .refused(let e): "\(e)"
        case .unavailable(let why): "the node cannot take transactions now: \(why)"
        }
    }
}

/// A committed transaction's receipt with where it landed.
public struct CommittedReceipt: Equatable, Sendable {
    public let height: UInt64
    public let index: Int
    public let receipt: Receipt
}

/// Clients waiting for receipts, resolved by the node loop after each commit.
///
/// The race between a commit and a new waiter is closed by one lock: the loop publishes the
/// new snapshot *before* it takes the lock to resolve waiters, and a waiter looks in the
/// latest snapshot *inside* the lock before it registers — so it either finds the receipt
/// or is registered before the loop resolves that block.
final class ReceiptWaiters: Sendable {
    /// Most clients waiting at once; more are answered at once with nil.
    static let maxWaiters = 10_000

    private struct Waiter { let id: UInt64; let continuation: CheckedContinuation<CommittedReceipt?, Never> }
    private struct State {
        var waiters: [Hash: [Waiter]] = [:]
        var count = 0
        var nextID: UInt64 = 0
    }
    private let state = NIOLockedValueBox(State())

    func wait(for hash: Hash, timeout: Duration, lookup: @escaping @Sendable () -> CommittedReceipt?) async -> CommittedReceipt? {
        let id = state.withLockedValue { s -> UInt64 in s.nextID += 1; return s.nextID }
        return await withCheckedContinuation { (c: CheckedContinuation<CommittedReceipt?, Never>) in
            let immediate: CommittedReceipt?? = state.withLockedValue { s in
                if let found = lookup() { return .some(found) }
                guard s.count < Self.maxWaiters else { return .some(nil) }
                s.waiters[hash, default: []].append(Waiter(id: id, continuation: c))
                s.count += 1
                return nil
            }
            if let answer = immediate {
                c.resume(returning: answer)
                return
            }
            // Armed only once registered, so a short timeout cannot fire before the waiter exists.
            Task {
                try? await Task.sleep(for: timeout)
                self.resolve(hash, id: id, with: nil)
            }
        }
    }

    /// Resolves every waiter for the transactions of a committed block (`receipt` reads one).
    func committed(_ hashes: [Hash], receipt: (Hash) -> CommittedReceipt?) {
        let ready: [(Waiter, CommittedReceipt?)] = state.withLockedValue { s in
            guard s.count > 0 else { return [] }
            var out: [(Waiter, CommittedReceipt?)] = []
            for h in hashes {
                guard let ws = s.waiters.removeValue(forKey: h) else { continue }
                s.count -= ws.count
                let r = receipt(h)
                out += ws.map { ($0, r) }
            }
            return out
        }
        for (w, r) in ready { w.continuation.resume(returning: r) }
    }

    /// Answers every waiter with nil (the node stops).
    func cancelAll() {
        let all = state.withLockedValue { s -> [Waiter] in
            defer { s.waiters = [:]; s.count = 0 }
            return s.waiters.values.flatMap { $0 }
        }
        for w in all { w.continuation.resume(returning: nil) }
    }

    private func resolve(_ hash: Hash, id: UInt64, with value: CommittedReceipt?) {
        let w = state.withLockedValue { s -> Waiter? in
            guard var ws = s.waiters[hash], let i = ws.firstIndex(where: { $0.id == id }) else { return nil }
            let w = ws.remove(at: i)
            s.waiters[hash] = ws.isEmpty ? nil : ws
            s.count -= 1
            return w
        }
        w?.continuation.resume(returning: value)
    }
}

/// A bounded set of recently seen hashes (gossip deduplication): two generations, the older
/// dropped when the newer fills, so memory stays at most `2 × capacity` hashes.
struct SeenSet {
    let capacity: Int
    private var current: Set<Hash> = []
    private var previous: Set<Hash> = []

    init(capacity: Int) { self.capacity = capacity }

    func contains(_ h: Hash) -> Bool { current.contains(h) || previous.contains(h) }

    /// Inserts `h`; false when it was already there.
    mutating func insert(_ h: Hash) -> Bool {
        guard !contains(h) else { return false }
        if current.count >= capacity {
            previous = current
            current = []
        }
        current.insert(h)
        return true
    }
}
