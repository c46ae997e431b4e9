import ChainTypes
import PBFT
import Simulator
import Testing

/// Block time: a proposal's timestamp must be after its parent's and inside a window around
/// the replica's clock — at most `max_clock_drift_ms` ahead, at most the proposal lag
/// (`ConsensusParameters.maxProposalLagMillis`) behind (docs/PROTOCOL.md §12, "Block time").
@Suite("PBFT block time")
struct TimestampTests {
    /// The harness's lag bound: drift 2000 ms + request timeout 10 ticks × 100 ms.
    static let lagMillis: UInt64 = 3_000

    /// Replica 1's clock runs at `clock`; the primary (0) sends it a block stamped `timestamp`.
    /// Returns whether replica 1 prepared it.
    static func backupPrepares(timestamp: UInt64, clock: UInt64) -> Bool {
        var h = Harness()
        h.input(1, .tick(nowMillis: clock, hasPendingWork: false))
        let block = h.makeBlock(height: 1, view: 0, parent: Harness.genesis, proposer: 0, timestamp: timestamp)
        h.input(1, .message(.prePrepare(h.prePrepare(block, view: 0, proposer: 0)), from: 0))
        return !h.queued("prepare").isEmpty
    }

    @Test("the harness's lag bound is drift + request timeout")
    func harnessBound() {
        #expect(Harness.defaultParameters.maxProposalLagMillis == Self.lagMillis)
    }

    @Test("finding 9: a pre-prepare whose timestamp lags the backup's clock by more than the bound is not prepared")
    func finding9_backDatedProposalIsNotPrepared() {
        var h = Harness()
        // A quiet chain: the backup's clock is a minute past the genesis block.
        let clock = Harness.genesis.timestampMillis + 60_000
        h.input(1, .tick(nowMillis: clock, hasPendingWork: false))
        // The primary back-dates its block to just after the parent: legal under "after the
        // parent's" alone, yet 59.999 s behind the backup's clock.
        let block = h.makeBlock(height: 1, view: 0, parent: Harness.genesis, proposer: 0,
                                timestamp: Harness.genesis.timestampMillis + 1)
        h.input(1, .message(.prePrepare(h.prePrepare(block, view: 0, proposer: 0)), from: 0))
        #expect(h.queued("prepare").isEmpty, "replica 1 prepared a block stamped 59.999 s before its clock")
        #expect(h.replica(1).stats.rejectedProposals == 1)
        #expect(h.replica(1).durable.accepted == nil)
    }

    @Test("the lag bound is inclusive: exactly the bound behind is prepared, one millisecond more is not")
    func lagBoundary() {
        let clock = Harness.genesis.timestampMillis + 10_000
        #expect(Self.backupPrepares(timestamp: clock - Self.lagMillis, clock: clock))
        #expect(!Self.backupPrepares(timestamp: clock - Self.lagMillis - 1, clock: clock))
        // The lead bound, for symmetry: the drift ahead is prepared, one more is not.
        #expect(Self.backupPrepares(timestamp: clock + 2_000, clock: clock))
        #expect(!Self.backupPrepares(timestamp: clock + 2_001, clock: clock))
    }

    @Test("a clock smaller than the lag bound does not underflow: the lag is measured, not the clock shifted")
    func smallClock() {
        let h = Harness()
        let early = ChainTip(height: 0, hash: SHA256.hash(utf8: "epoch genesis"), timestampMillis: 0, certificate: nil)
        var backup = PBFTReplica(config: h.config(1), crypto: h.crypto(1), validator: h.validator, tip: early)
        _ = backup.step(.tick(nowMillis: 500, hasPendingWork: false))
        let block = h.makeBlock(height: 1, view: 0, parent: early, proposer: 0, timestamp: 1)
        let actions = backup.step(.message(.prePrepare(h.prePrepare(block, view: 0, proposer: 0)), from: 0))
        #expect(actions.contains { if case .broadcast(.vote(let v)) = $0 { v.phase == .prepare } else { false } })
    }

    @Test("a synced block, even with a valid certificate, is refused unless it is after its parent; an old one is taken")
    func syncedBlockTime() {
        var h = Harness()
        h.input(1, .tick(nowMillis: Harness.genesis.timestampMillis + 600_000, hasPendingWork: false))
        func certified(_ timestamp: UInt64) -> (Block, CommitCertificate) {
            let block = h.makeBlock(height: 1, view: 0, parent: Harness.genesis, proposer: 0, timestamp: timestamp)
            return (block, CommitCertificate(votes: (0..<3).map { h.vote(.commit, view: 0, height: 1, hash: block.hash, by: $0) }))
        }
        let (stale, staleCertificate) = certified(Harness.genesis.timestampMillis)
        h.input(1, .synced(stale, staleCertificate))
        #expect(h.heights[1] == 0, "applied a synced block stamped at its parent's time")
        // Ten minutes behind the clock, but after the parent: sync does not apply the lag bound.
        let (old, oldCertificate) = certified(Harness.genesis.timestampMillis + 1)
        h.input(1, .synced(old, oldCertificate))
        #expect(h.heights[1] == 1)
    }

    @Test("§4.4 + block time: a block prepared in an earlier view is re-proposed and committed however old its timestamp")
    func oldReproposalIsAccepted() {
        var h = Harness()
        let a = ViewChangeTests.preparedThenPrimaryCrash(&h)
        // The view change takes a minute (long outages, capped backoff): by the new view the
        // prepared block lags every clock far beyond the bound. It may have committed at some
        // replica already, so refusing it now could only stall the height for good.
        h.now += 60_000
        for _ in 0..<Int(h.parameters.requestTimeoutTicks) {
            h.tickAll()
            h.deliverAll(where: ViewChangeTests.noViewZeroCommits)
        }
        #expect(h.replica(1).lastNewView?.reproposal?.blockHash == a.hash)
        #expect(h.now - a.header.timestampMillis > Self.lagMillis)
        for i in 1...3 { #expect(h.committed[i].first?.0.hash == a.hash) }
    }
}
