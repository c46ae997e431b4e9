import ChainTypes
import ContractVM
import Foundation
import Ledger

/// One letter of credit through its life on an in-process ledger, narrated line by line to
/// `say`: issuance with escrow, advice, the carrier's shipping events, a presentation with a
/// discrepancy, the applicant's waiver, automatic payment when the goods arrive, and the
/// refund of the unused tolerance at expiry. `hansa demo` prints it; the CLI test checks it.
public enum LetterOfCreditDemo {
    public static func run(contract path: String, say: @escaping (String) -> Void) throws {
        let loc = try LetterOfCredit.compile(path)
        let code = loc.compiled.bytecode
        let chain = try TradeDevChain(store: MemoryStore(), importerDeposit: 1_000_000_00)
        let narrator = Narrator(chain: chain, contract: loc, say: say)
        let day: UInt64 = 86_400_000
        // Day 0 starts a minute after genesis: a block's time must be after its parent's.
        let start = chain.time + 60_000
        func at(_ days: Double) -> UInt64 { start + UInt64(days * Double(day)) }
        let a = { (k: PrivateKey) in ABIValue.address(k.publicKey.address) }
        say("A documentary credit under UCP 600, on an in-process Hansa ledger (contract: \(path), \(code.count) bytes)")
        say("parties: issuing bank bank-0, advising bank bank-1, importer (applicant), exporter (beneficiary), carrier\n")

        let documents = loc.bits("DOC_INVOICE", "DOC_TRANSPORT", "DOC_INSURANCE")
        let flags = loc.bits("ABOUT_AMOUNT", "PAY_ON_ARRIVAL", "NAMED_CARRIER")
        let (deploy, credit) = chain.deploy(code, [
            a(chain.importer), a(chain.exporter), a(chain.advisingBank), a(chain.advisingBank), a(chain.carrier), .string("USD"),
            .int(250_000_00), .int(5_000), .int(Int64(at(60))), .int(Int64(at(30))), .int(21), .int(0), .string("CNSHA"), .string("NLRTM"),
            .int(documents), .int(flags)])
        narrator.credit = credit
        try narrator.step(at(0), "bank-0 issues a credit for about USD 250,000.00 (±10 %, Art. 30(a)), 5,000 units, Shanghai → Rotterdam,\n"
                          + "      ship by day 30, expiry day 60, invoice + bill of lading + insurance, paid when the goods arrive,\n"
                          + "      the carrier named in the credit (only its shipping events count, Art. 20(a)(i))", deploy)
        try narrator.step(at(0.01), "the importer escrows the ceiling, USD 275,000.00: the credit is issued (Art. 7(b))",
                          chain.call(chain.importer, credit, "fund", value: 275_000_00))
        try narrator.step(at(1), "bank-1 advises the credit to the exporter (Art. 9)", chain.call(chain.advisingBank, credit, "advise"))
        let loaded = at(9)
        try narrator.step(loaded, "the carrier signs LOAD (ACT) at CNSHA on MAERSK ESSEN, bill of lading MAEU-240001",
                          chain.call(chain.carrier, credit, "shipping_event", [.string("MAEU-240001"), .string("LOAD"), .string("ACT"),
                                                                               .string("CNSHA"), .string("MAERSK ESSEN"), .int(Int64(loaded))]))
        try narrator.step(at(10), "the carrier signs DEPA (ACT): the vessel has departed",
                          chain.call(chain.carrier, credit, "shipping_event", [.string("MAEU-240001"), .string("DEPA"), .string("ACT"),
                                                                               .string("CNSHA"), .string("MAERSK ESSEN"), .int(Int64(at(10)))]))
        let presented: [ABIValue] = [
            .bytes(SHA256.hash(utf8: "commercial invoice").bytes), .int(250_000_00), .string("USD"), .int(5_000), .string("MAEU-240001"),
            .bytes(SHA256.hash(utf8: "bill of lading").bytes), .int(Int64(loaded)), .string("CNSHA"), .string("NLRTM"), .string("MAERSK ESSEN"),
            .bytes(SHA256.hash(utf8: "insurance certificate").bytes), .int(262_500_00), .string("USD"), .int(Int64(loaded)), .bytes([]), .bytes([])]
        try narrator.step(at(12), "the exporter presents invoice USD 250,000.00 and the documents; insured for 105 % only",
                          chain.call(chain.exporter, credit, "present", presented))
        try narrator.step(at(13), "the importer waives the discrepancy (Art. 16(b))", chain.call(chain.importer, credit, "waive", [.int(1)]))
        try narrator.step(at(38), "the carrier signs ARRI (ACT) at NLRTM: the goods have arrived — the contract pays by itself",
                          chain.call(chain.carrier, credit, "shipping_event", [.string("MAEU-240001"), .string("ARRI"), .string("ACT"),
                                                                               .string("NLRTM"), .string("MAERSK ESSEN"), .int(Int64(at(38)))]))
        try narrator.step(at(61), "day 61: the first block after the expiry runs the contract's scheduled expire (Art. 6(e))", nil)

        say("\nbalances (USD): importer \(Narrator.money(try chain.balance(chain.importer))) (had 1,000,000.00), "
            + "exporter \(Narrator.money(try chain.balance(chain.exporter))), credit's escrow \(Narrator.money(try chain.balance(credit)))")
        say("chain: \(chain.ledger.head.height) blocks, state root \(chain.ledger.stateRoot)")
        say("This ran one ledger in-process; scripts/localnet runs the demo against a four-validator network through the hansa client.")
    }
}

/// Prints each step: the day, what happened, and the contract's events.
final class Narrator {
    let chain: TradeDevChain
    let contract: LetterOfCredit
    let say: (String) -> Void
    var credit: Address?
    /// The events to name: the contract's, and the ledger's Transfer.
    let eventNames: [String]

    init(chain: TradeDevChain, contract: LetterOfCredit, say: @escaping (String) -> Void) {
        self.chain = chain
        self.contract = contract
        self.say = say
        eventNames = contract.compiled.eventNames + ["Transfer"]
    }

    static func money(_ minor: UInt64) -> String {
        let digits = Array(String(minor / 100))
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(c)
        }
        return out + String(format: ".%02llu", minor % 100)
    }

    func step(_ time: UInt64, _ what: String, _ tx: Transaction?) throws {
        let receipts = try chain.commit(tx.map { [$0] } ?? [], at: time)
        let day = Double(time - chain.genesis.genesisTimeMillis) / 86_400_000
        say(String(format: "day %4.1f  ", day) + what)
        for r in chain.lastScheduled { show(r, prefix: "scheduled call") }
        for r in receipts { show(r, prefix: "gas \(r.gasUsed)") }
    }

    func show(_ r: Receipt, prefix: String) {
        if case .failure(_, let message) = r.status { say("          \(prefix): FAILED — \(message)"); return }
        for e in r.events where e.emitter == credit {
            guard let values = try? ABI.decodeValues(e.data) else { continue }
            let name = eventNames.first { Event.topic($0) == e.topics.first } ?? "event"
            say("          → \(name)(\(values.map(Self.describe).joined(separator: ", ")))")
            if name == "Discrepant", values.count == 2, case .int(let bits) = values[1] {
                say("            one notice listing every discrepancy (Art. 16(c)): " + contract.discrepancies(in: bits).joined(separator: "; "))
            }
        }
    }

    static func describe(_ v: ABIValue) -> String {
        if case .int(let i) = v, i > 1_000_000_000_000 { return "t=\(i)" }
        return v.description
    }
}
