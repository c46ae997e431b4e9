import Foundation
import HansaTestSupport
import Simulator
import Testing
import TradeFinance

/// docs/PROTOCOL.md §14, the replay guarantee: a seed's run depends on the seed and the
/// options alone, so the command a failure prints replays it in any process. Swift seeds
/// `Dictionary` and `Set` hashing per process, so an iteration over one that reaches an
/// output of PBFT or of the simulator shows up only across processes — `determinism()`
/// (one process) cannot see it. Each case runs the built `hansa sim` twice, once with
/// `SWIFT_DETERMINISTIC_HASHING=1` and once with hashing seeded at random, and compares the
/// trace digests (the SHA-256 of every event of each run).
///
/// The seeds are ones that diverged when PBFT grouped commit votes or checkpoints in hash
/// order (the sync peers came out in a different order): seeds 11–12 (n = 4), 13 and 14
/// (n = 4, one byzantine replica; 10 signs with real secp256k1, 13 crosses the wire
/// encoding), 1001–1002 (n = 7, two byzantine replicas); seeds 0–1 run on the real ledger
/// (its mempool and executor keep hashed collections too).
@Suite("Replay across processes")
struct ReplayTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let nodes: Int
        let byzantine: Int
        let seeds: Range<UInt64>
        var realLedger = false
        /// A behaviour forced on every byzantine replica (the colluders share state).
        var behaviour: String? = nil
        var testDescription: String {
            "n = \(nodes), \(byzantine) byzantine\(behaviour.map { " (\($0))" } ?? ""), seeds \(seeds.lowerBound)..<\(seeds.upperBound)\(realLedger ? ", the real ledger" : "")"
        }
        var args: [String] {
            ["sim", "--nodes", "\(nodes)", "--byzantine", "\(byzantine)", "--seeds", "\(seeds.lowerBound)..<\(seeds.upperBound)",
             "--trace-digest"] + (behaviour.map { ["--behaviour", $0] } ?? [])
                + (realLedger ? ["--ledger", "real", "--contract", repositoryRoot() + "/contracts/letter_of_credit.hc"] : [])
        }
    }

    static let cases = [
        Case(nodes: 4, byzantine: 0, seeds: 11..<13),
        Case(nodes: 4, byzantine: 1, seeds: 10..<15),
        Case(nodes: 7, byzantine: 2, seeds: 1001..<1003),
        Case(nodes: 4, byzantine: 1, seeds: 0..<2, realLedger: true),
        Case(nodes: 7, byzantine: 2, seeds: 2000..<2002, behaviour: "equivocating-primary"),
        Case(nodes: 4, byzantine: 1, seeds: 0..<2, behaviour: "lying-sync-server"),
    ]

    /// The `trace seed S: HEX` lines of one `hansa sim` process.
    static func digests(_ c: Case, deterministicHashing: Bool) throws -> [String] {
        var env = ProcessInfo.processInfo.environment
        env["SWIFT_DETERMINISTIC_HASHING"] = deterministicHashing ? "1" : nil
        let run = try HansaExecutable.run(c.args, environment: env)
        #expect(run.status == 0, "hansa \(c.args.joined(separator: " ")) failed: \(run.out)\(run.err)")
        return run.out.split(separator: "\n").filter { $0.hasPrefix("trace seed ") }.map(String.init)
    }

    @Test("a seed gives the same trace digest in two processes", arguments: cases)
    func sameDigestInTwoProcesses(_ c: Case) throws {
        let fixed = try Self.digests(c, deterministicHashing: true)
        let random = try Self.digests(c, deterministicHashing: false)
        #expect(fixed.count == c.seeds.count)
        for (a, b) in zip(fixed, random) {
            #expect(a == b, "not replayed across processes — hash order reaches an output:\n  \(a) (deterministic hashing)\n  \(b) (random hashing)")
        }
        // The digest printed is the library's, and it tells the seeds apart.
        var runner = SimRunner(nodes: c.nodes, byzantine: c.byzantine)
        if c.realLedger {
            runner.ledger = .real
            runner.letterOfCredit = try LetterOfCredit.compile(repositoryRoot() + "/contracts/letter_of_credit.hc")
        }
        runner.behaviour = c.behaviour.flatMap(ByzantineBehaviour.init(rawValue:))
        let inProcess = c.seeds.map { "trace seed \($0): \(runner.run(seed: $0).traceDigest.hex)" }
        #expect(inProcess == fixed)
        #expect(Set(fixed.map { $0.split(separator: " ").last! }).count == c.seeds.count)
    }
}
