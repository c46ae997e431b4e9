import ChainTypes

/// The authenticated state commitment: a compressed sparse Merkle tree over 256-bit keys,
/// kept node by node in a `KeyValueStore` under a byte prefix.
///
/// Definitions (docs/PROTOCOL.md, state commitment):
/// - **key**: a 32-byte `Hash`; callers hash their state keys first. Bit i of a key is bit i
///   counting from the most significant bit of byte 0. At depth d a path turns on bit d:
///   bit 0 goes to the left child, bit 1 to the right child.
/// - **empty subtree hash** = `Hash.zero` (32 zero bytes).
/// - **leaf hash** = SHA-256(0x00 ‖ key(32) ‖ valueHash(32)).
/// - **internal node hash** = SHA-256(0x01 ‖ left(32) ‖ right(32)).
/// - **Compression**: a subtree holding exactly one leaf is represented by that leaf placed at
///   the subtree's root position, so random keys give depth ≈ log2 n rather than 256. A
///   subtree with no leaves is empty. An internal node exists exactly where its subtree holds
///   two or more leaves (it may have one empty child). The representation is a function of
///   the set of (key, valueHash) pairs alone, so the root does not depend on the order of
///   updates. Two keys that share their first 255 bits put their leaves at depth 256.
/// - **Node storage**: store key = prefix ‖ depth (1 byte) ‖ the first ⌈depth/8⌉ bytes of the
///   path with the bits beyond `depth` zeroed. Depth 256 (possible for leaves only) is written
///   as the byte 0; its 32 path bytes tell it from the root, whose path is empty.
///   Value: leaf = 0x00 ‖ key ‖ valueHash; internal = 0x01 ‖ leftHash ‖ rightHash, so a
///   node's hash is SHA-256 of its stored value. The node at depth 0 is the root; no root
///   means the empty tree.
///
/// Invariant (after each batch from `update` is applied): the prefix holds exactly the nodes
/// the definition places, nothing else. With n ≥ 2 leaves that is n leaf nodes, n − 1
/// branching internal nodes (both children non-empty), and one internal node with an empty
/// child for every level where all the leaves of a subtree take the same side (random keys
/// give about 0.44 n of these); with n = 1 only the root leaf; with n = 0 nothing.
///
/// The tree reads the store and never writes it: `update` appends its writes to a batch that
/// the caller applies with the rest of the block. Only one update may be pending at a time.
public struct SparseMerkleTree {
    /// Bits in a key, and so the deepest position a leaf can take.
    public static let keyBits = 256

    let store: any KeyValueStore
    let prefix: [UInt8]

    /// A tree stored under `prefix`. No other data may use keys that begin with `prefix`.
    public init(store: any KeyValueStore, prefix: [UInt8]) {
        self.store = store
        self.prefix = prefix
    }

    /// The current root as stored.
    public func root() throws(StoreError) -> Hash {
        try node(depth: 0, path: .zero)?.hash ?? .zero
    }

    /// Computes the root after `changes` (key → new value hash, or nil to delete) without
    /// writing to the store: node puts and deletes are appended to `batch`. Deleting an absent
    /// key and writing a value that is already there change nothing and add no operation.
    ///
    /// Cost: only the paths of the changed keys are read and rehashed — at most one store
    /// read and one hash per node on those paths, plus one read where a subtree collapses.
    public func update(_ changes: [Hash: Hash?], into batch: inout StoreBatch) throws(StoreError) -> Hash {
        let old = try node(depth: 0, path: .zero)
        let oldHash = old?.hash ?? .zero
        if changes.isEmpty { return oldHash }
        let sorted = changes.map { Change(key: $0.key, valueHash: $0.value) }.sorted { $0.key < $1.key }
        let outcome = try apply(sorted[...], depth: 0, old: old, batch: &batch)
        place(outcome, at: storeKey(depth: 0, path: []), oldHash: oldHash, batch: &batch)
        return outcome.hash
    }

