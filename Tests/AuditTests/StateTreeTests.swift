import Audit
import ChainTypes
import HansaCrypto
import HansaTestSupport
import Ledger
import Testing

/// The auditor's tree, written from PROTOCOL.md §15, agrees with the node's paged tree on
/// roots, and the pages it derives are exactly the ones the node stores (docs/LEDGER.md).
@Suite struct StateTreeTests {
    @Test(arguments: [1, 2, 3, 17, 300])
    func rootsAndPagesAgreeWithTheNodesTree(keys: Int) throws {
        var rng = SplitMix64(seed: UInt64(keys))
        let store = MemoryStore()
        let node = SparseMerkleTree(store: store, prefix: Array("n/".utf8))
        let audit = StateTree()
        var present: [Hash] = []
        for round in 0..<6 {
            var changes: [Hash: Hash?] = [:]
            for _ in 0..<keys {
                let key = SHA256.hash((0..<8).map { _ in UInt8.random(in: 0...255, using: &rng) })
                changes[key] = SHA256.hash(key.bytes + [UInt8(round)])
            }
            // Deletes and updates of keys already there (every other round).
            if round % 2 == 1 {
                for key in present.shuffled(using: &rng).prefix(keys / 2 + 1) { changes[key] = .some(nil) }
                for key in present.shuffled(using: &rng).prefix(keys / 3) where changes[key] == nil { changes[key] = SHA256.hash(key.bytes) }
            }
            var batch = StoreBatch()
            let want = try node.update(changes, into: &batch)
            try store.write(batch, sync: false)
            #expect(audit.update(changes) == want, "round \(round)")
            for (k, v) in changes { if v == nil { present.removeAll { $0 == k } } else if !present.contains(k) { present.append(k) } }
            var pages: [[UInt8]: [UInt8]] = [:]
            audit.expectedPages { pages[Array("n/".utf8) + $0] = $1 }
            let stored = store.entries.filter { $0.key.starts(with: Array("n/".utf8)) }
            #expect(pages == stored, "round \(round): \(pages.count) derived pages, \(stored.count) stored")
            #expect(audit.count == present.count)
        }
    }

    @Test func emptyAndSingleLeaf() {
        let tree = StateTree()
        #expect(tree.rootHash == .zero)
        let key = SHA256.hash(utf8: "k"), value = SHA256.hash(utf8: "v")
        tree.update([key: value])
        #expect(tree.rootHash == SparseMerkleTree.leafHash(key: key, valueHash: value))
        let delete: [Hash: Hash?] = [key: nil]
        tree.update(delete)
        #expect(tree.rootHash == .zero)
    }
}
