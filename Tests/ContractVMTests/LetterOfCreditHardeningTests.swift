import ChainTypes
import ContractVM
import Ledger
import Testing

/// Regression tests for exploits an outside security review found in the letter of credit,
/// each named after its finding: every one reproduced the exploit on the contract before its fix.
@Suite("Letter of credit: hardening after the security review")
struct LetterOfCreditHardeningTests {
    /// Half the credit drawn on the B/L loaded at `shipped`, insured one cent below 110 %: a
    /// presentation discrepant for its insurance alone (Art. 28(f)(ii)).
    func presentHalfInsuredOneCentShort(_ credit: Credit, shipped: UInt64) throws -> (Receipt, Int64) {
        let receipt = try credit.present(credit.documents(shippedOnBoard: shipped) {
            $0.part(50_000_00, quantity: 500)
            $0.insuredAmount = 54_999_99
        })
        return (receipt, try #require(credit.presentationID(in: receipt), "\(receipt.status)"))
    }

    // MARK: Finding 5 — one bill of lading paid twice through a waiver

    @Test("UCP 600 Art. 14(d), 16(b): a B/L in an undecided presentation counts as drawn against; the waiver pays one shipment once")
    func finding5_oneBillOfLadingIsNotPaidTwiceThroughAWaiver() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain)
        let shipped = try credit.load()
        let (oneCentShort, first) = try presentHalfInsuredOneCentShort(credit, shipped: shipped)
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
        let (_, first) = try presentHalfInsuredOneCentShort(credit, shipped: shipped)
        let again = try credit.present(credit.documents(shippedOnBoard: shipped) { $0.part(50_000_00, quantity: 500) })
        let second = try #require(credit.presentationID(in: again), "\(again.status)")
        // The second drawing is flagged for the reuse; the applicant, told of it, pays it…
        #expect(credit.event("Paid", in: again) == nil && credit.discrepancies(in: again) == [.transportReused])
        #expect(credit.event("Paid", in: try credit.waive(second)) != nil)
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

// MARK: Finding 11 — the issuing bank and the beneficiary extend a credit without the applicant

extension LetterOfCreditHardeningTests {
    @Test("UCP 600 Art. 10(a), 6(e): an extension of the expiry to day 3,000 needs the applicant — without it the credit expires on day 60")
    func finding11_anExtensionNeedsTheApplicant() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain)
        let proposed = try credit.proposeAmendment(expiryDays: 3_000)
        let id = try #require(credit.event("AmendmentProposed", in: proposed)?.first?.int, "\(proposed.status)")
        let accepted = try credit.respondAmendment(id, amount: false, expiry: true, shipment: false)
        #expect(accepted.succeeded, "\(accepted.status)")
        #expect(credit.event("AmendmentAccepted", in: accepted) == nil, "the expiry moved to day 3,000 with no act of the applicant")
        let expired = try chain.advance(toDay: 60)
        #expect(credit.event("Expired", in: expired) == [.int(100_000_00)])
        #expect(try chain.balance(chain.importer) == TradeChain.importerFunds)
    }
}

extension LetterOfCreditHardeningTests {
    @Test("UCP 600 Art. 10(a): the applicant's agreement, the beneficiary's acceptance and the confirming bank's consent come in any order")
    func finding11_theApplicantsAgreementInAnyOrder() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain, Terms(flags: [.confirmation]))
        #expect(try credit.confirm().succeeded)
        let proposed = try credit.proposeAmendment(expiryDays: 74, latestShipmentDays: 40)       // day 74: Friday
        let id = try #require(credit.event("AmendmentProposed", in: proposed)?.first?.int, "\(proposed.status)")
        #expect(credit.event("AmendmentAccepted", in: try credit.respondAmendment(id, amount: false, expiry: true, shipment: true)) == nil)
        #expect(credit.event("AmendmentAccepted", in: try credit.consentAmendment(id, agree: true)) == nil)
        let agreed = try credit.approveAmendment(id)
        #expect(credit.event("ApplicantAgreed", in: agreed) == [.int(id)], "\(agreed.status)")
        #expect(credit.event("AmendmentAccepted", in: agreed) == [.int(id)])
        #expect(credit.event("Expired", in: try chain.advance(toDay: 61)) == nil)
        #expect(credit.event("Expired", in: try chain.advance(toDay: 74)) == [.int(100_000_00)])
    }

    /// Each term that lengthens the applicant's exposure, alone: (amount, expiry day, latest shipment day).
    @Test("UCP 600 Art. 10(a): a later latest shipment date, a later expiry or a higher amount each needs the applicant; refused, it ends",
          arguments: [(100_000_00, 60.0, 45.0), (100_000_00, 90.0, 30.0), (120_000_00, 60.0, 30.0)] as [(Int64, Double, Double)])
    func finding11_everyLongerExposureNeedsTheApplicant(amount: Int64, expiry: Double, shipment: Double) throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain)
        let proposed = try credit.proposeAmendment(amount: amount, expiryDays: expiry, latestShipmentDays: shipment)
        let id = try #require(credit.event("AmendmentProposed", in: proposed)?.first?.int, "\(proposed.status)")
        if amount > 100_000_00 {
            // The applicant's answer is the funding; without it nothing changes.
            #expect(try credit.fundAmendment(id, value: 0).failureMessage?.contains("send the increase") == true)
        }
        #expect(credit.event("AmendmentAccepted", in: try credit.respondAmendment(id, amount: true, expiry: true, shipment: true)) == nil)
        let refused = try credit.approveAmendment(id, agree: false)
        #expect(credit.event("AmendmentRejected", in: refused) == [.int(id), .string("the applicant did not agree")], "\(refused.status)")
        #expect(try credit.approveAmendment(id).failureMessage?.contains("no such pending amendment") == true)
        #expect(try credit.available == 100_000_00)
        #expect(credit.event("Expired", in: try chain.advance(toDay: 60)) == [.int(100_000_00)])
    }

    @Test("UCP 600 Art. 10(a): an amendment that shortens the applicant's exposure needs no agreement of the applicant")
    func finding11_aShorterExposureNeedsNoApplicant() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain)
        let proposed = try credit.proposeAmendment(amount: 80_000_00, expiryDays: 46, latestShipmentDays: 20)   // day 46: Friday
        let id = try #require(credit.event("AmendmentProposed", in: proposed)?.first?.int, "\(proposed.status)")
        #expect(try credit.approveAmendment(id).failureMessage?.contains("its agreement is not needed") == true)
        let accepted = try credit.respondAmendment(id, amount: true, expiry: true, shipment: true)
        #expect(credit.event("AmendmentAccepted", in: accepted) == [.int(id)], "\(accepted.status)")
        #expect(try chain.balance(chain.importer) == TradeChain.importerFunds - 80_000_00)
        #expect(credit.event("Expired", in: try chain.advance(toDay: 46)) == [.int(80_000_00)])
    }
}

