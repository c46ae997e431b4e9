import ChainTypes
import ContractVM
import Foundation
import HansaTestSupport
import Ledger

/// A chain with the parties of a documentary credit, a ledger on an in-memory store with the
/// real VM, and helpers to deploy and drive the compiled letter-of-credit contract
/// (contracts/letter_of_credit.hc). Time is explicit: every block is committed at `now`.
final class TradeChain {
    static func key(_ label: String) -> PrivateKey { try! PrivateKey(secret: SHA256.hash(utf8: "hansa trade test \(label)").bytes) }

    /// Monday 2025-11-24 08:00 UTC.
    static let start: UInt64 = 1_763_971_200_000
    static let day: UInt64 = 86_400_000

    /// The compiled contract, from the repository's contracts/ folder.
    static let letterOfCredit: CompiledContract = {
        let text = try! String(contentsOfFile: repositoryRoot() + "/contracts/letter_of_credit.hc", encoding: .utf8)
        do { return try Compiler.compile(text, file: "contracts/letter_of_credit.hc") } catch { fatalError("\(error)") }
    }()

    // Banks: 0 issuing, 1 advising, 2 confirming, 3 another validator.
    let banks = (0..<4).map { TradeChain.key("bank \($0)") }
    let importer = TradeChain.key("importer")
    let exporter = TradeChain.key("exporter")
    let carrier = TradeChain.key("carrier")
    let otherCarrier = TradeChain.key("other carrier")
    let inspector = TradeChain.key("inspector")
    let otherExporter = TradeChain.key("other exporter")
    let regulator = TradeChain.key("regulator")
    let usd = try! CurrencyCode("USD")
    let eur = try! CurrencyCode("EUR")
    /// Builds and certifies this chain's blocks.
    let dev: DevChain
    var genesis: Genesis { dev.genesis }
    let ledger: Ledger
    /// The time of the next block.
    var now: UInt64 = TradeChain.start + 60_000
    /// Receipts of the scheduled calls that ran in the last committed block.
    var lastScheduled: [Receipt] = []

    static let importerFunds: UInt64 = 10_000_000_00

    init(store: MemoryStore = MemoryStore()) throws {
        let validators = banks.enumerated().map {
            Validator(name: "bank-\($0.offset)", publicKey: $0.element.publicKey, p2pAddress: "127.0.0.1:\(7200 + $0.offset)", tlsSPKISHA256: nil)
        }
        let set = try ValidatorSet(validators)
        let validatorKeys = set.validators.map { v in TradeChain.key("bank \(validators.firstIndex { $0.publicKey == v.publicKey }!)") }
        var participants = set.validators.map { Participant(name: $0.name, publicKey: $0.publicKey, role: .validatorBank, bank: nil) }
        let bank0 = banks[0].publicKey.address, bank1 = banks[1].publicKey.address
        participants += [
            Participant(name: "importer", publicKey: importer.publicKey, role: .importer, bank: bank0),
            Participant(name: "exporter", publicKey: exporter.publicKey, role: .exporter, bank: bank1),
            Participant(name: "carrier", publicKey: carrier.publicKey, role: .carrier, bank: nil),
            Participant(name: "other-carrier", publicKey: otherCarrier.publicKey, role: .carrier, bank: nil),
            Participant(name: "inspector", publicKey: inspector.publicKey, role: .inspector, bank: nil),
            Participant(name: "other-exporter", publicKey: otherExporter.publicKey, role: .exporter, bank: bank1),
            Participant(name: "regulator", publicKey: regulator.publicKey, role: .regulator, bank: nil),
        ]
        let genesis = Genesis(chain: try ChainID("hansa-trade-test"), genesisTimeMillis: TradeChain.start, validators: set,
                          participants: participants,
                          currencies: [Currency(code: usd, decimals: 2, issuers: set.validators.map(\.address)),
                                       Currency(code: eur, decimals: 2, issuers: set.validators.map(\.address))],
                          deposits: [Deposit(account: importer.publicKey.address, currency: usd, amount: Self.importerFunds),
                                     Deposit(account: importer.publicKey.address, currency: eur, amount: Self.importerFunds)],
                          consensus: ConsensusParameters(tickMillis: 100, requestTimeoutTicks: 20, maxViewChangeTimeoutTicks: 160,
                                                         checkpointInterval: 64, watermarkWindow: 256, maxBlockTransactions: 1_000,
                                                         maxBlockBytes: 16 * 1024 * 1024, maxClockDriftMillis: 2_000),
                          governanceThreshold: 3)
        dev = DevChain(genesis: genesis, validatorKeys: validatorKeys)
        ledger = try Ledger(store: store, genesis: genesis, engine: HansaVM())
    }

