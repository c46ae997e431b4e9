import ChainTypes
import ContractVM
import Ledger
import PBFT
import TradeFinance

/// The real-ledger mode's clients: real signed transfers between the funded users — one
/// every `SimConfig.submitIntervalTicks`, random sender, payee and amount from the seed, each
/// sender's nonces counting up — and one documentary credit through its life, the steps of
/// `LetterOfCreditDemo` with a complying presentation: bank 0 issues the credit (deploys the
/// contract), the importer escrows the ceiling, bank 1 advises, the carrier signs LOAD and
/// DEPA, the exporter presents, and the carrier's ARRI makes the contract pay by itself.
///
/// Each credit step is submitted once the previous one has a receipt at an honest replica
/// (its event times are that block's time, so never in the future); a failed receipt ends the
/// flow with its reason. The check at the end — the letter-of-credit checker — wants the
/// credit paid: the `Paid` event, and the exporter holding the amount at every honest replica
/// that reached that height.
final class TradeClient: SimWorkload {
    let world: RealLedgerWorld
    var rng: SimRandom
    let seam: LedgerSeam?
    var nonces: [Address: UInt64] = [:]
    /// The credit step in flight (its index in `steps`), with when it was submitted.
    var step = 0
    var inFlight: (hash: Hash, tick: Int)?
    var credit: Address?
    /// When the goods were loaded (the carrier's LOAD event, the bill of lading's date).
    var loadedAtMillis: UInt64 = 0
    var failure: String?
    /// The receipts of the steps done, in order.
    var stepReceipts: [Receipt] = []
    var paidHeight: UInt64?
    var done = false

    static let steps = [
        "bank 0 issues the credit", "the importer escrows the ceiling", "bank 1 advises the credit",
        "the carrier signs LOAD", "the carrier signs DEPA", "the exporter presents the documents", "the carrier signs ARRI",
    ]
    static var stepCount: Int { steps.count }
    static let firstStepTick = 10
    static let amount: UInt64 = 250_000_00
    static let dayMillis: UInt64 = 86_400_000
    static let billOfLading = "MAEU-240001"
    static let vessel = "MAERSK ESSEN"

    init(world: RealLedgerWorld, rng: SimRandom, seam: LedgerSeam?) {
        self.world = world
        self.rng = rng
        self.seam = seam
    }

    var usd: CurrencyCode { world.dev.usd }
    var importer: PrivateKey { DevChain.tradeImporter }
    var exporter: PrivateKey { DevChain.tradeExporter }
    var carrier: PrivateKey { DevChain.tradeCarrier }

    func transactions(at tick: Int, in cluster: Cluster) -> [Transaction] {
        var out: [Transaction] = []
        if tick % cluster.config.submitIntervalTicks == 0 { out.append(transfer()) }
        if let next = advanceCredit(tick: tick, cluster) {
            inFlight = (next.hash, tick)
            out.append(next)
        }
        return out
    }

    var finished: Bool { done || failure != nil }

    // MARK: Transfers

    func transfer() -> Transaction {
        let users = RealLedgerWorld.users
        let from = Int.random(in: 0..<users, using: &rng)
        let to = (from + Int.random(in: 1..<users, using: &rng)) % users
        let amount = UInt64.random(in: 1...10_000, using: &rng)
        let sender = world.dev.userKeys[from].publicKey.address
        defer { nonces[sender, default: 0] += 1 }
        return world.dev.transfer(from: from, to: to, amount: amount, nonce: nonces[sender, default: 0])
    }

    // MARK: The letter of credit

    func tx(_ key: PrivateKey, _ kind: TransactionKind, _ payload: some CanonicalEncodable, gas: UInt64) -> Transaction {
        let a = key.publicKey.address
        defer { nonces[a, default: 0] += 1 }
        return TransactionBody(chain: world.dev.binding, sender: key.publicKey, nonce: nonces[a, default: 0], kind: kind,
                               payload: payload.canonicalBytes, gasLimit: gas).signed(with: key)
    }