// MARK: Finding 12 — any carrier can claim any bill of lading first

extension LetterOfCreditHardeningTests {
    @Test("UCP 600 Art. 20(a)(i), 14(d): a rival carrier's earlier LOAD cannot claim the B/L; the genuine carrier's record stands and pays")
    func finding12_aRivalCarrierCannotClaimTheBillOfLading() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain)
        let rival = try credit.shippingEvent("LOAD", location: "CNNGB", vessel: "ROGUE STAR", by: chain.otherCarrier)
        #expect(rival.failureMessage != nil, "a carrier that did not issue the B/L recorded its LOAD")
        let genuine = try credit.shippingEvent("LOAD", location: "CNSHA")
        #expect(genuine.succeeded, "\(genuine.status)")
        let r = try credit.present(credit.documents(shippedOnBoard: chain.now - 60_000))
        #expect(credit.event("Paid", in: r) != nil, "\(credit.discrepancies(in: r) ?? [])")
    }
}

extension LetterOfCreditHardeningTests {
    @Test("UCP 600 Art. 20(a)(i), 7(a)(i): a credit naming no carrier — LOAD, DEPA and ARRI count only from the carrier registered with the B/L")
    func finding12_theRegisteredCarrierAloneReportsTheBillOfLading() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain, Terms(flags: [.payOnArrival], carrierNamed: false))
        for key in [chain.otherCarrier, chain.carrier] {
            let unbound = try credit.shippingEvent("LOAD", location: "CNSHA", by: key)
            #expect(unbound.failureMessage?.contains("has not registered this bill of lading's carrier") == true, "\(unbound.status)")
        }
        let registered = try credit.registerTransport()
        #expect(credit.event("TransportRegistered", in: registered) == [.string("MAEU-240001"), .address(chain.address(chain.carrier))],
                "\(registered.status)")
        // A carrier substituted later: the registration is fixed.
        let substitute = try credit.registerTransport(carrier: chain.otherCarrier)
        #expect(substitute.failureMessage?.contains("cannot be substituted") == true, "\(substitute.status)")
        #expect(try credit.shippingEvent("LOAD", location: "CNNGB", vessel: "ROGUE STAR", by: chain.otherCarrier).failureMessage?
            .contains("only the carrier of this bill of lading") == true)
        let r = try credit.shipAndPresent()
        #expect(credit.event("AwaitingArrival", in: r) != nil, "\(credit.discrepancies(in: r) ?? [])")
        try chain.advance(days: 20)
        for type in ["DEPA", "ARRI"] {
            let rival = try credit.shippingEvent(type, location: "NLRTM", by: chain.otherCarrier)
            #expect(rival.failureMessage?.contains("only the carrier of this bill of lading") == true, "\(type): \(rival.status)")
        }
        #expect(try chain.balance(chain.exporter) == 0)
        let arrival = try credit.shippingEvent("ARRI", location: "NLRTM")
        #expect(credit.event("Paid", in: arrival) != nil, "\(arrival.status)")
        #expect(try chain.balance(chain.exporter) == 100_000_00)
    }

    @Test("UCP 600 Art. 20(a)(i): the carrier named in the credit must be a registered carrier, and B/Ls of such a credit take no registration")
    func finding12_theNamedCarrierIsACarrier() throws {
        let chain = try TradeChain()
        var args = Credit.initArgs(chain, Terms())
        args[4] = .address(chain.address(chain.inspector))            // carrier_
        let (_, refused) = try chain.deploy(chain.banks[0], TradeChain.letterOfCredit.bytecode, args)
        #expect(refused.failureMessage?.contains("must be a registered carrier") == true, "\(refused.status)")
        let credit = try Credit.issue(on: chain)
        let register = try credit.registerTransport(carrier: chain.otherCarrier)
        #expect(register.failureMessage?.contains("the credit names the carrier") == true, "\(register.status)")
    }
}