    func address(_ k: PrivateKey) -> Address { k.publicKey.address }

    func nonce(_ k: PrivateKey) throws -> UInt64 { try ledger.account(address(k))?.nonce ?? 0 }

    func balance(_ a: Address, _ c: CurrencyCode? = nil) throws -> UInt64 { try ledger.account(a)?.balance(c ?? usd) ?? 0 }
    func balance(_ k: PrivateKey, _ c: CurrencyCode? = nil) throws -> UInt64 { try balance(address(k), c) }

    func tx(_ key: PrivateKey, _ kind: TransactionKind, _ payload: some CanonicalEncodable, gas: UInt64 = 5_000_000) throws -> Transaction {
        TransactionBody(chain: dev.binding, sender: key.publicKey, nonce: try nonce(key), kind: kind,
                        payload: payload.canonicalBytes, gasLimit: gas).signed(with: key)
    }

    /// Commits one block at `now` (then moves `now` on by a minute); returns the transactions' receipts.
    @discardableResult
    func commit(_ txs: [Transaction]) throws -> [Receipt] {
        let (block, certificate) = try dev.nextBlock(on: ledger, txs, timestampMillis: now)
        try ledger.apply(block, certificate: certificate)
        let receipts = try ledger.blockReceipts(at: block.header.height)!
        lastScheduled = receipts.scheduled
        now += 60_000
        return receipts.transactions
    }

    /// Moves time on and commits an empty block, so that due scheduled calls run.
    @discardableResult
    func advance(days: Double) throws -> [Receipt] { try advance(to: now + UInt64(days * Double(Self.day))) }

    /// Moves time to `time` (ms; never backwards) and commits an empty block, so that due
    /// scheduled calls run; returns their receipts.
    @discardableResult
    func advance(to time: UInt64) throws -> [Receipt] {
        guard time >= now else { throw TestFailure("time only moves forward: \(time) is before the next block's \(now)") }
        now = time
        try commit([])
        return lastScheduled
    }

    /// `advance(to:)` the moment `days` after `start` (day 0 is Monday 2025-11-24 08:00 UTC).
    @discardableResult
    func advance(toDay days: Double) throws -> [Receipt] { try advance(to: UInt64(Self.time(days: days))) }

    func call(_ key: PrivateKey, _ contract: Address, _ function: String, _ args: [ABIValue] = [],
              value: UInt64? = nil, currency: CurrencyCode? = nil) throws -> Receipt {
        let payload = CallPayload(contract: contract, input: ABI.encodeCall(function, args), value: value.map { Amount($0, currency ?? usd) })
        return try commit([try tx(key, .callContract, payload)])[0]
    }

    func deploy(_ key: PrivateKey, _ code: [UInt8], _ args: [ABIValue]) throws -> (Address, Receipt) {
        let n = try nonce(key)
        let r = try commit([try tx(key, .deployContract, DeployPayload(code: code, constructorInput: ABI.encodeCall("init", args)), gas: 20_000_000)])[0]
        return (Executor.contractAddress(deployer: address(key), nonce: n), r)
    }
}

// MARK: Letter of credit vocabulary (named after contracts/letter_of_credit.hc's constants)

/// A code of the letter of credit, named after its constant in the contract; its value is read
/// from the compiled contract (`CompiledContract.constants`), so no number here can drift from
/// the contract's.
protocol LCCode: RawRepresentable, CaseIterable, Hashable where RawValue == String {}

