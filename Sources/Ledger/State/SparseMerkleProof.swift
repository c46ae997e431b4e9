import ChainTypes

/// Evidence that a key holds a value hash, or is absent, under a `SparseMerkleTree` root.
///
/// It holds the sibling hashes on the key's path from the root down to the position where
/// the search for the key ended (`siblings[i]` is the other child of the node at depth i), and
/// what was found there: nothing (an empty subtree), or a leaf — the key itself, or another
/// key whose leaf stands alone in the subtree the key would belong to, proving it absent.
///
/// Encoding (no type tag; the enclosing message names it):
/// version 1 (1 byte) ‖ sibling count n (uvarint, ≤ 256) ‖ bitmap of ⌈n/8⌉ bytes, bit i set
/// when sibling i is not `Hash.zero` (bit i counted from the most significant bit of byte 0,
/// the bits after n zero) ‖ the non-zero siblings in order, 32 bytes each ‖ leaf: 0x00, or
/// 0x01 ‖ key(32) ‖ valueHash(32).
///
/// Invariant: `siblings.count <= maxSiblings`.
public struct SparseMerkleProof: Hashable, Sendable {
    /// A leaf found at the end of the search.
    public struct Leaf: Hashable, Sendable {
        public let key: Hash
        public let valueHash: Hash

        public init(key: Hash, valueHash: Hash) {
            self.key = key
            self.valueHash = valueHash
        }
    }

    /// One sibling per level of a path: keys have 256 bits, so no path is longer.
    public static let maxSiblings = SparseMerkleTree.keyBits
    public static let version: UInt8 = 1

    public let siblings: [Hash]
    public let leaf: Leaf?

    public init(siblings: [Hash], leaf: Leaf?) {
        precondition(siblings.count <= Self.maxSiblings, "a proof of \(siblings.count) siblings")
        self.siblings = siblings
        self.leaf = leaf
    }

    /// True when this proof shows that, under `root`, `key` holds `valueHash`
    /// (or, for nil, that `key` is absent).
    public func verify(root: Hash, key: Hash, valueHash: Hash?) -> Bool {
        switch (leaf, valueHash) {
        case (nil, nil):
            break  // The key's subtree is empty.
        case (nil, _?):
            return false
        case (let found?, let expected?):
            guard found.key == key, found.valueHash == expected else { return false }
        case (let found?, nil):
            // A lone leaf of another key in the subtree where `key` would be.
            guard found.key != key, Self.sharedBits(found.key, key) >= siblings.count else { return false }
        }
        var hash = leaf.map { SparseMerkleTree.leafHash(key: $0.key, valueHash: $0.valueHash) } ?? .zero
        for depth in siblings.indices.reversed() {
            let sibling = siblings[depth]
            hash = SparseMerkleTree.bit(key, depth)
                ? SparseMerkleTree.internalHash(left: sibling, right: hash)
                : SparseMerkleTree.internalHash(left: hash, right: sibling)
        }
        return hash == root
    }

    /// How many leading bits `a` and `b` have in common.
    static func sharedBits(_ a: Hash, _ b: Hash) -> Int {
        let pairs = [(a.w0, b.w0), (a.w1, b.w1), (a.w2, b.w2), (a.w3, b.w3)]
        var count = 0
        for (x, y) in pairs {
            let common = (x ^ y).leadingZeroBitCount
            count += common
            if common < 64 { break }
        }
        return count
    }
}

extension SparseMerkleProof: CanonicalCodable {
    public func encode(to writer: inout CanonicalWriter) {
        writer.byte(Self.version)
        writer.uvarint(siblings.count)
        var bitmap = [UInt8](repeating: 0, count: (siblings.count + 7) / 8)
        for (i, sibling) in siblings.enumerated() where sibling != .zero {
            bitmap[i >> 3] |= 0x80 >> UInt8(i & 7)
        }
        writer.fixed(bitmap)
        for sibling in siblings where sibling != .zero { writer.hash(sibling) }
        writer.optional(leaf) { w, leaf in
            w.hash(leaf.key)
            w.hash(leaf.valueHash)
        }
    }

    public init(from reader: inout CanonicalReader) throws(DecodeError) {
        try reader.version(Self.version)
        let count = try reader.count("siblingCount", limit: Self.maxSiblings)
        let bitmapStart = reader.offset
        let bitmap = try reader.fixed("bitmap", count: (count + 7) / 8)
        if count % 8 != 0, bitmap[bitmap.count - 1] & (0xff >> UInt8(count % 8)) != 0 {
            throw reader.error("bitmap", .invalidValue("bits beyond the sibling count are set"), at: bitmapStart)
        }
        var siblings: [Hash] = []
        siblings.reserveCapacity(count)
        for i in 0..<count {
            guard bitmap[i >> 3] & (0x80 >> UInt8(i & 7)) != 0 else {
                siblings.append(.zero)
                continue
            }
            let hashStart = reader.offset
            let sibling = try reader.hash("siblings[\(i)]")
            // An empty sibling has one form: a clear bit.
            guard sibling != .zero else {
                throw reader.error("siblings[\(i)]", .invalidValue("an empty sibling is marked non-empty"), at: hashStart)
            }
            siblings.append(sibling)
        }
        let leaf = try reader.optional("leaf") { (r: inout CanonicalReader) throws(DecodeError) -> Leaf in
            Leaf(key: try r.hash("leaf.key"), valueHash: try r.hash("leaf.valueHash"))
        }
        self.init(siblings: siblings, leaf: leaf)
    }
}
