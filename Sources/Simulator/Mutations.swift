#if HANSA_FLAWS
import ChainTypes
import PBFT

/// One deliberate protocol bug and the ground the simulator hunts it on: the cluster size,
/// the byzantine behaviour and the fault scenario under which, if the checkers are worth
/// anything, some seed of a small budget fails. Any checker may catch it — agreement,
/// validity, certificates, double signing, timeliness, block or transaction liveness — but
/// the seed that catches it must pass without the flaw (else the catch proves nothing about
/// the flaw: it is a real bug). docs/PROTOCOL.md §14 (Mutation testing) lists the table with the seeds each
/// needed. Mutation build only (`scripts/mutate`).
public struct Mutation: Sendable {
    public let flaw: ProtocolFlaw
    /// Where the hunt runs; `flaw` is set on it by `hunt`.
    public let ground: SimRunner
    /// The first seed of the hunt.
    public let firstSeed: UInt64

    public init(_ flaw: ProtocolFlaw, _ ground: SimRunner, firstSeed: UInt64 = 0) {
        self.flaw = flaw; self.ground = ground; self.firstSeed = firstSeed
    }

    static func runner(_ nodes: Int, _ byzantine: Int, _ behaviour: ByzantineBehaviour? = nil,
                       scenario: SimConfig.Scenario = .random) -> SimRunner {
        var r = SimRunner(nodes: nodes, byzantine: byzantine)
        r.behaviour = behaviour
        r.scenario = scenario
        r.realCryptoEvery = 0
        return r
    }

    /// Every flaw, in `ProtocolFlaw` order.
    public static let catalog: [Mutation] = ProtocolFlaw.allCases.map { flaw in
        switch flaw {
        case .ignorePreparedCertificates: Mutation(flaw, runner(4, 0, scenario: .loneCommit))
        case .noProposalLagBound: Mutation(flaw, runner(4, 1, .backDatingPrimary))
        case .commitResetsRequestTimer: Mutation(flaw, runner(4, 1, .censoringPrimary))
        case .preparedQuorumOneShort: Mutation(flaw, runner(4, 1, .equivocatingPrimary))
        case .commitQuorumOneShort: Mutation(flaw, runner(4, 1, .equivocatingPrimary))
        case .prePrepareFromNonPrimary: Mutation(flaw, runner(4, 1, .rogueProposer))
        case .syncedCertificateUnchecked: Mutation(flaw, runner(4, 1, .lyingSyncServer, scenario: .longOutage))
        case .syncedBodyUnchecked: Mutation(flaw, runner(4, 1, .lyingSyncServer, scenario: .longOutage))
        case .noViewChangeBackoff: Mutation(flaw, runner(4, 0, scenario: .slowNetwork))
        case .lowestViewPreparedCertificate: Mutation(flaw, runner(7, 2, .forgedViewChange, scenario: .isolations))
        case .newViewSetUnchecked: Mutation(flaw, runner(4, 1, .byzantineNewPrimary))
        case .viewChangeCertificateUnchecked: Mutation(flaw, runner(4, 1, .forgedViewChange, scenario: .isolations))
        case .newViewReproposalUnchecked: Mutation(flaw, runner(7, 2, .byzantineNewPrimary, scenario: .isolations))
        case .joinOnF: Mutation(flaw, runner(4, 1, .prematureViewChange))
        case .sendBeforePersist: Mutation(flaw, runner(4, 0, scenario: .crashes))
        }
    }

    /// The result of one hunt.
    public struct Result: Sendable {
        public let flaw: ProtocolFlaw
        /// The seed that caught it, with the checker's first failure.
        public let caught: (seed: UInt64, failure: String)?
        /// Seeds run, up to and including the catching one.
        public let seedsRun: Int
        /// Set when the catching seed fails without the flaw too: a real bug, not a catch.
        public let failsWithoutFlaw: String?
        /// The command that replays the catching seed (or the hunt's last seed).
        public let replay: String
    }

    /// Runs seeds from `firstSeed` until one fails or `budget` seeds passed.
    public func hunt(budget: Int) -> Result {
        var flawed = ground
        flawed.flaw = flaw
        for k in 0..<budget {
            let seed = firstSeed + UInt64(k)
            let outcome = flawed.run(seed: seed)
            guard let failure = outcome.failures.first else { continue }
            let clean = ground.run(seed: seed)
            return Result(flaw: flaw, caught: (seed, failure), seedsRun: k + 1, failsWithoutFlaw: clean.failures.first,
                          replay: flawed.replayCommand(seed: seed))
        }
        return Result(flaw: flaw, caught: nil, seedsRun: budget, failsWithoutFlaw: nil,
                      replay: flawed.replayCommand(seed: firstSeed + UInt64(max(budget, 1) - 1)))
    }
}
#endif

public enum MutationBuild {
    /// The deliberate bugs compiled into this build: all of them in the mutation build
    /// (-DHANSA_FLAWS), none otherwise.
    public static var flawNames: [String] {
        #if HANSA_FLAWS
        ProtocolFlaw.allCases.map(\.rawValue)
        #else
        []
        #endif
    }

    public static let notInThisBuild =
        "this build has none of the deliberate protocol bugs; scripts/mutate builds the mutation build (-DHANSA_FLAWS) and runs it"
}
