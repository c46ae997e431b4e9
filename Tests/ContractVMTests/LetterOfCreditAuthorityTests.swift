import ChainTypes
import ContractVM
import Ledger
import Testing

/// Who may sign each step, the carrier's shipping events, and determinism.
@Suite("Letter of credit: signers, shipping events, determinism")
struct LetterOfCreditAuthorityTests {
    /// Every party of the trade chain, by name (test arguments must be Sendable; keys are not).
    enum Party: String, Sendable {
        case issuingBank, advisingBank, confirmingBank, otherBank, importer, exporter, otherExporter, carrier, otherCarrier, inspector

        func key(_ chain: TradeChain) -> PrivateKey {
            switch self {
            case .issuingBank: chain.banks[0]
            case .advisingBank: chain.banks[1]
            case .confirmingBank: chain.banks[2]
            case .otherBank: chain.banks[3]
            case .importer: chain.importer
            case .exporter: chain.exporter
            case .otherExporter: chain.otherExporter
            case .carrier: chain.carrier
            case .otherCarrier: chain.otherCarrier
            case .inspector: chain.inspector
            }
        }
    }

    /// Three credits on one chain, each at the point where every step can be tried:
    /// - `draft`: deployed, not funded;
    /// - `fresh`: issued, asking for confirmation, neither advised nor confirmed, naming no carrier;
    /// - `live`: confirmed, partial drawings allowed, B/L MAEU-240001 loaded, presentation 1
    ///   (half the credit) discrepant, amendment 1 (to 150,000.00) proposed and not funded.
    final class Fixture {
        enum Target: Sendable { case draft, fresh, live, deployment }

        let chain: TradeChain
        let draft: Credit
        let fresh: Credit
        let live: Credit
        let shipped: UInt64

        init() throws {
            chain = try TradeChain()
            draft = try Credit.issue(on: chain, fund: false, advise: false)
            fresh = try Credit.issue(on: chain, Terms(flags: [.confirmation], carrierNamed: false), advise: false)
            live = try Credit.issue(on: chain, Terms(flags: [.confirmation]))
            guard try live.confirm().succeeded else { throw TestFailure("confirm failed") }
            shipped = try live.load()
            let discrepant = try live.present(live.documents(shippedOnBoard: shipped) { $0.part(50_000_00, quantity: 500); $0.vessel = "MAERSK ELBA" })
            guard live.discrepancies(in: discrepant) == [.vessel] else { throw TestFailure("presentation: \(discrepant.status)") }
            guard try live.proposeAmendment(amount: 150_000_00).succeeded else { throw TestFailure("amendment failed") }
        }

        /// The second half of the credit, complying.
        var secondHalf: Presentation { live.documents(shippedOnBoard: shipped) { $0.part(50_000_00, quantity: 500) } }

        func run(_ step: SignerCase, as party: Party, value: UInt64? = nil) throws -> Receipt {
            let key = party.key(chain)
            switch step.target {
            case .deployment:
                return try chain.deploy(key, TradeChain.letterOfCredit.bytecode, Credit.initArgs(chain, Terms())).1
            case .draft: return try draft.call(key, step.function, step.args(self), value: value)
            case .fresh: return try fresh.call(key, step.function, step.args(self), value: value)
            case .live: return try live.call(key, step.function, step.args(self), value: value)
            }
        }

        /// The money of the parties and of every credit: no refused step may move any.
        func balances() throws -> [UInt64] {
            try [chain.balance(chain.importer), chain.balance(chain.exporter), draft.escrow, fresh.escrow, live.escrow]
        }
    }

    struct SignerCase: Sendable, CustomTestStringConvertible {
        let function: String
        let target: Fixture.Target
        let wrong: Party
        let right: Party?
        var rightValue: UInt64? = nil
        let message: String
        var args: @Sendable (Fixture) -> [ABIValue] = { _ in [] }

        var testDescription: String { "\(function) by the \(wrong) (\(right.map { "only the \($0)" } ?? "only the scheduler"))" }

        static let load: @Sendable (Fixture) -> [ABIValue] = { f in
            [.string("MAEU-240009"), .string("LOAD"), .string("ACT"), .string("CNSHA"), .string("MAERSK ESSEN"), .int(Int64(f.chain.now))]
        }
        static let arrival: @Sendable (Fixture) -> [ABIValue] = { f in
            [.string("MAEU-240001"), .string("ARRI"), .string("ACT"), .string("NLRTM"), .string(""), .int(Int64(f.chain.now))]
        }
        static let registration: @Sendable (Fixture) -> [ABIValue] = { f in [.string("MAEU-240009"), .address(f.chain.address(f.chain.carrier))] }
        static let amendment: @Sendable (Fixture) -> [ABIValue] = { _ in
            [.int(120_000_00), .int(TradeChain.time(days: 60)), .int(TradeChain.time(days: 30))]
        }

