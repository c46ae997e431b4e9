import ChainTypes
import HansaCrypto

/// What the auditor found wrong, at the first place it went wrong: the height, the
/// transaction when one is to blame, a stable reason (`kind`) and a sentence saying what
/// differs. docs/AUDIT.md lists the kinds.
public struct Discrepancy: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, CaseIterable {
        /// The source belongs to another chain than the genesis file's.
        case wrongChain = "wrong_chain"
        /// A block, certificate or receipt list is not a canonical encoding.
        case undecodable
        /// A block is missing, or stands at another height than its header says.
        case height
        /// A block does not name the block before it as its parent.
        case previousHash = "previous_hash"
        /// A block's time is not after its parent's.
        case timestamp
        /// The header names a proposer that was not the primary of its view.
        case proposer
        /// A block has no commit certificate.
        case certificateMissing = "certificate_missing"
        /// The certificate does not prove the block committed.
        case certificate
        /// The transactions are not the ones the header commits to.
        case transactionsRoot = "transactions_root"
        /// A transaction's signature does not verify.
        case signature
        /// A transaction fails admission, or the block breaks a block limit.
        case admission
        /// Re-execution gives another receipts root than the header's.
        case receiptsRoot = "receipts_root"
        /// A stored receipt differs from the re-executed one.
        case receipt
        /// Re-execution gives another state root than the header's.
        case stateRoot = "state_root"
        /// A data directory's state values or state-tree pages differ from the re-executed state.
        case storedState = "stored_state"
        /// A data directory's index (block by hash, transaction by hash, scheduled call) is wrong.
        case index
        /// The source's head is not its last block, or the source ends early.
        case head
        /// A development data directory (`hansa dev ledger-writer`): placeholder signatures.
        case development
    }

    /// A transaction by its position in the block and its hash.
    public struct TransactionRef: Sendable, Equatable {
        public let index: Int
        public let hash: Hash
    }

    public let kind: Kind
    public let height: UInt64
    public let transaction: TransactionRef?
    public let message: String

    public init(_ kind: Kind, height: UInt64, transaction: TransactionRef? = nil, _ message: String) {
        self.kind = kind
        self.height = height
        self.transaction = transaction
        self.message = message
    }

    public var description: String {
        var where_ = "height \(height)"
        if let t = transaction { where_ += ", transaction \(t.index) (\(t.hash.hex))" }
        return "\(where_): \(message) [\(kind.rawValue)]"
    }
}

/// Why an audit stopped: a discrepancy in the chain (the verdict), or a source that could
/// not be read (no verdict).
public enum AuditError: Error, Sendable, CustomStringConvertible {
    case discrepancy(Discrepancy)
    case source(String)

    public var description: String {
        switch self {
        case .discrepancy(let d): "discrepancy at \(d)"
        case .source(let m): "cannot read the source: \(m)"
        }
    }
}
