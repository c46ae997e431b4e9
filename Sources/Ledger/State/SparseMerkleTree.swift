import ChainTypes

/// The authenticated state commitment: a compressed sparse Merkle tree over 256-bit keys,
/// stored in a `KeyValueStore` under a byte prefix as **pages** of four levels each.
///
/// The tree (what the root means — docs/PROTOCOL.md, state commitment):
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
///
/// The storage (how it is kept — docs/LEDGER.md, state-tree pages; not part of the root):
/// - A **page** at depth D (a multiple of 4, 0…252) on a path covers the binary levels D…D+3
///   below that position. It has 16 **slots**, one per value of the key's bits D…D+3 (its
///   nibble D/4), each naming the subtree at depth D+4 below it: **empty**; a **leaf**
///   (key, valueHash) when that subtree holds exactly one leaf; or a **child** (the subtree's
///   hash) when it holds two or more — that subtree is then the page at depth D+4. The binary
///   nodes inside a page are not stored: they are recomputed from the slots by the rules
///   above (a range of slots holding one leaf and nothing else is that leaf; one holding two
///   or more leaves is an internal node of its two halves).
/// - A page exists exactly where its subtree holds two or more leaves, and the root page
///   (depth 0) wherever the tree is not empty. So n random keys give about n/8 pages, and an
///   update rewrites about log16 n pages per changed key instead of log2 n binary nodes.
/// - Store key = prefix ‖ D (1 byte) ‖ the first ⌈D/8⌉ bytes of the path with the bits beyond
///   D zeroed. Value = 0x02 ‖ occupied(u16) ‖ leaves(u16) ‖ for each occupied slot in order:
///   key ‖ valueHash (leaf) or hash (child). Bit 15 − s of a bitmap (big-endian) is slot s;
///   `leaves` ⊆ `occupied`.
///
/// The tree reads the store and never writes it: `update` appends its writes to a batch that
/// the caller applies with the rest of the block. Only one update may be pending at a time.
public struct SparseMerkleTree {
    /// Bits in a key, and so the deepest position a leaf can take.
    public static let keyBits = 256
    /// Binary levels one stored page covers, and so the slots it has (2^4 = 16).
    public static let pageLevels = 4
    static let slotCount = 1 << pageLevels
    /// The deepest page: its slots are the subtrees at depth 256, one key each.
    static let deepestPage = keyBits - pageLevels

    let store: any KeyValueStore
    let prefix: [UInt8]

    /// A tree stored under `prefix`. No other data may use keys that begin with `prefix`.
    public init(store: any KeyValueStore, prefix: [UInt8]) {
        self.store = store
        self.prefix = prefix
    }

    /// The current root as stored.
    public func root() throws(StoreError) -> Hash {
        try page(at: pageKey(depth: 0, path: .zero), depth: 0)?.summary().hash ?? .zero
    }

    /// Computes the root after `changes` (key → new value hash, or nil to delete) without
    /// writing to the store: page puts and deletes are appended to `batch`. Deleting an absent
    /// key and writing a value that is already there change nothing and add no operation.
    ///
    /// Cost: only the pages on the changed keys' paths are read, rehashed and rewritten — one
    /// read and one write per page, at most 15 internal hashes in each.
    public func update(_ changes: [Hash: Hash?], into batch: inout StoreBatch) throws(StoreError) -> Hash {
        let rootKey = pageKey(depth: 0, path: .zero)
        let old = try page(at: rootKey, depth: 0)
        if changes.isEmpty { return old?.summary().hash ?? .zero }
        let sorted = changes.map { Change(key: $0.key, valueHash: $0.value) }.sorted { $0.key < $1.key }
        // The root page stays while the tree holds anything, even a single leaf.
        let new: Page?
        switch try updatePage(sorted[...], depth: 0, old: old, batch: &batch) {
        case .empty: new = nil
        case .leaf(let key, let valueHash): new = Page(lone: Leaf(key: key, valueHash: valueHash), depth: 0)
        case .page(let page, _): new = page
        }
        guard let new else {
            if old != nil { batch.delete(rootKey) }
            return .zero
        }
        if new != old { batch.put(rootKey, new.encoded) }
        return new.summary().hash
    }

