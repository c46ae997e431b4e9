import ChainTypes
import Ledger
import Testing

/// A ScriptEngine that counts its runs, to see whether the mempool executed anything.
final class CountingEngine: ContractEngine, @unchecked Sendable {
    private(set) var runs = 0
    func verify(code: [UInt8]) -> String? { ScriptEngine().verify(code: code) }
    func run(code: [UInt8], entry: ContractEntry, input: [UInt8], gasLimit: UInt64, host: any ContractHost) -> ContractOutcome {
        runs += 1
        return ScriptEngine().run(code: code, entry: entry, input: input, gasLimit: gasLimit, host: host)
    }
}

/// Hardening finding 7: transactions parked above a nonce gap are bounded per sender and in
/// all, are evicted first when the pool is full, and every bound is checked before any work.
@Suite("Mempool: no lock-out")
struct MempoolLockoutTests {
    /// A call of about 100 KiB from user `i` with `nonce` (parked when above its next nonce).
    func bulky(_ f: Fixture, _ i: Int, nonce: UInt64) throws -> Transaction {
        let target = Executor.contractAddress(deployer: f.address(f.bank(0)), nonce: 0)
        return try f.tx(f.user(i), .callContract, CallPayload(contract: target, input: [UInt8](repeating: 7, count: 99 * 1024)),
                        nonce: nonce, gas: 1_000_000)
    }

    @Test("finding 7: one sender parks at most 256 KiB above a gap")
    func finding7_parkedBytesPerSenderAreBounded() throws {
        let f = try Fixture()
        let pool = Mempool(executor: f.ledger.executor)
        try pool.add(try bulky(f, 0, nonce: 5), state: f.store, nowMillis: 0)
        try pool.add(try bulky(f, 0, nonce: 6), state: f.store, nowMillis: 0)
        do {
            try pool.add(try bulky(f, 0, nonce: 7), state: f.store, nowMillis: 0)
            Issue.record("a third 100 KiB transaction above the gap was parked")
        } catch let e as TransactionError {
            #expect(e.code == "mempool_full" && e.description.contains("send the missing nonce first"), "\(e)")
        }
        #expect(pool.count == 2 && pool.parkedByteCount == pool.byteCount)
        // The gap fills: they are no longer parked.
        try pool.add(try f.transfer(f.user(0), to: f.address(f.user(1)), 1, nonce: 0), state: f.store, nowMillis: 0)
        #expect(pool.parkedByteCount == pool.byteCount - (try f.transfer(f.user(0), to: f.address(f.user(1)), 1, nonce: 0)).canonicalBytes.count)
    }

    @Test("finding 7: parked transactions filling the pool cannot lock out a ready one — they are evicted first")
    func finding7_parkedTransactionsAreEvictedFirst() throws {
        let f = try Fixture()
        var limits = Mempool.Limits()
        limits.maxBytes = 1024 * 1024
        let pool = Mempool(executor: f.ledger.executor, limits: limits)
        // Five senders park two 100 KiB transactions each: the pool is about full.
        for i in 0..<5 {
            for n in [10, 11] as [UInt64] { try pool.add(try bulky(f, i, nonce: n), state: f.store, nowMillis: 0) }
        }
        let parked = pool.byteCount
        #expect(pool.count == 10 && pool.parkedByteCount == parked)
        // An honest 100 KiB transaction that is ready gets in, at the cost of a parked one.
        let honest = try bulky(f, 5, nonce: 0)
        try pool.add(honest, state: f.store, nowMillis: 0)
        #expect(pool.contains(honest.hash))
        #expect(pool.count == 10 && pool.byteCount <= limits.maxBytes)
        // A parked newcomer never evicts anything.
        #expect(throws: TransactionError.self) { try pool.add(try bulky(f, 5, nonce: 3), state: f.store, nowMillis: 0) }
        #expect(pool.contains(honest.hash) && pool.count == 10)
    }

    @Test("finding 7: a full pool refuses before the dry run executes anything")
    func finding7_capacityIsCheckedBeforeWork() throws {
        let engine = CountingEngine()
        let f = try Fixture(engine: engine)
        let contract = try ContractHostTests().deployed(f)
        var limits = Mempool.Limits()
        limits.maxTransactions = 2
        let pool = Mempool(executor: f.ledger.executor, limits: limits)
        for i in 0..<2 { try pool.add(try f.transfer(f.user(i), to: f.address(f.user(5)), 1), state: f.store, nowMillis: 0) }
        let runs = engine.runs
        let call = try f.tx(f.user(3), .callContract, CallPayload(contract: contract, input: [1, 1, 1]), gas: 100_000)
        #expect(throws: TransactionError.mempoolFull("2 transactions")) { try pool.add(call, state: f.store, nowMillis: 0) }
        #expect(engine.runs == runs, "the refused call was not dry-run")
    }
}