    func call(_ key: PrivateKey, _ function: String, _ args: [ABIValue] = [], value: UInt64? = nil) -> Transaction {
        tx(key, .callContract, CallPayload(contract: credit!, input: ABI.encodeCall(function, args), value: value.map { Amount($0, usd) }),
           gas: 2_000_000)
    }

    /// The next credit step's transaction once the one in flight has its receipt (or the
    /// first step at `firstStepTick`), else nil.
    func advanceCredit(tick: Int, _ cluster: Cluster) -> Transaction? {
        guard !finished else { return nil }
        guard let current = inFlight else { return tick >= Self.firstStepTick ? build(0, afterMillis: world.genesis.genesisTimeMillis) : nil }
        guard cluster.honestCommitted.contains(current.hash), let found = Self.receipt(of: current.hash, in: cluster) else { return nil }
        if case .failure(let code, let message) = found.receipt.status {
            failure = "letter of credit: step \(step + 1) (\(Self.steps[step])) failed at height \(found.height): \(code): \(message)"
            return nil
        }
        stepReceipts.append(found.receipt)
        guard step + 1 < Self.steps.count else {
            finish(found.receipt, height: found.height)
            return nil
        }
        step += 1
        return build(step, afterMillis: found.timeMillis)
    }

    /// The transaction of credit step `i`; `afterMillis` is the time of the block that holds
    /// the previous step (event times must not be in the future).
    func build(_ i: Int, afterMillis t: UInt64) -> Transaction {
        let a = { (k: PrivateKey) in ABIValue.address(k.publicKey.address) }
        let g = world.genesis.genesisTimeMillis
        let bank0 = world.dev.validatorKeys[0], bank1 = world.dev.validatorKeys[1]
        switch i {
        case 0:
            let loc = world.contract
            let args: [ABIValue] = [
                a(importer), a(exporter), a(bank1), a(bank1), a(carrier), .string("USD"), .int(Int64(Self.amount)), .int(5_000),
                .int(Int64(g + 60 * Self.dayMillis)), .int(Int64(g + 30 * Self.dayMillis)), .int(21), .int(0), .string("CNSHA"), .string("NLRTM"),
                .int(loc.bits("DOC_INVOICE", "DOC_TRANSPORT", "DOC_INSURANCE")), .int(loc.bits("ABOUT_AMOUNT", "PAY_ON_ARRIVAL", "NAMED_CARRIER"))]
            let nonce = nonces[bank0.publicKey.address, default: 0]
            credit = Executor.contractAddress(deployer: bank0.publicKey.address, nonce: nonce)
            return tx(bank0, .deployContract, DeployPayload(code: loc.compiled.bytecode, constructorInput: ABI.encodeCall("init", args)),
                      gas: 5_000_000)
        case 1: return call(importer, "fund", value: Self.amount * 11 / 10)
        case 2: return call(bank1, "advise")
        case 3:
            loadedAtMillis = t
            return shippingEvent("LOAD", at: "CNSHA", time: t)
        case 4: return shippingEvent("DEPA", at: "CNSHA", time: t)
        case 5:
            // Insured for 110 % of the invoice (Art. 28(f)(ii)); the seam insures 105 % only.
            let insured = seam == .discrepantPresentation ? Self.amount * 105 / 100 : Self.amount * 11 / 10
            return call(exporter, "present", [
                .bytes(SHA256.hash(utf8: "commercial invoice").bytes), .int(Int64(Self.amount)), .string("USD"), .int(5_000),
                .string(Self.billOfLading), .bytes(SHA256.hash(utf8: "bill of lading").bytes), .int(Int64(loadedAtMillis)),
                .string("CNSHA"), .string("NLRTM"), .string(Self.vessel),
                .bytes(SHA256.hash(utf8: "insurance certificate").bytes), .int(Int64(insured)), .string("USD"),
                .int(Int64(loadedAtMillis)), .bytes([]), .bytes([])])
        default: return shippingEvent("ARRI", at: "NLRTM", time: t)
        }
    }

