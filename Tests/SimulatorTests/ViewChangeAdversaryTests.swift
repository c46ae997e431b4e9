import ChainTypes
import PBFT
@testable import Simulator
import Testing

/// The view-change adversary (Byzantine+ViewChange.swift) against the honest protocol:
/// each behaviour acts — the counters show it — and the honest replicas refuse what it
/// forges (Castro & Liskov 1999, §4.4 new-view checks, §4.5.2 join rule) while every
/// checker passes.
@Suite("View-change adversary")
struct ViewChangeAdversaryTests {
    /// Runs one seed and returns the cluster (for its nodes) with the outcome.
    static func run(_ nodes: Int, _ byzantine: Int, _ behaviour: ByzantineBehaviour, seed: UInt64,
                    scenario: SimConfig.Scenario = .random) -> (Cluster, SimOutcome) {
        var runner = SimRunner(nodes: nodes, byzantine: byzantine)
        runner.behaviour = behaviour
        runner.scenario = scenario
        runner.realCryptoEvery = 0
        let cluster = Cluster(runner.config(seed: seed))
        return (cluster, cluster.run())
    }

    static func adversaries(_ cluster: Cluster) -> [ViewChangeAdversary] {
        cluster.nodes.compactMap { $0.byzantine?.adversary }
    }

    static func honestInvalid(_ cluster: Cluster) -> Int {
        cluster.nodes.filter(\.isHonest).compactMap { $0.replica?.stats.invalidSignatures }.reduce(0, +)
    }

    @Test("§4.4: premature new-views of a byzantine primary (one view-change, a fake certificate, a twin block) are refused")
    func prematureNewViewRefused() {
        // Seed 15: node 0 is the only byzantine replica and no other fault is drawn.
        let (cluster, outcome) = Self.run(4, 1, .byzantineNewPrimary, seed: 15)
        #expect(outcome.faults == ["node 0 byzantine: byzantine-new-primary"])
        #expect(outcome.passed, "\(outcome.failures.first ?? "")")
        #expect(outcome.height >= 100)
        let sent = Self.adversaries(cluster).map(\.prematureNewViewCount).reduce(0, +)
        #expect(sent >= 50, "the byzantine primary sent \(sent) premature new-views")
        #expect(Self.honestInvalid(cluster) >= sent, "honest replicas did not refuse the premature new-views")
    }

    @Test("§4.4: a byzantine new primary's crafted new-views (omitted certificate, stale or invalid view-changes, another block, two halves) change nothing unsafe",
          arguments: [UInt64(0)..<4, 4..<8])
    func craftedNewViews(_ seeds: Range<UInt64>) {
        var crafted = 0
        for seed in seeds {
            let (cluster, outcome) = Self.run(4, 1, .byzantineNewPrimary, seed: seed, scenario: .isolations)
            #expect(outcome.passed, "seed \(seed): \(outcome.failures.first ?? "")")
            crafted += Self.adversaries(cluster).map(\.craftedCount).reduce(0, +)
        }
        #expect(crafted > 0, "the byzantine replica never crafted a new-view as new primary")
    }

    @Test("§4.4: forged view-change contents (fake, re-labelled or stale certificates, mismatched blocks) are refused or outranked",
          arguments: [UInt64(0)..<4, 4..<8])
    func forgedViewChanges(_ seeds: Range<UInt64>) {
        var forged = 0, refused = 0
        for seed in seeds {
            let (cluster, outcome) = Self.run(4, 1, .forgedViewChange, seed: seed, scenario: .isolations)
            #expect(outcome.passed, "seed \(seed): \(outcome.failures.first ?? "")")
            forged += Self.adversaries(cluster).map(\.forgedCount).reduce(0, +)
            refused += Self.honestInvalid(cluster)
        }
        #expect(forged > 0 && refused > 0, "forged \(forged) view-changes, honest replicas refused \(refused) messages")
    }

    /// Seed 108 is where the mutation build's `lowest-view-prepared-certificate` breaks
    /// agreement (docs/PROTOCOL.md §14, mutation testing): taking the highest view, it passes.
    @Test("§4.4: a stale prepared certificate reported beside a newer one does not displace it (n = 7, two forgers, seed 108)")
    func staleCertificateOutranked() {
        let (cluster, outcome) = Self.run(7, 2, .forgedViewChange, seed: 108, scenario: .isolations)
        #expect(outcome.passed, "\(outcome.failures.first ?? "")")
        let stale = Self.adversaries(cluster).map(\.staleCount).reduce(0, +)
        #expect(stale > 0, "no stale certificate was ever reported")
    }

    @Test("§4.5.2: one replica's premature view-changes move nobody; as primary it is replaced")
    func prematureViewChangeIgnored() {
        let (cluster, outcome) = Self.run(4, 1, .prematureViewChange, seed: 15)
        #expect(outcome.faults == ["node 0 byzantine: premature-view-change"])
        #expect(outcome.passed, "\(outcome.failures.first ?? "")")
        #expect(outcome.height >= 100)
        let sent = Self.adversaries(cluster).map(\.prematureViewChangeCount).reduce(0, +)
        #expect(sent >= 1)
        // Only its own silent view 0 is left (each honest replica installs view 1 once); a
        // join on its view-changes would install one view per premature view-change.
        #expect(outcome.viewChanges <= 3, "\(outcome.viewChanges) new views installed for \(sent) premature view-changes")
    }
}
