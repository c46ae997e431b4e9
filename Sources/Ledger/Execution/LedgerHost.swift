import ChainTypes

/// The ledger side of `ContractHost`: state goes through the block's overlay, so a failed
/// call is reverted with the transaction. A store failure during a run marks the host
/// faulted; the executor then aborts the whole block with a store error (a local I/O fault
/// must not turn into a receipt that other nodes would not produce).
final class LedgerHost: ContractHost {
    let state: StateOverlay
    let contract: Address
    let caller: Address
    let callerRole: Role?
    let blockTimeMillis: UInt64
    let blockHeight: UInt64
    let rules: ChainRules
    private(set) var events: [Event] = []
    private(set) var fault: String?
    /// Calls this run scheduled (bounded by `ScheduledCall.maxSchedulesPerRun`).
    private(set) var scheduledInRun = 0
    var faulted: Bool { fault != nil }

    func throwIfFaulted() throws(LedgerError) {
        if let fault { throw .store(StoreError(operation: "contract host", message: fault)) }
    }

    let callValue: Amount?

    init(state: StateOverlay, contract: Address, caller: Address, header: BlockHeader, rules: ChainRules,
         value: Amount? = nil) throws(LedgerError) {
        self.state = state
        self.contract = contract
        self.caller = caller
        self.callValue = value
        self.callerRole = try state.account(caller)?.role
        self.blockTimeMillis = header.timestampMillis
        self.blockHeight = header.height
        self.rules = rules
    }

    func load(_ key: [UInt8]) -> [UInt8]? {
        do { return try state.get(StateKey.slot(contract, key)) } catch { fault = "\(error)"; return nil }
    }

    /// Set when a write was dropped because it would take the block past its
    /// `maxBlockStateBytes`; the executor then fails the run with `blockStateFull` and undoes
    /// it (dropping the write keeps the run's memory within the bound meanwhile).
    private(set) var stateLimitHit = false

    func store(_ key: [UInt8], _ value: [UInt8]?) {
        let slot = StateKey.slot(contract, key)
        guard !stateLimitHit, state.bytesWritten + StateOverlay.cost(value) <= Int(clamping: rules.genesis.consensus.maxBlockStateBytes) else {
            stateLimitHit = true
            return
        }
        state.set(slot, value)
    }

    func balance(of account: Address, _ currency: CurrencyCode) -> UInt64 {
        do { return try state.account(account)?.balance(currency) ?? 0 } catch { fault = "\(error)"; return 0 }
    }

    func roleOf(_ account: Address) -> Role? {
        do { return try state.account(account)?.role } catch { fault = "\(error)"; return nil }
    }

    func transfer(to: Address, _ currency: CurrencyCode, _ amount: UInt64) -> Bool {
        do {
            // Each payout adds a Transfer event; keep one place free for the Deployed event.
            guard events.count < Receipt.maxEvents - 1 else { return false }
            // A contract's balance holds only what it accepted through a call (its escrow), so
            // no contract may pay another: the payee must be a participant's account.
            guard rules.currencies[currency] != nil, var source = try state.account(contract),
                  var target = try state.account(to), to != contract, target.codeHash == nil else { return false }
            let have = source.balance(currency)
            guard have >= amount, let sum = Amount.sum(target.balance(currency), amount) else { return false }
            source.setBalance(currency, have - amount)
            target.setBalance(currency, sum)
            state.setAccount(contract, source)
            state.setAccount(to, target)
            events.append(Event(emitter: contract, topics: [Event.topic("Transfer")], data: to.bytes + [UInt8](currency.value.utf8)))
            return true
        } catch {
            fault = "\(error)"
            return false
        }
    }

    func emit(topics: [Hash], data: [UInt8]) -> Bool {
        guard topics.count <= Event.maxTopics, data.count <= Event.maxDataBytes, events.count < Receipt.maxEvents - 1 else { return false }
        events.append(Event(emitter: contract, topics: topics, data: data))
        return true
    }

    /// Records the call in the state and the time-ordered index (`ScheduledCall`); the
    /// executor runs it at the start of the first block whose time reaches `atMillis`. False
    /// for an input above `ScheduledCall.maxInputBytes`, a time not after this block's, past
    /// `ScheduledCall.maxSchedulesPerRun` in this run, or past the contract's
    /// `ScheduledCall.maxPendingPerContract` waiting calls.
    func scheduleCall(atMillis: UInt64, input: [UInt8]) -> Bool {
        guard input.count <= ScheduledCall.maxInputBytes, atMillis > blockTimeMillis,
              scheduledInRun < ScheduledCall.maxSchedulesPerRun else { return false }
        do {
            guard try state.addScheduledCall(contract: contract, atMillis: atMillis, input: input) != nil else { return false }
        } catch {
            fault = "\(error)"
            return false
        }
        scheduledInRun += 1
        return true
    }
}
