import ChainTypes
import Ledger
import NIOConcurrencyHelpers

/// What the RPC needs of a node — the node-service protocol. The RPC depends on this and on
/// the ledger's read-only snapshot, never on PBFT or the node's internals; `hansa node`
/// adapts its runtime to it, and the tests adapt a ledger in memory.
public protocol RPCNodeService: Sendable {
    /// The latest committed state for readers; nil while the node starts (or after it stopped).
    var snapshot: LedgerSnapshot? { get }
    /// The node's own view of itself and its peers.
    func nodeInfo() -> RPCNodeInfo
    /// Checks a client's transaction and admits it to the mempool (then gossips it).
    func submit(_ tx: Transaction) async throws(SubmitRefusal) -> Hash
    /// The transaction's receipt once committed, waiting up to `timeout`; nil if it did not
    /// commit by then.
    func receipt(of hash: Hash, timeout: Duration) async -> (height: UInt64, index: Int, receipt: Receipt)?
    /// Many transactions at once (`tx.submitBatch`): one outcome each, in order.
    func submit(batch txs: [Transaction]) async -> [Result<Hash, SubmitRefusal>]
}

extension RPCNodeService {
    /// Concurrently, one by one (for services without a batch path of their own).
    public func submit(batch txs: [Transaction]) async -> [Result<Hash, SubmitRefusal>] {
        let out = NIOLockedValueBox([Result<Hash, SubmitRefusal>](repeating: .failure(.unavailable("not submitted")), count: txs.count))
        await withTaskGroup(of: Void.self) { group in
            for (i, tx) in txs.enumerated() {
                group.addTask {
                    let r = await outcome(of: tx)
                    out.withLockedValue { $0[i] = r }
                }
            }
        }
        return out.withLockedValue { $0 }
    }

    private func outcome(of tx: Transaction) async -> Result<Hash, SubmitRefusal> {
        do throws(SubmitRefusal) { return .success(try await submit(tx)) } catch { return .failure(error) }
    }
}

/// Why a node did not take a transaction.
public enum SubmitRefusal: Error, Sendable, Equatable {
    case refused(TransactionError)
    case unavailable(String)
}

/// The node as it describes itself to clients.
public struct RPCNodeInfo: Sendable, Equatable {
    public enum Role: String, Sendable { case validator, observer }
    public struct Peer: Sendable, Equatable {
        public let name: String
        public let role: String
        public let height: UInt64?
        public init(name: String, role: String, height: UInt64?) { self.name = name; self.role = role; self.height = height }
    }

    public var name: String
    public var role: Role
    public var version: String
    public var view: UInt64
    public var primaryIndex: Int?
    /// The head a peer reported above this node's, while catching up.
    public var syncTarget: UInt64?
    public var peers: [Peer]
    public var mempoolTransactions: Int

    public init(name: String, role: Role, version: String, view: UInt64 = 0, primaryIndex: Int? = nil, syncTarget: UInt64? = nil,
                peers: [Peer] = [], mempoolTransactions: Int = 0) {
        self.name = name; self.role = role; self.version = version; self.view = view; self.primaryIndex = primaryIndex
        self.syncTarget = syncTarget; self.peers = peers; self.mempoolTransactions = mempoolTransactions
    }
}
