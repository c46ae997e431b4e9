import ChainTypes
import ContractVM
import Ledger
import Testing

/// Examination (Art. 14, 18, 20, 28, 30, 31): every discrepancy the contract knows, one notice
/// listing all of them, and what the applicant and the banks do with a discrepant presentation.
@Suite("Letter of credit: examination")
struct LetterOfCreditExaminationTests {
    /// Issues a credit with `terms` on a fresh chain and lets `scenario` present on it; checks
    /// that the presentation is discrepant — nothing paid, its drawing held, its examination
    /// deadline scheduled — and returns the discrepancies its one Discrepant notice lists.
    func examine(_ terms: Terms = Terms(), sourceLocation: SourceLocation = #_sourceLocation,
                 _ scenario: (Credit) throws -> Receipt) throws -> Set<LC.Discrepancy>? {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain, terms)
        let r = try scenario(credit)
        let id = try #require(credit.presentationID(in: r), "\(r.status)", sourceLocation: sourceLocation)
        #expect(credit.event("Complying", in: r) == nil, sourceLocation: sourceLocation)
        #expect(credit.event("Paid", in: r) == nil, sourceLocation: sourceLocation)
        #expect(try credit.state(of: id) == .discrepant, sourceLocation: sourceLocation)
        #expect(try chain.balance(chain.exporter) == 0, sourceLocation: sourceLocation)
        #expect(try credit.escrow == credit.ceiling, sourceLocation: sourceLocation)
        #expect(try credit.available == Int64(credit.ceiling) - (credit.event("Presented", in: r)?.last?.int ?? 0), sourceLocation: sourceLocation)
        return credit.discrepancies(in: r)
    }

    /// Loads now, waits `days`, then presents documents for that shipment.
    func presentLater(_ credit: Credit, days: Double, _ change: (inout Presentation) -> Void = { _ in }) throws -> Receipt {
        let shipped = try credit.load()
        try credit.chain.advance(days: days)
        return try credit.present(credit.documents(shippedOnBoard: shipped, change))
    }

    // MARK: Each discrepancy

    @Test("UCP 600 Art. 14(c): documents presented 22 days after shipment are late (D_LATE_PRESENTATION)")
    func latePresentation() throws {
        #expect(try examine { try presentLater($0, days: 22) } == [.latePresentation])
    }

    @Test("UCP 600 Art. 14(c): the 21st calendar day after the date of shipment is in time, whatever the hour")
    func twentyFirstDay() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain)
        let shipped = try credit.load()                       // Monday, day 0, 08:04
        try chain.advance(toDay: 21.4)                        // Monday, day 21, 17:36
        let r = try credit.present(credit.documents(shippedOnBoard: shipped))
        #expect(credit.event("Paid", in: r) != nil, "\(credit.discrepancies(in: r) ?? [])")
    }

    @Test("UCP 600 Art. 14(c), 29(a): a presentation period ending on a Saturday extends to Monday, not to Tuesday")
    func presentationPeriodWeekend() throws {
        // Loaded on Saturday, day 5: the 21st day is Saturday, day 26; the bank reopens Monday, day 28.
        let onMonday = try examineOrPay(presentOnDay: 28.5)
        #expect(onMonday == [])
        let onTuesday = try examineOrPay(presentOnDay: 29.1)
        #expect(onTuesday == [.latePresentation])
    }

    /// Loads on Saturday, day 5, presents on `day`: the discrepancies, or [] when it was paid.
    func examineOrPay(presentOnDay day: Double) throws -> Set<LC.Discrepancy>? {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain)
        try chain.advance(toDay: 5)
        let shipped = try credit.load()
        try chain.advance(toDay: day)
        let r = try credit.present(credit.documents(shippedOnBoard: shipped))
        return credit.event("Paid", in: r) != nil ? [] : credit.discrepancies(in: r)
    }

    @Test("UCP 600 Art. 18(b): an invoice in another currency than the credit's (D_INVOICE_CURRENCY)")
    func invoiceCurrency() throws {
        #expect(try examine { try $0.shipAndPresent { $0.invoiceCurrency = "EUR" } } == [.invoiceCurrency])
    }

    @Test("UCP 600 Art. 18(b): an invoice above the amount available (D_AMOUNT); the drawing is capped at what is available")
    func invoiceAmount() throws {
        var presented: [ABIValue]?
        #expect(try examine { credit in
            let r = try credit.shipAndPresent { $0.part(100_000_01, quantity: 1_000) }
            presented = credit.event("Presented", in: r)
            return r
        } == [.amount])
        #expect(presented == [.int(1), .int(100_000_00)])
    }

    @Test("UCP 600 Art. 20(a)(ii), 14(c): a B/L dated after the latest shipment date (D_LATE_SHIPMENT); later on that date is in time")
    func lateShipment() throws {
        // The latest shipment date is day 30 (08:00); the on-board date counts by the day.
        #expect(try examine { credit in
            try credit.chain.advance(toDay: 31)
            return try credit.shipAndPresent()
        } == [.lateShipment])
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain)
        try chain.advance(toDay: 30.5)
        let r = try credit.shipAndPresent()
        #expect(credit.event("Paid", in: r) != nil, "\(credit.discrepancies(in: r) ?? [])")
    }

    @Test("UCP 600 Art. 20(a)(iii): port of loading other than the credit's (D_PORT_OF_LOADING), though the carrier agrees")
    func portOfLoading() throws {
        #expect(try examine { credit in
            let loaded = try credit.load(location: "CNNGB")
            return try credit.present(credit.documents(shippedOnBoard: loaded) { $0.portOfLoading = "CNNGB" })
        } == [.portOfLoading])
    }

    @Test("UCP 600 Art. 20(a)(iii): port of discharge other than the credit's (D_PORT_OF_DISCHARGE)")
    func portOfDischarge() throws {
        #expect(try examine { try $0.shipAndPresent { $0.portOfDischarge = "DEHAM" } } == [.portOfDischarge])
    }

    @Test("UCP 600 Art. 14(d), eUCP: a B/L no carrier-signed LOAD agrees with — none, another day, another port (D_TRANSPORT_UNVERIFIED)")
    func transportUnverified() throws {
        // No LOAD at all.
        #expect(try examine { credit in
            try credit.present(credit.documents(shippedOnBoard: credit.chain.now))
        } == [.transportUnverified])
        // The B/L says it was on board the day before the carrier loaded it.
        #expect(try examine { credit in
            let loaded = try credit.load()
            return try credit.present(credit.documents(shippedOnBoard: loaded - TradeChain.day))
        } == [.transportUnverified])
        // The carrier loaded at Ningbo; the B/L claims Shanghai, the credit's port.
        #expect(try examine { credit in
            let loaded = try credit.load(location: "CNNGB")
            return try credit.present(credit.documents(shippedOnBoard: loaded))
        } == [.transportUnverified])
    }

    @Test("UCP 600 Art. 20(a)(ii): a vessel other than the one the carrier loaded (D_VESSEL)")
    func vessel() throws {
        #expect(try examine { try $0.shipAndPresent { $0.vessel = "MAERSK ELBA" } } == [.vessel])
    }

    @Test("UCP 600 Art. 28(f)(ii): insurance below 110 % of the invoice value (D_INSURANCE_AMOUNT)")
    func insuranceAmount() throws {
        #expect(try examine { try $0.shipAndPresent { $0.insuredAmount = 109_999_99 } } == [.insuranceAmount])
    }

    @Test("UCP 600 Art. 28(f)(i): insurance in another currency than the credit's (D_INSURANCE_CURRENCY)")
    func insuranceCurrency() throws {
        #expect(try examine { try $0.shipAndPresent { $0.insuranceCurrency = "EUR" } } == [.insuranceCurrency])
    }

    @Test("UCP 600 Art. 28(e): insurance dated after the date of shipment (D_INSURANCE_DATE)")
    func insuranceDate() throws {
        #expect(try examine { try $0.shipAndPresent { $0.insuranceDate = $0.shippedOnBoard + TradeChain.day } } == [.insuranceDate])
    }

    @Test("UCP 600 Art. 14(a), 15: a required document not presented — insurance, certificate of origin (D_MISSING_DOCUMENT)")
    func missingDocument() throws {
        #expect(try examine { try $0.shipAndPresent { $0.insuranceHash = [] } } == [.missingDocument])
        #expect(try examine(Terms(documents: [.invoice, .transport, .insurance, .origin])) { try $0.shipAndPresent() } == [.missingDocument])
    }

    @Test("UCP 600 Art. 14(d): a B/L already drawn against (D_TRANSPORT_REUSED)")
    func transportReused() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain, Terms())
        let shipped = try credit.load()
        let half = credit.documents(shippedOnBoard: shipped) { $0.part(50_000_00, quantity: 500) }
        let first = try credit.present(half)
        #expect(credit.event("Paid", in: first) != nil, "\(credit.discrepancies(in: first) ?? [])")
        let second = try credit.present(half)
        #expect(credit.discrepancies(in: second) == [.transportReused])
        #expect(try chain.balance(chain.exporter) == 50_000_00)
        #expect(try credit.available == 0)
    }

    @Test("UCP 600 Art. 16(c): one Discrepant notice lists every discrepancy at once; the refusal repeats them all")
    func allAtOnce() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain)
        let shipped = try credit.load()
        try chain.advance(days: 23)
        let r = try credit.present(credit.documents(shippedOnBoard: shipped) {
            $0.invoiceCurrency = "EUR"
            $0.quantity = 1_200
            $0.portOfDischarge = "DEHAM"
            $0.vessel = "MAERSK ELBA"
            $0.insuranceCurrency = "EUR"
            $0.insuranceDate = shipped + 2 * TradeChain.day
            $0.insuredAmount = 100_000_00
        })
        let expected: Set<LC.Discrepancy> = [.latePresentation, .invoiceCurrency, .quantity, .portOfDischarge, .vessel,
                                             .insuranceAmount, .insuranceCurrency, .insuranceDate]
        #expect(r.events.filter { $0.topics.first == Event.topic("Discrepant") }.count == 1)
        #expect(credit.discrepancies(in: r) == expected)
        #expect(try credit.query("discrepancies", [.int(1)]) == .int(LC.sum(Array(expected))))
        let refused = try credit.refuse(1)
        #expect(credit.event("Refused", in: refused) == [.int(1), .int(LC.sum(Array(expected)))])
    }

    @Test("UCP 600 Art. 14(g): documents the credit does not require are disregarded — wrong insurance data, yet complying")
    func notRequiredDisregarded() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain, Terms(documents: [.invoice, .transport]))
        let r = try credit.shipAndPresent {
            $0.insuranceHash = []
            $0.insuredAmount = 1
            $0.insuranceCurrency = "GBP"
            $0.insuranceDate = $0.shippedOnBoard + 9 * TradeChain.day
        }
        #expect(credit.event("Complying", in: r) != nil, "\(credit.discrepancies(in: r) ?? [])")
        #expect(try chain.balance(chain.exporter) == 100_000_00)
    }

    // MARK: What happens to a discrepant presentation

    @Test("UCP 600 Art. 16(b): the applicant waives the discrepancies — the presentation is honoured and paid")
    func waiver() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain)
        let r = try credit.shipAndPresent { $0.vessel = "MAERSK ELBA" }
        let id = try #require(credit.presentationID(in: r))
        let waived = try credit.waive(id)
        #expect(credit.event("Waived", in: waived) == [.int(id)])
        #expect(credit.event("Paid", in: waived) == [.int(id), .address(chain.address(chain.exporter)), .int(100_000_00)])
        #expect(try chain.balance(chain.exporter) == 100_000_00)
        #expect(try credit.escrow == 0)
        #expect(try credit.state(of: id) == .paid)
        // The examination deadline finds nothing left to refuse.
        let deadline = try chain.advance(days: 8)
        #expect(credit.event("Refused", in: deadline) == nil)
        #expect(try credit.state(of: id) == .paid)
        #expect(try credit.waive(id).failureMessage?.contains("not awaiting a waiver") == true)
    }

    @Test("UCP 600 Art. 16(c): the issuing bank refuses — nothing paid, the reserve released and available for a new presentation")
    func refusal() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain)
        let shipped = try credit.load()
        let r = try credit.present(credit.documents(shippedOnBoard: shipped) { $0.insuranceCurrency = "EUR" })
        let id = try #require(credit.presentationID(in: r))
        #expect(try credit.available == 0)
        let refused = try credit.refuse(id)
        #expect(credit.event("Refused", in: refused) == [.int(id), .int(LC.Discrepancy.insuranceCurrency.value)])
        #expect(credit.event("Released", in: refused) == nil)
        #expect(try credit.state(of: id) == .refused)
        #expect(try credit.available == 100_000_00)
        #expect(try credit.escrow == 100_000_00)
        #expect(try chain.balance(chain.exporter) == 0)
        #expect(try credit.refuse(id).failureMessage?.contains("only a discrepant presentation can be refused") == true)
        #expect(try credit.waive(id).failureMessage?.contains("not awaiting a waiver") == true)
        // The same B/L was never honoured: corrected documents are paid.
        let again = try credit.present(credit.documents(shippedOnBoard: shipped))
        #expect(credit.event("Paid", in: again) != nil, "\(credit.discrepancies(in: again) ?? [])")
        #expect(try chain.balance(chain.exporter) == 100_000_00)
    }

    @Test("UCP 600 Art. 14(b), 16(c): no decision by the fifth banking day — the scheduled examination_deadline refuses, skipping the weekend")
    func examinationDeadline() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain)
        try chain.advance(toDay: 3)                       // Thursday
        let r = try credit.shipAndPresent { $0.vessel = "MAERSK ELBA" }
        let id = try #require(credit.presentationID(in: r))
        let presented = chain.now - 60_000
        // Fri, Mon, Tue, Wed, Thu: the fifth banking day is seven calendar days on, and the
        // deadline is its close (the last millisecond of that UTC day).
        let close = (presented / TradeChain.day + 8) * TradeChain.day - 1
        #expect(credit.event("Refused", in: try chain.advance(to: presented + 5 * TradeChain.day)) == nil)   // Tuesday
        #expect(credit.event("Refused", in: try chain.advance(to: presented + 7 * TradeChain.day)) == nil)   // Thursday, same hour
        #expect(credit.event("Refused", in: try chain.advance(to: close - 60_000)) == nil)
        #expect(try credit.state(of: id) == .discrepant)
        #expect(try credit.available == 0)
        let deadline = try chain.advance(to: close)
        #expect(credit.event("Refused", in: deadline) == [.int(id), .int(LC.Discrepancy.vessel.value)])
        #expect(try credit.state(of: id) == .refused)
        #expect(try credit.available == 100_000_00)
        #expect(try credit.waive(id).failureMessage?.contains("not awaiting a waiver") == true)
    }
}