extension LCCode {
    var value: Int64 { TradeChain.letterOfCredit.int(rawValue) }
    init?(value: Int64) {
        guard let code = Self.allCases.first(where: { $0.value == value }) else { return nil }
        self = code
    }
}

enum LC {
    enum Flag: String, LCCode {
        case aboutAmount = "ABOUT_AMOUNT", aboutQuantity = "ABOUT_QUANTITY", countedUnits = "COUNTED_UNITS",
             partialForbidden = "PARTIAL_FORBIDDEN", payOnArrival = "PAY_ON_ARRIVAL", deferred = "DEFERRED",
             confirmation = "CONFIRMATION", maturityFromPresentation = "MATURITY_FROM_PRESENTATION", namedCarrier = "NAMED_CARRIER"
    }
    enum Doc: String, LCCode {
        case invoice = "DOC_INVOICE", transport = "DOC_TRANSPORT", insurance = "DOC_INSURANCE", origin = "DOC_ORIGIN",
             inspection = "DOC_INSPECTION"
    }
    enum Discrepancy: String, LCCode {
        case latePresentation = "D_LATE_PRESENTATION", invoiceCurrency = "D_INVOICE_CURRENCY", amount = "D_AMOUNT",
             quantity = "D_QUANTITY", partial = "D_PARTIAL", lateShipment = "D_LATE_SHIPMENT", portOfLoading = "D_PORT_OF_LOADING",
             portOfDischarge = "D_PORT_OF_DISCHARGE", transportUnverified = "D_TRANSPORT_UNVERIFIED", vessel = "D_VESSEL",
             insuranceAmount = "D_INSURANCE_AMOUNT", insuranceCurrency = "D_INSURANCE_CURRENCY", insuranceDate = "D_INSURANCE_DATE",
             missingDocument = "D_MISSING_DOCUMENT", transportReused = "D_TRANSPORT_REUSED"
    }
    static func sum<T: LCCode>(_ xs: [T]) -> Int64 { xs.reduce(0) { $0 | $1.value } }
    static func set(_ bits: Int64) -> Set<Discrepancy> { Set(Discrepancy.allCases.filter { bits & $0.value != 0 }) }

    enum CreditState: String, LCCode { case draft = "DRAFT", issued = "ISSUED", expired = "EXPIRED", cancelled = "CANCELLED" }
    enum PresentationState: String, LCCode {
        case none = "P_NONE", discrepant = "P_DISCREPANT", paid = "P_PAID", refused = "P_REFUSED",
             awaitingArrival = "P_AWAITING_ARRIVAL", deferred = "P_DEFERRED", withdrawn = "P_WITHDRAWN"
    }

    /// Every name above, to check that each is a constant of the contract.
    static var allNames: [String] {
        Flag.allCases.map(\.rawValue) + Doc.allCases.map(\.rawValue) + Discrepancy.allCases.map(\.rawValue)
            + CreditState.allCases.map(\.rawValue) + PresentationState.allCases.map(\.rawValue)
    }
}

/// A credit's terms, with defaults for a plain sight credit of USD 100,000.00 for 1,000 units
/// shipped Shanghai → Rotterdam, invoice + bill of lading + insurance required, naming the
/// chain's `carrier` as the carrier of its bills of lading.
struct Terms {
    var currency = "USD"
    var amount: Int64 = 100_000_00
    var quantity: Int64 = 1_000
    var expiryDays: Double = 60
    var latestShipmentDays: Double = 30
    var presentationDays: Int64 = 21
    var deferredDays: Int64 = 0
    var portOfLoading = "CNSHA"
    var portOfDischarge = "NLRTM"
    var documents: [LC.Doc] = [.invoice, .transport, .insurance]
    var flags: [LC.Flag] = []
    var advisingBank = 1
    var confirmingBank = 2
    /// Whether the credit names `TradeChain.carrier` (flag NAMED_CARRIER); when not, the
    /// beneficiary registers each B/L's carrier (`register_transport`).
    var carrierNamed = true

