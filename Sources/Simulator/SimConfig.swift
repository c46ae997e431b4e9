import ChainTypes
import PBFT
import TradeFinance

/// How one simulation runs. Everything not set here is drawn from `seed`.
public struct SimConfig: Sendable {
    public var nodes: Int
    public var byzantine: Int
    public var seed: UInt64
    /// Real secp256k1 signatures (slow) instead of the stand-in.
    public var realCrypto: Bool
    /// Encode and decode every message in transit (exercises the wire format).
    public var wireEncoding: Bool
    /// Ticks during which faults happen; then every fault heals.
    public var faultTicks: Int
    #if HANSA_FLAWS
    /// A deliberate protocol bug in every replica (mutation build only: `scripts/mutate`).
    public var flaw: ProtocolFlaw?
    #endif
    /// Ticks between client submissions.
    public var submitIntervalTicks: Int = 2
    /// Fault intensity: 0 none … 1 harsh. Drawn per seed when nil.
    public var faultLevel: Double?
    public var scenario: Scenario = .random
    /// Every byzantine replica behaves so; drawn per replica from the seed when nil.
    public var behaviour: ByzantineBehaviour?
    /// What the replicas' driver runs over: the fast stand-in (the default) or the real ledger.
    public var ledger: LedgerMode = .fast
    /// The letter-of-credit contract the real-ledger mode's client runs (required there).
    public var letterOfCredit: LetterOfCredit?
    /// A deliberate corruption of a real-ledger replica or of its client, for the tests that
    /// show each real-ledger checker can fail; nil in every other run.
    var seam: LedgerSeam?

    /// The application every replica's driver runs over.
    public enum LedgerMode: String, Sendable, CaseIterable {
        /// A stand-in whose roots are hashes of the block's content: fast, for large seed counts.
        case fast
        /// The real `Ledger` and `Mempool` (NodeCore's `LedgerApplication`) on an in-memory
        /// store behind fault injection, real signed transfers and a letter of credit, real
        /// secp256k1 signatures throughout.
        case real
    }

    /// Whether replicas sign with secp256k1: always in the real-ledger mode, whose
    /// `Ledger.apply` verifies every commit certificate.
    public var signsWithSecp256k1: Bool { realCrypto || ledger == .real }

    /// What kind of faults a run draws.
    public enum Scenario: String, Sendable, CaseIterable {
        /// Everything at random from the seed (the default).
        case random
        /// f + 1 honest validators down from tick 50 to `outageRestartTick`: consensus stalls
        /// (no quorum, so no view-change timer runs, §4.5.2). Then, until the heal, the primary
        /// of the highest view an honest replica is in is cut off from everyone whenever it is
        /// honest: view change after view change fails and the view-change timeout climbs to
        /// its cap (`SimOutcome.maxTimeoutTicks`); then everything heals.
        case longOutage = "long-outage"
        /// Every message takes `slowDelayTicks` from start to end — the heal does not speed
        /// it up — and nothing else goes wrong: three message delays (a round of the normal
        /// case) exceed the request timeout, so a view completes only once its timeout has
        /// doubled (§4.5.2: the backoff is what makes PBFT live when delays are unknown).
        case slowNetwork = "slow-network"
        /// One honest validator at a time cut off from all others for 30–60 ticks, the next cut
        /// (of another one) following at once or after 20–60 ticks, on a network that delays
        /// 1–4 ticks and loses nothing else. A height often commits at one replica just before
        /// it is cut off, while the others — still needing its commit — change view over their
        /// prepared certificates: the case that §4.4's new-view rules exist for, which random
        /// faults rarely produce.
        case isolations
        /// An adaptive network adversary: whenever one honest validator has committed a height
        /// that no other honest validator has, it is cut off from everyone at once (its commit
        /// votes still in flight are lost) for 30–60 ticks, the next cut allowed 0–40 ticks
        /// after the heal, on a network that delays 1–4 ticks and loses nothing else. Each cut
        /// leaves a block committed at exactly one replica while the others, a commit short,
        /// change view over their prepared certificates — §4.4's case, made on purpose rather
        /// than waited for (`Cluster.cutOffLoneCommitter`).
        case loneCommit = "lone-commit"
        /// Crash after crash at the places a node dies mid-step (`Cluster.armCrash`: at a store
        /// write, or after the first few sends of a step): every 15–40 ticks one honest
        /// validator, drawn from the seed, is armed to die mid-step and comes back 5–20 ticks
        /// later from its store, on a network that delays 1–4 ticks and loses nothing else.
        /// What a restart finds is what persist before send promised.
        case crashes
    }

    /// Message delays of the slow-network scenario.
    public static let slowDelayTicks = 21...25
    /// Ticks between client submissions on the slow network: its capacity is about a block per
    /// hundred ticks (four message delays and the timeouts a view needs), so the clients of
    /// the other scenarios (one transaction per 2 ticks) would outrun it and every seed would
    /// fail per-transaction liveness for load, not for a fault.
    public static let slowSubmitIntervalTicks = 20

