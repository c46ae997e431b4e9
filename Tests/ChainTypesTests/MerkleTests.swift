import Testing
import ChainTypes
import HansaCrypto

/// The transactions and receipts roots: RFC 6962 §2.1 Merkle tree hashes over leaf hashes.
@Suite("MerkleTree")
struct MerkleTests {
    static func leaves(_ n: Int) -> [Hash] { (0..<n).map { Fixture.hash("leaf \($0)") } }

    /// RFC 6962: leaf = SHA-256(0x00 ‖ d), node = SHA-256(0x01 ‖ left ‖ right), written out by hand.
    static func leaf(_ d: Hash) -> Hash { SHA256.hash([0x00] + d.bytes) }
    static func node(_ l: Hash, _ r: Hash) -> Hash { SHA256.hash([0x01] + l.bytes + r.bytes) }

    /// RFC 6962 §2.1 MTH, written independently: split at the largest power of two k < n.
    static func reference(_ d: ArraySlice<Hash>) -> Hash {
        if d.isEmpty { return SHA256.hash([UInt8]()) }
        if d.count == 1 { return leaf(d.first!) }
        var k = 1
        while k * 2 < d.count { k *= 2 }
        return node(reference(d.prefix(k)), reference(d.dropFirst(k)))
    }

    @Test func emptyListIsTheHashOfNothing() {
        #expect(MerkleTree.root(leaves: []) == SHA256.hash([UInt8]()))
        #expect(MerkleTree.root(leaves: []).hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func oneLeafIsItsLeafHash() {
        let d = Fixture.hash("only")
        #expect(MerkleTree.root(leaves: [d]) == MerkleTree.leafHash(d))
        #expect(MerkleTree.leafHash(d) == Self.leaf(d))
        // The prefix byte: a leaf is never its own root.
        #expect(MerkleTree.root(leaves: [d]) != d)
    }

    @Test func nodeHashHasPrefixOne() {
        let (a, b) = (Fixture.hash("a"), Fixture.hash("b"))
        #expect(MerkleTree.nodeHash(a, b) == Self.node(a, b))
        #expect(MerkleTree.nodeHash(a, b) != MerkleTree.nodeHash(b, a))
    }

    @Test func twoLeaves() {
        let d = Self.leaves(2)
        #expect(MerkleTree.root(leaves: d) == Self.node(Self.leaf(d[0]), Self.leaf(d[1])))
    }

    /// n = 3 splits 2 + 1:  root = node(node(l0, l1), l2).
    @Test func threeLeaves() {
        let l = Self.leaves(3).map(Self.leaf)
        #expect(MerkleTree.root(leaves: Self.leaves(3)) == Self.node(Self.node(l[0], l[1]), l[2]))
    }

    /// n = 5 splits 4 + 1:  root = node(node(node(l0, l1), node(l2, l3)), l4).
    @Test func fiveLeaves() {
        let l = Self.leaves(5).map(Self.leaf)
        let left = Self.node(Self.node(l[0], l[1]), Self.node(l[2], l[3]))
        #expect(MerkleTree.root(leaves: Self.leaves(5)) == Self.node(left, l[4]))
    }

    /// n = 7 splits 4 + 3, and the 3 splits 2 + 1 (RFC 6962 §2.1.3 example tree).
    @Test func sevenLeaves() {
        let l = Self.leaves(7).map(Self.leaf)
        let left = Self.node(Self.node(l[0], l[1]), Self.node(l[2], l[3]))
        let right = Self.node(Self.node(l[4], l[5]), l[6])
        #expect(MerkleTree.root(leaves: Self.leaves(7)) == Self.node(left, right))
    }

    @Test("matches the reference definition", arguments: Array(0...33) + [64, 65, 100])
    func matchesReference(_ n: Int) {
        let d = Self.leaves(n)
        #expect(MerkleTree.root(leaves: d) == Self.reference(d[...]))
    }

    /// Bitcoin's duplicate-last-leaf ambiguity (CVE-2012-2459) does not arise: [a, b, c] and
    /// [a, b, c, c] have different roots, and so do reorderings.
    @Test func distinctListsHaveDistinctRoots() {
        let d = Self.leaves(3)
        #expect(MerkleTree.root(leaves: d) != MerkleTree.root(leaves: d + [d[2]]))
        #expect(MerkleTree.root(leaves: d) != MerkleTree.root(leaves: [d[1], d[0], d[2]]))
        // A two-leaf root is not accepted as a leaf of a one-leaf tree (second preimage).
        let inner = MerkleTree.nodeHash(MerkleTree.leafHash(d[0]), MerkleTree.leafHash(d[1]))
        #expect(MerkleTree.root(leaves: [inner]) != MerkleTree.root(leaves: [d[0], d[1]]))
    }

    @Test func blockTransactionsRootIsTheMerkleRootOfTransactionHashes() {
        let block = Fixture.block(transactionCount: 3)
        #expect(Block.transactionsRoot(block.transactions) == MerkleTree.root(leaves: block.transactions.map(\.hash)))
        #expect(block.header.transactionsRoot == Self.reference(block.transactions.map(\.hash)[...]))
        #expect(Block.transactionsRoot([]) == SHA256.hash([UInt8]()))
    }
}
