import ArgumentParser
import ChainTypes
import Foundation
import PBFT
import Simulator
import TradeFinance

struct Sim: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run PBFT clusters in the deterministic fault-injecting simulator.",
        discussion: """
        Each seed runs a whole cluster on a virtual network that drops, delays, duplicates and \
        reorders messages, partitions and heals, crashes and restarts replicas, and skews clocks, \
        with up to f byzantine replicas. Agreement, validity, certificate validity, \
        double-signing and block-time timeliness are checked after every step; liveness after \
        the faults heal. \
        A failing seed prints the command that replays it and its trace digest; a seed replays \
        exactly in any process (same digest). The last line is "N passed, M failed".

        Every replica runs the one replica driver (the node's). With --ledger fast (the default) \
        it runs over a stand-in application whose roots are hashes of the block's content — \
        fast, for large seed counts. With --ledger real it runs over the real ledger and mempool \
        on an in-memory store that fails writes and crashes mid-batch, with real secp256k1 \
        signatures, seeded clients sending signed transfers, and a letter of credit (compiled \
        from --contract) from issuance to payment; it also checks that every honest replica \
        holds the same state root at every height, that no receipt is ever lost, and that the \
        credit is paid (about half a second per seed for n = 4 in a release build; \
        --real-crypto-every does not apply there).
        """)

    @Option(help: "Validators per cluster (n ≥ 4).")
    var nodes: Int = 4

    @Option(help: "Seeds to run: A..<B, A...B or one seed.")
    var seeds: String = "0..<100"

    @Option(help: "Byzantine replicas (at most f = ⌊(n − 1)/3⌋).")
    var byzantine: Int = 0

    @Option(help: "Every k-th seed signs with real secp256k1 (0 = never).")
    var realCryptoEvery: UInt64 = 10

    @Option(help: "Ticks of faults before everything heals.")
    var faultTicks: Int = 600

    @Option(help: "A deliberate protocol bug, to watch the checkers catch it (only in the mutation build that scripts/mutate makes): \(MutationBuild.flawNames.isEmpty ? "none in this build" : MutationBuild.flawNames.joined(separator: ", ")).")
    var flaw: String?

    @Option(help: "Make every byzantine replica behave one way (default: drawn per replica from the seed): \(ByzantineBehaviour.allCases.map(\.rawValue).joined(separator: ", ")).")
    var behaviour: String?

    @Option(help: "Fault scenario: random (default), long-outage (f + 1 validators down, then each view's primary cut off, until the heal), slow-network (every message 21–25 ticks, throughout), isolations (one honest validator cut off at a time), lone-commit (a validator that alone committed a height is cut off at once) or crashes (one validator after another dies mid-step and restarts).")
    var scenario: String = "random"

    @Option(help: "What the replicas run over: fast (a stand-in application, the default) or real (the real ledger, transfers and a letter of credit).")
    var ledger: String = "fast"

    @Option(help: "The letter-of-credit contract the real-ledger mode's client runs.")
    var contract: String = "contracts/letter_of_credit.hc"

    @Option(help: "Print each replica's view, height and timeout every N ticks (debugging one seed).")
    var trace: Int = 0

    @Flag(help: "Print every seed, not only failures.")
    var verbose = false

    @Flag(help: "Print each seed's trace digest (SHA-256 of its whole event trace) on a line \"trace seed S: HEX\"; equal digests, equal runs.")
    var traceDigest = false

    func validate() throws {
        guard nodes >= 4, nodes <= 64 else { throw ValidationError("--nodes must be 4 to 64") }
        guard byzantine >= 0, byzantine <= (nodes - 1) / 3 else {
            throw ValidationError("--byzantine must be 0 to f = \((nodes - 1) / 3) for \(nodes) nodes")
        }
        guard SimRunner.parseSeeds(seeds) != nil else { throw ValidationError("--seeds must look like 0..<1000, 0...999 or 42") }
        if let flaw, !MutationBuild.flawNames.contains(flaw) {
            throw ValidationError(MutationBuild.flawNames.isEmpty ? MutationBuild.notInThisBuild : "unknown --flaw \(flaw)")
        }
        if let behaviour, ByzantineBehaviour(rawValue: behaviour) == nil { throw ValidationError("unknown --behaviour \(behaviour)") }
        guard SimConfig.Scenario(rawValue: scenario) != nil else { throw ValidationError("unknown --scenario \(scenario)") }
        guard SimConfig.LedgerMode(rawValue: ledger) != nil else { throw ValidationError("--ledger must be fast or real") }
    }

    func run() throws {
        var runner = SimRunner(nodes: nodes, byzantine: byzantine)
        runner.realCryptoEvery = realCryptoEvery
        runner.faultTicks = faultTicks
        #if HANSA_FLAWS
        runner.flaw = flaw.flatMap(ProtocolFlaw.init(rawValue:))
        #endif
        runner.behaviour = behaviour.flatMap(ByzantineBehaviour.init(rawValue:))
        runner.scenario = SimConfig.Scenario(rawValue: scenario)!
        runner.ledger = SimConfig.LedgerMode(rawValue: ledger)!
        if runner.ledger == .real {
            do { runner.letterOfCredit = try LetterOfCredit.compile(contract) } catch {
                throw ValidationError("\(error)")
            }
        }
        let range = SimRunner.parseSeeds(seeds)!
        var summary = SimSummary()
        let clock = ContinuousClock()
        let start = clock.now
        for seed in range {
            let outcome = runner.run(seed: seed, traceEvery: trace)
            summary.add(outcome)
            if !outcome.passed {
                print("FAIL seed \(seed): \(outcome.failures.first!)")
                for line in outcome.failures.dropFirst().prefix(4) { print("  also: \(line)") }
                for line in outcome.faults { print("  fault: \(line)") }
                print("  replay: \(runner.replayCommand(seed: seed))")
                print("  trace digest: \(outcome.traceDigest.hex)")
            } else if verbose {
                let workload = outcome.workload.map { ", \($0)" } ?? ""
                print("ok   seed \(seed): height \(outcome.height), \(outcome.viewChanges) new views, \(outcome.proposalsRefused) proposals refused, \(outcome.messages) messages, recovery \(outcome.recoveryTicks.map(String.init) ?? "-") ticks, timeout ≤ \(outcome.maxTimeoutTicks)\(workload), trace \(outcome.traceDigest.hex.prefix(16))")
            }
            if traceDigest { print("trace seed \(seed): \(outcome.traceDigest.hex)") }
        }
        let elapsed = clock.now - start
        print("nodes \(nodes), byzantine \(byzantine), scenario \(scenario), ledger \(ledger), seeds \(range.lowerBound)..<\(range.upperBound): \(summary.blocks) blocks, \(summary.viewChanges) new views, \(summary.messages) messages, \(elapsed)")
        print("view-change timeout: max \(summary.maxTimeoutTicks) ticks, at the cap (\(SimConfig.parameters.maxViewChangeTimeoutTicks)) in \(summary.runsAtTimeoutCap) of \(summary.passed + summary.failed) runs")
        print("recovery after heal: max \(summary.maxRecoveryTicks) ticks, mean \(String(format: "%.1f", summary.meanRecoveryTicks)) (bound \(runner.config(seed: 0).livenessBoundTicks))")
        print("\(summary.passed) passed, \(summary.failed) failed")
        if summary.failed > 0 { throw ExitCode(1) }
    }
}
