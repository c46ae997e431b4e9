import ChainTypes
import Foundation
import HansaConfig
import HansaTestSupport
import Testing

/// Issue 14's end-to-end cases: four `hansa node run` validators and an observer as processes
/// on 127.0.0.1, driven only through the `hansa` client as its users run it — a discrepant
/// presentation refused and the next one waived, an expiry refund that block time alone
/// triggers, shipping events from the wrong parties refused, and `hansa watch` that loses
/// its node mid-credit and resumes without missing the payment.
@Suite("trade finance end to end, through the hansa client", .serialized)
struct TradeEndToEndTests {
    /// A network with the trade parties and the client commands against validator 0's RPC.
    final class Trade: @unchecked Sendable {
        let net: ProcessNetwork
        var rpc: String

        init() async throws {
            net = try ProcessNetwork(users: 1, trade: true)
            try await net.startAll()
            rpc = "http://127.0.0.1:\(net.httpPorts[0])"
            for _ in 0..<100 where try hansa(["chain"]).status != 0 { try await Task.sleep(for: .milliseconds(200)) }
        }

        func stop() async {
            await net.stopAll()
            net.clean()
        }

        struct Run: CustomStringConvertible {
            let status: Int32
            let out: String
            let err: String
            var description: String { "exit \(status)\n\(out)\(err)" }
        }

        func hansa(_ args: [String], key: String? = nil, rpc: String? = nil) throws -> Run {
            let r = try HansaExecutable.run(args + ["--rpc", rpc ?? self.rpc] + (key.map { ["--key", "\(net.root)/keys/\($0).key"] } ?? []))
            return Run(status: r.status, out: r.out, err: r.err)
        }

        func address(_ name: String) throws -> String {
            if let k = net.traders[name] { return k.publicKey.address.text }
            return try KeyFile.read("\(net.root)/keys/\(name).key").publicKey.address.text
        }

        /// The party's USD balance as the client prints it ("USD 1,000.00"); "none" without one.
        func balance(_ name: String) throws -> String {
            let r = try hansa(["account"], key: name)
            guard r.status == 0 else { throw EndToEndFailure("hansa account: \(r)") }
            return r.out.split(separator: "\n").first { $0.contains("USD") }.map { $0.trimmingCharacters(in: .whitespaces) } ?? "none"
        }

        static func iso(_ date: Date) -> String {
            let f = ISO8601DateFormatter()
            f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            return f.string(from: date)
        }

        /// Issues (bank-0) and funds (the importer) a credit for USD 100,000.00; its address.
        func credit(expiry: Date, flags: [String], docs: [String] = ["invoice", "transport"]) throws -> String {
            let terms = """
                applicant = "\(try address("importer"))"
                beneficiary = "\(try address("exporter"))"
                advising_bank = "\(try address("bank-1"))"
                confirming_bank = "\(try address("bank-1"))"
                carrier = "\(try address("carrier"))"
                currency = "USD"
                amount = "100000.00"
                quantity = 1000
                expiry = "\(Self.iso(expiry))"
                latest_shipment = "\(Self.iso(expiry))"
                presentation_days = 21
                deferred_days = 0
                port_of_loading = "CNSHA"
                port_of_discharge = "NLRTM"
                required_docs = [\(docs.map { "\"\($0)\"" }.joined(separator: ", "))]
                flags = [\(flags.map { "\"\($0)\"" }.joined(separator: ", "))]
                """
            let path = "\(net.root)/terms-\(UUID().uuidString.prefix(6)).toml"
            try terms.write(toFile: path, atomically: true, encoding: .utf8)
            let issued = try hansa(["lc", "issue", "--terms", path, "--contract", repositoryRoot() + "/contracts/letter_of_credit.hc", "--json"], key: "bank-0")
            guard issued.status == 0, let credit = issued.out.components(separatedBy: "\"credit\": \"").dropFirst().first?.prefix(42) else {
                throw EndToEndFailure("hansa lc issue: \(issued)")
            }
            let funded = try hansa(["lc", "fund", "--credit", String(credit), "--amount", "100000.00"], key: "importer")
            guard funded.status == 0, funded.out.contains("Issued") else { throw EndToEndFailure("hansa lc fund: \(funded)") }
            return String(credit)
        }