    var flagSum: Int64 { LC.sum(flags.filter { $0 != .namedCarrier }) + (carrierNamed ? LC.Flag.namedCarrier.value : 0) }
}

/// A presentation that complies with the default terms for a shipment loaded on `shippedOnBoard`.
struct Presentation {
    var invoiceHash = SHA256.hash(utf8: "invoice").bytes
    var invoiceAmount: Int64 = 100_000_00
    var invoiceCurrency = "USD"
    var quantity: Int64 = 1_000
    var bl = "MAEU-240001"
    var blHash = SHA256.hash(utf8: "bill of lading").bytes
    var shippedOnBoard: UInt64
    var portOfLoading = "CNSHA"
    var portOfDischarge = "NLRTM"
    var vessel = "MAERSK ESSEN"
    var insuranceHash = SHA256.hash(utf8: "insurance").bytes
    var insuredAmount: Int64 = 110_000_00
    var insuranceCurrency = "USD"
    var insuranceDate: UInt64
    var originHash: [UInt8] = []
    var inspectionHash: [UInt8] = []

    init(shippedOnBoard: UInt64) {
        self.shippedOnBoard = shippedOnBoard
        self.insuranceDate = shippedOnBoard
    }

    /// A drawing of `amount` for `quantity` units, insured at 110 % (Art. 28(f)(ii)).
    mutating func part(_ amount: Int64, quantity: Int64) {
        invoiceAmount = amount
        self.quantity = quantity
        insuredAmount = (amount * 110 + 99) / 100
    }

    var args: [ABIValue] {
        [.bytes(invoiceHash), .int(invoiceAmount), .string(invoiceCurrency), .int(quantity), .string(bl), .bytes(blHash),
         .int(Int64(shippedOnBoard)), .string(portOfLoading), .string(portOfDischarge), .string(vessel), .bytes(insuranceHash),
         .int(insuredAmount), .string(insuranceCurrency), .int(Int64(insuranceDate)), .bytes(originHash), .bytes(inspectionHash)]
    }
}

/// One credit on a `TradeChain`, with a step for each party.
struct Credit {
    let chain: TradeChain
    let address: Address
    let terms: Terms

    /// Deploys the credit (issuing bank = bank 0), funds it from the applicant and has it advised.
    static func issue(on chain: TradeChain, _ terms: Terms = Terms(), fund: Bool = true, advise: Bool = true) throws -> Credit {
        let (address, receipt) = try chain.deploy(chain.banks[0], TradeChain.letterOfCredit.bytecode, initArgs(chain, terms))
        guard receipt.succeeded else { throw TestFailure("deploy failed: \(receipt.status)") }
        let credit = Credit(chain: chain, address: address, terms: terms)
        if fund {
            let r = try credit.fund()
            guard r.succeeded else { throw TestFailure("fund failed: \(r.status)") }
        }
        if advise {
            let r = try credit.call(chain.banks[terms.advisingBank], "advise")
            guard r.succeeded else { throw TestFailure("advise failed: \(r.status)") }
        }
        return credit
    }

    static func initArgs(_ chain: TradeChain, _ t: Terms) -> [ABIValue] {
        [.address(chain.address(chain.importer)), .address(chain.address(chain.exporter)), .address(chain.address(chain.banks[t.advisingBank])),
         .address(chain.address(chain.banks[t.confirmingBank])), .address(chain.address(chain.carrier)), .string(t.currency), .int(t.amount), .int(t.quantity),
         .int(TradeChain.time(days: t.expiryDays)), .int(TradeChain.time(days: t.latestShipmentDays)),
         .int(t.presentationDays), .int(t.deferredDays), .string(t.portOfLoading), .string(t.portOfDischarge),
         .int(LC.sum(t.documents)), .int(t.flagSum)]
    }

