import Foundation
import HansaTestSupport
import Testing

/// The README's first command, `scripts/localnet`, run as a user runs it (with this build's
/// `hansa` instead of a release build, and its folder in a temporary directory): the network
/// from genesis/consortium.toml on free ports, the letter-of-credit demo through the client
/// to its payment, the audit of the observer's data; then status, stop, a second start that
/// restarts the same chain from its data and runs the demo again, and `start --fresh`.
@Suite("scripts/localnet", .serialized)
struct LocalnetScriptTests {
    struct Run: CustomStringConvertible {
        let status: Int32
        let out: String
        var description: String { "exit \(status)\n\(out)" }
    }

    static func localnet(_ args: [String], dir: String) throws -> Run {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [repositoryRoot() + "/scripts/localnet"] + args
        var env = ProcessInfo.processInfo.environment
        env["LOCALNET_DIR"] = dir
        env["HANSA_BIN"] = try HansaExecutable.path()
        p.environment = env
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Run(status: p.terminationStatus, out: String(decoding: data, as: UTF8.self))
    }

    /// Kills whatever the script left running (when an expectation failed before `stop`).
    static func killLeftovers(_ dir: String) {
        let run = dir + "/run"
        for f in (try? FileManager.default.contentsOfDirectory(atPath: run)) ?? [] {
            if let text = try? String(contentsOfFile: "\(run)/\(f)", encoding: .utf8), let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                kill(pid, SIGKILL)
            }
        }
    }

    /// The demo's steps, each with the block it committed in, and its ending.
    static func checkDemo(_ r: Run) {
        #expect(r.status == 0, "\(r)")
        for step in ["1. bank-a, the issuing bank, issues", "2. importer-1 escrows", "3. advising-bank advises", "4. carrier-1 records LOAD",
                     "5. carrier-1 records DEPA", "6. exporter-1 presents", "7. carrier-1 records ARRI"] {
            #expect(r.out.contains(step), "missing step \(step):\n\(r.out)")
        }
        #expect(r.out.components(separatedBy: ": committed in block ").count - 1 == 7, "seven transactions, each with its block:\n\(r.out)")
        for event in ["Issued  escrowed USD 275,000.00", "Advised", "Complying", "AwaitingArrival", "Paid  id 1"] {
            #expect(r.out.contains(event), "missing \(event):\n\(r.out)")
        }
        #expect(r.out.contains("amount USD 250,000.00"), "the payment in words:\n\(r.out)")
        #expect(r.out.contains("verified the data directory"), "the audit:\n\(r.out)")
    }

    @Test("start: a 4-bank network and the demo to the payment; status; stop; start again reuses the chain; start --fresh replaces it")
    func localnet() async throws {
        try await NetworkGate.exclusive {
            let dir = NSTemporaryDirectory() + "hansa-localnet-\(UUID().uuidString.prefix(8))"
            defer {
                Self.killLeftovers(dir)
                if ProcessInfo.processInfo.environment["HANSA_KEEP"] == nil { try? FileManager.default.removeItem(atPath: dir) }
            }
            let first = try Self.localnet(["start"], dir: dir)
            Self.checkDemo(first)
            #expect(first.out.contains("setting up a new network"), "\(first)")
            let hash = first.out.components(separatedBy: "localnet: genesis ").dropFirst().first?.prefix(64)
            #expect(hash?.count == 64, "\(first)")
            // The balances after one credit: 5,000,000.00 − 275,000.00 escrowed; 250,000.00 paid.
            #expect(first.out.contains("USD 4,725,000.00") && first.out.contains("USD 250,000.00"), "\(first)")

            let status = try Self.localnet(["status"], dir: dir)
            #expect(status.status == 0)
            #expect(status.out.components(separatedBy: " running ").count - 1 == 6, "4 validators and 2 observers:\n\(status)")
            let logs = try Self.localnet(["logs", "bank-a"], dir: dir)
            #expect(logs.out.contains("peer connected"), "\(logs)")
            #expect(try Self.localnet(["logs", "nobody"], dir: dir).status != 0)
            #expect(try Self.localnet(["frobnicate"], dir: dir).status != 0)

            let stopped = try Self.localnet(["stop"], dir: dir)
            #expect(stopped.out.contains("stopped 6 node(s)"), "\(stopped)")
            #expect(try Self.localnet(["status"], dir: dir).out.components(separatedBy: " stopped ").count - 1 == 6)

            // Again: the same chain, restarted from its data, and a second credit on it.
            let again = try Self.localnet(["start"], dir: dir)
            Self.checkDemo(again)
            #expect(again.out.contains("reusing the network") && again.out.contains("started 6 node(s)"), "\(again)")
            #expect(again.out.contains("USD 4,450,000.00") && again.out.contains("USD 500,000.00"), "the second credit's balances:\n\(again)")
            #expect(!again.out.contains("committed in block 1 "), "the chain went on from its height:\n\(again)")

            let fresh = try Self.localnet(["start", "--fresh"], dir: dir)
            Self.checkDemo(fresh)
            #expect(fresh.out.contains("setting up a new network"), "\(fresh)")
            let freshHash = fresh.out.components(separatedBy: "localnet: genesis ").dropFirst().first?.prefix(64)
            #expect(freshHash != nil && freshHash != hash, "a new genesis")
            #expect(try Self.localnet(["stop"], dir: dir).out.contains("stopped 6 node(s)"))
        }
    }
}
