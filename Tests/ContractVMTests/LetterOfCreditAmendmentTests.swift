import ChainTypes
import ContractVM
import Ledger
import Testing

/// Amendments (Art. 10), confirmation (Art. 8), advising (Art. 9) and expiry (Art. 6, 29).
@Suite("Letter of credit: amendments, confirmation, advising, expiry")
struct LetterOfCreditAmendmentTests {
    /// A credit whose issuing bank proposed raising the amount to 150,000.00 and the applicant
    /// escrowed the increase; returns the amendment's id.
    func fundedIncrease(_ credit: Credit, sourceLocation: SourceLocation = #_sourceLocation) throws -> Int64 {
        let proposed = try credit.proposeAmendment(amount: 150_000_00)
        let id = try #require(credit.event("AmendmentProposed", in: proposed)?.first?.int, "\(proposed.status)", sourceLocation: sourceLocation)
        let funded = try credit.fundAmendment(id, value: 50_000_00)
        #expect(funded.succeeded, "\(funded.status)", sourceLocation: sourceLocation)
        #expect(try credit.escrow == 150_000_00, sourceLocation: sourceLocation)
        #expect(try credit.chain.balance(credit.chain.importer) == TradeChain.importerFunds - 150_000_00, sourceLocation: sourceLocation)
        return id
    }

    // MARK: Amendments (Art. 10)

