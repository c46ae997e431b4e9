import ChainTypes
import PBFT
import Simulator
import Testing

/// Castro & Liskov 1999, §4.3 (checkpoints, watermarks, garbage collection) and state transfer.
@Suite("PBFT §4.3 checkpoints and sync")
struct CheckpointAndSyncTests {
    static func run(_ h: inout Harness, heights: Int, where keep: (Harness.Envelope) -> Bool = { _ in true }) {
        for _ in 0..<heights {
            h.tickAll()
            h.deliverAll(where: keep)
        }
    }

    @Test("§4.3: every checkpoint_interval heights a checkpoint is sent; a quorum makes it stable")
    func stableCheckpoint() {
        var h = Harness()
        Self.run(&h, heights: 4)
        #expect(h.heights == [4, 4, 4, 4])
        for i in 0..<4 { #expect(h.replica(i).stableCheckpoint == 4) }
    }

    @Test("§4.3: a replica that learns of a stable checkpoint above its tip asks to sync")
    func laggingReplicaSyncs() throws {
        var h = Harness()
        // Replica 3 hears nothing but checkpoints.
        Self.run(&h, heights: 8) { $0.to != 3 || $0.message.kind == "checkpoint" }
        #expect(h.heights[3] == 0)
        #expect(h.syncRequests.contains { $0.node == 3 && $0.to >= 4 })
        // The shell fetches the committed blocks; each needs only its certificate.
        let source = h.committed[0]
        for (block, cert) in source { h.input(3, .synced(block, cert)) }
        #expect(h.heights[3] == 8)
        #expect(h.committed[3].map(\.0.hash) == h.committed[0].map(\.0.hash))
    }

    @Test("Sync refuses a block without a valid certificate or off the chain")
    func syncValidation() {
        var h = Harness()
        Self.run(&h, heights: 2)
        let (b1, c1) = h.committed[0][0]
        let (b2, c2) = h.committed[0][1]
        var fresh = Harness()
        // Wrong order: height 2 before 1.
        fresh.input(0, .synced(b2, c2))
        // A certificate with too few signers.
        var thin = c1
        thin.signers = Array(thin.signers.prefix(2))
        fresh.input(0, .synced(b1, thin))
        // A certificate for another block.
        fresh.input(0, .synced(b1, c2))
        // Transactions that do not match the header's root.
        var tampered = b1
        let client = try! PrivateKey(secret: SHA256.hash(utf8: "client").bytes)
        tampered.transactions = [TransactionBody(chain: Harness.chain, sender: client.publicKey, nonce: 0,
                                                 kind: .transfer, payload: [], gasLimit: 0).signed(with: client)]
        fresh.input(0, .synced(tampered, c1))
        #expect(fresh.heights[0] == 0)
        #expect(fresh.replica(0).stats.dropped == 4)
        fresh.input(0, .synced(b1, c1))
        fresh.input(0, .synced(b2, c2))
        #expect(fresh.heights[0] == 2)
    }

    @Test("A valid commit certificate ahead of the tip triggers sync")
    func certificateAheadTriggersSync() {
        var h = Harness()
        let hash = SHA256.hash(utf8: "far block")
        for i in 0..<3 { h.input(3, .message(.vote(h.vote(.commit, view: 0, height: 9, hash: hash, by: i)), from: i)) }
        #expect(h.syncRequests.contains { $0.node == 3 && $0.to == 9 })
    }

    @Test("Every buffer is bounded: a flood of far-ahead votes, future views and checkpoints costs O(n × window)")
    func floodIsBounded() {
        var h = Harness()
        for k in 0..<5_000 {
            let height = UInt64(1 + k % 40)
            let v = h.vote(k % 2 == 0 ? .prepare : .commit, view: UInt64(k % 7), height: height, hash: SHA256.hash(utf8: "h\(k)"), by: 3)
            h.input(0, .message(.vote(v), from: 3))
        }
        for view in 1...300 as ClosedRange<UInt64> {
            let body = ViewChange.signingBody(newView: view * 1000, validatorIndex: 3, highestCommit: nil, prepared: nil)
            h.input(0, .message(.viewChange(ViewChange(newView: view * 1000, validatorIndex: 3, highestCommit: nil, prepared: nil,
                                                       signature: h.crypto(3).sign(.viewChange, body), preparedBlock: nil)), from: 3))
            h.input(0, .message(.newViewRequest(NewViewRequest(view: view)), from: 3))
        }
        let window = Int(h.parameters.watermarkWindow)
        #expect(h.replica(0).bufferedMessageCount <= 2 * window + 4 + 4 + 4)
        #expect(h.queue.count < 50, "new-view requests are answered at most once per interval")
    }
}