    /// The most the credit can pay (+10 % for an "about" amount).
    var ceiling: UInt64 { UInt64(terms.flags.contains(.aboutAmount) ? terms.amount + terms.amount / 10 : terms.amount) }

    func call(_ key: PrivateKey, _ function: String, _ args: [ABIValue] = [], value: UInt64? = nil) throws -> Receipt {
        try chain.call(key, address, function, args, value: value, currency: try CurrencyCode(terms.currency))
    }

    func fund(_ amount: UInt64? = nil) throws -> Receipt { try call(chain.importer, "fund", value: amount ?? ceiling) }

    /// A carrier-signed shipping event, at `time` (default: the next block's time).
    func shippingEvent(_ type: String, bl: String = "MAEU-240001", location: String, vessel: String = "MAERSK ESSEN",
                       classifier: String = "ACT", time: UInt64? = nil, by carrier: PrivateKey? = nil) throws -> Receipt {
        try call(carrier ?? chain.carrier, "shipping_event",
                 [.string(bl), .string(type), .string(classifier), .string(location), .string(vessel), .int(Int64(time ?? chain.now))])
    }

    /// LOAD now at `location` (default: the port of loading); returns the on-board time.
    func load(bl: String = "MAEU-240001", vessel: String = "MAERSK ESSEN", location: String? = nil) throws -> UInt64 {
        let t = chain.now
        let r = try shippingEvent("LOAD", bl: bl, location: location ?? terms.portOfLoading, vessel: vessel, time: t)
        guard r.succeeded else { throw TestFailure("LOAD failed: \(r.status)") }
        return t
    }

    /// The beneficiary registers `carrier` (default: the chain's) as the carrier of `bl`.
    func registerTransport(bl: String = "MAEU-240001", carrier: PrivateKey? = nil) throws -> Receipt {
        try call(chain.exporter, "register_transport", [.string(bl), .address(chain.address(carrier ?? chain.carrier))])
    }

    func present(_ p: Presentation, by key: PrivateKey? = nil) throws -> Receipt {
        try call(key ?? chain.exporter, "present", p.args)
    }

    /// The data of the first event named `name` in `receipt`, decoded.
    func event(_ name: String, in receipt: Receipt) -> [ABIValue]? {
        receipts(receipt).compactMap { e -> [ABIValue]? in
            guard e.emitter == address, e.topics.first == Event.topic(name) else { return nil }
            return try? ABI.decodeValues(e.data)
        }.first
    }

    func receipts(_ r: Receipt) -> [Event] { r.events }

    /// The discrepancies listed in `receipt`'s Discrepant event.
    func discrepancies(in receipt: Receipt) -> Set<LC.Discrepancy>? {
        guard let e = event("Discrepant", in: receipt), case .int(let bits) = e[1] else { return nil }
        return LC.set(bits)
    }
}

// MARK: Scenario steps and read-only queries

extension Credit {
    /// The credit's parties, by role.
    var issuingBank: PrivateKey { chain.banks[0] }
    var advisingBank: PrivateKey { chain.banks[terms.advisingBank] }
    var confirmingBank: PrivateKey { chain.banks[terms.confirmingBank] }

    /// The contract's own balance in the credit's currency: the escrow.
    var escrow: UInt64 { get throws { try chain.balance(address, try CurrencyCode(terms.currency)) } }

    /// A presentation that complies for goods loaded at `shippedOnBoard`, changed by `change`.
    func documents(shippedOnBoard: UInt64, _ change: (inout Presentation) -> Void = { _ in }) -> Presentation {
        var p = Presentation(shippedOnBoard: shippedOnBoard)
        change(&p)
        return p
    }

    /// The carrier loads `bl` now (LOAD at the port of loading), then the beneficiary presents
    /// complying documents for it, changed by `change`.
    func shipAndPresent(bl: String = "MAEU-240001", _ change: (inout Presentation) -> Void = { _ in }) throws -> Receipt {
        let shipped = try load(bl: bl)
        return try present(documents(shippedOnBoard: shipped) { $0.bl = bl; change(&$0) })
    }