    @Test("UCP 600 Art. 10(a), (c): an increase funded by the applicant and accepted by the beneficiary takes effect")
    func increaseAccepted() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain)
        let id = try fundedIncrease(credit)
        #expect(try credit.available == 100_000_00)                 // Art. 10(b): not before acceptance
        let accepted = try credit.respondAmendment(id, amount: true, expiry: false, shipment: false)
        #expect(credit.event("AmendmentAccepted", in: accepted) == [.int(id)], "\(accepted.status)")
        #expect(try credit.available == 150_000_00)
        let r = try credit.shipAndPresent { $0.part(150_000_00, quantity: 1_000) }
        #expect(credit.event("Paid", in: r)?.last == .int(150_000_00), "\(credit.discrepancies(in: r) ?? [])")
        #expect(try chain.balance(chain.exporter) == 150_000_00)
        #expect(try credit.escrow == 0)
    }

    @Test("UCP 600 Art. 10(b): until the beneficiary accepts, the original terms apply — the increase cannot be drawn")
    func originalTermsUntilAcceptance() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain)
        _ = try fundedIncrease(credit)
        let r = try credit.shipAndPresent { $0.part(150_000_00, quantity: 1_000) }
        #expect(credit.discrepancies(in: r) == [.amount])
        #expect(credit.event("Presented", in: r) == [.int(1), .int(100_000_00)])
    }

    @Test("UCP 600 Art. 10(a), (c): the applicant may fund the increase after the beneficiary accepted; it then takes effect")
    func fundedAfterAcceptance() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain)
        let proposed = try credit.proposeAmendment(amount: 150_000_00)
        let id = try #require(credit.event("AmendmentProposed", in: proposed)?.first?.int)
        let accepted = try credit.respondAmendment(id, amount: true, expiry: true, shipment: true)
        #expect(accepted.succeeded, "\(accepted.status)")
        #expect(credit.event("AmendmentAccepted", in: accepted) == nil)   // not funded yet
        #expect(try credit.available == 100_000_00)
        let funded = try credit.fundAmendment(id, value: 50_000_00)
        #expect(credit.event("AmendmentAccepted", in: funded) == [.int(id)], "\(funded.status)")
        #expect(try credit.available == 150_000_00)
        #expect(try credit.escrow == 150_000_00)
    }

    @Test("UCP 600 Art. 10(a), 6(d)(i): an accepted extension of expiry and shipment date — the old expiry passes without effect")
    func extensionAccepted() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain)
        let proposed = try credit.proposeAmendment(expiryDays: 88, latestShipmentDays: 75)     // day 88: Friday
        let id = try #require(credit.event("AmendmentProposed", in: proposed)?.first?.int, "\(proposed.status)")
        #expect(try credit.approveAmendment(id).succeeded)      // an extension needs the applicant's agreement
        let accepted = try credit.respondAmendment(id, amount: false, expiry: true, shipment: true)
        #expect(credit.event("AmendmentAccepted", in: accepted) == [.int(id)], "\(accepted.status)")
        let oldExpiry = try chain.advance(toDay: 60.5)
        #expect(credit.event("Expired", in: oldExpiry) == nil)
        #expect(try credit.status == .issued)
        try chain.advance(toDay: 70)
        let r = try credit.shipAndPresent()                       // shipped on day 70, before the new day 75
        #expect(credit.event("Paid", in: r) != nil, "\(credit.discrepancies(in: r) ?? [])")
        let expiry = try chain.advance(toDay: 88)
        #expect(credit.event("Expired", in: expiry) == [.int(0)])
        #expect(try credit.status == .expired)
    }

    @Test("UCP 600 Art. 10(c): the beneficiary rejects — the original terms stand and the funded increase goes back to the applicant")
    func rejected() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain)
        let id = try fundedIncrease(credit)
        let rejected = try credit.respondAmendment(id, amount: false, expiry: false, shipment: false)
        #expect(credit.event("AmendmentRejected", in: rejected)?.first == .int(id), "\(rejected.status)")
        #expect(try credit.escrow == 100_000_00)
        #expect(try chain.balance(chain.importer) == TradeChain.importerFunds - 100_000_00)
        #expect(try credit.available == 100_000_00)
        #expect(try credit.respondAmendment(id, amount: true, expiry: true, shipment: true).failureMessage?.contains("no such pending amendment") == true)
        let r = try credit.shipAndPresent { $0.part(150_000_00, quantity: 1_000) }
        #expect(credit.discrepancies(in: r) == [.amount])
    }

    @Test("UCP 600 Art. 10(e): partial acceptance (amount yes, expiry no, when both changed) is a rejection")
    func partialAcceptance() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain)
        let proposed = try credit.proposeAmendment(amount: 150_000_00, expiryDays: 90)
        let id = try #require(credit.event("AmendmentProposed", in: proposed)?.first?.int)
        #expect(try credit.fundAmendment(id, value: 50_000_00).succeeded)
        let r = try credit.respondAmendment(id, amount: true, expiry: false, shipment: true)
        #expect(credit.event("AmendmentRejected", in: r) == [.int(id), .string("partial acceptance is rejection (Art. 10(e))")])
        #expect(credit.event("AmendmentAccepted", in: r) == nil)
        #expect(try credit.escrow == 100_000_00)
        #expect(try chain.balance(chain.importer) == TradeChain.importerFunds - 100_000_00)
        // The original expiry stands.
        #expect(credit.event("Expired", in: try chain.advance(toDay: 60)) == [.int(100_000_00)])
    }

    @Test("UCP 600 Art. 10(a), 8: a confirmed credit's amendment takes effect only with the confirming bank's consent, in any order")
    func confirmedAmendment() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain, Terms(flags: [.confirmation]))
        #expect(try credit.confirm().succeeded)
        let proposed = try credit.proposeAmendment(expiryDays: 74)                            // day 74: Friday
        let id = try #require(credit.event("AmendmentProposed", in: proposed)?.first?.int)
        #expect(try credit.approveAmendment(id).succeeded)      // an extension needs the applicant's agreement
        let accepted = try credit.respondAmendment(id, amount: false, expiry: true, shipment: false)
        #expect(accepted.succeeded, "\(accepted.status)")
        #expect(credit.event("AmendmentAccepted", in: accepted) == nil)
        let consent = try credit.consentAmendment(id, agree: true)
        #expect(credit.event("AmendmentAccepted", in: consent) == [.int(id)], "\(consent.status)")
        #expect(credit.event("Expired", in: try chain.advance(toDay: 61)) == nil)
        #expect(credit.event("Expired", in: try chain.advance(toDay: 74)) == [.int(100_000_00)])
    }

    @Test("UCP 600 Art. 10(a): the confirming bank disagrees — the amendment is rejected and the increase refunded")
    func confirmerDisagrees() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain, Terms(flags: [.confirmation]))
        #expect(try credit.confirm().succeeded)
        let id = try fundedIncrease(credit)
        let r = try credit.consentAmendment(id, agree: false)
        #expect(credit.event("AmendmentRejected", in: r) == [.int(id), .string("the confirming bank did not agree")])
        #expect(try credit.escrow == 100_000_00)
        #expect(try chain.balance(chain.importer) == TradeChain.importerFunds - 100_000_00)
        let late = try credit.respondAmendment(id, amount: true, expiry: true, shipment: true)
        #expect(late.failureMessage?.contains("no such pending amendment") == true)
        #expect(try credit.available == 100_000_00)
    }

    @Test("UCP 600 Art. 10(b), 7(a)(ii): a decrease accepted while a deferred drawing is held cannot undercut that drawing")
    func decreaseBelowHeld() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain, Terms(deferredDays: 30, flags: [.deferred]))
        let proposed = try credit.proposeAmendment(amount: 50_000_00)
        let id = try #require(credit.event("AmendmentProposed", in: proposed)?.first?.int, "\(proposed.status)")
        let r = try credit.shipAndPresent()
        #expect(credit.event("PaymentDeferred", in: r) != nil, "\(credit.discrepancies(in: r) ?? [])")
        let accepted = try credit.respondAmendment(id, amount: true, expiry: true, shipment: true)
        #expect(credit.event("AmendmentAccepted", in: accepted) == nil)
        #expect(try credit.escrow == 100_000_00)
        let maturity = try chain.advance(days: 31)
        #expect(maturity.allSatisfy { $0.succeeded }, "\(maturity.map(\.status))")
        #expect(try chain.balance(chain.exporter) == 100_000_00)
    }

    // MARK: Confirmation (Art. 8) and advising (Art. 9)

    @Test("UCP 600 Art. 8: the confirming bank confirms once; it may then refuse a discrepant presentation")
    func confirmation() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain, Terms(flags: [.confirmation]))
        let r = try credit.shipAndPresent { $0.vessel = "MAERSK ELBA" }
        #expect(try credit.refuse(1, by: credit.confirmingBank).failureMessage?.contains("only the issuing or confirming bank") == true)
        let confirmed = try credit.confirm()
        #expect(credit.event("Confirmed", in: confirmed) == [.address(chain.address(credit.confirmingBank))])
        #expect(try credit.confirm().failureMessage?.contains("already confirmed") == true)
        let refused = try credit.refuse(1, by: credit.confirmingBank)
        #expect(credit.event("Refused", in: refused) != nil, "\(refused.status) \(r.status)")

        let plain = try Credit.issue(on: chain)
        #expect(try plain.confirm().failureMessage?.contains("does not ask for confirmation") == true)
    }

    @Test("UCP 600 Art. 9(a): a presentation before the advising bank has advised the credit is refused")
    func advising() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain, advise: false)
        let shipped = try credit.load()
        let early = try credit.present(credit.documents(shippedOnBoard: shipped))
        #expect(early.failureMessage?.contains("has not been advised") == true, "\(early.status)")
        let advised = try credit.call(credit.advisingBank, "advise")
        #expect(credit.event("Advised", in: advised) == [.address(chain.address(credit.advisingBank))])
        #expect(try credit.call(credit.advisingBank, "advise").failureMessage?.contains("already advised") == true)
        let r = try credit.present(credit.documents(shippedOnBoard: shipped))
        #expect(credit.event("Paid", in: r) != nil, "\(r.status)")
    }

    @Test("UCP 600 Art. 7(b), 3: funding escrows the ceiling (any excess back); the draft can be cancelled, the issued credit cannot")
    func issuance() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain, fund: false, advise: false)
        #expect(try credit.status == .draft)
        #expect(try credit.fund(99_999_99).failureMessage?.contains("the escrow must cover") == true)
        #expect(try credit.call(credit.advisingBank, "advise").failureMessage?.contains("only an issued credit") == true)
        let funded = try credit.fund(120_000_00)
        #expect(credit.event("Issued", in: funded) == [.int(100_000_00)], "\(funded.status)")
        #expect(try credit.escrow == 100_000_00)
        #expect(try chain.balance(chain.importer) == TradeChain.importerFunds - 100_000_00)
        #expect(try credit.call(chain.importer, "cancel_draft").failureMessage?.contains("irrevocable") == true)

        let draft = try Credit.issue(on: chain, fund: false, advise: false)
        let cancelled = try draft.call(chain.importer, "cancel_draft")
        #expect(draft.event("DraftCancelled", in: cancelled) == [.address(chain.address(chain.importer))])
        #expect(try draft.status == .cancelled)
        #expect(try draft.fund().failureMessage?.contains("not a draft") == true)
    }

    // MARK: Expiry (Art. 6, 29)

    @Test("UCP 600 Art. 6(e): at expiry the scheduled expire call refunds the unused escrow to the applicant")
    func expiryUnused() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain)
        #expect(credit.event("Expired", in: try chain.advance(toDay: 59.9)) == nil)
        let expired = try chain.advance(toDay: 60)                // Friday
        #expect(credit.event("Expired", in: expired) == [.int(100_000_00)])
        #expect(try credit.status == .expired)
        #expect(try credit.escrow == 0)
        #expect(try chain.balance(chain.importer) == TradeChain.importerFunds)
    }

    @Test("UCP 600 Art. 6(e): a partly drawn credit refunds the rest at expiry")
    func expiryPartlyDrawn() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain, Terms())
        let r = try credit.shipAndPresent { $0.part(40_000_00, quantity: 400) }
        #expect(credit.event("Paid", in: r) != nil, "\(credit.discrepancies(in: r) ?? [])")
        let expired = try chain.advance(toDay: 60)
        #expect(credit.event("Expired", in: expired) == [.int(60_000_00)])
        #expect(try chain.balance(chain.importer) == TradeChain.importerFunds - 40_000_00)
        #expect(try chain.balance(chain.exporter) == 40_000_00)
        #expect(try credit.escrow == 0)
    }

    @Test("UCP 600 Art. 29(a): an expiry on a Saturday extends to Monday — a Saturday presentation is honoured")
    func expiryOnSaturday() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain, Terms(expiryDays: 61, latestShipmentDays: 50))   // day 61: Saturday
        try chain.advance(toDay: 50)
        let shipped = try credit.load()
        #expect(credit.event("Expired", in: try chain.advance(toDay: 61.1)) == nil)
        #expect(try credit.status == .issued)
        let r = try credit.present(credit.documents(shippedOnBoard: shipped) { $0.part(30_000_00, quantity: 300) })
        #expect(credit.event("Paid", in: r) != nil, "\(r.status) \(credit.discrepancies(in: r) ?? [])")
        #expect(credit.event("Expired", in: try chain.advance(toDay: 62.9)) == nil)   // Sunday
        let expired = try chain.advance(toDay: 63)                                    // Monday
        #expect(credit.event("Expired", in: expired) == [.int(70_000_00)])
        #expect(try credit.status == .expired)
        #expect(try chain.balance(chain.importer) == TradeChain.importerFunds - 30_000_00)
    }

    @Test("UCP 600 Art. 6(d)(i), 6(e): a presentation after expiry is refused")
    func presentationAfterExpiry() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain)
        let shipped = try credit.load()
        try chain.advance(toDay: 60.01)
        let r = try credit.present(credit.documents(shippedOnBoard: shipped))
        #expect(r.failureMessage?.contains("Art. 6") == true, "\(r.status)")
        #expect(try chain.balance(chain.exporter) == 0)
        #expect(try chain.balance(chain.importer) == TradeChain.importerFunds)
    }

    @Test("UCP 600 Art. 6(e), 16(c): a discrepant presentation pending at expiry keeps its reserve; refused later, it goes to the applicant")
    func refusedAfterExpiry() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain)
        let shipped = try credit.load()
        try chain.advance(toDay: 58)                               // Wednesday: the deadline is after the expiry
        let r = try credit.present(credit.documents(shippedOnBoard: shipped))
        #expect(credit.discrepancies(in: r) == [.latePresentation])
        let expired = try chain.advance(toDay: 60)
        #expect(credit.event("Expired", in: expired) == [.int(0)])
        #expect(try credit.escrow == 100_000_00)
        let refused = try credit.refuse(1)
        #expect(credit.event("Released", in: refused) == [.address(chain.address(chain.importer)), .int(100_000_00)])
        #expect(try credit.escrow == 0)
        #expect(try chain.balance(chain.importer) == TradeChain.importerFunds)
        #expect(try chain.balance(chain.exporter) == 0)
    }

    @Test("UCP 600 Art. 6(e), 14(b): a discrepant presentation pending at expiry and left undecided is released to the applicant at its deadline")
    func deadlineAfterExpiry() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain)
        let shipped = try credit.load()
        try chain.advance(toDay: 59)                               // Thursday: the deadline is the close of Thursday, day 66
        _ = try credit.present(credit.documents(shippedOnBoard: shipped))
        #expect(credit.event("Expired", in: try chain.advance(toDay: 60)) == [.int(0)])
        let deadline = try chain.advance(toDay: 67)
        #expect(credit.event("Refused", in: deadline) != nil)
        #expect(credit.event("Released", in: deadline) == [.address(chain.address(chain.importer)), .int(100_000_00)])
        #expect(try chain.balance(chain.importer) == TradeChain.importerFunds)
    }
}
