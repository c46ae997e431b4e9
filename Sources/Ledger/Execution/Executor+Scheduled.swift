import ChainTypes

// Scheduled calls at the start of a block (docs/LEDGER.md "Scheduled calls").
extension Executor {
    /// Runs the calls due by the block's time that `ScheduledCall.due` chooses (in (time,
    /// sequence) order, a bounded share per contract); the rest carry over to the next block.
    /// Each is deleted from the state and the index before it runs, so a call runs once
    /// whatever it does — except that a call whose writes would pass the block's
    /// `maxBlockStateBytes` is put back, unrun and with no receipt, with every call after it:
    /// a deadline is deferred to the next block, never lost to another's writes.
    func runScheduledCalls(state: StateOverlay, header: BlockHeader) throws(LedgerError) -> ([ScheduledCall], [Receipt]) {
        let due = try ScheduledCall.due(in: state.store, byMillis: header.timestampMillis)
        var ran: [ScheduledCall] = []
        var receipts: [Receipt] = []
        receipts.reserveCapacity(due.count)
        for call in due {
            let before = state.mark()
            try state.removeScheduledCall(call)
            let receipt = try runScheduled(call, state: state, header: header)
            if case .failure(let code, _) = receipt.status, code == TransactionError.blockStateFull(limitBytes: 0).code {
                state.revert(to: before)
                break
            }
            ran.append(call)
            receipts.append(receipt)
        }
        return (ran, receipts)
    }

    /// Runs one scheduled call with the contract as its own caller, within
    /// `GasSchedule.scheduledCallGas`. A missing contract or engine, a failure or a trap gives
    /// a failed receipt, and the call's own changes are undone.
    func runScheduled(_ call: ScheduledCall, state: StateOverlay, header: BlockHeader) throws(LedgerError) -> Receipt {
        func failed(_ e: TransactionError, gas: UInt64 = 0) -> Receipt {
            Receipt(transactionHash: call.id, status: .failure(code: e.code, message: e.description), gasUsed: gas, events: [])
        }
        guard let engine else { return failed(.contract("this node has no contract engine")) }
        guard let (code, codeHash) = try state.contractCode(call.contract) else { return failed(.unknownAccount(call.contract)) }
        let mark = state.mark()
        let host = try LedgerHost(state: state, contract: call.contract, caller: call.contract, header: header, rules: rules)
        let outcome = engine.run(code: code, codeHash: codeHash, entry: .scheduled, input: call.input, gasLimit: GasSchedule.scheduledCallGas, host: host)
        try host.throwIfFaulted()
        if host.stateLimitHit || state.bytesWritten > stateLimit {
            state.revert(to: mark)
            return failed(.blockStateFull(limitBytes: rules.genesis.consensus.maxBlockStateBytes), gas: outcome.gasUsed)
        }
        guard outcome.succeeded else {
            state.revert(to: mark)
            return failed(.contract(outcome.failure ?? "scheduled call failed"), gas: outcome.gasUsed)
        }
        return Receipt(transactionHash: call.id, status: .success, gasUsed: outcome.gasUsed, events: host.events)
    }
}