    /// Siblings from the root down to where the search for `key` ends, and what is there.
    public func proof(for key: Hash) throws(StoreError) -> SparseMerkleProof {
        var siblings: [Hash] = []
        guard var page = try page(at: pageKey(depth: 0, path: .zero), depth: 0) else {
            return SparseMerkleProof(siblings: [], leaf: nil)
        }
        var depth = 0
        while true {
            let slot = Self.nibble(key, depth)
            var low = 0, count = Self.slotCount
            // Down the page's binary levels while the range is an internal node.
            while count > 1 {
                switch page.summary(low, count) {
                case .empty: return SparseMerkleProof(siblings: siblings, leaf: nil)
                case .leaf(let k, let v, _): return SparseMerkleProof(siblings: siblings, leaf: .init(key: k, valueHash: v))
                case .node: break
                }
                count /= 2
                let right = slot >= low + count
                siblings.append(page.summary(right ? low : low + count, count).hash)
                if right { low += count }
            }
            switch page.slots[slot] {
            case .empty: return SparseMerkleProof(siblings: siblings, leaf: nil)
            case .leaf(let k, let v): return SparseMerkleProof(siblings: siblings, leaf: .init(key: k, valueHash: v))
            case .child:
                depth += Self.pageLevels
                page = try requiredPage(at: pageKey(depth: depth, path: key), depth: depth)
            }
        }
    }
}

// MARK: - Hashing and bits

extension SparseMerkleTree {
    /// SHA-256(0x00 ‖ key ‖ valueHash).
    public static func leafHash(key: Hash, valueHash: Hash) -> Hash { SHA256.hash(tag: 0x00, key, valueHash) }

    /// SHA-256(0x01 ‖ left ‖ right).
    public static func internalHash(left: Hash, right: Hash) -> Hash { SHA256.hash(tag: 0x01, left, right) }

    /// Bit `index` of `key`, counting from the most significant bit of byte 0; true = right.
    static func bit(_ key: Hash, _ index: Int) -> Bool {
        (word(key, index >> 6) >> UInt64(63 - (index & 63))) & 1 == 1
    }

    /// Bits `depth`…`depth`+3 of `key` (depth a multiple of 4): the slot it takes in the page
    /// at `depth`.
    static func nibble(_ key: Hash, _ depth: Int) -> Int {
        Int((word(key, depth >> 6) >> UInt64(60 - (depth & 63))) & 0xf)
    }

    private static func word(_ key: Hash, _ index: Int) -> UInt64 {
        switch index {
        case 0: key.w0
        case 1: key.w1
        case 2: key.w2
        default: key.w3
        }
    }
}

// MARK: - Pages

extension SparseMerkleTree {
    /// A (key, valueHash) pair of the tree.
    struct Leaf: Equatable {
        let key: Hash
        let valueHash: Hash
    }

    /// One page: 16 slots, each the subtree four levels below the page's position.
    struct Page: Equatable {
        enum Slot: Equatable {
            case empty
            case leaf(key: Hash, valueHash: Hash)
            /// The subtree holds two or more leaves: the page one level of pages down.
            case child(Hash)
        }

        /// A binary subtree inside the page, as its parent sees it.
        enum Summary {
            case empty
            case leaf(key: Hash, valueHash: Hash, hash: Hash)
            case node(Hash)

            var hash: Hash {
                switch self {
                case .empty: .zero
                case .leaf(_, _, let hash), .node(let hash): hash
                }
            }
        }

        static let tag: UInt8 = 0x02
        var slots: [Slot]

        init(slots: [Slot]) { self.slots = slots }

        static var empty: Page { Page(slots: Array(repeating: .empty, count: slotCount)) }

        /// A page holding only `leaf` (the root page of a one-leaf tree).
        init(lone leaf: Leaf, depth: Int) {
            self = .empty
            slots[nibble(leaf.key, depth)] = .leaf(key: leaf.key, valueHash: leaf.valueHash)
        }

        /// The binary subtree over the whole page: the node at the page's position.
        func summary() -> Summary { summary(0, slotCount) }

        /// The binary subtree over slots `low ..< low + count` (count a power of two).
        func summary(_ low: Int, _ count: Int) -> Summary {
            if count == 1 {
                switch slots[low] {
                case .empty: return .empty
                case .leaf(let k, let v): return .leaf(key: k, valueHash: v, hash: SparseMerkleTree.leafHash(key: k, valueHash: v))
                case .child(let hash): return .node(hash)
                }
            }
            let half = count / 2
            let l = summary(low, half), r = summary(low + half, half)
            switch (l, r) {
            case (.empty, .empty): return .empty
            case (.leaf, .empty): return l
            case (.empty, .leaf): return r
            default: return .node(SparseMerkleTree.internalHash(left: l.hash, right: r.hash))
            }
        }