    public static let parameters = ConsensusParameters(
        tickMillis: 100, requestTimeoutTicks: 20, maxViewChangeTimeoutTicks: 160, checkpointInterval: 16,
        watermarkWindow: 64, maxBlockTransactions: 40, maxBlockBytes: 1 << 20, maxClockDriftMillis: 2_000)

    public init(nodes: Int, byzantine: Int, seed: UInt64, realCrypto: Bool = false, wireEncoding: Bool = false,
                faultTicks: Int = 600) {
        self.nodes = nodes; self.byzantine = byzantine; self.seed = seed; self.realCrypto = realCrypto
        self.wireEncoding = wireEncoding; self.faultTicks = faultTicks
    }

    public var f: Int { (nodes - 1) / 3 }

    /// In the long outage, the tick the crashed validators restart and the cut-off
    /// primaries begin: a third of the way from tick 50 to the heal.
    public var outageRestartTick: Int { 50 + max(0, faultTicks - 50) / 3 }

    /// The flaw's name, "" when none (or in a normal build): for traces and replay commands.
    public var flawName: String {
        #if HANSA_FLAWS
        flaw?.rawValue ?? ""
        #else
        ""
        #endif
    }

    /// After faults heal, every honest replica must commit a new block within this many
    /// ticks: up to f + 1 primaries in a row may be faulty or unreachable, each view change
    /// waits at most the capped timeout, plus time to converge on a view and to sync.
    /// docs/PROTOCOL.md part 2 explains it; the simulator measures the real figure.
    public var livenessBoundTicks: Int {
        let p = Self.parameters
        return (f + 3) * Int(p.maxViewChangeTimeoutTicks) + 4 * Int(p.requestTimeoutTicks) + 100
    }

    /// Ticks between the clients' retransmissions of their uncommitted transactions to every
    /// up replica (a replica that restarted lost its mempool).
    public static let clientRetryTicks = 100

    /// Ticks between new offers of transactions a replica refused (it lagged: a nonce gap, or
    /// a contract step whose previous step it had not committed yet).
    public static let refusalRetryTicks = 10
    /// Refused offers remembered for retry, at most.
    static let maxRefusalsKept = 4_096
    /// Ticks before a node whose store failed a write is restarted (by its supervisor).
    public static let storeFailureRestartTicks = 10

    /// After faults heal, the real-ledger mode's client must finish its letter of credit
    /// within this many ticks: each of its steps waits for the previous one's receipt and
    /// commits within the per-transaction bound.
    public var workloadBoundTicks: Int { (TradeClient.stepCount + 1) * transactionLivenessBoundTicks }

    /// After faults heal, every transaction honest replicas hold must commit within this
    /// many ticks of the later of the heal and its submission: the block bound above (every
    /// honest replica is in a working view), one client retry interval (every replica then
    /// holds it), then up to 2f + 1 primaries in a row that leave it out — f byzantine ones
    /// and, conservatively, f + 1 more — each replaced after the request timer (2 × request
    /// timeout; its commits keep the timeout at the base) plus at most one capped view-change
    /// timeout. docs/PROTOCOL.md §14.
    public var transactionLivenessBoundTicks: Int {
        let p = Self.parameters
        return livenessBoundTicks + Self.clientRetryTicks
            + (2 * f + 1) * (2 * Int(p.requestTimeoutTicks) + Int(p.maxViewChangeTimeoutTicks))
    }
}

/// The faults of one run, drawn from its seed before it starts.
struct FaultPlan {
    enum Event {
        case crash([Int], midBatch: Bool)
        case restart([Int])
        case partition([Set<Int>])
        case heal
        /// The victims' stores fail their next write (`StoreError`): each node stops and is
        /// restarted `SimConfig.storeFailureRestartTicks` later.
        case storeFailure([Int])
    }

    var dropRate = 0.0
    var duplicateRate = 0.0
    var minDelayTicks = 1
    var maxDelayTicks = 1
    /// Message delays from the heal on.
    var healedDelayTicks = 1...2
    var events: [Int: [Event]] = [:]
    var clockSkewMillis: [Int64] = []
    var description: [String] = []