        /// A presentation file: the invoice and bill of lading, with `changes` replacing fields.
        func presentation(bl: String, _ changes: [String: String] = [:]) throws -> String {
            let today = String(Self.iso(Date()).prefix(10))
            var fields: [(String, String)] = [
                ("invoice_hash", "\"\(String(repeating: "11", count: 32))\""), ("invoice_amount", "\"100000.00\""),
                ("invoice_currency", "\"USD\""), ("goods_quantity", "1000"), ("bl", "\"\(bl)\""),
                ("bl_hash", "\"\(String(repeating: "22", count: 32))\""), ("shipped_on_board", "\"\(today)\""),
                ("loading_port", "\"CNSHA\""), ("discharge_port", "\"NLRTM\""), ("vessel", "\"MAERSK ESSEN\""),
                ("insurance_hash", "\"\""), ("insured_amount", "\"0.00\""), ("insurance_currency", "\"USD\""),
                ("insurance_date", "\"\(today)\""), ("origin_hash", "\"\""), ("inspection_hash", "\"\""),
            ]
            fields = fields.map { ($0.0, changes[$0.0] ?? $0.1) }
            let path = "\(net.root)/presentation-\(UUID().uuidString.prefix(6)).toml"
            try fields.map { "\($0.0) = \($0.1)" }.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
    }

    struct EndToEndFailure: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    @Test("a discrepant presentation is refused by the issuing bank; the next one, also discrepant, is waived by the applicant and paid")
    func refusedThenWaived() async throws {
        try await NetworkGate.exclusive {
            let t = try await Trade()
            do {
                let credit = try t.credit(expiry: Date().addingTimeInterval(30 * 86_400), flags: ["named_carrier"])
                #expect(try t.hansa(["lc", "advise", "--credit", credit], key: "bank-1").status == 0)
                let load = try t.hansa(["event", "ship", "--credit", credit, "--bl", "MAEU-7", "--type", "LOAD", "--location", "CNSHA",
                                        "--vessel", "MAERSK ESSEN"], key: "carrier")
                #expect(load.status == 0, "\(load)")

                // Loaded at Shanghai, but the bill of lading says Ningbo: Art. 20(a)(iii).
                let wrongPort = try t.hansa(["lc", "present", "--credit", credit, "--file", try t.presentation(bl: "MAEU-7", ["loading_port": "\"CNNGB\""])],
                                            key: "exporter")
                #expect(wrongPort.status == 0 && wrongPort.out.contains("Discrepant"), "\(wrongPort)")
                #expect(!wrongPort.out.contains("Paid"), "\(wrongPort)")
                // The beneficiary cannot refuse; the issuing bank does.
                #expect(try t.hansa(["lc", "refuse", "--credit", credit, "--id", "1"], key: "exporter").status == 5)
                let refused = try t.hansa(["lc", "refuse", "--credit", credit, "--id", "1"], key: "bank-0")
                #expect(refused.status == 0 && refused.out.contains("Refused"), "\(refused)")
                #expect(try t.balance("exporter") == "none", "a refused presentation pays nothing")

                // Presented again naming another vessel than the carrier recorded (Art.
                // 20(a)(ii)): the applicant waives it, and the credit pays at sight.
                let over = try t.hansa(["lc", "present", "--credit", credit, "--file",
                                        try t.presentation(bl: "MAEU-7", ["vessel": "\"EVER GIVEN\""])], key: "exporter")
                #expect(over.status == 0 && over.out.contains("Discrepant"), "\(over)")
                #expect(try t.hansa(["lc", "waive", "--credit", credit, "--id", "1"], key: "importer").status == 5,
                        "the refused presentation cannot be waived")
                let waived = try t.hansa(["lc", "waive", "--credit", credit, "--id", "2"], key: "importer")
                #expect(waived.status == 0 && waived.out.contains("Waived") && waived.out.contains("Paid"), "\(waived)")
                #expect(try t.balance("exporter") == "USD 100,000.00")
                let timeline = try t.hansa(["lc", "timeline", "--credit", credit], key: "auditor")
                let names = ["Drafted", "Issued", "Advised", "ShippingEvent", "Presented", "Discrepant", "Refused", "Presented", "Discrepant", "Waived", "Paid"]
                var rest = Substring(timeline.out)
                for name in names {
                    guard let r = rest.range(of: name) else { Issue.record("timeline lacks \(name) in order:\n\(timeline.out)"); break }
                    rest = rest[r.upperBound...]
                }
            } catch { Issue.record(error) }
            await t.stop()
        }
    }