        static let all: [SignerCase] = [
            // The ledger lets only banks deploy (the contract's own "only a bank may issue a credit" backs it up).
            SignerCase(function: "deploy", target: .deployment, wrong: .importer, right: .issuingBank, message: "role importer may not deploy contracts"),
            SignerCase(function: "deploy", target: .deployment, wrong: .carrier, right: .otherBank, message: "role carrier may not deploy contracts"),
            SignerCase(function: "fund", target: .draft, wrong: .exporter, right: .importer, rightValue: 100_000_00, message: "only the applicant may do this"),
            SignerCase(function: "fund", target: .draft, wrong: .issuingBank, right: .importer, rightValue: 100_000_00, message: "only the applicant may do this"),
            SignerCase(function: "cancel_draft", target: .draft, wrong: .exporter, right: .issuingBank,
                       message: "only the issuing bank or the applicant may cancel the draft"),
            SignerCase(function: "cancel_draft", target: .draft, wrong: .advisingBank, right: .importer,
                       message: "only the issuing bank or the applicant may cancel the draft"),
            SignerCase(function: "advise", target: .fresh, wrong: .otherBank, right: .advisingBank, message: "only the advising bank may do this"),
            SignerCase(function: "advise", target: .fresh, wrong: .issuingBank, right: .advisingBank, message: "only the advising bank may do this"),
            SignerCase(function: "confirm", target: .fresh, wrong: .advisingBank, right: .confirmingBank, message: "only the confirming bank may do this"),
            SignerCase(function: "propose_amendment", target: .fresh, wrong: .advisingBank, right: .issuingBank,
                       message: "only the issuing bank may do this", args: amendment),
            SignerCase(function: "propose_amendment", target: .fresh, wrong: .importer, right: .issuingBank,
                       message: "only the issuing bank may do this", args: amendment),
            SignerCase(function: "fund_amendment", target: .live, wrong: .exporter, right: .importer, rightValue: 50_000_00,
                       message: "only the applicant may do this", args: { _ in [.int(1)] }),
            SignerCase(function: "approve_amendment", target: .live, wrong: .exporter, right: .importer,
                       message: "only the applicant may do this", args: { _ in [.int(1), .bool(true)] }),
            SignerCase(function: "approve_amendment", target: .live, wrong: .issuingBank, right: .importer,
                       message: "only the applicant may do this", args: { _ in [.int(1), .bool(true)] }),
            SignerCase(function: "consent_amendment", target: .live, wrong: .issuingBank, right: .confirmingBank,
                       message: "only the confirming bank may do this", args: { _ in [.int(1), .bool(true)] }),
            SignerCase(function: "respond_amendment", target: .live, wrong: .importer, right: .exporter,
                       message: "only the beneficiary may do this", args: { _ in [.int(1), .bool(true), .bool(true), .bool(true)] }),
            SignerCase(function: "respond_amendment", target: .live, wrong: .otherExporter, right: .exporter,
                       message: "only the beneficiary may do this", args: { _ in [.int(1), .bool(true), .bool(true), .bool(true)] }),
            SignerCase(function: "shipping_event", target: .live, wrong: .exporter, right: .carrier,
                       message: "only a carrier may sign shipping events", args: load),
            SignerCase(function: "shipping_event", target: .live, wrong: .inspector, right: .carrier,
                       message: "only a carrier may sign shipping events", args: load),
            // UCP 600 Art. 20(a)(i): the live credit names `carrier`; another carrier signs nothing for it.
            SignerCase(function: "shipping_event", target: .live, wrong: .otherCarrier, right: .carrier,
                       message: "only the carrier of this bill of lading may report it", args: load),
            SignerCase(function: "shipping_event", target: .live, wrong: .otherCarrier, right: .carrier,
                       message: "only the carrier of this bill of lading may report it", args: arrival),
            SignerCase(function: "register_transport", target: .fresh, wrong: .carrier, right: .exporter,
                       message: "only the beneficiary may do this", args: registration),
            SignerCase(function: "register_transport", target: .fresh, wrong: .importer, right: .exporter,
                       message: "only the beneficiary may do this", args: registration),
            SignerCase(function: "present", target: .live, wrong: .otherExporter, right: .exporter,
                       message: "only the beneficiary may do this", args: { $0.secondHalf.args }),
            SignerCase(function: "present", target: .live, wrong: .importer, right: .exporter,
                       message: "only the beneficiary may do this", args: { $0.secondHalf.args }),
            SignerCase(function: "waive", target: .live, wrong: .exporter, right: .importer,
                       message: "only the applicant may do this", args: { _ in [.int(1)] }),
            SignerCase(function: "waive", target: .live, wrong: .issuingBank, right: .importer,
                       message: "only the applicant may do this", args: { _ in [.int(1)] }),
            SignerCase(function: "refuse", target: .live, wrong: .advisingBank, right: .issuingBank,
                       message: "only the issuing or confirming bank may refuse", args: { _ in [.int(1)] }),
            SignerCase(function: "refuse", target: .live, wrong: .importer, right: .confirmingBank,
                       message: "only the issuing or confirming bank may refuse", args: { _ in [.int(1)] }),
            SignerCase(function: "withdraw", target: .live, wrong: .importer, right: .exporter,
                       message: "only the beneficiary may do this", args: { _ in [.int(1)] }),
            SignerCase(function: "withdraw", target: .live, wrong: .issuingBank, right: .exporter,
                       message: "only the beneficiary may do this", args: { _ in [.int(1)] }),
            SignerCase(function: "mature", target: .live, wrong: .issuingBank, right: nil,
                       message: "mature is a scheduled function; a transaction cannot start it", args: { _ in [.int(1)] }),
            SignerCase(function: "expire", target: .live, wrong: .importer, right: nil,
                       message: "expire is a scheduled function; a transaction cannot start it"),
            SignerCase(function: "examination_deadline", target: .live, wrong: .issuingBank, right: nil,
                       message: "examination_deadline is a scheduled function; a transaction cannot start it", args: { _ in [.int(1)] }),
        ]
    }

