import ChainTypes

/// The ledger side of `ContractHost`: state goes through the block's overlay, so a failed
/// call is reverted with the transaction. A store failure during a run marks the host
/// faulted; the call then fails (it never half-applies).
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
    var faulted: Bool { fault != nil }

    init(state: StateOverlay, contract: Address, caller: Address, header: BlockHeader, rules: ChainRules) {
        self.state = state
        self.contract = contract
        self.caller = caller
        self.callerRole = (try? state.account(caller))??.role
        self.blockTimeMillis = header.timestampMillis
        self.blockHeight = header.height
        self.rules = rules
    }

    func load(_ key: [UInt8]) -> [UInt8]? {
        do { return try state.get(StateKey.slot(contract, key)) } catch { fault = "\(error)"; return nil }
    }

    func store(_ key: [UInt8], _ value: [UInt8]?) { state.set(StateKey.slot(contract, key), value) }

    func balance(of account: Address, _ currency: CurrencyCode) -> UInt64 {
        do { return try state.account(account)?.balance(currency) ?? 0 } catch { fault = "\(error)"; return 0 }
    }

    func roleOf(_ account: Address) -> Role? {
        do { return try state.account(account)?.role } catch { fault = "\(error)"; return nil }
    }

    func transfer(to: Address, _ currency: CurrencyCode, _ amount: UInt64) -> Bool {
        do {
            guard rules.currencies[currency] != nil, var source = try state.account(contract),
                  var target = try state.account(to), to != contract else { return false }
            let have = source.balance(currency)
            guard have >= amount else { return false }
            let (sum, overflow) = target.balance(currency).addingReportingOverflow(amount)
            guard !overflow else { return false }
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

    /// Recorded in state under "sched" ‖ time ‖ contract ‖ hash(input); the VM work runs due
    /// calls at the start of blocks.
    func scheduleCall(atMillis: UInt64, input: [UInt8]) -> Bool {
        guard input.count <= 4096, atMillis > blockTimeMillis else { return false }
        var key = Array("sched".utf8)
        for shift in stride(from: 56, through: 0, by: -8) { key.append(UInt8(truncatingIfNeeded: atMillis >> UInt64(shift))) }
        key += contract.bytes + SHA256.hash(input).bytes
        state.set(key, input)
        return true
    }
}
