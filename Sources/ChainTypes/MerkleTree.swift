/// A binary Merkle tree over an ordered list of leaf hashes, shaped as in RFC 6962 §2.1:
/// leaves hash as `SHA-256(0x00 ‖ leaf)`, inner nodes as `SHA-256(0x01 ‖ left ‖ right)`, and a
/// list of n > 1 items splits at the largest power of two below n. The empty list's root is
/// SHA-256 of no bytes. The prefixes stop a leaf from posing as an inner node.
public enum MerkleTree {
    public static func root(leaves: [Hash]) -> Hash {
        if leaves.isEmpty { return SHA256.hash([UInt8]()) }
        return subtreeRoot(leaves.map(leafHash)[...])
    }

    public static func leafHash(_ leaf: Hash) -> Hash { SHA256.hash(tag: 0x00, leaf) }

    public static func nodeHash(_ left: Hash, _ right: Hash) -> Hash { SHA256.hash(tag: 0x01, left, right) }

    private static func subtreeRoot(_ nodes: ArraySlice<Hash>) -> Hash {
        if nodes.count == 1 { return nodes.first! }
        var split = 1
        while split << 1 < nodes.count { split <<= 1 }
        let mid = nodes.startIndex + split
        return nodeHash(subtreeRoot(nodes[..<mid]), subtreeRoot(nodes[mid...]))
    }
}

extension MerkleTree {
    /// The audit path of item `index` among `leaves` (RFC 6962 §2.1.1): the sibling subtree
    /// roots from the leaf up, proving the item is in the tree of that root and size.
    public static func auditPath(index: Int, leaves: [Hash]) -> [Hash] {
        precondition(index >= 0 && index < leaves.count, "index outside the leaves")
        return path(index, leaves.map(leafHash)[...])
    }

    private static func path(_ m: Int, _ nodes: ArraySlice<Hash>) -> [Hash] {
        guard nodes.count > 1 else { return [] }
        var k = 1
        while k << 1 < nodes.count { k <<= 1 }
        let mid = nodes.startIndex + k
        if m < k { return path(m, nodes[..<mid]) + [subtreeRoot(nodes[mid...])] }
        return path(m - k, nodes[mid...]) + [subtreeRoot(nodes[..<mid])]
    }

    /// Whether `leaf` is item `index` of a tree of `size` items with root `root`, given its
    /// audit path (the verification algorithm of RFC 9162 §2.1.3.2).
    public static func verify(leaf: Hash, index: Int, size: Int, path: [Hash], root: Hash) -> Bool {
        guard index >= 0, index < size else { return false }
        var fn = index, sn = size - 1
        var r = leafHash(leaf)
        for p in path {
            guard sn != 0 else { return false }
            if fn & 1 == 1 || fn == sn {
                r = nodeHash(p, r)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 { fn >>= 1; sn >>= 1 }
                }
            } else {
                r = nodeHash(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && r == root
    }
}