    /// Siblings from the root down to where the search for `key` ends, and what is there.
    public func proof(for key: Hash) throws(StoreError) -> SparseMerkleProof {
        var siblings: [Hash] = []
        var depth = 0
        var current = try node(depth: 0, path: .zero)
        while case .branch(let left, let right)? = current {
            guard depth < Self.keyBits else { throw corrupt("an internal node at depth \(depth)") }
            let goRight = Self.bit(key, depth)
            siblings.append(goRight ? left : right)
            let child = goRight ? right : left
            depth += 1
            current = child == .zero ? nil : try requiredNode(depth: depth, path: key)
        }
        guard case .leaf(let leafKey, let valueHash)? = current else {
            return SparseMerkleProof(siblings: siblings, leaf: nil)
        }
        return SparseMerkleProof(siblings: siblings, leaf: .init(key: leafKey, valueHash: valueHash))
    }
}

// MARK: - Hashing and bits

extension SparseMerkleTree {
    /// SHA-256(0x00 ‖ key ‖ valueHash).
    public static func leafHash(key: Hash, valueHash: Hash) -> Hash {
        Node.leaf(key: key, valueHash: valueHash).hash
    }

    /// SHA-256(0x01 ‖ left ‖ right).
    public static func internalHash(left: Hash, right: Hash) -> Hash {
        Node.branch(left: left, right: right).hash
    }

    /// Bit `index` of `key`, counting from the most significant bit of byte 0; true = right.
    static func bit(_ key: Hash, _ index: Int) -> Bool {
        let word = switch index >> 6 {
        case 0: key.w0
        case 1: key.w1
        case 2: key.w2
        default: key.w3
        }
        return (word >> UInt64(63 - (index & 63))) & 1 == 1
    }
}

extension SparseMerkleTree {
    /// A stored node. Its encoding is the stored value, and its hash is SHA-256 of that encoding.
    enum Node: Equatable {
        case leaf(key: Hash, valueHash: Hash)
        case branch(left: Hash, right: Hash)

        static let encodedBytes = 65

        var encoded: [UInt8] {
            var raw: [UInt8] = []
            raw.reserveCapacity(Self.encodedBytes)
            switch self {
            case .leaf(let key, let valueHash):
                raw.append(0x00)
                key.appendBytes(to: &raw)
                valueHash.appendBytes(to: &raw)
            case .branch(let left, let right):
                raw.append(0x01)
                left.appendBytes(to: &raw)
                right.appendBytes(to: &raw)
            }
            return raw
        }

        var hash: Hash { SHA256.hash(encoded) }

        /// Nil unless `raw` is a well-formed stored value.
        init?(decoding raw: [UInt8]) {
            guard raw.count == Self.encodedBytes,
                  let a = Hash(bytes: raw[1..<33]), let b = Hash(bytes: raw[33..<65]) else { return nil }
            switch raw[0] {
            case 0x00: self = .leaf(key: a, valueHash: b)
            case 0x01: self = .branch(left: a, right: b)
            default: return nil
            }
        }
    }
}

// MARK: - Storage

extension SparseMerkleTree {
    /// prefix ‖ depth mod 256 ‖ the first ⌈depth/8⌉ bytes of `path`, bits beyond `depth` zeroed.
    /// `path` needs at least ⌈depth/8⌉ bytes.
    func storeKey(depth: Int, path: [UInt8]) -> [UInt8] {
        precondition((0...Self.keyBits).contains(depth), "depth \(depth) outside 0...256")
        let byteCount = (depth + 7) / 8
        var key = prefix
        key.reserveCapacity(prefix.count + 1 + byteCount)
        key.append(UInt8(truncatingIfNeeded: depth))
        key.append(contentsOf: path.prefix(byteCount))
        let spareBits = byteCount * 8 - depth
        if spareBits > 0 { key[key.count - 1] &= 0xff << UInt8(spareBits) }
        return key
    }

    /// The position at `depth` on the path of `path`.
    func storeKey(depth: Int, path: Hash) -> [UInt8] {
        storeKey(depth: depth, path: depth == 0 ? [] : path.bytes)
    }

    /// The child at depth `depth + 1` of the node at `depth` on the path of `path`, on `side`.
    func childKey(depth: Int, path: Hash, right: Bool) -> [UInt8] {
        var bytes = path.bytes
        let mask = UInt8(0x80) >> UInt8(depth & 7)
        if right { bytes[depth >> 3] |= mask } else { bytes[depth >> 3] &= ~mask }
        return storeKey(depth: depth + 1, path: bytes)
    }

