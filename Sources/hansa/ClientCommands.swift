import ArgumentParser
import ChainTypes
import Foundation
import HansaClient
import Ledger
import RPC

// The client commands for people who use the chain: chain, account, tx, event, watch (and lc
// in ClientCredits.swift). Each talks to a node over its JSON-RPC (docs/RPC.md).

struct ChainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "chain", abstract: "The chain a node serves: id, head, validators.")
    @OptionGroup var client: ClientOptions

    func run() async throws {
        try await runClient { () throws(ClientError) in
            let c = try await client.connect()
            defer { Task { await c.close() } }
            let info = try await c.session.call("chain.info")
            if client.json { Say.json(info); return }
            print("chain \(info["chain_id"]?.stringValue ?? "?") (genesis \(info["genesis_hash"]?.stringValue?.prefix(16) ?? "?")…)")
            print("head: block \(info["height"]?.stringValue ?? "?") at \(info["head_time"]?.stringValue ?? "?")")
            print("node: \(info["node"]?.stringValue ?? "?"), a \(info["role"]?.stringValue ?? "?") of \(info["validators"].map(Say.plain) ?? "?") validators")
        }
    }
}

struct AccountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "account", abstract: "An account's role, bank, next nonce and balances (your own by default).")
    @OptionGroup var client: ClientOptions
    @Argument(help: "The account's address (default: the key's).") var account: String?

    func run() async throws {
        try await runClient { () throws(ClientError) in
            let c = try await client.connect()
            defer { Task { await c.close() } }
            let given: Address? = if let account { try address(account, "the address") } else { nil }
            guard let a = given ?? c.address else { throw .local("give an address, or --key to read your own account") }
            let account = try await c.read("account.get", ["address": .string(a.text)])
            if client.json { Say.json(account); return }
            print("account \(a.text): \(account["role"]?.stringValue ?? "no role")"
                  + (account["bank"]?.stringValue.map { ", banking with \($0)" } ?? "") + ", next nonce \(account["nonce"]?.stringValue ?? "?")")
            for b in account["balances"]?.arrayValue ?? [] { print("  \(b["text"]?.stringValue ?? "?")") }
        }
    }
}

struct TxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tx", abstract: "Transactions: transfer money, show a committed transaction.",
                                                    subcommands: [Transfer.self, Show.self])

    struct Transfer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Transfer money to an account; waits until it commits.")
        @OptionGroup var client: ClientOptions
        @Option(help: "The recipient's address.") var to: String
        @Option(help: "The amount as decimal text, e.g. 250.00.") var amount: String
        @Option(help: "The currency, e.g. USD.") var currency: String

        func run() async throws {
            try await runClient { () throws(ClientError) in
                let c = try await client.connect(needsKey: true)
                defer { Task { await c.close() } }
                let recipient = try address(to, "--to")
                let value = try c.amount(amount, currency)
                let answer = try await c.send(.transfer, payload: TransferPayload(to: recipient, currency: value.currency, amount: value.minorUnits).canonicalBytes,
                                              gasLimit: 100_000, waitMillis: client.waitMillis)
                if client.json { Say.json(answer); return }
                Say.committed("transferred \(Format.text(value.minorUnits, value.currency, decimals: c.currencies[currency] ?? 0)) to \(recipient.text)", answer)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A committed transaction with its receipt.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "The transaction's hash.") var hash: String

        func run() async throws {
            try await runClient { () throws(ClientError) in
                let c = try await client.connect()
                defer { Task { await c.close() } }
                let t = try await c.read("tx.get", ["hash": .string(hash)])
                if client.json { Say.json(t); return }
                print("transaction \(hash.prefix(16))…: \(t["transaction"]?["kind"]?.stringValue ?? "?") by \(t["transaction"]?["sender"]?.stringValue ?? "?"), "
                      + "block \(t["height"]?.stringValue ?? "?"), \(t["receipt"]?["status"]?.stringValue ?? "?")")
                for e in t["receipt"]?["events"]?.arrayValue ?? [] { print("  " + Say.event(e)) }
            }
        }
    }
}

