import ChainTypes
import ContractVM
import Ledger
import Testing

/// Hardening finding 6: scheduled work is paid for by the transaction that asks for it (a
/// `schedule` prepays the call's whole budget), so no contract keeps a free, permanent load
/// going; and a block runs at most a share of one contract's due calls, so one backlog does
/// not hold back the deadlines of other contracts.
@Suite("Scheduled work is prepaid and shared")
struct ScheduledWorkTests {
    static let looper: CompiledContract = {
        let source = """
        storage runs: int;
        event Ran(n: int);

        init() {
        }

        // Asks for `n` calls due at `when`, each of which asks for another a second later.
        pub fn start(n: int, when: int) {
            let i = 0;
            while i < n {
                schedule again() at when;
                i = i + 1;
            }
        }

        sched fn again() {
            runs = runs + 1;
            emit Ran(runs);
            schedule again() at now() + 1000;
        }

        pub fn count() -> int {
            return runs;
        }
        """
        do { return try Compiler.compile(source, file: "looper.hc") } catch { fatalError("\(error)") }
    }()

    @Test("finding 6: a scheduled call cannot keep itself alive for free, and each schedule costs its call's budget")
    func finding6_scheduledWorkIsPrepaid() throws {
        let chain = try TradeChain()
        let (looper, deployed) = try chain.deploy(chain.banks[0], Self.looper.bytecode, [])
        #expect(deployed.succeeded, "\(deployed.status)")
        // Asking for calls costs their budgets: 4 need more than 4 M gas, so 5 M buys them.
        let soon = Int64(chain.now + 1_000)
        let start = try chain.call(chain.banks[0], looper, "start", [.int(4), .int(soon)])
        #expect(start.succeeded, "\(start.status)")
        #expect(start.gasUsed > 4 * GasSchedule.scheduledCallGas)
        let tooMany = try chain.call(chain.banks[0], looper, "start", [.int(5), .int(Int64(chain.now + 1_000))])
        #expect(tooMany.failureMessage == "contract: out of gas", "\(tooMany.status)")
        // That block ran the 4 due calls, each once. A call's own schedule cannot prepay
        // another call's budget out of its one budget, so it traps (undoing its run), and the
        // chain of calls ends instead of running forever.
        #expect(chain.lastScheduled.count == 4)
        #expect(chain.lastScheduled.allSatisfy { $0.failureMessage?.contains("out of gas") == true }, "\(chain.lastScheduled)")
        for _ in 0..<3 {
            try chain.advance(days: 0.01)
            #expect(chain.lastScheduled.isEmpty)
        }
        #expect(try chain.ledger.pendingScheduledCalls(limit: 10).isEmpty)
        let count = try chain.ledger.readOnlyCall(looper, input: ABI.encodeCall("count", []), caller: chain.address(chain.regulator))
        #expect(try ABI.decodeValues(count.output).first == .int(0), "nothing that the trapped runs did stayed")
    }

    @Test("finding 6: another contract's deadline runs on time beside a backlog of due calls")
    func finding6_deadlinesOfOthersDoNotStarve() throws {
        let chain = try TradeChain()
        let bank = chain.banks[0]
        let (spammer, _) = try chain.deploy(bank, Self.looper.bytecode, [])
        let credit = try Credit.issue(on: chain, Terms(amount: 1_000_00, expiryDays: 1, latestShipmentDays: 0.5))
        let expiry = try #require(try chain.ledger.pendingScheduledCalls(limit: 10).first { $0.contract == credit.address }).atMillis
        // 40 calls of another contract due a moment before the expiry, paid for by ten
        // transactions of 4 each.
        let first = try chain.nonce(bank)
        let asks = (0..<10).map { i in
            TransactionBody(chain: chain.dev.binding, sender: bank.publicKey, nonce: first + UInt64(i), kind: .callContract,
                            payload: CallPayload(contract: spammer, input: ABI.encodeCall("start", [.int(4), .int(Int64(expiry) - 1)])).canonicalBytes,
                            gasLimit: 5_000_000).signed(with: bank)
        }
        #expect(try chain.commit(asks).allSatisfy(\.succeeded))
        #expect(try chain.ledger.pendingScheduledCalls(limit: 100).filter { $0.contract == spammer }.count == 40)
        // The first block past the expiry runs the credit's expiry although 40 calls of the
        // other contract were due before it.
        try chain.advance(to: expiry)
        #expect(chain.lastScheduled.count == ScheduledCall.maxRunsPerContractPerBlock + 1)
        #expect(try chain.balance(credit.address) == 0, "the escrow went back at the first block past expiry")
        #expect(try chain.balance(chain.importer) == TradeChain.importerFunds)
    }
}