    func node(depth: Int, path: Hash) throws(StoreError) -> Node? {
        try node(at: storeKey(depth: depth, path: path), depth: depth)
    }

    func node(at key: [UInt8], depth: Int) throws(StoreError) -> Node? {
        guard let raw = try store.get(key) else { return nil }
        guard let node = Node(decoding: raw) else { throw corrupt("a malformed node (\(raw.count) bytes) at depth \(depth)") }
        return node
    }

    /// A node its parent names with a non-zero hash: missing means a corrupt store.
    func requiredNode(depth: Int, path: Hash) throws(StoreError) -> Node {
        try requiredNode(at: storeKey(depth: depth, path: path), depth: depth)
    }

    func requiredNode(at key: [UInt8], depth: Int) throws(StoreError) -> Node {
        guard let node = try node(at: key, depth: depth) else {
            throw corrupt("no node at depth \(depth) although its parent names one")
        }
        return node
    }

    func corrupt(_ what: String) -> StoreError {
        StoreError(operation: "sparse Merkle tree read", message: "the tree under prefix \(Hex.encode(prefix)) holds \(what)")
    }
}

// MARK: - Update

extension SparseMerkleTree {
    /// One entry of an update: a new value hash, or nil to delete.
    struct Change {
        let key: Hash
        let valueHash: Hash?
    }

    /// A (key, valueHash) pair that will be in the subtree being built.
    struct Leaf {
        let key: Hash
        let valueHash: Hash
    }

    /// A subtree after the update, as its parent sees it.
    enum Outcome {
        case empty
        case leaf(key: Hash, valueHash: Hash, hash: Hash)
        case branch(left: Hash, right: Hash, hash: Hash)
        /// Not visited: the same non-empty subtree as before, its root not read.
        case unchanged(hash: Hash)

        var hash: Hash {
            switch self {
            case .empty: .zero
            case .leaf(_, _, let hash), .branch(_, _, let hash), .unchanged(let hash): hash
            }
        }
    }

    /// The subtree at `depth` that held `old` at its root, after `changes` — all of whose keys
    /// lie in it. Writes every position strictly below; the caller writes the subtree's root.
    func apply(_ changes: ArraySlice<Change>, depth: Int, old: Node?,
               batch: inout StoreBatch) throws(StoreError) -> Outcome {
        switch old {
        case nil:
            let inserts = changes.compactMap { c in c.valueHash.map { Leaf(key: c.key, valueHash: $0) } }
            return build(inserts[...], depth: depth, batch: &batch)
        case .leaf(let key, let valueHash)?:
            // Nothing is stored below a leaf: rebuild from the old leaf and the changes.
            let merged = Self.merge(Leaf(key: key, valueHash: valueHash), changes)
            return build(merged[...], depth: depth, batch: &batch)
        case .branch(let left, let right)?:
            guard depth < Self.keyBits else { throw corrupt("an internal node at depth \(depth)") }
            let path = changes.first!.key
            let mid = Self.firstRight(changes, depth: depth) { $0.key }
            var l = try applyChild(changes[..<mid], depth: depth + 1, oldHash: left, batch: &batch)
            var r = try applyChild(changes[mid...], depth: depth + 1, oldHash: right, batch: &batch)
            // The untouched side of an emptied side may be a lone leaf, which must move up.
            if case .empty = l, case .unchanged(let hash) = r {
                r = try resolve(hash, at: childKey(depth: depth, path: path, right: true), depth: depth + 1)
            }
            if case .empty = r, case .unchanged(let hash) = l {
                l = try resolve(hash, at: childKey(depth: depth, path: path, right: false), depth: depth + 1)
            }
            return join(l, r, depth: depth, path: path, oldLeft: left, oldRight: right, batch: &batch)
        }
    }

    func applyChild(_ changes: ArraySlice<Change>, depth: Int, oldHash: Hash,
                    batch: inout StoreBatch) throws(StoreError) -> Outcome {
        guard let first = changes.first else { return oldHash == .zero ? .empty : .unchanged(hash: oldHash) }
        let old = oldHash == .zero ? nil : try requiredNode(depth: depth, path: first.key)
        return try apply(changes, depth: depth, old: old, batch: &batch)
    }

