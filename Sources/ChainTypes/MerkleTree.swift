/// A binary Merkle tree over an ordered list of leaf hashes, shaped as in RFC 6962 §2.1:
/// leaves hash as `SHA-256(0x00 ‖ leaf)`, inner nodes as `SHA-256(0x01 ‖ left ‖ right)`, and a
/// list of n > 1 items splits at the largest power of two below n. The empty list's root is
/// SHA-256 of no bytes. The prefixes stop a leaf from posing as an inner node.
public enum MerkleTree {
    public static func root(leaves: [Hash]) -> Hash {
        if leaves.isEmpty { return SHA256.hash([UInt8]()) }
        return subtreeRoot(leaves.map(leafHash)[...])
    }

    public static func leafHash(_ leaf: Hash) -> Hash {
        var raw: [UInt8] = [0x00]
        raw.reserveCapacity(33)
        leaf.appendBytes(to: &raw)
        return SHA256.hash(raw)
    }

    public static func nodeHash(_ left: Hash, _ right: Hash) -> Hash {
        var raw: [UInt8] = [0x01]
        raw.reserveCapacity(65)
        left.appendBytes(to: &raw)
        right.appendBytes(to: &raw)
        return SHA256.hash(raw)
    }

    private static func subtreeRoot(_ nodes: ArraySlice<Hash>) -> Hash {
        if nodes.count == 1 { return nodes.first! }
        var split = 1
        while split << 1 < nodes.count { split <<= 1 }
        let mid = nodes.startIndex + split
        return nodeHash(subtreeRoot(nodes[..<mid]), subtreeRoot(nodes[mid...]))
    }
}
