import ChainTypes
import PBFT
import Simulator
import Testing

/// The double-sign guard (`PBFTReplica.guardedSign`, from `DurableState.lastSigned`; CometBFT
/// privval's guard on height/round/step): a replica restarted from its durable state never
/// signs two different things for one (view, height, phase).
///
/// In the normal case the accepted proposal (`DurableState.accepted`) already makes a replica
/// ignore a second proposal for the same (view, height) — `NormalCaseTests.noDoubleSignAfterRestart`
/// shows that end to end, and passes with the guard gone. These tests restart from a durable
/// state whose signing record is the only thing left to refuse, so they fail when the guard's
/// same-slot check is deleted.
@Suite("PBFT double-sign guard")
struct DoubleSignGuardTests {
    /// The votes of `phase` that `from` sent, by block hash, in queue order.
    static func sentVotes(_ h: Harness, _ phase: VotePhase, from: Int) -> [Hash] {
        h.queue.compactMap { e -> Hash? in
            guard e.from == from, case .vote(let v) = e.message, v.phase == phase else { return nil }
            return v.blockHash
        }
    }

    /// Replica 1 takes primary 0's proposal `a` for (view 0, height 1) and prepares it; with
    /// `commitToo`, prepares from 0 and 2 make it prepared, so it signs a commit for `a` too.
    static func signFor(_ a: Block, commitToo: Bool, _ h: inout Harness) {
        h.now += 100
        h.input(1, .tick(nowMillis: h.now, hasPendingWork: false))
        h.input(1, .message(.prePrepare(h.prePrepare(a, view: 0, proposer: 0)), from: 0))
        if commitToo {
            for i in [0, 2] { h.input(1, .message(.vote(h.vote(.prepare, view: 0, height: 1, hash: a.hash, by: i)), from: i)) }
        }
        #expect(Set(sentVotes(h, .prepare, from: 1)) == [a.hash])
        #expect(Set(sentVotes(h, .commit, from: 1)) == (commitToo ? [a.hash] : []))
        h.queue.removeAll()
    }

    /// Crash replica 1 and restart it from what it persisted, less the proposal it accepted
    /// (and prepared): only `lastSigned` remembers what it signed.
    static func restartWithOnlyTheSigningRecord(_ h: inout Harness) {
        h.crash(1)
        h.durable[1].accepted = nil
        h.durable[1].prepared = nil
        h.durable[1].preparedBlock = nil
        h.restart(1)
        h.input(1, .tick(nowMillis: h.now, hasPendingWork: false))
    }

    @Test("after a restart, no prepare for block B at the (view, height) it prepared block A at")
    func noSecondPrepare() {
        var h = Harness()
        let a = h.makeBlock(height: 1, view: 0, parent: Harness.genesis, proposer: 0)
        Self.signFor(a, commitToo: false, &h)
        #expect(h.durable[1].lastSigned.contains(SignedSlot(kind: .prepare, view: 0, height: 1, hash: a.hash)))
        Self.restartWithOnlyTheSigningRecord(&h)

        // A byzantine primary 0 equivocates: block B for the same (view 0, height 1).
        let b = h.makeBlock(height: 1, view: 0, parent: Harness.genesis, proposer: 0, timestamp: h.now - 5)
        #expect(b.hash != a.hash)
        h.input(1, .message(.prePrepare(h.prePrepare(b, view: 0, proposer: 0)), from: 0))
        #expect(Self.sentVotes(h, .prepare, from: 1).isEmpty, "replica 1 prepared B at a slot it had prepared A at")
        #expect(h.replica(1).stats.refusedToSign == 1)
        #expect(h.durable[1].lastSigned.contains(SignedSlot(kind: .prepare, view: 0, height: 1, hash: a.hash)))
    }

