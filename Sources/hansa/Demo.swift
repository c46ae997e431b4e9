import ArgumentParser
import ChainTypes
import ContractVM
import Foundation
import Ledger

/// `hansa demo`: one letter of credit through its life on an in-process ledger, narrated.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a letter of credit through its lifecycle on an in-process chain and narrate it.",
        discussion: """
        Compiles contracts/letter_of_credit.hc, deploys it on a development chain held in \
        memory, and plays the parties: issuance with escrow, advice, the carrier's shipping \
        events, a presentation with a discrepancy, the applicant's waiver, automatic payment \
        when the goods arrive, and the refund of the unused tolerance at expiry.
        """)

    @Option(help: "The letter-of-credit source.")
    var contract: String = "contracts/letter_of_credit.hc"

    func run() throws {
        let compiled = try TradeDevChain.compileLetterOfCredit(contract)
        let code = compiled.bytecode
        let chain = try TradeDevChain(store: MemoryStore(), importerDeposit: 1_000_000_00)
        let narrator = Narrator(chain: chain, eventNames: compiled.eventNames + ["Transfer"])
        let day: UInt64 = 86_400_000
        // Day 0 starts a minute after genesis: a block's time must be after its parent's.
        let start = chain.time + 60_000
        func at(_ days: Double) -> UInt64 { start + UInt64(days * Double(day)) }
        let a = { (k: PrivateKey) in ABIValue.address(k.publicKey.address) }
        print("A documentary credit under UCP 600, on an in-process Hansa ledger (contract: \(contract), \(code.count) bytes)")
        print("parties: issuing bank bank-0, advising bank bank-1, importer (applicant), exporter (beneficiary), carrier\n")

        let (deploy, credit) = chain.deploy(code, [
            a(chain.importer), a(chain.exporter), a(chain.advisingBank), a(chain.advisingBank), a(chain.carrier), .string("USD"),
            .int(250_000_00), .int(5_000), .int(Int64(at(60))), .int(Int64(at(30))), .int(21), .int(0), .string("CNSHA"), .string("NLRTM"),
            .int(1 + 2 + 4), .int(1 + 16 + 256)])
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
        let documents: [ABIValue] = [
            .bytes(SHA256.hash(utf8: "commercial invoice").bytes), .int(250_000_00), .string("USD"), .int(5_000), .string("MAEU-240001"),
            .bytes(SHA256.hash(utf8: "bill of lading").bytes), .int(Int64(loaded)), .string("CNSHA"), .string("NLRTM"), .string("MAERSK ESSEN"),
            .bytes(SHA256.hash(utf8: "insurance certificate").bytes), .int(262_500_00), .string("USD"), .int(Int64(loaded)), .bytes([]), .bytes([])]
        try narrator.step(at(12), "the exporter presents invoice USD 250,000.00 and the documents; insured for 105 % only",
                          chain.call(chain.exporter, credit, "present", documents))
        try narrator.step(at(13), "the importer waives the discrepancy (Art. 16(b))", chain.call(chain.importer, credit, "waive", [.int(1)]))
        try narrator.step(at(38), "the carrier signs ARRI (ACT) at NLRTM: the goods have arrived — the contract pays by itself",
                          chain.call(chain.carrier, credit, "shipping_event", [.string("MAEU-240001"), .string("ARRI"), .string("ACT"),
                                                                               .string("NLRTM"), .string("MAERSK ESSEN"), .int(Int64(at(38)))]))
        try narrator.step(at(61), "day 61: the first block after the expiry runs the contract's scheduled expire (Art. 6(e))", nil)

        print("\nbalances (USD): importer \(Narrator.money(try chain.balance(chain.importer))) (had 1,000,000.00), "
              + "exporter \(Narrator.money(try chain.balance(chain.exporter))), credit's escrow \(Narrator.money(try chain.balance(credit)))")
        print("chain: \(chain.ledger.head.height) blocks, state root \(chain.ledger.stateRoot)")
        print("This ran one ledger in-process; the four-validator network arrives with the node and peer-network work.")
    }
}

/// Prints each step: the day, what happened, and the contract's events.
final class Narrator {
    let chain: TradeDevChain
    var credit: Address?
    /// The events to name: the contract's, and the ledger's Transfer.
    let eventNames: [String]
    init(chain: TradeDevChain, eventNames: [String]) { self.chain = chain; self.eventNames = eventNames }

    static func money(_ minor: UInt64) -> String {
        let digits = Array(String(minor / 100))
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(c)
        }
        return out + String(format: ".%02llu", minor % 100)
    }

    /// The letter of credit's discrepancy bits (contracts/letter_of_credit.hc, docs/CONTRACTS.md).
    static let discrepancies = ["late presentation (Art. 14(c))", "invoice currency (Art. 18(b))", "amount (Art. 18(b))",
                                "quantity (Art. 30)", "partial drawing (Art. 31(a))", "late shipment (Art. 20(a)(ii))",
                                "port of loading (Art. 20(a)(iii))", "port of discharge (Art. 20(a)(iii))",
                                "transport document not authenticated (Art. 14(d))", "vessel (Art. 20(a)(ii))",
                                "insurance below 110 % (Art. 28(f)(ii))", "insurance currency (Art. 28(f)(i))",
                                "insurance dated after shipment (Art. 28(e))", "missing document (Art. 14(a))",
                                "transport document reused (Art. 14(d))"]

    func step(_ time: UInt64, _ what: String, _ tx: Transaction?) throws {
        let receipts = try chain.commit(tx.map { [$0] } ?? [], at: time)
        let day = Double(time - chain.genesis.genesisTimeMillis) / 86_400_000
        print(String(format: "day %4.1f  ", day) + what)
        for r in chain.lastScheduled { show(r, prefix: "scheduled call") }
        for r in receipts { show(r, prefix: "gas \(r.gasUsed)") }
    }

    func show(_ r: Receipt, prefix: String) {
        if case .failure(_, let message) = r.status { print("          \(prefix): FAILED — \(message)"); return }
        for e in r.events where e.emitter == credit {
            guard let values = try? ABI.decodeValues(e.data) else { continue }
            let name = eventNames.first { Event.topic($0) == e.topics.first } ?? "event"
            print("          → \(name)(\(values.map(Self.describe).joined(separator: ", ")))")
            if name == "Discrepant", values.count == 2, case .int(let bits) = values[1] {
                let listed = Self.discrepancies.enumerated().filter { bits & (1 << $0.offset) != 0 }.map(\.element)
                print("            one notice listing every discrepancy (Art. 16(c)): " + listed.joined(separator: "; "))
            }
        }
    }

    static func describe(_ v: ABIValue) -> String {
        if case .int(let i) = v, i > 1_000_000_000_000 { return "t=\(i)" }
        return v.description
    }
}