    @Test("expiry refunds the applicant by itself: block time runs the scheduled expire, no transaction asks for it")
    func expiryRefund() async throws {
        try await NetworkGate.exclusive {
            let t = try await Trade()
            do {
                let before = try t.balance("importer")
                #expect(before == "USD 1,000,000.00", "\(before)")
                // UCP 600 Art. 29(a): an expiry on a Saturday or Sunday extends to Monday, so a
                // credit expiring in seconds only refunds in seconds on a weekday (UTC).
                let expiry = Date().addingTimeInterval(12)
                let weekday = (Int(expiry.timeIntervalSince1970 / 86_400) + 4) % 7
                let credit = try t.credit(expiry: expiry, flags: [])
                #expect(try t.balance("importer") == "USD 900,000.00")
                let schedule = try t.hansa(["lc", "show", "--credit", credit], key: "importer")
                #expect(schedule.out.contains("issued"), "\(schedule)")
                guard weekday != 0 && weekday != 6 else {
                    // On a weekend the refund waits for Monday; the credit is still open now.
                    try await Task.sleep(for: .seconds(15))
                    #expect(try t.hansa(["lc", "show", "--credit", credit], key: "importer").out.contains("issued"))
                    return
                }
                var refunded = false
                for _ in 0..<150 {
                    if try t.balance("importer") == "USD 1,000,000.00" { refunded = true; break }
                    try await Task.sleep(for: .milliseconds(200))
                }
                #expect(refunded, "the scheduled expire did not refund the applicant: \((try? t.balance("importer")) ?? "?")")
                let shown = try t.hansa(["lc", "show", "--credit", credit], key: "importer")
                #expect(shown.out.contains("expired"), "\(shown)")
                let timeline = try t.hansa(["lc", "timeline", "--credit", credit], key: "importer")
                #expect(timeline.out.contains("Expired") && timeline.out.contains("USD 100,000.00"), "\(timeline)")
                #expect(try t.hansa(["lc", "present", "--credit", credit, "--file", try t.presentation(bl: "MAEU-9")], key: "exporter").status == 5,
                        "no presentation after the expiry")
            } catch { Issue.record(error) }
            await t.stop()
        }
    }

    @Test("shipping events from the wrong parties are refused: a party that is no carrier, and a carrier the credit does not name")
    func wrongCarrier() async throws {
        try await NetworkGate.exclusive {
            let t = try await Trade()
            do {
                let credit = try t.credit(expiry: Date().addingTimeInterval(30 * 86_400), flags: ["named_carrier", "pay_on_arrival"])
                let ship = ["event", "ship", "--credit", credit, "--bl", "MAEU-8", "--type", "LOAD", "--location", "CNSHA", "--vessel", "MAERSK ESSEN"]
                let byExporter = try t.hansa(ship, key: "exporter")
                #expect(byExporter.status == 5 && byExporter.err.contains("only a carrier may sign shipping events"), "\(byExporter)")
                let byOther = try t.hansa(ship, key: "other-carrier")
                #expect(byOther.status == 5 && byOther.err.contains("only the carrier of this bill of lading"), "\(byOther)")
                // Nothing was recorded: the named carrier's LOAD is still the first.
                let byCarrier = try t.hansa(ship, key: "carrier")
                #expect(byCarrier.status == 0 && byCarrier.out.contains("ShippingEvent"), "\(byCarrier)")
                let timeline = try t.hansa(["lc", "timeline", "--credit", credit], key: "auditor")
                #expect(timeline.out.components(separatedBy: "ShippingEvent").count == 2, "exactly one shipping event:\n\(timeline.out)")
                // An arrival signed by the other carrier does not pay either.
                let arri = ["event", "ship", "--credit", credit, "--bl", "MAEU-8", "--type", "ARRI", "--location", "NLRTM", "--vessel", "MAERSK ESSEN"]
                #expect(try t.hansa(arri, key: "other-carrier").status == 5)
            } catch { Issue.record(error) }
            await t.stop()
        }
    }

    @Test("hansa watch loses its node (kill -9) mid-credit, reconnects when it is back and prints the payment, nothing missed or repeated")
    func watchSurvivesItsNode() async throws {
        try await NetworkGate.exclusive {
            let t = try await Trade()
            var watch: Process?
            do {
                let credit = try t.credit(expiry: Date().addingTimeInterval(30 * 86_400), flags: ["named_carrier", "pay_on_arrival"])
                // The watcher follows the credit on validator 3; the parties use validator 0.
                let watchedNode = 3
                let out = "\(t.net.root)/watch.out", err = "\(t.net.root)/watch.err"
                for f in [out, err] { _ = FileManager.default.createFile(atPath: f, contents: nil) }
                let p = Process()
                p.executableURL = URL(fileURLWithPath: t.net.hansa)
                p.arguments = ["watch", "--credit", credit, "--from-height", "1", "--json", "--rpc", "http://127.0.0.1:\(t.net.httpPorts[watchedNode])",
                               "--key", "\(t.net.root)/keys/exporter.key"]
                p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
                p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
                try p.run()
                watch = p
                func lines() -> [String] {
                    ((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
                }
                func waitFor(_ what: String, seconds: Double = 30) async throws -> Bool {
                    let deadline = Date().addingTimeInterval(seconds)
                    while Date() < deadline {
                        if lines().contains(where: { $0.contains(what) }) { return true }
                        try await Task.sleep(for: .milliseconds(100))
                    }
                    return false
                }
                #expect(try await waitFor("\"Issued\""), "watch saw: \(lines())")
                #expect(try t.hansa(["lc", "advise", "--credit", credit], key: "bank-1").status == 0)
                #expect(try await waitFor("\"Advised\""))

                // Its node dies; the other three validators go on without it.
                t.net.kill9(watchedNode)
                let ship = { (type: String, place: String) throws -> Trade.Run in
                    try t.hansa(["event", "ship", "--credit", credit, "--bl", "MAEU-5", "--type", type, "--location", place, "--vessel", "MAERSK ESSEN"],
                                key: "carrier")
                }
                #expect(try ship("LOAD", "CNSHA").status == 0)
                let presented = try t.hansa(["lc", "present", "--credit", credit, "--file", try t.presentation(bl: "MAEU-5")], key: "exporter")
                #expect(presented.out.contains("AwaitingArrival"), "\(presented)")
                let arrived = try ship("ARRI", "NLRTM")
                #expect(arrived.out.contains("Paid"), "\(arrived)")
                #expect(!lines().contains { $0.contains("\"Paid\"") }, "the watcher's node was down when the payment committed")

                // Back up: it syncs the blocks it missed, and the watcher resumes from its cursor.
                try t.net.start(watchedNode)
                #expect(try await waitFor("\"Paid\"", seconds: 60), "watch did not resume: \(lines())\n\((try? String(contentsOfFile: err, encoding: .utf8)) ?? "")")
                let stderr = (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
                #expect(stderr.contains("reconnecting"), "\(stderr)")
                // Exactly the credit's events, each once, in order: what the timeline lists.
                let seen = lines().compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
                let cursors = seen.compactMap { $0["cursor"] as? String }
                #expect(Set(cursors).count == cursors.count, "an event was printed twice: \(cursors)")
                let names = seen.compactMap { $0["name"] as? String }
                #expect(names == ["Deployed", "Drafted", "Issued", "Advised", "ShippingEvent", "Presented", "Complying", "AwaitingArrival",
                                  "ShippingEvent", "Transfer", "Paid"] || names == ["Drafted", "Issued", "Advised", "ShippingEvent", "Presented",
                                                                                   "Complying", "AwaitingArrival", "ShippingEvent", "Transfer", "Paid"],
                        "\(names)")
            } catch { Issue.record(error) }
            if let watch, watch.isRunning { kill(watch.processIdentifier, SIGKILL); watch.waitUntilExit() }
            await t.stop()
        }
    }
}
