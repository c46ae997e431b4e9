import ChainTypes
import ContractVM
import Ledger
import Testing

/// Regression tests for exploits an outside security review found in the letter of credit,
/// each named after its finding: every one reproduced the exploit on the contract before its fix.
@Suite("Letter of credit: hardening after the security review")
struct LetterOfCreditHardeningTests {
    // MARK: Finding 5 — one bill of lading paid twice through a waiver

    @Test("UCP 600 Art. 14(d), 16(b): a B/L in an undecided presentation counts as drawn against; the waiver pays one shipment once")
    func finding5_oneBillOfLadingIsNotPaidTwiceThroughAWaiver() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain)
        let shipped = try credit.load()
        let oneCentShort = try credit.present(credit.documents(shippedOnBoard: shipped) {
            $0.part(50_000_00, quantity: 500)
            $0.insuredAmount = 54_999_99
        })
        let first = try #require(credit.presentationID(in: oneCentShort), "\(oneCentShort.status)")
        #expect(credit.discrepancies(in: oneCentShort) == [.insuranceAmount])
        // The same B/L again, complying otherwise: it is already drawn against by the first.
        let again = try credit.present(credit.documents(shippedOnBoard: shipped) { $0.part(50_000_00, quantity: 500) })
        #expect(credit.event("Paid", in: again) == nil, "the same B/L was paid while its first presentation was undecided")
        #expect(credit.discrepancies(in: again) == [.transportReused])
        let waived = try credit.waive(first)
        #expect(credit.event("Paid", in: waived) != nil, "\(waived.status)")
        #expect(try chain.balance(chain.exporter) == 50_000_00)
    }

    @Test("UCP 600 Art. 16(b): a waiver covers the discrepancies of its notice — not a B/L honoured since in another drawing")
    func finding5_aWaiverDoesNotCoverAReuseThatAroseAfterTheNotice() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain)
        let shipped = try credit.load()
        let oneCentShort = try credit.present(credit.documents(shippedOnBoard: shipped) {
            $0.part(50_000_00, quantity: 500)
            $0.insuredAmount = 54_999_99
        })
        let first = try #require(credit.presentationID(in: oneCentShort), "\(oneCentShort.status)")
        let again = try credit.present(credit.documents(shippedOnBoard: shipped) { $0.part(50_000_00, quantity: 500) })
        let second = try #require(credit.presentationID(in: again), "\(again.status)")
        // The applicant, told of the reuse, pays the second drawing…
        if credit.event("Paid", in: again) == nil {
            #expect(credit.event("Paid", in: try credit.waive(second)) != nil)
        }
        // …then the first, whose notice said nothing of a reuse, can no longer be waived.
        let late = try credit.waive(first)
        #expect(late.failureMessage?.contains("since its notice") == true, "\(late.status)")
        #expect(try credit.state(of: first) == .discrepant)
        #expect(try chain.balance(chain.exporter) == 50_000_00)
        let refused = try credit.refuse(first)
        #expect(credit.event("Refused", in: refused) != nil, "\(refused.status)")
        #expect(try credit.available == 50_000_00)
    }

    @Test("UCP 600 Art. 30(b), 16(b): a waiver is re-examined against drawings honoured since its notice (quantity over tolerance)")
    func finding5_aWaiverDoesNotPayAQuantityTheCreditNoLongerHas() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain)
        let discrepant = try credit.shipAndPresent(bl: "MAEU-240001") {
            $0.part(60_000_00, quantity: 600)
            $0.insuredAmount = 65_999_99
        }
        let first = try #require(credit.presentationID(in: discrepant), "\(discrepant.status)")
        #expect(credit.discrepancies(in: discrepant) == [.insuranceAmount])
        // Another shipment of 600 units is honoured meanwhile: 1,200 units, above 1,000 + 5 %.
        let other = try credit.shipAndPresent(bl: "MAEU-240002") { $0.part(40_000_00, quantity: 600) }
        #expect(credit.event("Paid", in: other) != nil, "\(credit.discrepancies(in: other) ?? [])")
        let waived = try credit.waive(first)
        #expect(waived.failureMessage?.contains("since its notice") == true, "\(waived.status)")
        #expect(try chain.balance(chain.exporter) == 40_000_00)
    }

    @Test("UCP 600 Art. 14(b), 16(c): a B/L held by a discrepant presentation is free again once that one is refused, lapses or is withdrawn")
    func finding5_aDecidedPresentationReleasesItsBillOfLading() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain)
        let shipped = try credit.load()
        let part = { (p: inout Presentation) in p.part(30_000_00, quantity: 300) }
        let ids = try (0..<3).map { _ in
            let r = try credit.present(credit.documents(shippedOnBoard: shipped) { part(&$0); $0.vessel = "MAERSK ELBA" })
            return try #require(credit.presentationID(in: r), "\(r.status)")
        }
        #expect(try credit.refuse(ids[0]).succeeded)
        #expect(try credit.call(chain.exporter, "withdraw", [.int(ids[1])]).succeeded)
        // The third is still undecided: a complying fourth reuses the B/L…
        let held = try credit.present(credit.documents(shippedOnBoard: shipped, part))
        #expect(credit.discrepancies(in: held) == [.transportReused])
        #expect(try credit.refuse(try #require(credit.presentationID(in: held))).succeeded)
        // …until the third lapses at the close of its fifth banking day.
        try chain.advance(days: 8)
        #expect(try credit.state(of: ids[2]) == .refused)
        let corrected = try credit.present(credit.documents(shippedOnBoard: shipped, part))
        #expect(credit.event("Paid", in: corrected) != nil, "\(credit.discrepancies(in: corrected) ?? [])")
    }
}