        var encoded: [UInt8] {
            var occupiedBits: UInt16 = 0, leafBits: UInt16 = 0
            var body: [UInt8] = []
            body.reserveCapacity(5 + slotCount * 64)
            for (s, slot) in slots.enumerated() {
                let bit = UInt16(0x8000) >> UInt16(s)
                switch slot {
                case .empty: continue
                case .leaf(let k, let v):
                    occupiedBits |= bit; leafBits |= bit
                    k.appendBytes(to: &body); v.appendBytes(to: &body)
                case .child(let h):
                    occupiedBits |= bit
                    h.appendBytes(to: &body)
                }
            }
            return [Self.tag, UInt8(occupiedBits >> 8), UInt8(occupiedBits & 0xff), UInt8(leafBits >> 8), UInt8(leafBits & 0xff)] + body
        }

        /// The page stored at `depth`, or why `raw` is not one: a well-formed encoding, leaves
        /// in the slots their keys name, no empty child, no child below the deepest page, and
        /// (below the root) at least two leaves in all.
        init(decoding raw: [UInt8], depth: Int) throws(PageError) {
            guard raw.count >= 5, raw[0] == Self.tag else { throw .malformed("\(raw.count) bytes, tag \(raw.first.map(String.init) ?? "none")") }
            let occupiedBits = UInt16(raw[1]) << 8 | UInt16(raw[2])
            let leafBits = UInt16(raw[3]) << 8 | UInt16(raw[4])
            guard leafBits & ~occupiedBits == 0 else { throw .malformed("a leaf in an empty slot") }
            let expected = 5 + 32 * occupiedBits.nonzeroBitCount + 32 * leafBits.nonzeroBitCount
            guard raw.count == expected else { throw .malformed("\(raw.count) bytes where the bitmaps give \(expected)") }
            var slots = [Slot](repeating: .empty, count: slotCount)
            var at = 5
            for s in 0..<slotCount {
                let bit = UInt16(0x8000) >> UInt16(s)
                guard occupiedBits & bit != 0 else { continue }
                let first = Hash(bytes: raw[at..<at + 32])!
                at += 32
                if leafBits & bit != 0 {
                    guard nibble(first, depth) == s else { throw .malformed("the leaf in slot \(s) belongs in slot \(nibble(first, depth))") }
                    slots[s] = .leaf(key: first, valueHash: Hash(bytes: raw[at..<at + 32])!)
                    at += 32
                } else {
                    guard first != .zero else { throw .malformed("slot \(s) names an empty child") }
                    guard depth < deepestPage else { throw .malformed("a child below the deepest page") }
                    slots[s] = .child(first)
                }
            }
            let page = Page(slots: slots)
            if depth > 0 {
                let leaves = leafBits.nonzeroBitCount, children = occupiedBits.nonzeroBitCount - leaves
                guard children > 0 || leaves >= 2 else { throw .malformed("\(leaves) leaf and no child below the root") }
            } else {
                guard occupiedBits != 0 else { throw .malformed("an empty root page") }
            }
            self = page
        }
    }

    enum PageError: Error {
        case malformed(String)
    }
}

// MARK: - Storage

extension SparseMerkleTree {
    /// prefix ‖ depth ‖ the first ⌈depth/8⌉ bytes of `path`, bits beyond `depth` zeroed.
    func pageKey(depth: Int, path: Hash) -> [UInt8] {
        precondition(depth % Self.pageLevels == 0 && (0...Self.deepestPage).contains(depth), "no page at depth \(depth)")
        let byteCount = (depth + 7) / 8
        var key = prefix
        key.reserveCapacity(prefix.count + 1 + byteCount)
        key.append(UInt8(depth))
        if byteCount > 0 {
            var bytes = path.bytes
            if depth % 8 != 0 { bytes[byteCount - 1] &= 0xf0 }
            key.append(contentsOf: bytes.prefix(byteCount))
        }
        return key
    }

    func page(at key: [UInt8], depth: Int) throws(StoreError) -> Page? {
        guard let raw = try store.get(key) else { return nil }
        do { return try Page(decoding: raw, depth: depth) } catch {
            switch error {
            case .malformed(let why): throw corrupt("a malformed page at depth \(depth): \(why)")
            }
        }
    }

