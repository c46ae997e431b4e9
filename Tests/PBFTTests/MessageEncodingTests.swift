import ChainTypes
import PBFT
import Simulator
import Testing

@Suite("PBFT messages: canonical encoding")
struct MessageEncodingTests {
    static func messages() -> [ConsensusMessage] {
        var h = Harness()
        h.tickAll()
        h.deliverAll { $0.message.kind != "commit" }
        let prepared = h.replica(1).durable
        let pp = prepared.accepted!
        let cert = CommitCertificate(votes: (0..<3).map { h.vote(.commit, view: 0, height: 1, hash: pp.blockHash, by: $0) })
        let vcBody = ViewChange.signingBody(newView: 1, validatorIndex: 1, highestCommit: cert, prepared: prepared.prepared)
        let vc = ViewChange(newView: 1, validatorIndex: 1, highestCommit: cert, prepared: prepared.prepared,
                            signature: h.crypto(1).sign(.viewChange, vcBody), preparedBlock: prepared.preparedBlock)
        let nvBody = NewView.signingBody(view: 1, primaryIndex: 1, viewChanges: [vc.summary], reproposal: pp)
        let nv = NewView(view: 1, primaryIndex: 1, viewChanges: [vc], reproposal: pp, signature: h.crypto(1).sign(.newView, nvBody))
        let cpBody = Checkpoint.signingBody(height: 4, blockHash: pp.blockHash, validatorIndex: 2)
        return [.prePrepare(pp), .vote(h.vote(.prepare, view: 0, height: 1, hash: pp.blockHash, by: 2)),
                .checkpoint(Checkpoint(height: 4, blockHash: pp.blockHash, validatorIndex: 2, signature: h.crypto(2).sign(.checkpoint, cpBody))),
                .viewChange(vc), .newView(nv), .newViewRequest(NewViewRequest(view: 9))]
    }

    @Test("every consensus message round-trips: decode(encode(m)) == m and encode(decode(x)) == x")
    func roundTrip() throws {
        for m in Self.messages() {
            let bytes = m.canonicalBytes
            let back = try ConsensusMessage(canonicalBytes: bytes)
            #expect(back == m, "\(m.kind)")
            #expect(back.canonicalBytes == bytes)
            // Every strict prefix is refused.
            for cut in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 50)) {
                #expect(throws: DecodeError.self) { _ = try ConsensusMessage(canonicalBytes: Array(bytes[..<cut])) }
            }
        }
    }

    @Test("a new-view's view-change summaries carry no blocks; a decoder refuses one that does")
    func newViewSummariesCarryNoBlocks() throws {
        guard case .newView(let nv) = Self.messages()[4], case .viewChange(let vc) = Self.messages()[3] else {
            Issue.record("fixture changed")
            return
        }
        #expect(nv.viewChanges.allSatisfy { $0.preparedBlock == nil })
        var w = CanonicalWriter()
        w.header(.newView, version: 1)
        w.uvarint(nv.view)
        w.uvarint(UInt64(nv.primaryIndex))
        w.list([vc]) // with its block attached
        w.optional(nv.reproposal) { $0.value($1) }
        w.signature(nv.signature)
        #expect(throws: DecodeError.self) { _ = try ConsensusMessage(canonicalBytes: w.bytes) }
    }

    @Test("an unknown message type is refused with the byte that names it")
    func unknownType() {
        do {
            _ = try ConsensusMessage(canonicalBytes: [0x7f, 1])
            Issue.record("accepted")
        } catch {
            #expect(error.reason == .unknownTag(0x7f))
            #expect(error.offset == 0)
        }
    }
}
