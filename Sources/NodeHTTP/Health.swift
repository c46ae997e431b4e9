/// What `/health` answers, from the best to the worst.
///
/// A load balancer in front of a node's reads sends traffic only on HTTP 200: `ok` is 200;
/// `syncing` and `degraded` are 503 with the reasons, because a syncing node serves a stale
/// head and a degraded one may not commit. See docs/OPERATIONS.md#metrics-and-health.
public enum HealthState: String, Sendable, Codable, Equatable {
    /// Committing (or following) normally.
    case ok
    /// Fetching missing blocks (block sync); reads would be stale.
    case syncing
    /// Up, but something stops it doing its job: too few peers, or commits stalled.
    case degraded

    /// The HTTP status `/health` answers with.
    public var httpStatusCode: Int {
        self == .ok ? 200 : 503
    }
}

/// The thresholds of the degraded rules. Names carry their unit.
public struct HealthThresholds: Sendable, Equatable {
    /// With transactions pending, no commit for this long means consensus is stuck.
    public var commitStallSeconds: Double

    /// The defaults: 30 s of pending transactions without a commit is about ten view-change
    /// timeouts at the default timing, far past a single slow round.
    public init(commitStallSeconds: Double = 30) {
        self.commitStallSeconds = commitStallSeconds
    }
}

/// The verdict of ``HealthRules/evaluate(_:nowMillis:thresholds:)``.
///
/// Invariant: `state == .ok` exactly when `reasons` is empty.
public struct HealthReport: Sendable, Equatable {
    public var state: HealthState
    /// One sentence per rule that fired, degraded reasons first.
    public var reasons: [String]

    public init(state: HealthState, reasons: [String]) {
        self.state = state
        self.reasons = reasons
    }
}

/// The health rules, as a pure function of a status and `now` (no clock inside).
///
/// 1. Quorum: a validator that reaches fewer than quorum − 1 validator peers (with itself, less
///    than a PBFT quorum, Castro & Liskov 1999 §4.1) cannot commit → degraded.
/// 2. Isolated observer: an observer with no peer at all cannot follow the chain → degraded.
/// 3. Commit stall: transactions pending and no commit for `commitStallSeconds` (counted from
///    the start when nothing was committed since) → degraded. Not applied while syncing.
/// 4. Syncing: block sync running → syncing (unless a degraded rule fired: degraded wins).
public enum HealthRules {
    /// Peers a validator needs besides itself for a quorum of `validatorCount` validators:
    /// quorum − 1, with the quorum ⌈(n + f + 1) / 2⌉ and f = ⌊(n − 1) / 3⌋ — the formula of
    /// `ValidatorSet.quorum` in ChainTypes (2f + 1 when n = 3f + 1). A single validator needs none.
    public static func quorumPeers(validatorCount: Int) -> Int {
        guard validatorCount > 0 else { return 0 }
        let faulty = (validatorCount - 1) / 3
        let quorum = (validatorCount + faulty + 2) / 2
        return quorum - 1
    }

    public static func evaluate(_ status: NodeStatus, nowMillis: Int64,
                                thresholds: HealthThresholds = HealthThresholds()) -> HealthReport {
        var degraded: [String] = []
        switch status.role {
        case .validator:
            let needed = quorumPeers(validatorCount: status.validatorCount)
            if status.validatorPeersConnected < needed {
                degraded.append("connected to \(status.validatorPeersConnected) of the \(needed) validator peers a quorum of \(status.validatorCount) needs")
            }
        case .observer:
            if status.peersConnected == 0 {
                degraded.append("no peer connected (expected \(status.peersExpected)): cannot follow the chain")
            }
        }
        if !status.syncing, status.mempoolTransactions > 0 {
            let startMillis = nowMillis - Int64((status.uptimeSeconds * 1000).rounded())
            let sinceMillis = status.lastCommitMillis ?? startMillis
            let stalledSeconds = Double(nowMillis - sinceMillis) / 1000
            if stalledSeconds >= thresholds.commitStallSeconds {
                let since = status.lastCommitMillis == nil ? "since start" : "for"
                degraded.append("no commit \(since) \(Int(stalledSeconds)) s with \(status.mempoolTransactions) transactions pending (threshold \(Int(thresholds.commitStallSeconds)) s)")
            }
        }
        var reasons = degraded
        if status.syncing {
            let target = status.syncTargetHeight.map { " to height \($0)" } ?? ""
            reasons.append("syncing\(target), at height \(status.height)")
        }
        let state: HealthState = !degraded.isEmpty ? .degraded : (status.syncing ? .syncing : .ok)
        return HealthReport(state: state, reasons: reasons)
    }
}

/// The `/health` body: every field of the status, plus `status` and `reasons`.
struct HealthBody: Encodable {
    let status: NodeStatus
    let report: HealthReport

    private enum CodingKeys: String, CodingKey {
        case status, reasons
    }

    func encode(to encoder: any Encoder) throws {
        try status.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(report.state, forKey: .status)
        try container.encode(report.reasons, forKey: .reasons)
    }
}