struct EventCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "event", abstract: "Carriers: record shipping events on a credit.",
                                                    subcommands: [Ship.self])

    struct Ship: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record a DCSA shipping event (LOAD, DEPA, ARRI, DISC, …) for a bill of lading.")
        @OptionGroup var client: ClientOptions
        @Option(help: "The credit's address.") var credit: String
        @Option(help: "The bill of lading's number.") var bl: String
        @Option(help: "The event type: LOAD, DEPA, ARRI, DISC, …") var type: String
        @Option(help: "ACT (actual), PLN (planned), EST (estimated) or REQ (requested); only ACT moves money.") var classifier = "ACT"
        @Option(help: "The UN/LOCODE of the place, e.g. CNSHA.") var location: String
        @Option(help: "The vessel's name.") var vessel: String
        @Option(help: "When it happened, ISO 8601 (default: now).") var time: String?

        func run() async throws {
            try await runClient { () throws(ClientError) in
                let c = try await client.connect(needsKey: true)
                defer { Task { await c.close() } }
                let at = time ?? ISO8601DateFormatter().string(from: Date())
                let answer = try await c.callContract(try address(credit, "--credit"), "shipping_event", fields: [
                    "bl": .string(bl), "event_type": .string(type), "classifier": .string(classifier), "location": .string(location),
                    "vessel": .string(vessel), "event_time": .string(at),
                ], waitMillis: client.waitMillis)
                if client.json { Say.json(answer); return }
                Say.committed("\(classifier) \(type) of \(bl) at \(location)", answer)
            }
        }
    }
}

struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Follow events as they commit; after a dropped connection it reconnects and resumes after the last event seen.",
        discussion: "Without a filter it follows your own events (--key). Each line ends with the event's cursor; --after CURSOR resumes from one.")
    @OptionGroup var client: ClientOptions
    @Option(help: "Only this credit's events.") var credit: String?
    @Option(help: "Only events involving this address (default: the key's).") var party: String?
    @Option(help: "Resume after this cursor (height.receipt.event).") var after: String?
    @Option(help: "First block to read (default: the next one).") var fromHeight: UInt64?
    @Option(help: "Stop after this many events (for scripts).") var count: Int?

    func run() async throws {
        try await runClient { () throws(ClientError) in
            var cursor = after
            var seen = 0
            var delay = 0.2
            while true {
                let events = AsyncStream<JSON>.makeStream()
                let c: HansaClient
                do throws(ClientError) {
                    c = try await client.connect(onNotification: { events.continuation.yield($0) },
                                                 onClose: { _ in events.continuation.finish() })
                } catch {
                    if case .unreachable = error, seen > 0 || cursor != nil {
                        FileHandle.standardError.write(Data("hansa: connection lost; reconnecting in \(delay) s\n".utf8))
                        try? await Task.sleep(for: .seconds(delay))
                        delay = min(delay * 2, 10)
                        continue
                    }
                    throw error
                }
                var params: JSONObject = ["kind": "events"]
                if let credit { params["credit"] = .string(credit) }
                if let p = party ?? (credit == nil ? c.address?.text : nil) { params["party"] = .string(p) }
                if let cursor { params["after"] = .string(cursor) } else if let fromHeight { params["from_height"] = .string(String(fromHeight)) }
                _ = try await c.read("subscribe", params)
                delay = 0.2
                for await note in events.stream {
                    guard note["method"] == "subscription", let e = note["params"]?["result"] else { continue }
                    cursor = e["cursor"]?.stringValue ?? cursor
                    seen += 1
                    // Unbuffered: a script reading the pipe sees each event as it commits.
                    let line = client.json ? e.serialized()
                        : "block \(e["height"]?.stringValue ?? "?")  \(e["time"]?.stringValue ?? "")  \(Say.event(e))  [\(cursor ?? "")]"
                    FileHandle.standardOutput.write(Data((line + "\n").utf8))
                    if let count, seen >= count { await c.close(); return }
                }
                await c.close()
                FileHandle.standardError.write(Data("hansa: connection lost; reconnecting\n".utf8))
                try? await Task.sleep(for: .seconds(delay))
            }
        }
    }
}
