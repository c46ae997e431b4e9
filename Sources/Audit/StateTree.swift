import ChainTypes
import HansaCrypto

/// The auditor's own state commitment: the compressed binary sparse Merkle tree of
/// docs/PROTOCOL.md §15, held in memory and written from that text — not the node's paged
/// tree (`Ledger.SparseMerkleTree`), so that a mistake there is caught here, not repeated.
///
/// - A key is 256 bits (a SHA-256 of the state key); at depth d the path turns on bit d,
///   counted from the most significant bit of byte 0: 0 left, 1 right.
/// - Empty subtree = 32 zero bytes; leaf = SHA-256(0x00 ‖ key ‖ value_hash); internal node =
///   SHA-256(0x01 ‖ left ‖ right).
/// - A subtree holding exactly one leaf is that leaf, lifted to the subtree's position; an
///   internal node stands exactly where its subtree holds two or more leaves.
///
/// Invariant: `root` is always in that normal form, so its hash depends only on the set of
/// (key, value hash) pairs.
public final class StateTree {
    final class Inner {
        var left: Node
        var right: Node
        var hash: Hash
        init(left: Node, right: Node) {
            self.left = left
            self.right = right
            hash = SHA256.hash(tag: 0x01, left.hash, right.hash)
        }
    }

    enum Node {
        case empty
        case leaf(key: Hash, valueHash: Hash, hash: Hash)
        case inner(Inner)

        var hash: Hash {
            switch self {
            case .empty: .zero
            case .leaf(_, _, let h): h
            case .inner(let n): n.hash
            }
        }

        static func leaf(_ key: Hash, _ valueHash: Hash) -> Node {
            .leaf(key: key, valueHash: valueHash, hash: SHA256.hash(tag: 0x00, key, valueHash))
        }
    }

    struct Change {
        let key: Hash
        let valueHash: Hash?
    }

    private(set) var root: Node = .empty
    /// Leaves in the tree.
    public private(set) var count = 0

    public init() {}

    public var rootHash: Hash { root.hash }

    /// Applies `changes` (key → new value hash, nil = delete) and returns the new root hash.
    @discardableResult
    public func update(_ changes: [Hash: Hash?]) -> Hash {
        update(changes.map { Change(key: $0.key, valueHash: $0.value) })
    }

    /// The same for changes given as a list of distinct keys, in any order.
    func update(_ changes: [Change]) -> Hash {
        guard !changes.isEmpty else { return root.hash }
        let sorted = changes.sorted { $0.key < $1.key }
        root = update(root, depth: 0, sorted[...])
        return root.hash
    }

    /// Bit `depth` of `key` (true = right).
    static func bit(_ key: Hash, _ depth: Int) -> Bool {
        let word: UInt64
        switch depth >> 6 {
        case 0: word = key.w0
        case 1: word = key.w1
        case 2: word = key.w2
        default: word = key.w3
        }
        return (word >> UInt64(63 - (depth & 63))) & 1 == 1
    }

    /// The first index of `changes` (sorted, all sharing their first `depth` bits) whose bit
    /// `depth` is set.
    private static func split(_ changes: ArraySlice<Change>, _ depth: Int) -> Int {
        var low = changes.startIndex, high = changes.endIndex
        while low < high {
            let mid = (low + high) / 2
            if bit(changes[mid].key, depth) { high = mid } else { low = mid + 1 }
        }
        return low
    }

    private func update(_ node: Node, depth: Int, _ changes: ArraySlice<Change>) -> Node {
        if changes.isEmpty { return node }
        switch node {
        case .empty:
            return build(depth: depth, changes.filter { $0.valueHash != nil }[...])
        case .leaf(let key, let valueHash, _):
            // The old leaf and the changes make the new subtree; a change of the same key wins.
            count -= 1
            var entries = changes.filter { $0.valueHash != nil }
            if !changes.contains(where: { $0.key == key }) {
                let at = entries.firstIndex { key < $0.key } ?? entries.endIndex
                entries.insert(Change(key: key, valueHash: valueHash), at: at)
            }
            return build(depth: depth, entries[...])
        case .inner(let inner):
            let mid = Self.split(changes, depth)
            inner.left = update(inner.left, depth: depth + 1, changes[..<mid])
            inner.right = update(inner.right, depth: depth + 1, changes[mid...])
            switch (inner.left, inner.right) {
            case (.empty, .empty): return .empty
            case (.leaf, .empty): return inner.left
            case (.empty, .leaf): return inner.right
            default:
                inner.hash = SHA256.hash(tag: 0x01, inner.left.hash, inner.right.hash)
                return node
            }
        }
    }