    /// Reads an untouched subtree's root, whose hash the parent already holds.
    func resolve(_ hash: Hash, at key: [UInt8], depth: Int) throws(StoreError) -> Outcome {
        switch try requiredNode(at: key, depth: depth) {
        case .leaf(let k, let v): .leaf(key: k, valueHash: v, hash: hash)
        case .branch(let l, let r): .branch(left: l, right: r, hash: hash)
        }
    }

    /// The subtree at `depth` holding exactly `leaves` (sorted, distinct keys) where nothing
    /// was stored before.
    func build(_ leaves: ArraySlice<Leaf>, depth: Int, batch: inout StoreBatch) -> Outcome {
        guard let first = leaves.first else { return .empty }
        if leaves.count == 1 {
            return .leaf(key: first.key, valueHash: first.valueHash,
                         hash: Self.leafHash(key: first.key, valueHash: first.valueHash))
        }
        // Distinct keys differ in some bit below 256, so they split before depth 256.
        precondition(depth < Self.keyBits, "two leaves with the same key")
        let mid = Self.firstRight(leaves, depth: depth) { $0.key }
        let l = build(leaves[..<mid], depth: depth + 1, batch: &batch)
        let r = build(leaves[mid...], depth: depth + 1, batch: &batch)
        return join(l, r, depth: depth, path: first.key, oldLeft: .zero, oldRight: .zero, batch: &batch)
    }

    /// The subtree at `depth` from its two new children: empty, a lone leaf moving up, or an
    /// internal node. Writes the children's positions; `oldLeft`/`oldRight` are their old hashes.
    func join(_ l: Outcome, _ r: Outcome, depth: Int, path: Hash, oldLeft: Hash, oldRight: Hash,
              batch: inout StoreBatch) -> Outcome {
        let leftKey = childKey(depth: depth, path: path, right: false)
        let rightKey = childKey(depth: depth, path: path, right: true)
        switch (l, r) {
        case (.empty, .empty), (.empty, .leaf), (.leaf, .empty):
            // Collapse: fewer than two leaves, so nothing stays stored below this position.
            if oldLeft != .zero { batch.delete(leftKey) }
            if oldRight != .zero { batch.delete(rightKey) }
            if case .leaf = l { return l }
            return r
        default:
            place(l, at: leftKey, oldHash: oldLeft, batch: &batch)
            place(r, at: rightKey, oldHash: oldRight, batch: &batch)
            return .branch(left: l.hash, right: r.hash, hash: Self.internalHash(left: l.hash, right: r.hash))
        }
    }

    /// Writes `outcome` at `key`, where a node hashing to `oldHash` (zero: none) was stored.
    func place(_ outcome: Outcome, at key: [UInt8], oldHash: Hash, batch: inout StoreBatch) {
        switch outcome {
        case .unchanged:
            return
        case .empty:
            if oldHash != .zero { batch.delete(key) }
        case .leaf(let k, let v, let hash):
            if hash != oldHash { batch.put(key, Node.leaf(key: k, valueHash: v).encoded) }
        case .branch(let l, let r, let hash):
            if hash != oldHash { batch.put(key, Node.branch(left: l, right: r).encoded) }
        }
    }

    /// `changes` (sorted) applied to the one leaf `old`: the leaves that remain, sorted.
    static func merge(_ old: Leaf, _ changes: ArraySlice<Change>) -> [Leaf] {
        var leaves: [Leaf] = []
        leaves.reserveCapacity(changes.count + 1)
        var pending: Leaf? = old
        for change in changes {
            if let p = pending, p.key <= change.key {
                if p.key < change.key { leaves.append(p) }
                pending = nil
            }
            if let v = change.valueHash { leaves.append(Leaf(key: change.key, valueHash: v)) }
        }
        if let p = pending { leaves.append(p) }
        return leaves
    }

    /// In `items` sorted by key and sharing their first `depth` bits, the first whose bit
    /// `depth` is 1 (binary search).
    static func firstRight<T>(_ items: ArraySlice<T>, depth: Int, key: (T) -> Hash) -> Int {
        var low = items.startIndex, high = items.endIndex
        while low < high {
            let mid = low + (high - low) / 2
            if bit(key(items[mid]), depth) { high = mid } else { low = mid + 1 }
        }
        return low
    }
}
