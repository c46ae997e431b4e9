import ChainTypes
import ContractVM
import Ledger
import Testing

/// Hardening finding 2: money has one range everywhere (ledger, host, VM), and a contract's
/// balance holds only what it accepted through its own calls — so no outsider can push a
/// credit's escrow past what the VM's 64-bit integers hold and freeze the refund.
@Suite("Money range and contract escrow")
struct MoneyRangeTests {
    /// Amount.maxMinorUnits, spelled out so that the test states the rule by itself.
    static let limit: UInt64 = 100_000_000_000_000_000

    /// A contract of an issuing bank that pays whatever it holds to whom it is told.
    static let pump: CompiledContract = {
        let source = """
        init() {
        }

        pub fn pump(target: address, amount: int) {
            pay(target, "USD", amount);
        }
        """
        do { return try Compiler.compile(source, file: "pump.hc") } catch { fatalError("\(error)") }
    }()

    func mint(_ chain: TradeChain, _ amount: UInt64) throws -> Receipt {
        let bank = chain.banks[0]
        return try chain.commit([try chain.tx(bank, .mint, DepositPayload(account: chain.address(bank), currency: chain.usd, amount: amount))])[0]
    }

    @Test("finding 2: no balance passes 10^17 minor units — a mint of 2^63 is refused, the limit itself is not")
    func finding2_balancesStayWithinTheOneRange() throws {
        let chain = try TradeChain()
        let huge = try mint(chain, 1 << 63)
        #expect(huge.failureCode == "amount_overflow", "\(huge.status)")
        #expect(try chain.balance(chain.banks[0]) == 0)
        #expect(try mint(chain, Self.limit).succeeded)
        let more = try mint(chain, 1)
        #expect(more.failureCode == "amount_overflow", "\(more.status)")
        #expect(try chain.balance(chain.banks[0]) == Self.limit)
    }

    @Test("finding 2: a contract cannot pay into another contract, so a credit's expiry still refunds the applicant")
    func finding2_noContractPaysIntoACredit() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain, Terms(amount: 1_000_00))
        let escrow = try chain.balance(credit.address)
        let attacker = chain.banks[3]
        let (pump, deployed) = try chain.deploy(attacker, MoneyRangeTests.pump.bytecode, [])
        #expect(deployed.succeeded, "\(deployed.status)")
        // The attacker bank funds its own contract through a call, as the ledger allows, then
        // has it pay the credit.
        let issue = try chain.commit([try chain.tx(attacker, .mint, DepositPayload(account: chain.address(attacker), currency: chain.usd,
                                                                                   amount: Self.limit))])[0]
        #expect(issue.succeeded, "\(issue.status)")
        let funded = try chain.call(attacker, pump, "pump", [.address(chain.address(attacker)), .int(0)], value: Self.limit)
        #expect(funded.succeeded, "\(funded.status)")
        let push = try chain.call(attacker, pump, "pump", [.address(credit.address), .int(Int64(Self.limit))])
        #expect(push.failureMessage?.contains("payment refused") == true, "\(push.status)")
        #expect(try chain.balance(credit.address) == escrow)

        // The scheduled expiry runs and returns the whole escrow.
        try chain.advance(toDay: 61)
        #expect(try chain.balance(credit.address) == 0)
        #expect(try chain.balance(chain.importer) == TradeChain.importerFunds)
    }
}

extension Receipt {
    var failureCode: String? {
        if case .failure(let code, _) = status { return code }
        return nil
    }
}