    @Test("after a restart, no commit for block B at the (view, height) it committed block A at")
    func noSecondCommit() {
        var h = Harness()
        let a = h.makeBlock(height: 1, view: 0, parent: Harness.genesis, proposer: 0)
        Self.signFor(a, commitToo: true, &h)
        #expect(h.durable[1].lastSigned.contains(SignedSlot(kind: .commit, view: 0, height: 1, hash: a.hash)))
        Self.restartWithOnlyTheSigningRecord(&h)

        // B proposed for the same slot, and a quorum's prepares for it reach replica 1.
        let b = h.makeBlock(height: 1, view: 0, parent: Harness.genesis, proposer: 0, timestamp: h.now - 5)
        h.input(1, .message(.prePrepare(h.prePrepare(b, view: 0, proposer: 0)), from: 0))
        for i in [0, 2, 3] { h.input(1, .message(.vote(h.vote(.prepare, view: 0, height: 1, hash: b.hash, by: i)), from: i)) }
        #expect(Self.sentVotes(h, .prepare, from: 1).isEmpty)
        #expect(Self.sentVotes(h, .commit, from: 1).isEmpty, "replica 1 committed B at a slot it had committed A at")
        #expect(h.replica(1).stats.refusedToSign == 2)
        #expect(h.committed[1].isEmpty)
    }

    @Test("after a restart, signing the same vote again is allowed: the guard refuses only a different one")
    func sameVoteAgain() {
        var h = Harness()
        let a = h.makeBlock(height: 1, view: 0, parent: Harness.genesis, proposer: 0)
        Self.signFor(a, commitToo: false, &h)
        Self.restartWithOnlyTheSigningRecord(&h)
        h.input(1, .message(.prePrepare(h.prePrepare(a, view: 0, proposer: 0)), from: 0))
        #expect(Self.sentVotes(h, .prepare, from: 1) == [a.hash, a.hash, a.hash])
        #expect(h.replica(1).stats.refusedToSign == 0)
    }

    /// A real crash where the guard is the only defence: the primary of view 1 signs and sends
    /// a new-view from view-changes {1, 2, 3} and crashes before it persists that it installed
    /// the view. Restarted (still view-changing), it sees the view-changes of 0 and 2 first —
    /// another quorum, another new-view body. Signing it would give view 1 two new-views.
    @Test("a primary that crashed after sending its new-view never signs a different one for that view")
    func noSecondNewView() {
        var h = Harness()
        // No proposal is answered: every replica's timer runs out and asks for view 1.
        for _ in 0..<Int(h.parameters.requestTimeoutTicks) {
            h.now += h.parameters.tickMillis
            for i in 0..<h.n { h.tick(i) }
        }
        #expect((0..<h.n).allSatisfy { h.replica($0).isViewChanging && h.replica($0).view == 1 })
        let toPrimary = Dictionary(h.queue.compactMap { e -> (Int, ViewChange)? in
            guard e.to == 1, case .viewChange(let vc) = e.message, vc.newView == 1 else { return nil }
            return (e.from, vc)
        }, uniquingKeysWith: { first, _ in first })
        #expect(Set(toPrimary.keys) == [0, 2, 3])
        h.queue.removeAll()

        h.input(1, .message(.viewChange(toPrimary[2]!), from: 2))
        let actions = h.input(1, .message(.viewChange(toPrimary[3]!), from: 3))
        guard let sent = actions.firstIndex(where: { if case .broadcast(.newView) = $0 { true } else { false } }),
              case .persist(let beforeSend) = actions[..<sent].last(where: { if case .persist = $0 { true } else { false } }) else {
            Issue.record("replica 1 did not persist and send a new-view: \(actions)")
            return
        }
        // Crash after the send, before the later persist (the installed view) reached the disk.
        h.crash(1)
        h.durable[1] = beforeSend
        #expect(h.durable[1].viewChanging)
        h.restart(1)
        h.queue.removeAll()

        h.input(1, .message(.viewChange(toPrimary[0]!), from: 0))
        h.input(1, .message(.viewChange(toPrimary[2]!), from: 2))
        #expect(h.queued("new-view").isEmpty, "replica 1 signed a second, different new-view for view 1")
        #expect(h.replica(1).stats.refusedToSign == 1)
    }
}
