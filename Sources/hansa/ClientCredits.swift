import ArgumentParser
import ChainTypes
import ContractVM
import Foundation
import HansaClient
import HansaCrypto
import RPC
import TradeFinance

/// `hansa lc …`: a documentary credit's life through the node's RPC — terms and presentations
/// from JSON or TOML files with named fields (docs/examples/), every other step by flag.
struct CreditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lc",
        abstract: "Letters of credit: issue, fund, advise, confirm, amend, present, waive, refuse, withdraw; show, list, timeline.",
        subcommands: [Issue.self, Fund.self, Advise.self, Confirm.self, Amend.self, AcceptAmendment.self, Present.self,
                      Waive.self, Refuse.self, Withdraw.self, Show.self, List.self, Timeline.self])

    struct CreditOption: ParsableArguments {
        @Option(help: "The credit's address (hx…).") var credit: String
        func address() throws(ClientError) -> Address { try HansaCLIAddress.parse(credit, "--credit") }
    }

    /// A step that is one call of the credit's contract with `fields`.
    static func step(_ client: ClientOptions, _ credit: CreditOption, _ function: String, _ what: String, fields: JSONObject = [:],
                     valueText: String? = nil, baseDirectory: String = ".", amounts: Bool = false) async throws {
        try await runClient { () throws(ClientError) in
            let c = try await client.connect(needsKey: true)
            defer { Task { await c.close() } }
            let address = try credit.address()
            let currency = (valueText != nil || amounts) ? try await c.creditCurrency(address) : nil
            let value = try valueText.map { (t: String) throws(ClientError) in try c.amount(t, currency!) }
            let answer = try await c.callContract(address, function, fields: fields, value: value, currency: currency,
                                                  baseDirectory: baseDirectory, waitMillis: client.waitMillis)
            if client.json { Say.json(answer); return }
            Say.committed(what, answer)
        }
    }

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Issue a credit (a bank): deploy the letter-of-credit contract with the terms file's fields.",
                                                        discussion: "The terms file names the constructor's fields; docs/examples/credit-terms.toml is one.")
        @OptionGroup var client: ClientOptions
        @Option(help: "The credit's terms, JSON or TOML.") var terms: String
        @Option(help: "The contract's source.") var contract = "contracts/letter_of_credit.hc"

        func run() async throws {
            try await runClient { () throws(ClientError) in
                let loc: LetterOfCredit
                do { loc = try LetterOfCredit.compile(contract) } catch { throw .local("\(error)") }
                let code = loc.compiled.bytecode
                let abi: ContractABI
                do { abi = try ContractABI(json: try JSON.parse(loc.compiled.abiJSON), name: "letter_of_credit", codeHash: SHA256.hash(code)) } catch {
                    throw .local("the contract's ABI does not read: \(error)")
                }
                let fields = try FieldsFile.read(terms)
                let currency = fields["currency"]?.stringValue
                let c = try await client.connect(needsKey: true)
                defer { Task { await c.close() } }
                let (credit, answer) = try await c.deploy(code: code, abi: abi, fields: fields, currency: currency,
                                                          baseDirectory: (terms as NSString).deletingLastPathComponent, waitMillis: client.waitMillis)
                if client.json {
                    var o = answer.objectValue ?? [:]
                    o["credit"] = .string(credit.text)
                    Say.json(.object(o))
                    return
                }
                Say.committed("issued credit \(credit.text)", answer)
                print("the applicant funds it with: hansa lc fund --credit \(credit.text) --amount …")
            }
        }
    }

    struct Fund: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Escrow the credit's money (the applicant): the credit is issued from then on.")
        @OptionGroup var client: ClientOptions
        @OptionGroup var credit: CreditOption
        @Option(help: "The amount to escrow, e.g. 275000.00 (the ceiling with an \"about\" tolerance).") var amount: String
        func run() async throws { try await step(client, credit, "fund", "escrowed \(amount)", valueText: amount) }
    }

    struct Advise: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Advise the credit to the beneficiary (the advising bank, UCP 600 Art. 9).")
        @OptionGroup var client: ClientOptions
        @OptionGroup var credit: CreditOption
        func run() async throws { try await step(client, credit, "advise", "advised") }
    }

    struct Confirm: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a confirmation (the confirming bank, Art. 8).")
        @OptionGroup var client: ClientOptions
        @OptionGroup var credit: CreditOption
        func run() async throws { try await step(client, credit, "confirm", "confirmed") }
    }

    struct Amend: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Propose an amendment (the issuing bank): new amount, expiry, latest shipment (Art. 10).",
                                                        discussion: "The file names new_amount, new_expiry and new_latest_shipment.")
        @OptionGroup var client: ClientOptions
        @OptionGroup var credit: CreditOption
        @Option(help: "The amendment, JSON or TOML.") var file: String
        func run() async throws {
            let fields: JSONObject
            do { fields = try FieldsFile.read(file) } catch { throw CLIError(error.description) }
            try await step(client, credit, "propose_amendment", "amendment proposed", fields: fields,
                           baseDirectory: (file as NSString).deletingLastPathComponent, amounts: true)
        }
    }

    struct AcceptAmendment: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "accept-amendment",
                                                        abstract: "Accept an amendment as a whole (the beneficiary, Art. 10(c), (e)); --reject to reject it.")
        @OptionGroup var client: ClientOptions
        @OptionGroup var credit: CreditOption
        @Option(help: "The amendment's id.") var id: Int
        @Flag(help: "Reject it instead.") var reject = false
        func run() async throws {
            let yes = JSON.bool(!reject)
            try await step(client, credit, "respond_amendment", reject ? "amendment \(id) rejected" : "amendment \(id) accepted",
                           fields: ["id": .int(id), "accept_amount": yes, "accept_expiry": yes, "accept_shipment": yes])
        }
    }

    struct Present: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Present documents (the beneficiary): the contract examines them at once (Art. 14).",
                                                        discussion: "The file names the presentation's fields; docs/examples/presentation.toml is one.")
        @OptionGroup var client: ClientOptions
        @OptionGroup var credit: CreditOption
        @Option(help: "The presentation, JSON or TOML.") var file: String
        func run() async throws {
            let fields: JSONObject
            do { fields = try FieldsFile.read(file) } catch { throw CLIError(error.description) }
            try await step(client, credit, "present", "presented", fields: fields, baseDirectory: (file as NSString).deletingLastPathComponent, amounts: true)
        }
    }

    struct Waive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Waive a presentation's discrepancies (the applicant, Art. 16(b)): it pays.")
        @OptionGroup var client: ClientOptions
        @OptionGroup var credit: CreditOption
        @Option(help: "The presentation's id.") var id: Int
        func run() async throws { try await step(client, credit, "waive", "presentation \(id) waived", fields: ["id": .int(id)]) }
    }

    struct Refuse: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Refuse a discrepant presentation (the issuing bank, Art. 16(c)).")
        @OptionGroup var client: ClientOptions
        @OptionGroup var credit: CreditOption
        @Option(help: "The presentation's id.") var id: Int
        func run() async throws { try await step(client, credit, "refuse", "presentation \(id) refused", fields: ["id": .int(id)]) }
    }

    struct Withdraw: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Withdraw a discrepant presentation (the beneficiary).")
        @OptionGroup var client: ClientOptions
        @OptionGroup var credit: CreditOption
        @Option(help: "The presentation's id.") var id: Int
        func run() async throws { try await step(client, credit, "withdraw", "presentation \(id) withdrawn", fields: ["id": .int(id)]) }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A credit's state, terms, parties and amounts (its parties, auditors and regulators).")
        @OptionGroup var client: ClientOptions
        @OptionGroup var credit: CreditOption
        func run() async throws {
            try await runClient { () throws(ClientError) in
                let c = try await client.connect()
                defer { Task { await c.close() } }
                let lc = try await c.read("lc.get", ["credit": .string(try credit.address().text)])
                if client.json { Say.json(lc); return }
                print("credit \(lc["credit"]?.stringValue ?? "?"): \(lc["state"]?.stringValue ?? "unknown state")")
                for (k, v) in (lc["amounts"]?.objectValue).map({ o in o.keys.map { ($0, o[$0]!) } }) ?? [] { print("  \(k): \(Say.plain(v))") }
                for (k, v) in (lc["times"]?.objectValue).map({ o in o.keys.map { ($0, o[$0]!) } }) ?? [] { print("  \(k): \(Say.plain(v))") }
                let t = lc["terms"]
                for k in ["issuing_bank", "applicant", "beneficiary", "advising_bank", "confirming_bank", "carrier", "port_of_loading", "port_of_discharge",
                          "advised", "confirmed", "presentation_count"] {
                    if let v = t?[k] { print("  \(k): \(Say.plain(v))") }
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The credits you are a party to (or --party's, for auditors and regulators).")
        @OptionGroup var client: ClientOptions
        @Option(help: "The party (default: the key's address).") var party: String?
        func run() async throws {
            try await runClient { () throws(ClientError) in
                let c = try await client.connect(needsKey: party == nil)
                defer { Task { await c.close() } }
                let who = try party.map { (p: String) throws(ClientError) in try HansaCLIAddress.parse(p, "--party") } ?? c.address!
                let list = try await c.read("lc.list", ["party": .string(who.text)])
                if client.json { Say.json(list); return }
                let credits = list["credits"]?.arrayValue ?? []
                print("\(credits.count) credit\(credits.count == 1 ? "" : "s") of \(who.text)")
                for lc in credits {
                    print("  \(lc["credit"]?.stringValue ?? "?")  \(lc["state"]?.stringValue ?? "?")  \(lc["amounts"]?["amount"]?["text"]?.stringValue ?? "")")
                }
            }
        }
    }

    struct Timeline: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every event of a credit in order, with block height and time.")
        @OptionGroup var client: ClientOptions
        @OptionGroup var credit: CreditOption
        func run() async throws {
            try await runClient { () throws(ClientError) in
                let c = try await client.connect()
                defer { Task { await c.close() } }
                let t = try await c.read("lc.timeline", ["credit": .string(try credit.address().text)])
                if client.json { Say.json(t); return }
                for e in t["events"]?.arrayValue ?? [] {
                    print("block \(e["height"]?.stringValue ?? "?")  \(e["time"]?.stringValue ?? "")  \(Say.event(e))")
                }
            }
        }
    }
}

enum HansaCLIAddress {
    static func parse(_ text: String, _ what: String) throws(ClientError) -> Address { try address(text, what) }
}
