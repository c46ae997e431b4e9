import ChainTypes
import PBFT
import TradeFinance

/// Runs many seeds and summarises them; used by `hansa sim` and the tests.
public struct SimRunner: Sendable {
    public var nodes: Int
    public var byzantine: Int
    /// Every k-th seed (seed % k == 0) signs with real secp256k1; 0 = never.
    public var realCryptoEvery: UInt64 = 10
    public var faultTicks = 600
    #if HANSA_FLAWS
    /// A deliberate protocol bug in every replica (mutation build only).
    public var flaw: ProtocolFlaw?
    #endif
    public var scenario: SimConfig.Scenario = .random
    public var behaviour: ByzantineBehaviour?
    /// What the replicas run over (`SimConfig.LedgerMode`): the fast stand-in by default.
    public var ledger: SimConfig.LedgerMode = .fast
    /// The letter-of-credit contract for the real-ledger mode (compiled once, for every seed).
    public var letterOfCredit: LetterOfCredit?
    /// A corruption for the real-ledger checkers' own tests (`LedgerSeam`).
    var seam: LedgerSeam?

    public init(nodes: Int, byzantine: Int) {
        self.nodes = nodes
        self.byzantine = byzantine
    }

    public func config(seed: UInt64) -> SimConfig {
        var c = SimConfig(nodes: nodes, byzantine: byzantine, seed: seed,
                          realCrypto: realCryptoEvery > 0 && seed % realCryptoEvery == 0,
                          wireEncoding: seed % 4 == 1, faultTicks: faultTicks)
        #if HANSA_FLAWS
        c.flaw = flaw
        #endif
        c.scenario = scenario
        if scenario == .slowNetwork { c.submitIntervalTicks = SimConfig.slowSubmitIntervalTicks }
        c.behaviour = behaviour
        c.ledger = ledger
        c.letterOfCredit = ledger == .real ? letterOfCredit : nil
        c.seam = seam
        return c
    }

    public func run(seed: UInt64, traceEvery: Int = 0) -> SimOutcome {
        let cluster = Cluster(config(seed: seed))
        cluster.traceEvery = traceEvery
        var outcome = cluster.run()
        outcome.maxTimeoutTicks = cluster.maxTimeoutTicks
        outcome.lyingSyncAnswers = cluster.nodes.compactMap { $0.byzantine?.normal.liesServed }.reduce(0, +)
        return outcome
    }

    /// The one command that replays `seed` exactly.
    public func replayCommand(seed: UInt64) -> String {
        var parts = ["hansa sim --nodes \(nodes) --byzantine \(byzantine) --seeds \(seed)"]
        if realCryptoEvery != 10 { parts.append("--real-crypto-every \(realCryptoEvery)") }
        if faultTicks != 600 { parts.append("--fault-ticks \(faultTicks)") }
        #if HANSA_FLAWS
        if let flaw { parts.append("--flaw \(flaw.rawValue)") }
        #endif
        if scenario != .random { parts.append("--scenario \(scenario.rawValue)") }
        if let behaviour { parts.append("--behaviour \(behaviour.rawValue)") }
        if ledger != .fast { parts.append("--ledger \(ledger.rawValue)") }
        return parts.joined(separator: " ")
    }

    /// Parses `A..<B`, `A...B` or a single seed `A`.
    public static func parseSeeds(_ text: String) -> Range<UInt64>? {
        if let r = text.firstRange(of: "..<") {
            guard let a = UInt64(text[..<r.lowerBound]), let b = UInt64(text[r.upperBound...]), a < b else { return nil }
            return a..<b
        }
        if let r = text.firstRange(of: "...") {
            guard let a = UInt64(text[..<r.lowerBound]), let b = UInt64(text[r.upperBound...]), a <= b, b < .max else { return nil }
            return a..<(b + 1)
        }
        guard let a = UInt64(text), a < .max else { return nil }
        return a..<(a + 1)
    }
}

/// Totals over many runs.
public struct SimSummary: Sendable {
    public var passed = 0
    public var failed = 0
    public var failedSeeds: [UInt64] = []
    public var maxRecoveryTicks = 0
    public var recoverySum = 0
    public var recoveryCount = 0
    public var messages = 0
    public var blocks: UInt64 = 0
    public var viewChanges = 0
    /// The highest view-change timeout of any run, and how many runs reached the cap.
    public var maxTimeoutTicks: UInt64 = 0
    public var runsAtTimeoutCap = 0

    public init() {}

    public mutating func add(_ o: SimOutcome) {
        if o.passed { passed += 1 } else { failed += 1; failedSeeds.append(o.seed) }
        if let r = o.recoveryTicks {
            maxRecoveryTicks = max(maxRecoveryTicks, r)
            recoverySum += r
            recoveryCount += 1
        }
        messages += o.messages
        blocks += o.height
        viewChanges += o.viewChanges
        maxTimeoutTicks = max(maxTimeoutTicks, o.maxTimeoutTicks)
        if o.maxTimeoutTicks >= SimConfig.parameters.maxViewChangeTimeoutTicks { runsAtTimeoutCap += 1 }
    }

    public var meanRecoveryTicks: Double { recoveryCount == 0 ? 0 : Double(recoverySum) / Double(recoveryCount) }
}
