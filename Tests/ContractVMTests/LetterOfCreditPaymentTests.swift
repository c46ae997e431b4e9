import ChainTypes
import ContractVM
import Ledger
import Testing

/// How a complying presentation is paid: at sight, on arrival, at maturity; partial drawings
/// and the tolerances of Art. 30.
@Suite("Letter of credit: payment")
struct LetterOfCreditPaymentTests {
    @Test("UCP 600 Art. 7(a)(i), 15(a): sight credit — a complying presentation is paid at once from the escrow")
    func sight() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain)
        let r = try credit.shipAndPresent()
        let id = try #require(credit.presentationID(in: r), "\(r.status)")
        #expect(credit.event("Complying", in: r) == [.int(id)])
        #expect(credit.event("Paid", in: r) == [.int(id), .address(chain.address(chain.exporter)), .int(100_000_00)])
        #expect(try chain.balance(chain.exporter) == 100_000_00)
        #expect(try credit.escrow == 0)
        #expect(try credit.state(of: id) == .paid)
        #expect(try credit.available == 0)
    }

    @Test("UCP 600 Art. 7(a)(i): pay on arrival — paid only when the loading carrier signs ARRI at the port of discharge")
    func payOnArrival() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain, Terms(flags: [.payOnArrival]))
        let r = try credit.shipAndPresent()
        let id = try #require(credit.presentationID(in: r), "\(r.status)")
        #expect(credit.event("AwaitingArrival", in: r) == [.int(id), .string("MAEU-240001")])
        #expect(credit.event("Paid", in: r) == nil)
        #expect(try credit.state(of: id) == .awaitingArrival)
        #expect(try credit.available == 0)

        // A port call at Antwerp on the way is an arrival, but not at the port of discharge.
        try chain.advance(days: 18)
        let antwerp = try credit.shippingEvent("ARRI", location: "BEANR")
        #expect(antwerp.succeeded, "\(antwerp.status)")
        #expect(credit.event("ShippingEvent", in: antwerp) != nil)
        #expect(credit.event("Paid", in: antwerp) == nil)
        #expect(try chain.balance(chain.exporter) == 0)
        #expect(try credit.escrow == 100_000_00)

        try chain.advance(days: 2)
        let rotterdam = try credit.shippingEvent("ARRI", location: "NLRTM")
        #expect(rotterdam.succeeded, "\(rotterdam.status)")
        #expect(credit.event("Paid", in: rotterdam) == [.int(id), .address(chain.address(chain.exporter)), .int(100_000_00)])
        #expect(try chain.balance(chain.exporter) == 100_000_00)
        #expect(try credit.escrow == 0)
        #expect(try credit.state(of: id) == .paid)

        let again = try credit.shippingEvent("ARRI", location: "NLRTM")
        #expect(again.failureMessage?.contains("arrival is already recorded") == true, "\(again.status)")
    }

    @Test("UCP 600 Art. 7(a)(i): pay on arrival — goods that arrived before the presentation are paid at presentation")
    func arrivedBeforePresentation() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain, Terms(flags: [.payOnArrival]))
        let shipped = try credit.load()
        try chain.advance(days: 15)
        #expect(try credit.shippingEvent("ARRI", location: "NLRTM").succeeded)
        let r = try credit.present(credit.documents(shippedOnBoard: shipped))
        #expect(credit.event("AwaitingArrival", in: r) == nil)
        #expect(credit.event("Paid", in: r) != nil, "\(r.status)")
        #expect(try chain.balance(chain.exporter) == 100_000_00)
    }

    @Test("UCP 600 Art. 7(a)(ii), 12(b): deferred payment 30 days after shipment — paid by the scheduled mature call at maturity, not before")
    func deferredFromShipment() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain, Terms(deferredDays: 30, flags: [.deferred]))
        let shipped = try credit.load()
        try chain.advance(days: 4)
        let r = try credit.present(credit.documents(shippedOnBoard: shipped))
        let id = try #require(credit.presentationID(in: r), "\(r.status)")
        let maturity = shipped + 30 * TradeChain.day
        #expect(credit.event("PaymentDeferred", in: r) == [.int(id), .int(Int64(maturity))])
        try expectPaidAtMaturity(credit, id: id, maturity: maturity)
    }

    @Test("UCP 600 Art. 7(a)(ii): deferred payment counted from presentation (MATURITY_FROM_PRESENTATION)")
    func deferredFromPresentation() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain, Terms(deferredDays: 30, flags: [.deferred, .maturityFromPresentation]))
        let shipped = try credit.load()
        try chain.advance(days: 10)
        let presented = chain.now
        let r = try credit.present(credit.documents(shippedOnBoard: shipped))
        let id = try #require(credit.presentationID(in: r), "\(r.status)")
        let maturity = presented + 30 * TradeChain.day
        #expect(credit.event("PaymentDeferred", in: r) == [.int(id), .int(Int64(maturity))])
        // Thirty days after shipment is not the maturity of this credit.
        #expect(credit.event("Paid", in: try chain.advance(to: shipped + 30 * TradeChain.day + 3_600_000)) == nil)
        try expectPaidAtMaturity(credit, id: id, maturity: maturity)
    }

    @Test("UCP 600 Art. 7(a)(ii), 16(b): a waived deferred presentation matures counted from its presentation, not from the waiver")
    func waivedDeferredFromPresentation() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain, Terms(deferredDays: 30, flags: [.deferred, .maturityFromPresentation]))
        let shipped = try credit.load()
        try chain.advance(days: 5)
        let presented = chain.now
        let r = try credit.present(credit.documents(shippedOnBoard: shipped) { $0.vessel = "OTHER VESSEL" })
        let id = try #require(credit.presentationID(in: r), "\(r.status)")
        #expect(credit.discrepancies(in: r) == [.vessel])
        try chain.advance(days: 2)
        let waived = try credit.waive(id)
        #expect(credit.event("PaymentDeferred", in: waived) == [.int(id), .int(Int64(presented + 30 * TradeChain.day))], "\(waived.status)")
    }

    @Test("UCP 600 Art. 16(b), 31(a): two drawings waiting for the same B/L's arrival are both paid when it arrives")
    func twoDrawingsWaitForOneArrival() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain, Terms(flags: [.payOnArrival]))
        let shipped = try credit.load()
        let first = try credit.present(credit.documents(shippedOnBoard: shipped) { $0.part(40_000_00, quantity: 400) })
        let firstID = try #require(credit.presentationID(in: first))
        #expect(credit.event("AwaitingArrival", in: first) != nil, "\(first.status)")
        // The same bill of lading again: a discrepancy the applicant chooses to waive.
        let second = try credit.present(credit.documents(shippedOnBoard: shipped) { $0.part(60_000_00, quantity: 600) })
        let secondID = try #require(credit.presentationID(in: second))
        #expect(credit.discrepancies(in: second) == [.transportReused])
        #expect(credit.event("AwaitingArrival", in: try credit.waive(secondID)) != nil)
        try chain.advance(days: 20)
        let arrival = try credit.shippingEvent("ARRI", location: "NLRTM")
        #expect(arrival.succeeded, "\(arrival.status)")
        #expect(try credit.state(of: firstID) == .paid)
        #expect(try credit.state(of: secondID) == .paid)
        #expect(try chain.balance(chain.exporter) == 100_000_00)
        #expect(try credit.escrow == 0)
    }

    /// A deferred presentation: held up to the block before `maturity`, paid by the block at it.
    func expectPaidAtMaturity(_ credit: Credit, id: Int64, maturity: UInt64, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let chain = credit.chain
        #expect(try credit.state(of: id) == .deferred, sourceLocation: sourceLocation)
        #expect(try credit.available == 0, sourceLocation: sourceLocation)
        let before = try chain.advance(to: maturity - 60_000)
        #expect(credit.event("Paid", in: before) == nil, sourceLocation: sourceLocation)
        #expect(try chain.balance(chain.exporter) == 0, sourceLocation: sourceLocation)
        #expect(try credit.escrow == 100_000_00, sourceLocation: sourceLocation)
        let at = try chain.advance(to: maturity)
        #expect(at.allSatisfy { $0.succeeded }, "\(at.map(\.status))", sourceLocation: sourceLocation)
        #expect(credit.event("Paid", in: at) == [.int(id), .address(chain.address(chain.exporter)), .int(100_000_00)],
                sourceLocation: sourceLocation)
        #expect(try chain.balance(chain.exporter) == 100_000_00, sourceLocation: sourceLocation)
        #expect(try credit.escrow == 0, sourceLocation: sourceLocation)
        #expect(try credit.state(of: id) == .paid, sourceLocation: sourceLocation)
    }

    @Test("UCP 600 Art. 31(a): partial drawings allowed — two shipments on different B/Ls are both paid, within the credit")
    func partialAllowed() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain, Terms())
        let first = try credit.shipAndPresent(bl: "MAEU-240001") { $0.part(60_000_00, quantity: 600) }
        #expect(credit.event("Paid", in: first) != nil, "\(credit.discrepancies(in: first) ?? [])")
        #expect(try credit.available == 40_000_00)
        try chain.advance(days: 3)
        let second = try credit.shipAndPresent(bl: "MAEU-240002") { $0.part(40_000_00, quantity: 400) }
        #expect(credit.event("Paid", in: second) != nil, "\(credit.discrepancies(in: second) ?? [])")
        #expect(try chain.balance(chain.exporter) == 100_000_00)
        #expect(try credit.escrow == 0)
        let third = try credit.shipAndPresent(bl: "MAEU-240003") { $0.part(1_00, quantity: 1) }
        #expect(third.failureMessage?.contains("nothing is left to draw") == true, "\(third.status)")
    }

    @Test("UCP 600 Art. 31(a), 30(c): partial drawings forbidden — full quantity 5 % short in amount is paid; a second drawing is D_PARTIAL")
    func partialForbidden() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain, Terms(flags: [.partialForbidden]))
        let first = try credit.shipAndPresent { $0.part(95_000_00, quantity: 1_000) }
        #expect(credit.event("Paid", in: first) != nil, "\(credit.discrepancies(in: first) ?? [])")
        #expect(try credit.available == 5_000_00)
        let second = try credit.shipAndPresent(bl: "MAEU-240002") { $0.part(5_000_00, quantity: 50) }
        #expect(credit.discrepancies(in: second) == [.partial, .quantity])
        #expect(try chain.balance(chain.exporter) == 95_000_00)
    }

    @Test("UCP 600 Art. 30(c): without partial drawings an amount more than 5 % short is D_PARTIAL even with the full quantity")
    func shortAmount() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain, Terms(flags: [.partialForbidden]))
        let r = try credit.shipAndPresent { $0.part(94_999_99, quantity: 1_000) }
        #expect(credit.discrepancies(in: r) == [.partial])
    }

    @Test("UCP 600 Art. 30(a): \"about\" the amount — 110 % is escrowed at issuance and may be drawn, not a cent more")
    func aboutAmount() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain, Terms(flags: [.aboutAmount]))
        #expect(try credit.escrow == 110_000_00)
        #expect(try chain.balance(chain.importer) == TradeChain.importerFunds - 110_000_00)
        #expect(try credit.available == 110_000_00)
        let shipped = try credit.load()
        let over = try credit.present(credit.documents(shippedOnBoard: shipped) { $0.part(110_000_01, quantity: 1_000) })
        #expect(credit.discrepancies(in: over) == [.amount])
        #expect(credit.event("Presented", in: over)?.last == .int(110_000_00))
        #expect(try credit.refuse(1).succeeded)
        let full = try credit.present(credit.documents(shippedOnBoard: shipped) { $0.part(110_000_00, quantity: 1_000) })
        #expect(credit.event("Paid", in: full)?.last == .int(110_000_00), "\(credit.discrepancies(in: full) ?? [])")
        #expect(try chain.balance(chain.exporter) == 110_000_00)
        #expect(try credit.escrow == 0)
    }

    struct QuantityCase: Sendable, CustomTestStringConvertible {
        let flags: [LC.Flag]
        let quantity: Int64
        let complies: Bool
        var testDescription: String { "\(flags.isEmpty ? "default" : "\(flags)") \(quantity) of 1000: \(complies ? "complies" : "D_QUANTITY")" }
    }

    /// Partial shipments forbidden, so that a short quantity is a quantity discrepancy, not a
    /// partial shipment (Art. 31(a) allows those unless the credit forbids them).
    @Test("UCP 600 Art. 30(a), (b): quantity tolerance — \"about\" ±10 %, otherwise ±5 %, exact when counted in units",
          arguments: [
              QuantityCase(flags: [.aboutQuantity], quantity: 1_100, complies: true),
              QuantityCase(flags: [.aboutQuantity], quantity: 900, complies: true),
              QuantityCase(flags: [.aboutQuantity], quantity: 1_101, complies: false),
              QuantityCase(flags: [.aboutQuantity], quantity: 899, complies: false),
              QuantityCase(flags: [], quantity: 1_050, complies: true),
              QuantityCase(flags: [], quantity: 950, complies: true),
              QuantityCase(flags: [], quantity: 1_051, complies: false),
              QuantityCase(flags: [], quantity: 949, complies: false),
              QuantityCase(flags: [.countedUnits], quantity: 1_000, complies: true),
              QuantityCase(flags: [.countedUnits], quantity: 1_001, complies: false),
              QuantityCase(flags: [.countedUnits], quantity: 999, complies: false),
          ])
    func quantityTolerance(_ c: QuantityCase) throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain, Terms(flags: c.flags + [.partialForbidden]))
        let r = try credit.shipAndPresent { $0.quantity = c.quantity }
        if c.complies {
            #expect(credit.event("Paid", in: r) != nil, "\(credit.discrepancies(in: r) ?? [])")
        } else {
            #expect(credit.discrepancies(in: r) == [.quantity])
        }
    }
}
