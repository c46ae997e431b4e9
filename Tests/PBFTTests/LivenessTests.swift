import ChainTypes
import PBFT
import Simulator
import Testing

/// Liveness gaps closed after review: ways an honest replica could stay out of a view, or a
/// byzantine one hold the cluster back, without breaking safety (Castro & Liskov 1999,
/// §4.4–4.5; TOCS 2002, §4.5 and §5 on recovery).
@Suite("PBFT liveness")
struct LivenessTests {
    /// Stage: the primary of view 0 crashes, replicas 1–2 install view 1 and replica 3 hears
    /// nothing of the view change. Returns the new-view of view 1.
    static func viewOneWithoutReplicaThree(_ h: inout Harness) -> NewView {
        h.crash(0)
        h.tickAll(Int(h.parameters.requestTimeoutTicks))
        // Replica 3's own view-change still counts: the quorum for view 1 is 1, 2 and 3.
        h.deliverAll { $0.to != 3 }
        #expect(h.replica(1).view == 1 && !h.replica(1).isViewChanging)
        #expect(h.replica(3).isViewChanging)
        return h.replica(1).lastNewView!
    }

    @Test("§4.4: a new-view forwarded by a backup is verified as the primary's own message and installed")
    func newViewFromAnySender() {
        var h = Harness()
        let nv = Self.viewOneWithoutReplicaThree(&h)
        // Replica 2 (not the primary of view 1) forwards the primary's signed new-view.
        h.input(3, .message(.newView(nv), from: 2))
        #expect(!h.replica(3).isViewChanging && h.replica(3).view == 1, "a verified new-view was dropped for its sender")
        // A new-view that names a backup as its primary is still refused, whoever sends it.
        var forged = nv
        forged.primaryIndex = 2
        forged.signature = h.crypto(2).sign(.newView, forged.signingBody)
        var fresh = Harness()
        _ = Self.viewOneWithoutReplicaThree(&fresh)
        fresh.input(3, .message(.newView(forged), from: 2))
        #expect(fresh.replica(3).isViewChanging)
    }

    @Test("new-view requests are rate-limited per peer: a request wasted on one peer does not hold back another")
    func newViewRequestPerPeer() {
        var h = Harness()
        _ = Self.viewOneWithoutReplicaThree(&h)
        h.queue.removeAll()
        // A prepare of view 1 from replica 2, then the re-sent new-view's view from replica 1:
        // replica 3 asks each of them.
        let vote = h.vote(.prepare, view: 1, height: 1, hash: SHA256.hash(utf8: "x"), by: 2)
        h.input(3, .message(.vote(vote), from: 2))
        let v1 = h.vote(.prepare, view: 1, height: 1, hash: SHA256.hash(utf8: "x"), by: 1)
        h.input(3, .message(.vote(v1), from: 1))
        let asked = Set(h.queued("new-view-request").filter { $0.from == 3 }.map(\.to))
        #expect(asked == [1, 2], "replica 3 asked only \(asked.sorted())")
    }

    @Test("TOCS 2002 §4.5: a restarted primary still answers new-view requests for its view (the new-view is durable)")
    func restartedPrimaryAnswersNewView() throws {
        var h = Harness()
        let nv = Self.viewOneWithoutReplicaThree(&h)
        h.crash(1)
        h.restart(1)
        #expect(h.replica(1).lastNewView == nv)
        h.queue.removeAll()
        h.input(1, .message(.newViewRequest(NewViewRequest(view: 1)), from: 3))
        let answers = h.queued("new-view").filter { $0.from == 1 && $0.to == 3 }
        #expect(answers.count == 1, "the restarted primary did not answer")
        h.deliverAll()
        #expect(!h.replica(3).isViewChanging && h.replica(3).view == 1)
        // The codec carries it.
        let decoded = try DurableState(canonicalBytes: h.durable[1].canonicalBytes)
        #expect(decoded == h.durable[1] && decoded.newView == nv)
        // A state written by version 1 (no new-view field) still decodes, with none.
        var old = h.durable[1]
        old.newView = nil
        var v1 = old.canonicalBytes
        #expect(v1.first == 2 && v1.last == 0)
        v1[0] = 1
        v1.removeLast()
        #expect(try DurableState(canonicalBytes: v1) == old)
    }

