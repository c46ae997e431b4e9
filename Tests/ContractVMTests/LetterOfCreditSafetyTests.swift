import ChainTypes
import ContractVM
import Ledger
import Testing

/// Safety properties of the credit found in review: no money stuck when scheduled calls are
/// late, value only where it is accounted for, bounded work, and terms that make sense.
@Suite("Letter of credit: safety")
struct LetterOfCreditSafetyTests {
    /// Signed calls from one sender with consecutive nonces, for one block.
    func calls(_ chain: TradeChain, _ key: PrivateKey, _ targets: [Address], _ function: String,
               _ args: [ABIValue] = [], value: UInt64? = nil) throws -> [Transaction] {
        let first = try chain.nonce(key)
        return targets.enumerated().map { i, contract in
            TransactionBody(chain: chain.dev.binding, sender: key.publicKey, nonce: first + UInt64(i), kind: .callContract,
                            payload: CallPayload(contract: contract, input: ABI.encodeCall(function, args),
                                                 value: value.map { Amount($0, chain.usd) }).canonicalBytes,
                            gasLimit: 5_000_000).signed(with: key)
        }
    }

    @Test("UCP 600 Art. 6(e): when more expiries fall due than a block runs, anyone may close a credit that is past its expiry")
    func closeWhenTheSchedulerIsBehind() throws {
        let chain = try TradeChain()
        let count = ScheduledCall.maxRunsPerBlock + 2
        let bank = chain.banks[0]
        let first = try chain.nonce(bank)
        let deploys = (0..<count).map { i in
            TransactionBody(chain: chain.dev.binding, sender: bank.publicKey, nonce: first + UInt64(i), kind: .deployContract,
                            payload: DeployPayload(code: TradeChain.letterOfCredit.bytecode,
                                                   constructorInput: ABI.encodeCall("init", Credit.initArgs(chain, Terms(amount: 1_000_00)))).canonicalBytes,
                            gasLimit: 20_000_000).signed(with: bank)
        }
        let credits = (0..<count).map { Executor.contractAddress(deployer: chain.address(bank), nonce: first + UInt64($0)) }
        // Five deploys of 20 M gas fit in a block's 100 M.
        for start in stride(from: 0, to: count, by: 5) {
            #expect(try chain.commit(Array(deploys[start..<min(start + 5, count)])).allSatisfy(\.succeeded))
        }
        let funds = try calls(chain, chain.importer, credits, "fund", value: 1_000_00)
        for start in stride(from: 0, to: count, by: 20) {  // 20 calls of 5 M gas fill a block's 100 M
            #expect(try chain.commit(Array(funds[start..<min(start + 20, count)])).allSatisfy(\.succeeded))
        }
        let early = try chain.commit([try chain.tx(chain.regulator, .callContract, CallPayload(contract: credits[0], input: ABI.encodeCall("close", [])))])[0]
        #expect(early.failureMessage?.contains("its expiry has not passed") == true, "\(early.status)")

        // Past the expiry: the first block runs the ledger's bound of scheduled calls; in the
        // same block anyone (here an exporter with no part in these credits) closes the last one.
        chain.now = UInt64(TradeChain.time(days: 61))
        let closing = try chain.commit([try chain.tx(chain.otherExporter, .callContract,
                                                     CallPayload(contract: credits[count - 1], input: ABI.encodeCall("close", [])))])[0]
        #expect(chain.lastScheduled.count == ScheduledCall.maxRunsPerBlock)
        #expect(closing.succeeded, "\(closing.status)")
        #expect(try chain.balance(credits[count - 1]) == 0)
        // The next block's scheduled calls finish the rest; the late one for the closed credit does nothing.
        try chain.advance(days: 0.01)
        #expect(try credits.allSatisfy { try chain.balance($0) == 0 })
        #expect(try chain.balance(chain.importer) == TradeChain.importerFunds)
    }