    @Test("UCP 600 Art. 2, 7-10, 14, 16: each step is refused to anyone but the party responsible for it, and nothing moves",
          arguments: SignerCase.all)
    func wrongSigner(_ step: SignerCase) throws {
        let f = try Fixture()
        let before = try f.balances()
        let wrong = try f.run(step, as: step.wrong)
        #expect(wrong.failureMessage?.contains(step.message) == true, "\(wrong.status)")
        #expect(try f.balances() == before)
        if let right = step.right {
            let r = try f.run(step, as: right, value: step.rightValue)
            #expect(r.succeeded, "\(r.status)")
        }
    }

    @Test("UCP 600 Art. 2, 7-10, 14, 16: the signer table covers every function of the contract that is not a query")
    func everyStepCovered() {
        let queries: Set = ["status", "available_amount", "presentation", "discrepancies"]
        // Anyone may trigger these once their time has passed (LetterOfCreditFallbackTests).
        let anyoneWhenDue: Set = ["lapse", "settle", "close"]
        let steps = TradeChain.letterOfCredit.program.functions.filter { $0.kind != .internal }
            .map { $0.kind == .constructor ? "deploy" : $0.name }
        #expect(Set(SignerCase.all.map(\.function)) == Set(steps).subtracting(queries).subtracting(anyoneWhenDue))
    }

    // MARK: Shipping events