    /// The subtree at `depth` holding exactly `entries` (sorted, none deleted).
    private func build(depth: Int, _ entries: ArraySlice<Change>) -> Node {
        switch entries.count {
        case 0: return .empty
        case 1:
            count += 1
            return .leaf(entries.first!.key, entries.first!.valueHash!)
        default:
            let mid = Self.split(entries, depth)
            return .inner(Inner(left: build(depth: depth + 1, entries[..<mid]), right: build(depth: depth + 1, entries[mid...])))
        }
    }
}

// MARK: The node's stored pages, derived from the tree

extension StateTree {
    /// The state-tree pages a node's data directory must hold for this tree (docs/LEDGER.md
    /// "State-tree pages"), by store key (without the `n/` prefix): a page of four levels at
    /// every depth D (a multiple of 4) where the subtree holds two or more leaves, and the
    /// root page whenever the tree is not empty. Derived from the binary tree by walking it,
    /// so that comparing them with a directory checks the node's page code too.
    public func expectedPages(_ emit: (_ key: [UInt8], _ value: [UInt8]) -> Void) {
        switch root {
        case .empty: return
        case .leaf(let key, let valueHash, _):
            var slots = [PageSlot](repeating: .empty, count: 16)
            slots[Self.nibble(key, 0)] = .leaf(key, valueHash)
            emit(Self.pageKey(depth: 0, path: key), Self.encodePage(slots))
        case .inner(let inner):
            page(inner, depth: 0, anyKey: Self.someKey(.inner(inner)), emit)
        }
    }

    enum PageSlot {
        case empty
        case leaf(Hash, Hash)
        case child(Hash)
    }

    private func page(_ top: Inner, depth: Int, anyKey: Hash, _ emit: (_ key: [UInt8], _ value: [UInt8]) -> Void) {
        var slots = [PageSlot](repeating: .empty, count: 16)
        var children: [(Inner, Int)] = []
        func fill(_ node: Node, low: Int, count: Int) {
            switch node {
            case .empty: break
            case .leaf(let key, let valueHash, _): slots[Self.nibble(key, depth)] = .leaf(key, valueHash)
            case .inner(let n):
                if count == 1 {
                    slots[low] = .child(n.hash)
                    children.append((n, low))
                } else {
                    fill(n.left, low: low, count: count / 2)
                    fill(n.right, low: low + count / 2, count: count / 2)
                }
            }
        }
        fill(.inner(top), low: 0, count: 16)
        emit(Self.pageKey(depth: depth, path: anyKey), Self.encodePage(slots))
        for (child, _) in children {
            page(child, depth: depth + 4, anyKey: Self.someKey(.inner(child)), emit)
        }
    }

    /// A key of some leaf below `node` (all keys below a position share its path).
    static func someKey(_ node: Node) -> Hash {
        var n = node
        while true {
            switch n {
            case .empty: return .zero
            case .leaf(let key, _, _): return key
            case .inner(let i): n = i.left.isEmpty ? i.right : i.left
            }
        }
    }

    /// Bits `depth`…`depth`+3 of `key`.
    static func nibble(_ key: Hash, _ depth: Int) -> Int {
        (0..<4).reduce(0) { $0 << 1 | (bit(key, depth + $1) ? 1 : 0) }
    }

    /// D (1 byte) ‖ the first ⌈D/8⌉ bytes of the path, the bits from D on zeroed.
    static func pageKey(depth: Int, path: Hash) -> [UInt8] {
        var key: [UInt8] = [UInt8(depth)]
        let bytes = path.bytes
        for i in 0..<((depth + 7) / 8) {
            let keep = min(8, depth - 8 * i)
            key.append(bytes[i] & UInt8(truncatingIfNeeded: 0xff << (8 - keep)))
        }
        return key
    }

    /// 0x02 ‖ occupied (u16, big-endian) ‖ leaves (u16) ‖ each occupied slot in order:
    /// key ‖ value_hash (a leaf) or hash (a child). Bit 15 − s is slot s.
    static func encodePage(_ slots: [PageSlot]) -> [UInt8] {
        var occupied: UInt16 = 0, leaves: UInt16 = 0
        var body: [UInt8] = []
        for (s, slot) in slots.enumerated() {
            switch slot {
            case .empty: continue
            case .leaf(let key, let valueHash):
                occupied |= 1 << UInt16(15 - s)
                leaves |= 1 << UInt16(15 - s)
                body += key.bytes + valueHash.bytes
            case .child(let hash):
                occupied |= 1 << UInt16(15 - s)
                body += hash.bytes
            }
        }
        return [0x02, UInt8(occupied >> 8), UInt8(occupied & 0xff), UInt8(leaves >> 8), UInt8(leaves & 0xff)] + body
    }
}

extension StateTree.Node {
    var isEmpty: Bool { if case .empty = self { true } else { false } }
}
