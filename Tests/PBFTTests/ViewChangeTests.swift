import ChainTypes
import PBFT
import Simulator
import Testing

/// Castro & Liskov 1999, §4.4 (view changes) and §4.5.2 (liveness).
@Suite("PBFT §4.4 view change")
struct ViewChangeTests {
    @Test("§4.4: backups whose timer expires move to view 1; its primary starts it and commits")
    func primaryCrash() {
        var h = Harness()
        h.crash(0)
        h.tickAll(Int(h.parameters.requestTimeoutTicks))
        #expect((1...3).allSatisfy { h.replica($0).isViewChanging && h.replica($0).view == 1 })
        h.deliverAll()
        #expect((1...3).allSatisfy { !h.replica($0).isViewChanging && h.replica($0).view == 1 })
        h.tickAll()
        h.deliverAll()
        #expect(h.heights[0] == 0 && h.heights[1] >= 1 && h.heights[2] == h.heights[1] && h.heights[3] == h.heights[1])
        #expect(h.committed[1][0].0.header.proposer == h.validators.validators[1].address)
    }

    /// No commit vote of view 0 is ever delivered.
    static func noViewZeroCommits(_ e: Harness.Envelope) -> Bool {
        if case .vote(let v) = e.message, v.phase == .commit, v.view == 0 { return false }
        return true
    }

    /// Stage: block A prepared at replicas 1–3 in view 0, no commit reaches anyone, primary crashes.
    static func preparedThenPrimaryCrash(_ h: inout Harness) -> Block {
        h.tickAll()
        h.deliverAll(where: noViewZeroCommits)
        h.queue.removeAll { $0.message.kind == "commit" }
        #expect(h.heights == [0, 0, 0, 0])
        let a = h.replica(1).durable.preparedBlock!
        h.crash(0)
        return a
    }

    @Test("§4.4: a block prepared in the old view is re-proposed in the new view, never replaced")
    func reproposal() {
        var h = Harness()
        let a = Self.preparedThenPrimaryCrash(&h)
        for _ in 0..<Int(h.parameters.requestTimeoutTicks) {
            h.tickAll()
            h.deliverAll(where: Self.noViewZeroCommits)
        }
        #expect(h.replica(1).lastNewView?.reproposal?.blockHash == a.hash)
        #expect(h.heights[0] == 0 && h.heights[1] >= 1)
        for i in 1...3 { #expect(h.committed[i][0].0.hash == a.hash) }
        #expect(h.committed[1][0].1.view == 1)
    }

    @Test("§4.4: replicas refuse a new-view that does not re-propose the highest prepared block")
    func newViewWithoutReproposalIsRefused() {
        var h = Harness()
        _ = Self.preparedThenPrimaryCrash(&h)
        // Replica 1, the next primary, is byzantine on the wire: every new-view it sends is
        // replaced by one over the same view-changes that leaves out their prepared block.
        var forged = 0
        for _ in 0..<Int(h.parameters.requestTimeoutTicks) {
            h.tickAll()
            while !h.queue.isEmpty {
                var e = h.queue.removeFirst()
                guard Self.noViewZeroCommits(e), h.replicas[e.to] != nil else { continue }
                if e.from == 1, case .newView(let nv) = e.message, nv.reproposal != nil {
                    let body = NewView.signingBody(view: nv.view, primaryIndex: 1, viewChanges: nv.viewChanges, reproposal: nil)
                    e = Harness.Envelope(from: 1, to: e.to, message: .newView(
                        NewView(view: nv.view, primaryIndex: 1, viewChanges: nv.viewChanges, reproposal: nil,
                                signature: h.crypto(1).sign(.newView, body))))
                    forged += 1
                }
                h.input(e.to, .message(e.message, from: e.from))
            }
        }
        #expect(forged >= 2, "the new primary's new-view was not intercepted")
        #expect(h.replica(2).isViewChanging && h.replica(3).isViewChanging, "an honest replica installed a bad new view")
        #expect(h.replica(2).stats.invalidSignatures >= 1)
        #expect(h.heights[2] == 0 && h.heights[3] == 0)
    }

    @Test("§4.5.2: f + 1 view-changes for later views make a replica join the smallest of them")
    func joinRule() {
        var h = Harness()
        for i in [1, 2] {
            let body = ViewChange.signingBody(newView: 5 + UInt64(i), validatorIndex: UInt16(i), highestCommit: nil, prepared: nil)
            let vc = ViewChange(newView: 5 + UInt64(i), validatorIndex: UInt16(i), highestCommit: nil, prepared: nil,
                                signature: h.crypto(i).sign(.viewChange, body), preparedBlock: nil)
            h.input(3, .message(.viewChange(vc), from: i))
            if i == 1 { #expect(!h.replica(3).isViewChanging, "one replica (possibly faulty) is not enough") }
        }
        #expect(h.replica(3).isViewChanging)
        #expect(h.replica(3).view == 6)
    }

    @Test("§4.4: the view-change timeout doubles per failed view and stops at max_view_change_timeout_ticks")
    func boundedBackoff() {
        var p = Harness.defaultParameters
        p.requestTimeoutTicks = 10
        p.maxViewChangeTimeoutTicks = 15
        var h = Harness(n: 7, parameters: p)
        // The primaries of views 0 and 1 are down; f = 2, the other five make a quorum (q = 5).
        for i in [0, 1] { h.crash(i) }
        var timeouts: [UInt64: UInt64] = [:]
        for _ in 0..<200 {
            h.tickAll()
            if h.replica(3).isViewChanging { timeouts[h.replica(3).view] = h.replica(3).timeoutTicks }
            h.deliverAll()
            if !h.replica(3).isViewChanging && h.replica(3).view == 2 { break }
        }
        #expect(h.replica(3).view == 2 && !h.replica(3).isViewChanging)
        #expect(timeouts[1] == 10)
        #expect(timeouts[2] == 15, "doubling (20) is capped at 15")
        h.tickAll()
        h.deliverAll()
        #expect(h.heights[3] >= 1)
        #expect(h.replica(3).timeoutTicks == 10, "a commit resets the timeout")
    }

    @Test("A replica that missed a new-view asks for it and joins the view")
    func catchUpOnView() {
        var h = Harness()
        h.crash(0)
        h.tickAll(Int(h.parameters.requestTimeoutTicks))
        // Replica 3 hears nothing of the view change.
        h.deliverAll { $0.to != 3 }
        #expect(h.replica(1).view == 1 && !h.replica(1).isViewChanging)
        // Messages of view 1 (retransmitted while the height is stuck) reach it; it asks for
        // the new-view, installs it and takes part.
        for _ in 0..<10 {
            h.tickAll()
            h.deliverAll()
        }
        #expect(h.replica(3).view >= 1)
        #expect(!h.replica(3).isViewChanging)
        #expect(h.replica(3).stats.newViewsInstalled >= 1)
        #expect(h.heights[3] >= 1)
    }
}