    func confirm() throws -> Receipt { try call(confirmingBank, "confirm") }
    func waive(_ id: Int64, by key: PrivateKey? = nil) throws -> Receipt { try call(key ?? chain.importer, "waive", [.int(id)]) }
    func refuse(_ id: Int64, by key: PrivateKey? = nil) throws -> Receipt { try call(key ?? issuingBank, "refuse", [.int(id)]) }

    /// The issuing bank proposes new terms (days from `TradeChain.start`; nil keeps a term).
    func proposeAmendment(amount: Int64? = nil, expiryDays: Double? = nil, latestShipmentDays: Double? = nil) throws -> Receipt {
        try call(issuingBank, "propose_amendment", [.int(amount ?? terms.amount), .int(TradeChain.time(days: expiryDays ?? terms.expiryDays)),
                                                    .int(TradeChain.time(days: latestShipmentDays ?? terms.latestShipmentDays))])
    }

    func fundAmendment(_ id: Int64, value: UInt64) throws -> Receipt { try call(chain.importer, "fund_amendment", [.int(id)], value: value) }
    func consentAmendment(_ id: Int64, agree: Bool) throws -> Receipt { try call(confirmingBank, "consent_amendment", [.int(id), .bool(agree)]) }
    /// The applicant agrees to (or refuses) an amendment that lengthens its exposure.
    func approveAmendment(_ id: Int64, agree: Bool = true) throws -> Receipt { try call(chain.importer, "approve_amendment", [.int(id), .bool(agree)]) }
    func respondAmendment(_ id: Int64, amount: Bool, expiry: Bool, shipment: Bool) throws -> Receipt {
        try call(chain.exporter, "respond_amendment", [.int(id), .bool(amount), .bool(expiry), .bool(shipment)])
    }

    /// The data of the first event named `name` in any of `receipts` (e.g. `chain.lastScheduled`).
    func event(_ name: String, in receipts: [Receipt]) -> [ABIValue]? {
        receipts.lazy.compactMap { event(name, in: $0) }.first
    }

    /// The presentation id in `receipt`'s Presented event.
    func presentationID(in receipt: Receipt) -> Int64? { event("Presented", in: receipt)?.first?.int }

    /// Runs a `pub fn` read-only on the head state (`Ledger.readOnlyCall`: nothing is kept) and returns its result.
    func query(_ function: String, _ args: [ABIValue] = []) throws -> ABIValue {
        let outcome = try chain.ledger.readOnlyCall(address, input: ABI.encodeCall(function, args), caller: chain.address(chain.regulator))
        guard outcome.succeeded, let value = try ABI.decodeValues(outcome.output).first else {
            throw TestFailure("query \(function) failed: \(outcome.failure ?? "no result")")
        }
        return value
    }

    private func queryInt(_ function: String, _ args: [ABIValue] = []) throws -> Int64 {
        guard let i = try query(function, args).int else { throw TestFailure("\(function) did not return an int") }
        return i
    }

    var status: LC.CreditState? { get throws { LC.CreditState(value: try queryInt("status")) } }
    var available: Int64 { get throws { try queryInt("available_amount") } }
    func state(of presentation: Int64) throws -> LC.PresentationState? {
        LC.PresentationState(value: try queryInt("presentation", [.int(presentation)]))
    }
}

extension TradeChain {
    /// `days` after `start`, in ms (the contract's time unit).
    static func time(days: Double) -> Int64 { Int64(start) + Int64(days * Double(day)) }

    /// Every receipt the chain has produced, scheduled calls' and transactions', in order.
    func allReceipts() throws -> [Receipt] {
        guard ledger.head.height > 0 else { return [] }
        return try (1...ledger.head.height).flatMap { try ledger.receipts(at: $0) ?? [] }
    }
}

extension ABIValue {
    var int: Int64? { if case .int(let i) = self { i } else { nil } }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

extension Receipt {
    /// The failure message, or nil on success.
    var failureMessage: String? {
        if case .failure(_, let m) = status { return m }
        return nil
    }
}