    /// A page its parent names as a child: missing means a corrupt store.
    func requiredPage(at key: [UInt8], depth: Int) throws(StoreError) -> Page {
        guard let page = try page(at: key, depth: depth) else {
            throw corrupt("no page at depth \(depth) although its parent names one")
        }
        return page
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

    /// A page's subtree after an update, as its parent slot sees it.
    enum Outcome {
        case empty
        /// Exactly one leaf is left: it moves up into the parent's slot.
        case leaf(key: Hash, valueHash: Hash)
        /// Two or more leaves: the page and its subtree's hash.
        case page(Page, Hash)
    }

    /// The page at `depth` that held `old` (nil: none), after `changes` — all of whose keys
    /// lie under it. Writes every page strictly below; the caller writes this one.
    func updatePage(_ changes: ArraySlice<Change>, depth: Int, old: Page?,
                    batch: inout StoreBatch) throws(StoreError) -> Outcome {
        var page = old ?? .empty
        var i = changes.startIndex
        while i < changes.endIndex {
            let slot = Self.nibble(changes[i].key, depth)
            var j = i + 1
            while j < changes.endIndex && Self.nibble(changes[j].key, depth) == slot { j += 1 }
            page.slots[slot] = try updateSlot(page.slots[slot], changes[i..<j], childDepth: depth + Self.pageLevels, batch: &batch)
            i = j
        }
        return Self.outcome(of: page)
    }

    /// What a page with these slots is to its parent: nothing, a lone leaf, or itself.
    static func outcome(of page: Page) -> Outcome {
        var only: Page.Slot?
        var count = 0
        for slot in page.slots where slot != .empty {
            count += 1
            only = slot
        }
        if count == 0 { return .empty }
        if count == 1, case .leaf(let k, let v)? = only { return .leaf(key: k, valueHash: v) }
        return .page(page, page.summary().hash)
    }

    /// A slot after `changes` (sorted; all in the slot's subtree, which is at `childDepth`).
    func updateSlot(_ slot: Page.Slot, _ changes: ArraySlice<Change>, childDepth: Int,
                    batch: inout StoreBatch) throws(StoreError) -> Page.Slot {
        switch slot {
        case .empty:
            let inserts = changes.compactMap { c in c.valueHash.map { Leaf(key: c.key, valueHash: $0) } }
            return build(inserts[...], depth: childDepth, batch: &batch)
        case .leaf(let key, let valueHash):
            // Nothing is stored below a leaf: rebuild from the old leaf and the changes.
            let merged = Self.merge(Leaf(key: key, valueHash: valueHash), changes)
            return build(merged[...], depth: childDepth, batch: &batch)
        case .child(let oldHash):
            let key = pageKey(depth: childDepth, path: changes.first!.key)
            let old = try requiredPage(at: key, depth: childDepth)
            switch try updatePage(changes, depth: childDepth, old: old, batch: &batch) {
            case .empty:
                batch.delete(key)
                return .empty
            case .leaf(let k, let v):
                batch.delete(key)
                return .leaf(key: k, valueHash: v)
            case .page(let page, let hash):
                // Equal hashes mean the same set of leaves, and so the same page.
                if hash != oldHash { batch.put(key, page.encoded) }
                return .child(hash)
            }
        }
    }

    /// The slot whose subtree, at `depth`, holds exactly `leaves` (sorted, distinct keys) where
    /// nothing was stored before; two or more leaves are written as the page at `depth`.
    func build(_ leaves: ArraySlice<Leaf>, depth: Int, batch: inout StoreBatch) -> Page.Slot {
        guard let first = leaves.first else { return .empty }
        if leaves.count == 1 { return .leaf(key: first.key, valueHash: first.valueHash) }
        // Distinct keys differ in some bit below 256, so two never share a slot of the deepest page.
        precondition(depth <= Self.deepestPage, "two leaves with the same key")
        var page = Page.empty
        var i = leaves.startIndex
        while i < leaves.endIndex {
            let slot = Self.nibble(leaves[i].key, depth)
            var j = i + 1
            while j < leaves.endIndex && Self.nibble(leaves[j].key, depth) == slot { j += 1 }
            page.slots[slot] = build(leaves[i..<j], depth: depth + Self.pageLevels, batch: &batch)
            i = j
        }
        batch.put(pageKey(depth: depth, path: first.key), page.encoded)
        return .child(page.summary().hash)
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
}