    func shippingEvent(_ type: String, at location: String, time: UInt64) -> Transaction {
        call(carrier, "shipping_event", [.string(Self.billOfLading), .string(type), .string("ACT"), .string(location),
                                         .string(Self.vessel), .int(Int64(time))])
    }

    /// The last step's receipt: the credit is paid when it carries the contract's `Paid`.
    func finish(_ receipt: Receipt, height: UInt64) {
        done = true
        let events = receipt.events.filter { $0.emitter == credit }
        if events.contains(where: { $0.topics.first == Event.topic("Paid") }) {
            paidHeight = height
            return
        }
        failure = "letter of credit: every step committed, but the arrival at height \(height) paid nothing (credit's events: \(describe(events))); \(presentationDiagnosis())"
    }

    /// Why the presentation did not comply, from the contract's own notice: the `Discrepant`
    /// event of the presentation's receipt, its bits in words (UCP 600 articles).
    func presentationDiagnosis() -> String {
        let discrepant = Event.topic("Discrepant")
        for receipt in stepReceipts {
            for e in receipt.events where e.emitter == credit && e.topics.first == discrepant {
                guard let values = try? ABI.decodeValues(e.data), values.count == 2, case .int(let bits) = values[1] else { continue }
                return "the presentation was discrepant — \(world.contract.discrepancies(in: bits).joined(separator: "; ")) — and nobody waived it"
            }
        }
        let presented = stepReceipts.count > 5 ? describe(stepReceipts[5].events.filter { $0.emitter == credit }) : "none"
        return "the presentation did not comply (its events: \(presented))"
    }

    func describe(_ events: [Event]) -> String {
        let names = world.contract.compiled.eventNames
        let shown = events.map { e in names.first { Event.topic($0) == e.topics.first } ?? "event" }
        return shown.isEmpty ? "none" : shown.joined(separator: ", ")
    }

    /// The receipt of `hash` at the first honest replica (by index) that is up and has it.
    static func receipt(of hash: Hash, in cluster: Cluster) -> (height: UInt64, timeMillis: UInt64, receipt: Receipt)? {
        for node in cluster.nodes where node.isHonest {
            if let app = node.app as? RealLedgerApp, let found = app.receipt(of: hash) { return found }
        }
        return nil
    }

    func unfinished(_ cluster: Cluster) -> String {
        guard let current = inFlight else { return "letter of credit: not started by tick \(cluster.tick)" }
        let refusal = cluster.lastRefusal[current.hash].map { "; last refusal: \($0)" } ?? ""
        let holders = cluster.nodes.filter { $0.app?.holds(current.hash) ?? false }.map(\.index)
        return "letter of credit: not paid by tick \(cluster.tick): step \(step + 1) (\(Self.steps[step])), submitted at tick \(current.tick), has no receipt at an honest replica (held by nodes \(holders))\(refusal)"
    }

    func finalFailures(_ cluster: Cluster) -> [String] {
        if let failure { return [failure] }
        guard done, let paid = paidHeight else { return [unfinished(cluster)] }
        for node in cluster.nodes where node.isHonest {
            guard let app = node.app as? RealLedgerApp, app.ledger.head.height >= paid else { continue }
            let balance = (try? app.ledger.account(exporter.publicKey.address))??.balance(usd) ?? 0
            if balance != Self.amount {
                return ["letter of credit: paid at height \(paid), but node \(node.index)'s ledger gives the exporter \(balance) USD minor units, not \(Self.amount)"]
            }
        }
        return []
    }

    var summary: String? {
        if let paidHeight { return "credit paid at height \(paidHeight)" }
        return failure ?? "credit at step \(step + 1) of \(Self.steps.count)"
    }
}
