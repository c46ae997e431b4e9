import ChainTypes
import Foundation
import HansaConfig
import HansaTestSupport
import Testing

/// Issue 12's client end to end: the `hansa` commands as people run them, against four
/// `hansa node run` validators and an observer on 127.0.0.1 — a credit issued, funded, advised,
/// a carrier's event, the credit shown to a party and refused to an outsider, its timeline, a
/// transfer, `hansa watch` resumed from a cursor, and the exit codes of each kind of failure.
@Suite("hansa client against node processes", .serialized)
struct ClientProcessTests {
    struct Run {
        let status: Int32
        let out: String
        let err: String
    }

    @Test("a credit's life through hansa lc, hansa event ship, hansa tx, hansa account and hansa watch")
    func creditThroughTheClient() async throws {
        try await NetworkGate.exclusive {
            let net = try ProcessNetwork(users: 1, trade: true)
            defer { net.clean() }
            try await net.startAll()
            let rpc = "http://127.0.0.1:\(net.httpPorts[0])"
            let keys = net.root + "/keys"
            func hansa(_ args: [String], key: String? = nil) throws -> Run {
                let r = try HansaExecutable.run(args + ["--rpc", rpc] + (key.map { ["--key", "\(keys)/\($0).key"] } ?? []))
                return Run(status: r.status, out: r.out, err: r.err)
            }
            func addr(_ name: String) throws -> String {
                if let k = net.traders[name] { return k.publicKey.address.text }
                return try KeyFile.read("\(keys)/\(name).key").publicKey.address.text
            }
            // Wait until the node's RPC answers (it starts with the node).
            var info = try hansa(["chain"])
            for _ in 0..<100 where info.status != 0 { try await Task.sleep(for: .milliseconds(200)); info = try hansa(["chain"]) }
            #expect(info.status == 0, "\(info.err)")
            #expect(info.out.contains("chain procs-test"), "\(info.out)")

            let day = 86_400.0
            let iso = ISO8601DateFormatter()
            let terms = """
                applicant = "\(try addr("importer"))"
                beneficiary = "\(try addr("exporter"))"
                advising_bank = "\(try addr("bank-1"))"
                confirming_bank = "\(try addr("bank-1"))"
                carrier = "\(try addr("carrier"))"
                currency = "USD"
                amount = "250000.00"
                quantity = 5000
                expiry = "\(iso.string(from: Date().addingTimeInterval(60 * day)))"
                latest_shipment = "\(iso.string(from: Date().addingTimeInterval(30 * day)))"
                presentation_days = 21
                deferred_days = 0
                port_of_loading = "CNSHA"
                port_of_discharge = "NLRTM"
                required_docs = ["invoice", "transport"]
                flags = ["named_carrier"]
                """
            let termsPath = net.root + "/terms.toml"
            try terms.write(toFile: termsPath, atomically: true, encoding: .utf8)
            let issued = try hansa(["lc", "issue", "--terms", termsPath, "--contract", repositoryRoot() + "/contracts/letter_of_credit.hc", "--json"],
                                   key: "bank-0")
            #expect(issued.status == 0, "\(issued.err)")
            let credit = try #require(issued.out.components(separatedBy: "\"credit\": \"").dropFirst().first?.prefix(42)).description
            #expect(credit.hasPrefix("hx"), "\(issued.out)")

            let funded = try hansa(["lc", "fund", "--credit", credit, "--amount", "250000.00"], key: "importer")
            #expect(funded.status == 0, "\(funded.err)")
            #expect(funded.out.contains("Issued"), "\(funded.out)")
            let advised = try hansa(["lc", "advise", "--credit", credit], key: "bank-1")
            #expect(advised.out.contains("Advised"), "\(advised.out)\(advised.err)")
            let shipped = try hansa(["event", "ship", "--credit", credit, "--bl", "MAEU-1", "--type", "LOAD", "--location", "CNSHA",
                                     "--vessel", "MAERSK ESSEN"], key: "carrier")
            #expect(shipped.out.contains("ShippingEvent"), "\(shipped.out)\(shipped.err)")

            let shown = try hansa(["lc", "show", "--credit", credit], key: "exporter")
            #expect(shown.status == 0, "\(shown.err)")
            #expect(shown.out.contains("issued") && shown.out.contains("USD 250,000.00"), "\(shown.out)")
            let outsider = try hansa(["lc", "show", "--credit", credit], key: "outsider")
            #expect(outsider.status == 2)
            #expect(outsider.err.contains("not a party"), "\(outsider.err)")
            let timeline = try hansa(["lc", "timeline", "--credit", credit], key: "auditor")
            for name in ["Drafted", "Issued", "Advised", "ShippingEvent"] { #expect(timeline.out.contains(name), "\(timeline.out)") }
            #expect(try hansa(["lc", "list"], key: "exporter").out.contains("1 credit of"))
            // Any pub fn by name, without a transaction (the credit's state: 1 = issued).
            let status = try hansa(["contract", "query", "--contract", credit, "--function", "status"], key: "exporter")
            #expect(status.out.contains("status → 1"), "\(status.out)\(status.err)")

            // A step the contract refuses commits and fails: exit 5, in a sentence.
            let wrong = try hansa(["lc", "advise", "--credit", credit], key: "exporter")
            #expect(wrong.status == 5, "\(wrong.out)\(wrong.err)")
            #expect(wrong.err.contains("failed"), "\(wrong.err)")

            let sent = try hansa(["tx", "transfer", "--to", try addr("exporter"), "--amount", "10.00", "--currency", "USD"], key: "importer")
            #expect(sent.out.contains("transferred USD 10.00"), "\(sent.out)\(sent.err)")
            #expect(try hansa(["account"], key: "importer").out.contains("USD 749,990.00"))
            let broke = try hansa(["tx", "transfer", "--to", try addr("importer"), "--amount", "1.00", "--currency", "USD"], key: "outsider")
            #expect(broke.status == 2 && broke.err.contains("insufficient funds"), "\(broke.err)")

            // hansa watch: four events from the start, then resumed after the second: the same last two.
            let all = try hansa(["watch", "--credit", credit, "--from-height", "1", "--count", "4", "--json"], key: "exporter")
            let lines = all.out.split(separator: "\n").map(String.init)
            #expect(lines.count == 4, "\(all.out)\(all.err)")
            let cursor = try #require(try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any])["cursor"] as? String
            let resumed = try hansa(["watch", "--credit", credit, "--after", try #require(cursor), "--count", "2", "--json"], key: "exporter")
            #expect(resumed.out.split(separator: "\n").map(String.init) == Array(lines[2...]), "\(resumed.out)\(resumed.err)")

            // The auditor (issue 13): the whole history over the RPC and from the running
            // observer's data directory, an archive exported over the RPC, one account's proof.
            let genesisArgs = ["--genesis", net.genesisPath]
            let overRPC = try hansa(["audit", "verify"] + genesisArgs, key: "auditor")
            #expect(overRPC.status == 0 && overRPC.out.contains("verified the node at"), "\(overRPC.out)\(overRPC.err)")
            let refused = try hansa(["audit", "verify"] + genesisArgs, key: "exporter")
            #expect(refused.status == 3 && refused.err.contains("auditors and regulators"), "\(refused.err)")
            let fromHome = try HansaExecutable.run(["audit", "verify", "--home", net.homes[4]] + genesisArgs)
            #expect(fromHome.status == 0 && fromHome.out.contains("verified the data directory"), "\(fromHome.out)\(fromHome.err)")
            let archive = net.root + "/chain.hansa-archive"
            let exported = try hansa(["export", "--out", archive] + genesisArgs, key: "auditor")
            #expect(exported.status == 0, "\(exported.err)")
            let fromArchive = try HansaExecutable.run(["audit", "verify", "--archive", archive] + genesisArgs)
            #expect(fromArchive.status == 0, "\(fromArchive.err)")
            let proven = try hansa(["audit", "prove", "account", try addr("exporter")] + genesisArgs, key: "exporter")
            #expect(proven.status == 0 && proven.out.contains("proven: account") && proven.out.contains("certified by"), "\(proven.out)\(proven.err)")

            // Failures by kind: no node (3), a bad flag value (1).
            let closed = try LoopbackPorts.free(1)[0]
            let gone = try HansaExecutable.run(["chain", "--rpc", "http://127.0.0.1:\(closed)"])
            #expect(gone.status == 3, "\(gone.err)")
            #expect(try hansa(["lc", "show", "--credit", "nope"], key: "exporter").status == 1)
            await net.stopAll()
        }
    }
}

import Node