    @Test("TOCS 2002 §4.5: a restarted replica re-sends its own prepare and commit for the height it was in")
    func restartedReplicaResendsVotes() {
        var h = Harness()
        // Block A prepared at 1–3 in view 0, every commit lost, the primary down: the three
        // commits of 1–3 are all needed.
        _ = ViewChangeTests.preparedThenPrimaryCrash(&h)
        h.crash(3)
        h.restart(3)
        // Within the retransmission interval, well before any timer expires.
        for _ in 0..<Int(h.parameters.requestTimeoutTicks) - 2 {
            h.tickAll()
            h.deliverAll()
        }
        #expect(h.heights == [0, 1, 1, 1], "replica 3's commit never came back after its restart")
        #expect((1...3).allSatisfy { h.replica($0).view == 0 && h.replica($0).stats.viewChangesStarted == 0 })
        #expect(h.committed[1].first?.1.view == 0)
    }

    func viewChange(to newView: UInt64, by i: Int, _ h: Harness) -> ViewChange {
        let body = ViewChange.signingBody(newView: newView, validatorIndex: UInt16(i), highestCommit: nil, prepared: nil)
        return ViewChange(newView: newView, validatorIndex: UInt16(i), highestCommit: nil, prepared: nil,
                          signature: h.crypto(i).sign(.viewChange, body), preparedBlock: nil)
    }

    @Test("§4.5.2: a view-change for a view far beyond the window is not kept and does not run the view-change timer")
    func farFutureViewChangeIsBounded() {
        var h = Harness()
        // 0 and 1 are down: 2 and 3 move to view 1 but are only two, short of a quorum, so
        // their timers stay stopped (a cut-off replica does not race through views).
        h.crash(0)
        h.crash(1)
        h.tickAll(Int(h.parameters.requestTimeoutTicks))
        h.deliverAll()
        #expect(h.replica(3).isViewChanging && h.replica(3).view == 1)
        // Byzantine validator 0 claims view 2^60.
        h.input(3, .message(.viewChange(viewChange(to: 1 << 60, by: 0, h)), from: 0))
        #expect(h.replica(3).viewChangeViews[0] == 0, "the far-future view-change was kept")
        for _ in 0..<4 * Int(h.parameters.maxViewChangeTimeoutTicks) {
            h.tickAll()
            h.deliverAll()
        }
        #expect(h.replica(3).view == 1, "the byzantine view-change counted toward the timer's quorum")
        // Inside the window a view-change still counts, as §4.5.2 wants.
        let window = ReplicaLimits().viewChangeWindowViews
        h.input(3, .message(.viewChange(viewChange(to: 1 + window, by: 0, h)), from: 0))
        #expect(h.replica(3).viewChangeViews[0] == 1 + window)
    }

    @Test("§4.4: the request timer runs per transaction — a primary that keeps committing blocks but leaves one out is changed")
    func censoringPrimaryIsViewChanged() {
        var h = Harness()
        // The backups have held transaction X longest; the primary's blocks never carry it.
        let x = SHA256.hash(utf8: "censored transaction")
        for i in 1...3 { h.oldestPending[i] = x }
        let rounds = 3 * Int(h.parameters.requestTimeoutTicks)
        for _ in 0..<rounds {
            h.tickAll()
            h.deliverAll()
        }
        #expect(h.heights[1] > 0, "the primary committed blocks")
        #expect((1...3).allSatisfy { h.replica($0).view >= 1 }, "the censoring primary stayed in office")
    }

    @Test("§4.4: the request timer restarts when the awaited transaction commits — a working primary is not changed")
    func requestTimerRestartsOnProgress() {
        var h = Harness()
        for round in 0..<5 * Int(h.parameters.requestTimeoutTicks) {
            // Each block takes the oldest transaction; the next one becomes the oldest.
            for i in 0..<4 { h.oldestPending[i] = SHA256.hash(utf8: "tx \(round)") }
            h.tickAll()
            h.deliverAll()
        }
        #expect((0...3).allSatisfy { h.replica($0).view == 0 && h.replica($0).stats.viewChangesStarted == 0 })
        #expect(h.heights[0] >= 40)
    }
}
