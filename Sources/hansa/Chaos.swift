import ArgumentParser
import ChainTypes
import Foundation
import Ledger
import LevelDBStore
import NIOPosix
import Simulator

/// `hansa chaos` (scripts/chaos): four validator processes and an auditor's observer on
/// 127.0.0.1, every validator-to-validator link through its own fault proxy, steady load from
/// pre-signed transfers, and for N minutes one fault after another, drawn from a seed: kill -9
/// of a validator or of the primary (restarted after a while), a network partition (2 | 2 or
/// 1 | 3), latency with jitter on every link, losses (stalled segments). Then it heals
/// everything and checks:
///
/// 1. every validator reaches the same height and head (within two minutes);
/// 2. every transaction the load generator saw committed (a certified block a validator pushed
///    to it) is in every validator's ledger: none lost, across kill -9 and restarts;
/// 3. `hansa audit verify` passes on every node's data directory (the observer's too), and
///    every validator's head and state root are the same.
///
/// It prints each fault as it happens and a summary; exit 0 when every check passed.
struct Chaos: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Faults against a local 4-validator network under load, then checks that nothing was lost (use scripts/chaos).",
        shouldDisplay: false)

    @Option(help: "Minutes of faults.") var minutes: Double = 5
    @Option(help: "Seed of the fault schedule (default: random, printed).") var seed: UInt64?
    @Option(help: "Transfers per second the load offers.") var rate: Double = 100
    @Option(help: "Senders of the load's transfers.") var users: Int = 64

    func run() async throws {
        let seed = seed ?? UInt64.random(in: 0..<1_000_000)
        let seconds = minutes * 60
        say("chaos: \(String(format: "%.1f", minutes)) minutes, seed \(seed), load \(Int(rate)) transfers/s from \(users) senders")
        let net = try BenchNetwork(users: users, blockTransactions: nil, chaos: true)
        let group = MultiThreadedEventLoopGroup.singleton
        var proxies: [FaultProxy] = []
        var load: LoadGenerator?
        defer {
            load?.shutdown()
            for p in proxies { p.stop() }
            net.shutdown()
        }
        for link in net.links {
            let proxy = FaultProxy(group: group, port: link.port, targetPort: link.target)
            try await proxy.start()
            proxies.append(proxy)
        }
        try net.startValidators()
        let l = try await LoadGenerator(net: net)
        load = l
        guard await l.waitConnected(seconds: 60) else { throw CLIError("the load generator did not reach the validators: logs in \(net.root)/logs") }
        l.keepPending()
        let perUser = Int((rate * (seconds + 60)) / Double(users)) + 10
        say("chaos: signing \(users * perUser) transfers…")
        let txs = net.signTransfers(perUser: perUser)
        say("chaos: network and logs in \(net.root) (kept with HANSA_KEEP=1)")

        // The load runs on its own thread for the whole time; a helper resends what a dead or
        // restarted node dropped and redials restarted validators.
        let loadDone = DispatchSemaphore(value: 0)
        let window = 16 * users
        let loadSeconds = seconds
        Thread.detachNewThread {
            var cursor = 0
            _ = l.run(txs, from: &cursor, seconds: loadSeconds, window: window, rate: self.rate)
            loadDone.signal()
        }
        let helper = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                await l.reconnect()
                l.resendPending(olderThan: 5)
            }
        }
        defer { helper.cancel() }

        var rng = SimRandom(seed: seed)
        var counts: [String: Int] = [:]
        let start = Date()
        func stamp() -> String { String(format: "%6.1f s", Date().timeIntervalSince(start)) }
        func heal() { for p in proxies { p.set(.none) } }
        while Date().timeIntervalSince(start) < seconds - 10 {
            let left = seconds - 10 - Date().timeIntervalSince(start)
            let duration = min(Double(Int.random(in: 5...20, using: &rng)), max(left, 1))
            let kind = ["kill", "kill-primary", "partition", "latency", "losses"].randomElement(using: &rng)!
            counts[kind, default: 0] += 1
            switch kind {
            case "kill", "kill-primary":
                let victim = kind == "kill" ? Int.random(in: 0..<4, using: &rng) : Int(l.snapshot().lastView % 4)
                say("\(stamp())  kill -9 validator \(victim)\(kind == "kill-primary" ? " (the primary of the last block's view)" : ""), restart in \(Int(duration)) s")
                net.kill9(victim)
                try await Task.sleep(for: .seconds(duration))
                try net.restart(victim)
            case "partition":
                var nodes = Array(0..<4)
                nodes.shuffle(using: &rng)
                let cut = Int.random(in: 1...2, using: &rng)
                let side = Set(nodes.prefix(cut))
                say("\(stamp())  partition \(side.sorted()) | \(Set(0..<4).subtracting(side).sorted()) for \(Int(duration)) s")
                for (p, link) in zip(proxies, net.links) where side.contains(link.from) != side.contains(link.to) { p.set(.init(blocked: true)) }
                try await Task.sleep(for: .seconds(duration))
                heal()
            case "latency":
                let delay = Int.random(in: 20...200, using: &rng), jitter = Int.random(in: 0...100, using: &rng)
                say("\(stamp())  latency \(delay) ms + up to \(jitter) ms on every link for \(Int(duration)) s")
                for p in proxies { p.set(.init(delayMillis: delay, jitterMillis: jitter)) }
                try await Task.sleep(for: .seconds(duration))
                heal()
            default:
                let chance = Double(Int.random(in: 1...10, using: &rng)) / 100
                say("\(stamp())  losses: \(Int(chance * 100)) % of segments stalled 300 ms (a retransmission) on every link for \(Int(duration)) s")
                for p in proxies { p.set(.init(stallChance: chance, stallMillis: 300)) }
                try await Task.sleep(for: .seconds(duration))
                heal()
            }
            let quiet = Double(Int.random(in: 2...8, using: &rng))
            try await Task.sleep(for: .seconds(min(quiet, max(seconds - 10 - Date().timeIntervalSince(start), 0))))
        }
        heal()
        for i in 0..<5 { try net.restart(i) }
        say("\(stamp())  faults over: everything healed and running; the load stops")
        loadDone.wait()

        // 1. The validators converge.
        var converged = false
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            await l.reconnect()
            l.resendPending(olderThan: 3)
            let s = l.snapshot()
            let heads = l.validatorKeys.compactMap { s.heads[$0] }
            if heads.count == 4, Set(heads.map(\.hash)).count == 1, s.pending == 0 {
                converged = true
                break
            }
            try await Task.sleep(for: .seconds(1))
        }
        let final = l.snapshot(full: true)
        let heights = l.validatorKeys.map { final.heads[$0].map { String($0.height) } ?? "?" }
        say("\(stamp())  validators at heights \(heights.joined(separator: ", "))\(converged ? ", one head" : " — NOT CONVERGED")"
              + (final.pending > 0 ? "; \(final.pending) transactions never committed" : ""))
        let gaps = zip(final.commitTimes.sorted().dropFirst(), final.commitTimes.sorted()).map { $0 - $1 }
        let longestGap = gaps.max() ?? 0
        helper.cancel()
        _ = await helper.value
        load?.shutdown()
        load = nil
        // Stop every node cleanly (SIGTERM), then read their data.
        for p in net.processes where p.isRunning { p.terminate() }
        for p in net.processes { p.waitUntilExit() }

        // 2. Nothing committed is lost.
        var failures: [String] = []
        if !converged { failures.append("the validators did not reach one head within 120 s") }
        for i in 0..<4 {
            let store = try LevelDBLedgerStore.openReadOnly(path: net.homes[i] + "/data")
            var missing = 0
            for h in final.committedHashes where try store.get(Ledger.Keys.transactionIndex(h)) == nil { missing += 1 }
            if missing > 0 { failures.append("validator \(i) lacks \(missing) of the \(final.committedHashes.count) committed transactions") }
        }
        // 3. Every node's history verifies from genesis, and the validators agree on it.
        var roots: [String] = []
        for (i, home) in net.homes.enumerated() {
            let r = try runSelf(["audit", "verify", "--genesis", net.genesisPath, "--home", home])
            let name = i < 4 ? "validator \(i)" : "the observer"
            guard r.status == 0 else {
                failures.append("hansa audit verify failed on \(name): \(r.out)\(r.err)")
                continue
            }
            let head = r.out.split(separator: "\n").first { $0.contains("head ") }.map(String.init) ?? "?"
            let root = r.out.split(separator: "\n").first { $0.contains("state root") }.map(String.init) ?? "?"
            if i < 4 { roots.append(head + root) }
            say("\(stamp())  audit of \(name): \(r.out.split(separator: "\n").dropFirst().first.map { $0.trimmingCharacters(in: .whitespaces) } ?? "")")
        }
        if Set(roots).count > 1 { failures.append("the validators' heads or state roots differ") }

        let elapsed = final.commitTimes.last.map { $0 - (final.commitTimes.first ?? 0) } ?? 0
        say("chaos summary: \(String(format: "%.1f", minutes)) min, seed \(seed); faults: "
              + counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
        say(String(format: "chaos summary: load %d sent, %d committed (%.0f tx/s over %.0f s of commits, offered %.0f); longest pause between commits %.1f s",
                     final.sent, final.committed, Double(final.committed) / max(elapsed, 1), elapsed, rate, longestGap))
        if failures.isEmpty {
            say("chaos: PASSED — one head on every validator, no committed transaction lost, every node's history verified")
        } else {
            for f in failures { say("chaos: FAILED: \(f)") }
            say("chaos: logs in \(net.root)/logs (kept with HANSA_KEEP=1)")
            throw ExitCode(2)
        }
    }

    /// One line on standard output at once (not buffered: a log file shows each as it happens).
    private func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

    /// Runs this executable with `args`: exit status, standard output and error.
    private func runSelf(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
        p.arguments = args
        let outPath = NSTemporaryDirectory() + "hansa-chaos-\(UUID().uuidString.prefix(8))"
        _ = FileManager.default.createFile(atPath: outPath + ".out", contents: nil)
        _ = FileManager.default.createFile(atPath: outPath + ".err", contents: nil)
        defer { try? FileManager.default.removeItem(atPath: outPath + ".out"); try? FileManager.default.removeItem(atPath: outPath + ".err") }
        p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath + ".out"))
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath + ".err"))
        try p.run()
        p.waitUntilExit()
        return (p.terminationStatus, (try? String(contentsOfFile: outPath + ".out", encoding: .utf8)) ?? "",
                (try? String(contentsOfFile: outPath + ".err", encoding: .utf8)) ?? "")
    }
}
