import Testing
@testable import NodeHTTP

@Suite("Health rules")
struct HealthRulesTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let status: NodeStatus
        let state: HealthState
        /// A word each reason must contain, in order.
        let reasonWords: [String]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "healthy validator", status: Fixture.validator(), state: .ok, reasonWords: []),
        // Rule 1, quorum (Castro & Liskov 1999 §4.1): n = 4 needs 2 peers besides itself.
        Case(name: "validator with exactly quorum − 1 peers",
             status: Fixture.validator { $0.validatorPeersConnected = 2 }, state: .ok, reasonWords: []),
        Case(name: "validator one peer short of quorum",
             status: Fixture.validator { $0.validatorPeersConnected = 1; $0.peersConnected = 3 },
             state: .degraded, reasonWords: ["quorum"]),
        Case(name: "observers do not count towards a validator's quorum",
             status: Fixture.validator { $0.validatorPeersConnected = 1; $0.peersConnected = 9 },
             state: .degraded, reasonWords: ["quorum"]),
        Case(name: "single validator needs no peer",
             status: Fixture.validator { $0.validatorCount = 1; $0.validatorPeersConnected = 0; $0.peersConnected = 0 },
             state: .ok, reasonWords: []),
        // Rule 2, isolated observer.
        Case(name: "observer with one peer", status: Fixture.observer { $0.peersConnected = 1; $0.validatorPeersConnected = 0 },
             state: .ok, reasonWords: []),
        Case(name: "observer with no peer", status: Fixture.observer { $0.peersConnected = 0; $0.validatorPeersConnected = 0 },
             state: .degraded, reasonWords: ["no peer"]),
        // Rule 3, commit stall (threshold 30 s).
        Case(name: "29 s without commit, transactions pending",
             status: Fixture.validator { $0.lastCommitMillis = Fixture.nowMillis - 29_999 }, state: .ok, reasonWords: []),
        Case(name: "30 s without commit, transactions pending",
             status: Fixture.validator { $0.lastCommitMillis = Fixture.nowMillis - 30_000 },
             state: .degraded, reasonWords: ["no commit"]),
        Case(name: "an hour without commit but nothing pending",
             status: Fixture.validator { $0.lastCommitMillis = Fixture.nowMillis - 3_600_000; $0.mempoolTransactions = 0 },
             state: .ok, reasonWords: []),
        Case(name: "never committed, started 10 s ago, transactions pending",
             status: Fixture.validator { $0.lastCommitMillis = nil; $0.uptimeSeconds = 10 }, state: .ok, reasonWords: []),
        Case(name: "never committed, started 60 s ago, transactions pending",
             status: Fixture.validator { $0.lastCommitMillis = nil; $0.uptimeSeconds = 60 },
             state: .degraded, reasonWords: ["since start"]),
        // Rule 4, syncing; the stall rule is off while syncing; degraded wins over syncing.
        Case(name: "syncing", status: Fixture.validator { $0.syncing = true; $0.syncTargetHeight = 900 },
             state: .syncing, reasonWords: ["900"]),
        Case(name: "syncing with an old last commit and transactions pending",
             status: Fixture.validator { $0.syncing = true; $0.syncTargetHeight = 900; $0.lastCommitMillis = Fixture.nowMillis - 600_000 },
             state: .syncing, reasonWords: ["syncing"]),
        Case(name: "syncing without peers",
             status: Fixture.observer { $0.syncing = true; $0.syncTargetHeight = 900; $0.peersConnected = 0 },
             state: .degraded, reasonWords: ["no peer", "syncing"]),
        Case(name: "quorum lost and stalled: both reasons",
             status: Fixture.validator { $0.validatorPeersConnected = 0; $0.lastCommitMillis = Fixture.nowMillis - 120_000 },
             state: .degraded, reasonWords: ["quorum", "no commit"]),
    ]

    @Test(arguments: cases)
    func evaluate(_ example: Case) {
        let report = HealthRules.evaluate(example.status, nowMillis: Fixture.nowMillis)
        #expect(report.state == example.state)
        #expect(report.reasons.count == example.reasonWords.count, "\(report.reasons)")
        for (reason, word) in zip(report.reasons, example.reasonWords) {
            #expect(reason.contains(word), "\(reason)")
        }
    }

    @Test("thresholds come from the caller")
    func customThreshold() {
        let status = Fixture.validator { $0.lastCommitMillis = Fixture.nowMillis - 10_000 }
        #expect(HealthRules.evaluate(status, nowMillis: Fixture.nowMillis).state == .ok)
        let strict = HealthThresholds(commitStallSeconds: 5)
        #expect(HealthRules.evaluate(status, nowMillis: Fixture.nowMillis, thresholds: strict).state == .degraded)
    }

    /// The quorum of ChainTypes' ValidatorSet: ⌈(n + f + 1) / 2⌉, minus the validator itself.
    @Test(arguments: [(0, 0), (1, 0), (2, 1), (3, 1), (4, 2), (5, 3), (6, 3), (7, 4), (10, 6)])
    func quorumPeers(validators: Int, peers: Int) {
        #expect(HealthRules.quorumPeers(validatorCount: validators) == peers)
    }

    @Test("ok is 200; syncing and degraded are 503, so a load balancer skips them")
    func httpStatus() {
        #expect(HealthState.ok.httpStatusCode == 200)
        #expect(HealthState.syncing.httpStatusCode == 503)
        #expect(HealthState.degraded.httpStatusCode == 503)
    }
}