    @Test("UCP 600 Art. 20(a)(ii), 14(d): planned and estimated events (PLN, EST) are ignored — nothing recorded, nothing paid")
    func plannedEventsIgnored() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain, Terms(flags: [.payOnArrival]))
        let planned = try credit.shippingEvent("LOAD", location: "CNSHA", classifier: "PLN")
        #expect(credit.event("ShippingEventIgnored", in: planned) == [.string("MAEU-240001"), .string("LOAD"), .string("PLN")])
        #expect(credit.event("ShippingEvent", in: planned) == nil)
        // Nothing was recorded: documents relying on the planned loading are unverified…
        let unverified = try credit.present(credit.documents(shippedOnBoard: chain.now - 60_000))
        #expect(credit.discrepancies(in: unverified) == [.transportUnverified])
        #expect(try credit.refuse(1).succeeded)
        // …and the actual LOAD is still the first one.
        let r = try credit.shipAndPresent()
        #expect(credit.event("AwaitingArrival", in: r) != nil, "\(credit.discrepancies(in: r) ?? [])")
        let estimated = try credit.shippingEvent("ARRI", location: "NLRTM", classifier: "EST")
        #expect(credit.event("ShippingEventIgnored", in: estimated) == [.string("MAEU-240001"), .string("ARRI"), .string("EST")])
        #expect(credit.event("Paid", in: estimated) == nil)
        #expect(try chain.balance(chain.exporter) == 0)
        #expect(try credit.shippingEvent("ARRI", location: "NLRTM", classifier: "XXX").failureMessage?.contains("the classifier must be") == true)
        let actual = try credit.shippingEvent("ARRI", location: "NLRTM")
        #expect(credit.event("Paid", in: actual) != nil, "\(actual.status)")
    }

    @Test("UCP 600 Art. 20(a)(ii), 14(d): a second LOAD for the same B/L is refused, whoever signs it")
    func secondLoad() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain)
        let first = try credit.shippingEvent("LOAD", location: "CNSHA")
        #expect(credit.event("ShippingEvent", in: first) == [.string("MAEU-240001"), .string("LOAD"), .string("CNSHA"), .string("MAERSK ESSEN"),
                                                            .int(Int64(chain.now - 60_000))])
        // The B/L's own carrier may not load it twice; another carrier is not its carrier at all (Art. 20(a)(i)).
        for (carrier, message) in [(chain.carrier, "already has a LOAD event"), (chain.otherCarrier, "only the carrier of this bill of lading")] {
            let again = try credit.shippingEvent("LOAD", location: "CNNGB", vessel: "MAERSK ELBA", by: carrier)
            #expect(again.failureMessage?.contains(message) == true, "\(again.status)")
        }
        // The first record stands: documents matching it comply.
        let r = try credit.present(credit.documents(shippedOnBoard: chain.now))
        #expect(credit.event("Paid", in: r) != nil, "\(credit.discrepancies(in: r) ?? [])")
    }

    @Test("UCP 600 Art. 14(d): an actual event dated in the future, or before the loading, is refused")
    func futureEvent() throws {
        let chain = try TradeChain()
        let credit = try Credit.issue(on: chain)
        let future = try credit.shippingEvent("LOAD", location: "CNSHA", time: chain.now + 1)
        #expect(future.failureMessage?.contains("cannot be in the future") == true, "\(future.status)")
        let loaded = try credit.load()
        let early = try credit.shippingEvent("DEPA", location: "CNSHA", time: loaded - 1)
        #expect(early.failureMessage?.contains("earlier than the loading") == true, "\(early.status)")
        let departed = try credit.shippingEvent("DEPA", location: "CNSHA")
        #expect(departed.succeeded, "\(departed.status)")
    }

    // MARK: Determinism

    /// A full history: a deferred credit with partial drawings — refused, waived and complying
    /// presentations, maturities, the examination deadline and expiry.
    static func history(_ chain: TradeChain) throws {
        let credit = try Credit.issue(on: chain, Terms(deferredDays: 20, flags: [.deferred]))
        let shipped = try credit.load()
        _ = try credit.present(credit.documents(shippedOnBoard: shipped) { $0.part(30_000_00, quantity: 300); $0.vessel = "X" })
        _ = try credit.refuse(1)
        _ = try credit.present(credit.documents(shippedOnBoard: shipped) { $0.part(30_000_00, quantity: 300) })
        try chain.advance(days: 3)
        _ = try credit.shipAndPresent(bl: "MAEU-240002") { $0.part(30_000_00, quantity: 300); $0.insuranceCurrency = "EUR" }
        _ = try credit.waive(3)
        _ = try credit.shipAndPresent(bl: "MAEU-240003") { $0.part(20_000_00, quantity: 200); $0.portOfDischarge = "DEHAM" }
        for day in [10.0, 25, 40, 61] { try chain.advance(toDay: day) }
    }

    @Test("UCP 600 Art. 7, 16, 6(e): the same history on two fresh chains gives identical state roots, receipts and gas")
    func determinism() throws {
        let a = try TradeChain(), b = try TradeChain()
        try Self.history(a)
        try Self.history(b)
        #expect(a.ledger.head.height == b.ledger.head.height)
        #expect(a.ledger.head.hash == b.ledger.head.hash)
        #expect(a.ledger.stateRoot == b.ledger.stateRoot)
        let ra = try a.allReceipts(), rb = try b.allReceipts()
        #expect(ra.map(\.gasUsed) == rb.map(\.gasUsed))
        #expect(ra == rb)
        // The history did what it says: two drawings of 30,000.00 paid at maturity, the rest back to the applicant.
        #expect(try a.balance(a.exporter) == 60_000_00)
        #expect(try a.balance(a.importer) == TradeChain.importerFunds - 60_000_00)
        #expect(ra.contains { !$0.succeeded } == false)
    }
}