    @Test("UCP 600 Art. 7(a)(ii), 14(b): settle and lapse refuse before their time")
    func fallbacksWaitForTheirTime() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain, Terms(deferredDays: 30, flags: [.deferred]))
        let deferred = try credit.shipAndPresent { $0.part(50_000_00, quantity: 500) }
        let id = try #require(credit.presentationID(in: deferred))
        let settle = try credit.call(chain.regulator, "settle", [.int(id)])
        #expect(settle.failureMessage?.contains("not a deferred payment that has matured") == true, "\(settle.status)")
        let discrepant = try credit.shipAndPresent(bl: "MAEU-240002") { $0.part(1_00, quantity: 1); $0.vessel = "X" }
        let lapse = try credit.call(chain.regulator, "lapse", [.int(try #require(credit.presentationID(in: discrepant)))])
        #expect(lapse.failureMessage?.contains("its examination period has not ended") == true, "\(lapse.status)")
    }

    @Test("UCP 600 Art. 16: the beneficiary may withdraw a discrepant presentation and present corrected documents")
    func withdrawAndRepresent() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain)
        let shipped = try credit.load()
        let wrong = try credit.present(credit.documents(shippedOnBoard: shipped) { $0.portOfDischarge = "DEHAM" })
        let id = try #require(credit.presentationID(in: wrong))
        #expect(try credit.available == 0)
        let withdrawn = try credit.call(chain.exporter, "withdraw", [.int(id)])
        #expect(credit.event("Withdrawn", in: withdrawn) == [.int(id)], "\(withdrawn.status)")
        #expect(try credit.state(of: id) == .withdrawn)
        #expect(try credit.available == 100_000_00)
        let corrected = try credit.present(credit.documents(shippedOnBoard: shipped))
        #expect(credit.event("Paid", in: corrected) != nil, "\(credit.discrepancies(in: corrected) ?? [])")
        #expect(try credit.waive(id).failureMessage?.contains("not awaiting a waiver") == true)
    }

    @Test("value sent to any function but fund and fund_amendment is refused; funding must be in the credit's currency")
    func valueOnlyWhereAccounted() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain, fund: false, advise: false)
        let euros = try chain.call(chain.importer, credit.address, "fund", value: 100_000_00, currency: chain.eur)
        #expect(euros.failureMessage?.contains("send the credit's currency") == true, "\(euros.status)")
        #expect(try credit.fund().succeeded)
        #expect(try credit.call(chain.banks[1], "advise").succeeded)
        let shipped = try credit.load()
        let tip = try chain.call(chain.importer, credit.address, "present", credit.documents(shippedOnBoard: shipped).args, value: 5)
        #expect(tip.failureMessage?.contains("this function takes no value") == true, "\(tip.status)")
        #expect(try credit.escrow == 100_000_00)
    }

    @Test("UCP 600 Art. 7(a): paying on arrival or at maturity after shipment requires the bill of lading")
    func arrivalNeedsTheBillOfLading() throws {
        let chain = try TradeChain()
        for flags: [LC.Flag] in [[.payOnArrival], [.deferred]] {
            let terms = Terms(deferredDays: 30, documents: [.invoice, .insurance], flags: flags)
            let (_, r) = try chain.deploy(chain.banks[0], TradeChain.letterOfCredit.bytecode, Credit.initArgs(chain, terms))
            #expect(r.failureMessage?.contains("needs the bill of lading among the required documents") == true, "\(flags): \(r.status)")
        }
        let fromPresentation = Terms(deferredDays: 30, documents: [.invoice, .insurance], flags: [.deferred, .maturityFromPresentation])
        #expect(try chain.deploy(chain.banks[0], TradeChain.letterOfCredit.bytecode, Credit.initArgs(chain, fromPresentation)).1.succeeded)
    }

    @Test("UCP 600 Art. 10(a): a credit confirmed after an amendment was proposed still needs the confirming bank's consent")
    func confirmationAfterProposal() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain, Terms(flags: [.confirmation]))
        let proposed = try credit.proposeAmendment(expiryDays: 80)
        let id = try #require(credit.event("AmendmentProposed", in: proposed)?.first?.int)
        #expect(try credit.approveAmendment(id).succeeded)      // an extension needs the applicant's agreement
        #expect(try credit.confirm().succeeded)
        let accepted = try credit.respondAmendment(id, amount: true, expiry: true, shipment: true)
        #expect(credit.event("AmendmentAccepted", in: accepted) == nil, "applied without the confirming bank")
        let consent = try credit.consentAmendment(id, agree: true)
        #expect(credit.event("AmendmentAccepted", in: consent) == [.int(id)], "\(consent.status)")
    }

    @Test("UCP 600 Art. 16(b): at most 8 drawings may wait for one bill of lading's arrival")
    func waitingIsBounded() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain, Terms(flags: [.payOnArrival]))
        let shipped = try credit.load()
        var waived = 0
        for n in 1...9 {
            let r = try credit.present(credit.documents(shippedOnBoard: shipped) { $0.part(1_000_00, quantity: 10) })
            let id = try #require(credit.presentationID(in: r), "\(r.status)")
            if n == 1 { #expect(credit.event("AwaitingArrival", in: r) != nil); continue }
            #expect(credit.discrepancies(in: r) == [.transportReused])
            let w = try credit.waive(id)
            if w.succeeded { waived += 1 } else {
                #expect(w.failureMessage?.contains("too many drawings already wait for this bill of lading") == true, "\(w.status)")
            }
        }
        #expect(waived == 7)
        try chain.advance(days: 10)
        let arrival = try credit.shippingEvent("ARRI", location: "NLRTM")
        #expect(arrival.succeeded, "\(arrival.status)")
        #expect(try chain.balance(chain.exporter) == 8 * 1_000_00)
    }

    @Test("amounts up to 10^17 minor units examine without overflow; above that the credit is refused")
    func largeAmounts() throws {
        let chain = try TradeChain()
        let tooLarge = try chain.deploy(chain.banks[0], TradeChain.letterOfCredit.bytecode,
                                        Credit.initArgs(chain, Terms(amount: 100_000_000_000_000_001))).1
        #expect(tooLarge.failureMessage?.contains("the amount is above 10^17 minor units") == true, "\(tooLarge.status)")
        let largest: Int64 = 100_000_000_000_000_000
        let ok = try chain.deploy(chain.banks[0], TradeChain.letterOfCredit.bytecode,
                                  Credit.initArgs(chain, Terms(amount: largest, flags: [.aboutAmount]))).1
        #expect(ok.succeeded, "\(ok.status)")
    }

    @Test("UCP 600 Art. 14(c): absurd dates are refused with a sentence, never an arithmetic trap", arguments: [Int64.max, -1, 100_000_000_000_000])
    func absurdDates(date: Int64) throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain)
        let shipped = try credit.load()
        var args = credit.documents(shippedOnBoard: shipped).args
        args[6] = .int(date)                       // shipped_on_board
        let bad = try credit.call(chain.exporter, "present", args)
        #expect(bad.failureMessage?.contains("dates are milliseconds since 1970") == true, "\(bad.status)")
        if date < 0 {
            let event = try credit.call(chain.carrier, "shipping_event", [.string("MAEU-240001"), .string("DEPA"), .string("ACT"),
                                                                        .string("CNSHA"), .string("MAERSK ESSEN"), .int(date)])
            #expect(event.failureMessage?.contains("dates are milliseconds since 1970") == true, "\(event.status)")
        }
        #expect(try credit.escrow == 100_000_00)
    }
}
