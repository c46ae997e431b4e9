import ArgumentParser
import ChainTypes
import Foundation
import HansaClient
import RPC

// `hansa contract send | query`: any contract's functions by their ABI's named parameters,
// through a node — for a contract, or a step of the letter of credit, that has no verb of its
// own (e.g. fund_amendment, consent_amendment). docs/RPC.md "The hansa client".
extension ContractCommand {
    /// Named arguments from `--args JSON` or `--file FILE` (JSON or TOML).
    struct ArgumentOptions: ParsableArguments {
        @Option(help: "The contract's address.") var contract: String
        @Option(help: "The function's name.") var function: String
        @Option(help: "The arguments by name, as a JSON object.") var args: String?
        @Option(help: "The arguments by name, from a JSON or TOML file.") var file: String?

        func fields() throws(ClientError) -> (JSONObject, String) {
            switch (args, file) {
            case (let a?, nil):
                guard let o = (try? JSON.parse(a))?.objectValue else { throw .local("--args must be a JSON object, e.g. '{\"id\": 1}'") }
                return (o, ".")
            case (nil, let f?): return (try FieldsFile.read(f), (f as NSString).deletingLastPathComponent)
            case (nil, nil): return ([:], ".")
            default: throw .local("give --args or --file, not both")
            }
        }
    }

    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Call a contract's pub fn in a signed transaction; waits until it commits.")
        @OptionGroup var client: ClientOptions
        @OptionGroup var call: ArgumentOptions
        @Option(help: "Money sent with the call into the contract, e.g. \"275000.00 USD\".") var value: String?
        @Option(help: "The currency amounts in the arguments are in (for amount fields given as text).") var currency: String?

        func run() async throws {
            try await runClient { () throws(ClientError) in
                let c = try await client.connect(needsKey: true)
                defer { Task { await c.close() } }
                let (fields, base) = try call.fields()
                var amount: Amount? = nil
                if let value {
                    let parts = value.split(separator: " ").map(String.init)
                    guard parts.count == 2 else { throw .local("--value is an amount and a currency, e.g. \"275000.00 USD\"") }
                    amount = try c.amount(parts[0], parts[1])
                }
                let answer = try await c.callContract(try address(call.contract, "--contract"), call.function, fields: fields, value: amount,
                                                      currency: currency ?? amount.map { $0.currency.value }, baseDirectory: base,
                                                      waitMillis: client.waitMillis)
                if client.json { Say.json(answer); return }
                Say.committed(call.function, answer)
            }
        }
    }

    struct Query: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run a contract's pub fn on the head state without a transaction (free; nothing changes).")
        @OptionGroup var client: ClientOptions
        @OptionGroup var call: ArgumentOptions

        func run() async throws {
            try await runClient { () throws(ClientError) in
                let c = try await client.connect()
                defer { Task { await c.close() } }
                let (fields, _) = try call.fields()
                let outcome = try await c.read("contract.call", ["contract": .string(call.contract), "function": .string(call.function),
                                                                 "args": .object(fields)])
                if client.json { Say.json(outcome); return }
                print("\(call.function) → \(outcome["result"].map(Say.plain) ?? "nothing") (gas \(outcome["gas_used"]?.stringValue ?? "?"))")
            }
        }
    }
}
