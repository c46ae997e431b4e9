import ChainTypes
import Ledger
import Testing

@Suite("Merkle audit paths (transactions and receipts roots)")
struct InclusionProofTests {
    @Test("every item of trees of 1…40 items verifies; a wrong index, item, path or root does not", arguments: [1, 2, 3, 5, 8, 13, 40])
    func auditPaths(_ n: Int) {
        let leaves = (0..<n).map { SHA256.hash(utf8: "item \($0)") }
        let root = MerkleTree.root(leaves: leaves)
        for i in 0..<n {
            let path = MerkleTree.auditPath(index: i, leaves: leaves)
            #expect(MerkleTree.verify(leaf: leaves[i], index: i, size: n, path: path, root: root))
            #expect(!MerkleTree.verify(leaf: SHA256.hash(utf8: "other"), index: i, size: n, path: path, root: root))
            #expect(!MerkleTree.verify(leaf: leaves[i], index: i, size: n, path: path, root: SHA256.hash(utf8: "root")))
            if n > 1 {
                #expect(!MerkleTree.verify(leaf: leaves[i], index: (i + 1) % n, size: n, path: path, root: root))
                var tampered = path
                tampered[0] = SHA256.hash(utf8: "tampered")
                #expect(!MerkleTree.verify(leaf: leaves[i], index: i, size: n, path: tampered, root: root))
            }
        }
    }

    @Test("a committed transaction and its receipt are proven against the block header")
    func ledgerProof() throws {
        let f = try Fixture()
        let txs = try (0..<5).map { try f.transfer(f.user($0), to: f.address(f.user(5)), 1) }
        try f.commit(txs)
        let header = try #require(try f.ledger.block(at: 1)).header
        let receipts = try #require(try f.ledger.receipts(at: 1))
        for (i, tx) in txs.enumerated() {
            let p = try #require(try f.ledger.inclusionProof(of: tx.hash))
            #expect(p.index == i && p.size == 5 && p.receiptIndex == i && p.receiptCount == 5)
            #expect(MerkleTree.verify(leaf: tx.hash, index: p.index, size: p.size, path: p.transactionPath, root: header.transactionsRoot))
            #expect(MerkleTree.verify(leaf: receipts[i].hash, index: p.receiptIndex, size: p.receiptCount, path: p.receiptPath,
                                      root: header.receiptsRoot))
        }
    }
}