    static func draw(_ config: SimConfig, honest: [Int], rng: inout SimRandom) -> FaultPlan {
        var plan = FaultPlan()
        let n = config.nodes
        plan.clockSkewMillis = (0..<n).map { _ in Int64.random(in: -800...800, using: &rng) }
        if config.scenario == .longOutage {
            let victims = Array(honest.shuffled(using: &rng).prefix(config.f + 1))
            plan.events[50, default: []].append(.crash(victims, midBatch: rng.chance(0.5)))
            plan.events[config.outageRestartTick, default: []].append(.restart(victims))
            plan.description.append("long outage: \(victims.sorted()) down from tick 50 to \(config.outageRestartTick), then each view's primary cut off until the heal at \(config.faultTicks)")
            return plan
        }
        if config.scenario == .slowNetwork {
            plan.minDelayTicks = SimConfig.slowDelayTicks.lowerBound
            plan.maxDelayTicks = SimConfig.slowDelayTicks.upperBound
            plan.healedDelayTicks = SimConfig.slowDelayTicks
            plan.description.append("slow network: every message takes \(SimConfig.slowDelayTicks) ticks, after the heal too")
            return plan
        }
        if config.scenario == .crashes {
            plan.maxDelayTicks = 4
            var start = Int.random(in: 10...40, using: &rng)
            while start + 25 < config.faultTicks {
                let victim = honest[Int.random(in: 0..<honest.count, using: &rng)]
                plan.events[start, default: []].append(.crash([victim], midBatch: true))
                plan.events[start + Int.random(in: 5...20, using: &rng), default: []].append(.restart([victim]))
                start += Int.random(in: 15...40, using: &rng)
            }
            plan.description.append("crashes: one honest validator at a time dies mid-step and restarts 5–20 ticks later")
            return plan
        }
        if config.scenario == .loneCommit {
            plan.maxDelayTicks = 4
            plan.description.append("lone commit: a validator that alone committed a height is cut off for 30–60 ticks")
            return plan
        }
        if config.scenario == .isolations {
            plan.maxDelayTicks = 4
            var start = Int.random(in: 20...60, using: &rng)
            var previous: Int? = nil
            while start + 30 < config.faultTicks {
                let candidates = honest.filter { $0 != previous }
                let victim = candidates[Int.random(in: 0..<candidates.count, using: &rng)]
                previous = victim
                let length = min(Int.random(in: 30...60, using: &rng), config.faultTicks - start)
                plan.events[start, default: []].append(.partition([[victim], Set((0..<config.nodes).filter { $0 != victim })]))
                plan.events[start + length, default: []].append(.heal)
                plan.description.append("isolate \(victim) at \(start) for \(length)")
                // Often the next cut follows at once: then the cluster never has every honest
                // validator at hand, and the byzantine ones' votes decide what prepares.
                start += length + (rng.chance(0.5) ? Int.random(in: 20...60, using: &rng) : 0)
            }
            return plan
        }
        let level = config.faultLevel ?? [0.0, 0.5, 1.0, 1.0][Int.random(in: 0..<4, using: &rng)]
        guard level > 0, config.faultTicks > 0 else { return plan }
        plan.dropRate = [0, 0.01, 0.05, 0.1].randomElement(using: &rng)! * level
        plan.duplicateRate = [0, 0.02, 0.05].randomElement(using: &rng)! * level
        plan.maxDelayTicks = [1, 2, 4, 8].randomElement(using: &rng)!
        plan.description.append("drop \(plan.dropRate), duplicate \(plan.duplicateRate), delay ≤ \(plan.maxDelayTicks) ticks")
        let end = config.faultTicks
        // Partitions that heal.
        for _ in 0..<Int.random(in: 0...2, using: &rng) {
            let start = Int.random(in: 0..<end, using: &rng)
            let length = Int.random(in: 20...150, using: &rng)
            let shuffled = Array(0..<n).shuffled(using: &rng)
            let cut = Int.random(in: 1..<n, using: &rng)
            plan.events[start, default: []].append(.partition([Set(shuffled[..<cut]), Set(shuffled[cut...])]))
            plan.events[min(start + length, end), default: []].append(.heal)
            plan.description.append("partition \(shuffled[..<cut].sorted()) | \(shuffled[cut...].sorted()) at \(start) for \(length)")
        }
        // Crashes with restart from the durable state; sometimes more than f at once.
        for _ in 0..<Int.random(in: 0...2, using: &rng) {
            let many = rng.chance(0.2)
            let count = many ? min(honest.count, config.f + 1) : Int.random(in: 1...max(1, config.f), using: &rng)
            let victims = Array(honest.shuffled(using: &rng).prefix(count))
            let start = Int.random(in: 0..<end, using: &rng)
            let length = Int.random(in: 10...200, using: &rng)
            let midBatch = rng.chance(0.5)
            plan.events[start, default: []].append(.crash(victims, midBatch: midBatch))
            plan.events[min(start + length, end), default: []].append(.restart(victims))
            plan.description.append("crash \(victims.sorted())\(midBatch ? " mid-batch" : "") at \(start) for \(length)")
        }
        // A store that fails a write.
        if rng.chance(0.3) {
            let victim = honest[Int.random(in: 0..<honest.count, using: &rng)]
            let at = Int.random(in: 0..<end, using: &rng)
            plan.events[at, default: []].append(.storeFailure([victim]))
            plan.description.append("store of node \(victim) fails a write at \(at)")
        }
        return plan
    }
}
