import ChainTypes
import PBFT
import Simulator
import Testing

/// Seeds of the deterministic simulator (TigerBeetle's VOPR habit): whole clusters with
/// drops, delays, duplicates, partitions, crashes (mid-batch too), clock skew and byzantine
/// replicas; safety checked after every step, liveness after the faults heal. The long run
/// (`hansa sim … --seeds 0..<100000`) is in docs/PROTOCOL.md; these keep `scripts/test` short.
@Suite("Simulator")
struct SimulatorTests {
    static func check(_ runner: SimRunner, _ seeds: Range<UInt64>) {
        for seed in seeds {
            let outcome = runner.run(seed: seed)
            #expect(outcome.passed, "seed \(seed): \(outcome.failures.first ?? "") — replay: \(runner.replayCommand(seed: seed))")
            #expect(outcome.height > 0, "seed \(seed) committed nothing")
        }
    }

    /// Chunks run in parallel.
    static let chunks: [Range<UInt64>] = stride(from: 0, to: 200, by: 25).map { UInt64($0)..<UInt64($0 + 25) }

    @Test("n = 4, one byzantine replica, random faults: 200 seeds", arguments: chunks)
    func fourNodes(_ seeds: Range<UInt64>) {
        Self.check(SimRunner(nodes: 4, byzantine: 1), seeds)
    }

    @Test("n = 7, two byzantine replicas, random faults: 80 seeds", arguments: stride(from: 1000, to: 1080, by: 20).map { UInt64($0)..<UInt64($0 + 20) })
    func sevenNodes(_ seeds: Range<UInt64>) {
        Self.check(SimRunner(nodes: 7, byzantine: 2), seeds)
    }

    @Test("long outage of f + 1 validators heals within the liveness bound: 60 seeds", arguments: [4, 7])
    func longOutage(_ nodes: Int) {
        var runner = SimRunner(nodes: nodes, byzantine: (nodes - 1) / 3)
        runner.scenario = .longOutage
        for seed in 0..<UInt64(30) {
            let outcome = runner.run(seed: seed)
            #expect(outcome.passed, "seed \(seed): \(outcome.failures.first ?? "") — replay: \(runner.replayCommand(seed: seed))")
            if let r = outcome.recoveryTicks { #expect(r <= runner.config(seed: seed).livenessBoundTicks) }
        }
    }

    @Test("the checkers can fail: a replica that ignores prepared certificates in new views is caught")
    func brokenReplicaIsCaught() {
        var runner = SimRunner(nodes: 4, byzantine: 0)
        runner.flaw = .ignorePreparedCertificates
        runner.realCryptoEvery = 0
        // Seed 695 is known to expose it (found by `hansa sim --flaw ignore-prepared-certificates --byzantine 0 --real-crypto-every 0`).
        let outcome = runner.run(seed: 695)
        #expect(!outcome.passed)
        #expect(outcome.failures.contains { $0.hasPrefix("agreement:") })
        // And without the flaw the same seed is clean.
        runner.flaw = nil
        #expect(runner.run(seed: 695).passed)
    }

    /// Seed 15 makes node 0, the primary of view 0, the only byzantine replica and draws no
    /// other fault: a quiet, clean run in which that replica, behaving as `behaviour`, leads
    /// from the start.
    static func byzantinePrimary(_ behaviour: ByzantineBehaviour, flaw: ProtocolFlaw? = nil) -> SimOutcome {
        var runner = SimRunner(nodes: 4, byzantine: 1)
        runner.behaviour = behaviour
        runner.realCryptoEvery = 0
        runner.flaw = flaw
        return runner.run(seed: 15)
    }

    static func backDating(flaw: ProtocolFlaw? = nil) -> SimOutcome { byzantinePrimary(.backDatingPrimary, flaw: flaw) }

    @Test("finding 9: honest replicas refuse a back-dating primary's blocks; the cluster moves to an honest primary and keeps committing")
    func finding9_backDatingPrimary() {
        let outcome = Self.backDating()
        #expect(outcome.faults == ["node 0 byzantine: back-dating-primary"])
        #expect(outcome.passed, "\(outcome.failures.first ?? "")")
        #expect(outcome.proposalsRefused > 0, "no back-dated proposal was refused")
        #expect(outcome.viewChanges > 0, "the back-dater stayed primary")
        #expect(outcome.height >= 100)
    }

    @Test("the checkers can fail: without the lag bound a back-dating primary's blocks commit and timeliness catches them")
    func missingLagBoundIsCaught() {
        let outcome = Self.backDating(flaw: .noProposalLagBound)
        #expect(outcome.failures.contains { $0.hasPrefix("timeliness:") }, "\(outcome.failures)")
    }

    @Test("n = 4, a back-dating primary among random faults: 50 seeds", arguments: [UInt64(0)..<25, 25..<50])
    func backDatingUnderFaults(_ seeds: Range<UInt64>) {
        var runner = SimRunner(nodes: 4, byzantine: 1)
        runner.behaviour = .backDatingPrimary
        Self.check(runner, seeds)
    }

    static func censoring(flaw: ProtocolFlaw? = nil) -> SimOutcome { byzantinePrimary(.censoringPrimary, flaw: flaw) }

    @Test("§4.4 request timer: a censoring primary that keeps committing blocks is changed; every transaction commits")
    func censoringPrimaryIsReplaced() {
        let outcome = Self.censoring()
        #expect(outcome.faults == ["node 0 byzantine: censoring-primary"])
        #expect(outcome.passed, "\(outcome.failures.first ?? "")")
        #expect(outcome.viewChanges > 0, "the censor stayed primary")
    }

    @Test("the checkers can fail: when every commit resets the timer, a censored transaction never commits and per-transaction liveness catches it")
    func censorshipIsCaught() {
        let outcome = Self.censoring(flaw: .commitResetsRequestTimer)
        #expect(outcome.failures.contains { $0.hasPrefix("liveness: transaction") }, "\(outcome.failures)")
        #expect(outcome.viewChanges == 0)
    }

    @Test("n = 4, a censoring primary among random faults: 30 seeds", arguments: [UInt64(0)..<15, 15..<30])
    func censoringUnderFaults(_ seeds: Range<UInt64>) {
        var runner = SimRunner(nodes: 4, byzantine: 1)
        runner.behaviour = .censoringPrimary
        Self.check(runner, seeds)
    }

    /// In one process; ReplayTests runs seeds in separate processes, where hash order differs.
    @Test("a seed replays exactly")
    func determinism() {
        let runner = SimRunner(nodes: 4, byzantine: 1)
        let a = runner.run(seed: 12345), b = runner.run(seed: 12345)
        #expect(a.height == b.height && a.messages == b.messages && a.ticks == b.ticks && a.viewChanges == b.viewChanges)
        #expect(a.traceDigest == b.traceDigest)
        #expect(runner.run(seed: 12346).traceDigest != a.traceDigest, "the digest does not tell runs apart")
    }

    @Test("seed ranges parse as the CLI documents")
    func seedParsing() {
        #expect(SimRunner.parseSeeds("0..<1000") == 0..<1000)
        #expect(SimRunner.parseSeeds("5...7") == 5..<8)
        #expect(SimRunner.parseSeeds("42") == 42..<43)
        #expect(SimRunner.parseSeeds("9..<3") == nil)
        #expect(SimRunner.parseSeeds("x") == nil)
    }
}
