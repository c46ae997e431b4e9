import ChainTypes

// Building a proposal that obeys the genesis block limits (docs/PROTOCOL.md §16 "Block limits").
extension Executor {
    /// Executes the due scheduled calls, then takes `candidates` in order while the block's
    /// limits allow: `maxBlockTransactions`, `maxBlockBytes` (the transactions' encodings plus
    /// `headerAllowanceBytes`), the gas the block reserves (`reservedGas` ≤ `maxBlockGas`),
    /// and `maxBlockStateBytes`. A candidate that does not fit, fails admission, or would pass
    /// the state budget of a block that already holds transactions is left out — and so are
    /// its sender's later candidates, whose nonces it would leave a gap before. What is
    /// left out stays in the mempool for a later block.
    ///
    /// Invariant: `execute` of the resulting block gives the same execution.
    public func build(_ candidates: [Transaction], header: BlockHeader,
                      store: any KeyValueStore) throws(LedgerError) -> (transactions: [Transaction], execution: BlockExecution) {
        let limits = rules.genesis.consensus
        let state = StateOverlay(store: store)
        let (scheduled, scheduledReceipts) = try runScheduledCalls(state: state, header: header)
        var gasLeft = limits.maxBlockGas - min(limits.maxBlockGas, Self.reservedGas(scheduledCalls: scheduled.count, transactions: []))
        var bytesLeft = Int(clamping: limits.maxBlockBytes) - Self.headerAllowanceBytes
        var included: [Transaction] = []
        var receipts = scheduledReceipts
        var seen = Set<Hash>()
        var skipped = Set<Address>()
        for tx in candidates where UInt64(included.count) < limits.maxBlockTransactions {
            guard !skipped.contains(tx.sender) else { continue }
            let bytes = tx.encoded
            let hash = tx.hash
            guard tx.body.gasLimit <= gasLeft, bytes.count <= bytesLeft, !seen.contains(hash) else { skipped.insert(tx.sender); continue }
            let before = state.mark()
            guard try admit(tx, bytes: bytes, hash: hash, state: state) == nil else { skipped.insert(tx.sender); continue }
            let receipt = try apply(tx, hash: hash, state: state, header: header)
            if case .failure(let code, _) = receipt.status, code == TransactionError.blockStateFull(limitBytes: 0).code, !included.isEmpty {
                state.revert(to: before)
                skipped.insert(tx.sender)
                continue
            }
            seen.insert(hash)
            included.append(tx)
            receipts.append(receipt)
            gasLeft -= tx.body.gasLimit
            bytesLeft -= bytes.count
        }
        return (included, try finish(state, receipts: receipts, scheduledCalls: scheduled))
    }

    /// Room `build` keeps in `maxBlockBytes` for the header and the list's framing.
    public static let headerAllowanceBytes = 1024
}
