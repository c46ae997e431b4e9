import ChainTypes

/// Why the ledger refuses a block: the block's fault, never the store's. `Ledger.rejection(of:)`
/// returns it; `Ledger.apply` and `Executor.execute` throw it as `LedgerError.invalidBlock`.
/// A node that cannot read its own state throws another `LedgerError` (`.store`,
/// `.corrupted`) instead, so that a disk failure is never mistaken for a bad block.
///
/// Invariant: every case names a rule of docs/LEDGER.md or docs/PROTOCOL.md §16, and a block
/// refused with one of them changed nothing in the store.
public enum BlockRejection: Error, Equatable, Sendable, CustomStringConvertible {
    /// The block is not at the next height, or does not name the head as its parent.
    case doesNotExtendHead(height: UInt64, headHeight: UInt64)
    /// Block time only moves forward: the executor runs scheduled calls and deadlines by it.
    case timestampNotAfterParent(height: UInt64, timestampMillis: UInt64, parentMillis: UInt64)
    case transactionsRootMismatch
    /// The header's state root is not the one executing its transactions on the head gives.
    case stateRootMismatch(header: Hash, executed: Hash)
    case receiptsRootMismatch
    /// The certificate's height or block hash is not this block's.
    case certificateForAnotherBlock(certificateHeight: UInt64, certificateHash: Hash, blockHeight: UInt64)
    /// The certificate names this block but does not prove its commit (docs/LEDGER.md "Commit certificates").
    case certificate(CertificateError)
    /// More transactions than the genesis `max_block_transactions`.
    case tooManyTransactions(count: Int, limit: UInt64)
    /// The transactions' gas limits and the scheduled calls' budgets pass `max_block_gas`.
    case gasReservedAboveLimit(reserved: UInt64, scheduledCalls: Int, limit: UInt64)
    /// The transactions' encodings and the header allowance pass `max_block_bytes`.
    case bytesAboveLimit(limit: UInt64)
    /// A transaction fails admission (signature, chain, size, gas limit, form, sender, nonce,
    /// or a repeat): unlike a failure in execution, that makes its whole block invalid.
    case invalidTransaction(index: Int, TransactionError)

    public var description: String {
        switch self {
        case .doesNotExtendHead(let height, let head):
            "block \(height) does not extend the head \(head)"
        case .timestampNotAfterParent(let height, let time, let parent):
            "block \(height) time \(time) ms is not after its parent's \(parent) ms"
        case .transactionsRootMismatch:
            "transactions root does not match the transactions"
        case .stateRootMismatch(let header, let executed):
            "state root \(header) is not the \(executed) execution gives"
        case .receiptsRootMismatch:
            "receipts root does not match execution"
        case .certificateForAnotherBlock(let height, let hash, let blockHeight):
            "the certificate is for another block (block \(hash) at height \(height), not this block at height \(blockHeight))"
        case .certificate(let e):
            "\(e)"
        case .tooManyTransactions(let count, let limit):
            "\(count) transactions; the limit is \(limit)"
        case .gasReservedAboveLimit(let reserved, let calls, let limit):
            "the block reserves \(reserved) gas (its transactions' gas limits and \(calls) scheduled calls); the limit is \(limit)"
        case .bytesAboveLimit(let limit):
            "the transactions take more than max_block_bytes (\(limit)) with the header"
        case .invalidTransaction(let i, let e):
            "transaction \(i): \(e)"
        }
    }
}
