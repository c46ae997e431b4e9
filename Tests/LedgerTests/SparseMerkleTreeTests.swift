import HansaTestSupport
import Testing
import Ledger
import ChainTypes

// MARK: - An independent reference, written from the definitions in SparseMerkleTree's doc

/// The compressed sparse Merkle tree recomputed from the whole set of leaves, recursively:
/// no leaves → zero; one leaf → its leaf hash, stored at this position; two or more → split on
/// bit `depth` and hash the two halves.
enum SMTReference {
    static let prefix: [UInt8] = Array("smt/".utf8)

    static func leafHash(_ key: Hash, _ value: Hash) -> Hash { SHA256.hash([0x00] + key.bytes + value.bytes) }
    static func nodeHash(_ left: Hash, _ right: Hash) -> Hash { SHA256.hash([0x01] + left.bytes + right.bytes) }
    static func bit(_ key: Hash, _ i: Int) -> UInt8 { (key.bytes[i / 8] >> UInt8(7 - i % 8)) & 1 }

    /// prefix ‖ depth (one byte; 256 wraps to 0) ‖ ⌈depth/8⌉ path bytes, bits beyond depth zeroed.
    static func storeKey(depth: Int, path: Hash) -> [UInt8] {
        let count = (depth + 7) / 8
        var bytes = Array(path.bytes.prefix(count))
        if depth % 8 != 0 { bytes[count - 1] &= UInt8(0xff) << UInt8(8 - depth % 8) }
        return prefix + [UInt8(depth % 256)] + bytes
    }

    static func root(_ leaves: [Hash: Hash]) -> Hash { build(leaves).root }

    /// The root and the exact set of stored nodes the definition gives.
    static func build(_ leaves: [Hash: Hash]) -> (root: Hash, nodes: [[UInt8]: [UInt8]]) {
        var nodes: [[UInt8]: [UInt8]] = [:]
        let root = subtree(leaves.map { ($0.key, $0.value) }, depth: 0, nodes: &nodes)
        return (root, nodes)
    }

    private static func subtree(_ leaves: [(Hash, Hash)], depth: Int, nodes: inout [[UInt8]: [UInt8]]) -> Hash {
        guard let (key, value) = leaves.first else { return .zero }
        if leaves.count == 1 {
            nodes[storeKey(depth: depth, path: key)] = [0x00] + key.bytes + value.bytes
            return leafHash(key, value)
        }
        let left = subtree(leaves.filter { bit($0.0, depth) == 0 }, depth: depth + 1, nodes: &nodes)
        let right = subtree(leaves.filter { bit($0.0, depth) == 1 }, depth: depth + 1, nodes: &nodes)
        nodes[storeKey(depth: depth, path: key)] = [0x01] + left.bytes + right.bytes
        return nodeHash(left, right)
    }
}

extension SplitMix64 {
    mutating func hash() -> Hash { Hash(w0: next(), w1: next(), w2: next(), w3: next()) }
}

/// A key with exactly the given bits set (bit 0 = most significant bit of byte 0).
func smtKey(bits: [Int]) -> Hash {
    var bytes = [UInt8](repeating: 0, count: 32)
    for i in bits { bytes[i / 8] |= 0x80 >> UInt8(i % 8) }
    return Hash(bytes: bytes)!
}

func smtLabel(_ text: String) -> Hash { SHA256.hash(utf8: text) }

/// A tree over a `MemoryStore` next to unrelated data, and the set of leaves it should hold.
final class SMTHarness {
    let store = MemoryStore()
    let tree: SparseMerkleTree
    private(set) var model: [Hash: Hash] = [:]
    static let otherData: [UInt8] = Array("sms/unrelated".utf8)

    init() throws {
        tree = SparseMerkleTree(store: store, prefix: SMTReference.prefix)
        var batch = StoreBatch()
        batch.put(Self.otherData, [1, 2, 3])
        try store.write(batch, sync: false)
    }

    /// Updates, applies the batch, and returns the root `update` computed.
    @discardableResult
    func apply(_ changes: [Hash: Hash?]) throws -> Hash {
        var batch = StoreBatch()
        let root = try tree.update(changes, into: &batch)
        try store.write(batch, sync: false)
        for (key, value) in changes { model[key] = value }
        return root
    }

    func insert(_ leaves: [Hash: Hash]) throws { try apply(leaves.mapValues { Optional($0) }) }

    /// The tree's stored nodes (everything under its prefix).
    var nodes: [[UInt8]: [UInt8]] { store.entries.filter { $0.key.starts(with: SMTReference.prefix) } }

    /// Stored nodes by kind. `oneSided` are internal nodes with an empty child whose other
    /// child is a stored internal node (its subtree holds ≥ 2 leaves that all share the next
    /// bit); `other` counts anything the definition forbids.
    struct Counts: Equatable, CustomStringConvertible {
        var leaves = 0, branching = 0, oneSided = 0, other = 0
        var description: String { "\(leaves) leaves, \(branching) branching, \(oneSided) one-sided, \(other) other" }
    }

    var counts: Counts {
        let values = nodes.values
        let internalHashes = Set(values.filter { $0.first == 0x01 }.map { SHA256.hash($0) })
        var counts = Counts()
        for value in values {
            guard value.count == 65 else { counts.other += 1; continue }
            let (left, right) = (Hash(bytes: value[1..<33])!, Hash(bytes: value[33...])!)
            switch (value[0], left == .zero, right == .zero) {
            case (0x00, _, _): counts.leaves += 1
            case (0x01, false, false): counts.branching += 1
            case (0x01, true, false) where internalHashes.contains(right),
                 (0x01, false, true) where internalHashes.contains(left): counts.oneSided += 1
            default: counts.other += 1
            }
        }
        return counts
    }
}

// MARK: - Roots and storage

@Suite("SparseMerkleTree")
struct SparseMerkleTreeTests {
    typealias R = SMTReference

    /// Trees small enough to hash by hand from the definitions.
    struct HandCase: Sendable, CustomStringConvertible {
        let description: String
        let leaves: [Hash: Hash]
        let expected: @Sendable () -> Hash
    }

    static let a = smtKey(bits: []), va = smtLabel("value a")
    static let b = smtKey(bits: [0]), vb = smtLabel("value b")
    static let c = smtKey(bits: [200]), d = smtKey(bits: [255])

    static let handCases: [HandCase] = [
        HandCase(description: "empty tree", leaves: [:]) { .zero },
        HandCase(description: "one leaf", leaves: [a: va]) { SHA256.hash([0x00] + a.bytes + va.bytes) },
        HandCase(description: "two leaves differing in bit 0", leaves: [b: vb, a: va]) {
            R.nodeHash(R.leafHash(a, va), R.leafHash(b, vb))
        },
        // Bits 0…199 shared (all zero): the split is at depth 200, with 200 empty right siblings above it.
        HandCase(description: "two leaves sharing 200 bits", leaves: [a: va, c: vb]) {
            var h = R.nodeHash(R.leafHash(a, va), R.leafHash(c, vb))
            for _ in 0..<200 { h = R.nodeHash(h, .zero) }
            return h
        },
        // Bits 0…254 shared: the leaves sit at depth 256.
        HandCase(description: "two leaves differing only in bit 255", leaves: [d: vb, a: va]) {
            var h = R.nodeHash(R.leafHash(a, va), R.leafHash(d, vb))
            for _ in 0..<255 { h = R.nodeHash(h, .zero) }
            return h
        },
        HandCase(description: "three leaves", leaves: [a: va, smtKey(bits: [1]): vb, b: va]) {
            R.nodeHash(R.nodeHash(R.leafHash(a, va), R.leafHash(smtKey(bits: [1]), vb)), R.leafHash(b, va))
        },
    ]

    @Test("hand-computed roots", arguments: handCases)
    func handComputedRoots(_ hand: HandCase) throws {
        let h = try SMTHarness()
        let returned = try h.apply(hand.leaves.mapValues { Optional($0) })
        #expect(returned == hand.expected())
        #expect(try h.tree.root() == hand.expected())
        #expect(R.root(hand.leaves) == hand.expected(), "the reference agrees with the hand computation")
        #expect(h.nodes == R.build(hand.leaves).nodes)
    }

    /// Store keys and values spelled out for a tree that collapses and splits:
    /// a = 00…, a1 = 01… (bit 1), b = 1….
    @Test func collapseAndSplitMoveLeaves() throws {
        let a1 = smtKey(bits: [1])
        let h = try SMTHarness()
        let p = R.prefix
        try h.insert([Self.a: Self.va, a1: Self.va, Self.b: Self.vb])
        #expect(Set(h.nodes.keys) == [p + [0], p + [1, 0x00], p + [1, 0x80], p + [2, 0x00], p + [2, 0x40]])

        // Deleting b leaves the root with an empty right child; the pair stays at depth 2.
        try h.apply([Self.b: nil])
        #expect(Set(h.nodes.keys) == [p + [0], p + [1, 0x00], p + [2, 0x00], p + [2, 0x40]])
        #expect(h.nodes[p + [0]] == [0x01] + R.nodeHash(R.leafHash(Self.a, Self.va), R.leafHash(a1, Self.va)).bytes
            + Hash.zero.bytes)

        // Deleting a1 leaves a alone: it moves up two levels to the root.
        try h.apply([a1: nil])
        #expect(h.nodes == [p + [0]: [0x00] + Self.a.bytes + Self.va.bytes])
        #expect(try h.tree.root() == R.leafHash(Self.a, Self.va))

        // A key sharing 200 bits with a splits it down to depth 201.
        try h.insert([Self.c: Self.vb])
        #expect(h.counts == SMTHarness.Counts(leaves: 2, branching: 1, oneSided: 200))
        #expect(h.nodes[R.storeKey(depth: 201, path: Self.c)] == [0x00] + Self.c.bytes + Self.vb.bytes)
        #expect(h.nodes == R.build(h.model).nodes)

        try h.apply([Self.a: nil])
        #expect(h.nodes == [p + [0]: [0x00] + Self.c.bytes + Self.vb.bytes])
        try h.apply([Self.c: nil])
        #expect(h.nodes.isEmpty)
        #expect(try h.tree.root() == .zero)
        #expect(h.store.entries[SMTHarness.otherData] == [1, 2, 3], "data outside the prefix is untouched")
    }

    /// With n leaves the store holds n leaf nodes, n − 1 branching internal nodes (two non-empty
    /// children), one-sided internal nodes only above subtrees of ≥ 2 leaves, and nothing else —
    /// after inserts and after deletes. (n − 1 internal nodes in all would need the one-sided
    /// chains compressed too, which the hash definition does not do.)
    @Test("node count invariant", arguments: [0, 1, 2, 3, 5, 17, 100, 257])
    func nodeCount(_ n: Int) throws {
        var rng = SplitMix64(seed: UInt64(n))
        let h = try SMTHarness()
        let keys = (0..<n).map { _ in rng.hash() }
        try h.insert(Dictionary(uniqueKeysWithValues: keys.map { ($0, rng.hash()) }))
        #expect(h.counts.leaves == n && h.counts.branching == max(n - 1, 0) && h.counts.other == 0, "\(h.counts)")
        #expect(h.nodes == R.build(h.model).nodes)
        let removed = keys.prefix(n / 2 + 1)
        try h.apply(Dictionary(uniqueKeysWithValues: removed.map { ($0, Hash?.none) }))
        let left = max(n - removed.count, 0)
        #expect(h.counts.leaves == left && h.counts.branching == max(left - 1, 0) && h.counts.other == 0, "\(h.counts)")
        #expect(h.nodes == R.build(h.model).nodes)
        try h.apply(Dictionary(uniqueKeysWithValues: keys.map { ($0, Hash?.none) }))
        #expect(h.nodes.isEmpty)
    }

    /// Seeded model test: random batches of inserts, updates, deletes (present and absent) and
    /// identical rewrites, checked after every batch against the reference's root and nodes.
    @Test("matches the reference over random batches", arguments: [1, 2, 3] as [UInt64])
    func randomModel(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        // Hashed keys, plus keys that share 251…255 leading bits, so that paths run deep and
        // some leaves sit at depth 256.
        let base = rng.hash().bytes
        let deep = (0..<24).map { i in Hash(bytes: base.prefix(31) + [UInt8(i)])! }
        let pool = (0..<200).map { _ in rng.hash() } + deep
        let h = try SMTHarness()
        var operations = 0
        var batchIndex = 0
        while operations < 2_000 {
            var changes: [Hash: Hash?] = [:]
            for _ in 0..<Int.random(in: 1...60, using: &rng) {
                let key = pool.randomElement(using: &rng)!
                switch Int.random(in: 0..<10, using: &rng) {
                case 0..<5: changes[key] = .some(rng.hash())          // insert or update
                case 5..<8: changes[key] = .some(nil)                 // delete, present or not
                default: changes[key] = .some(h.model[key])           // identical rewrite (or delete if absent)
                }
                operations += 1
            }
            let returned = try h.apply(changes)
            let expected = R.build(h.model)
            try #require(returned == expected.root, "seed \(seed), batch \(batchIndex)")
            try #require(try h.tree.root() == expected.root, "seed \(seed), batch \(batchIndex)")
            try #require(h.nodes == expected.nodes,
                         "seed \(seed), batch \(batchIndex): \(h.nodes.count) nodes stored, \(expected.nodes.count) expected")
            let counts = h.counts
            try #require(counts.leaves == h.model.count && counts.branching == max(h.model.count - 1, 0)
                         && counts.other == 0, "seed \(seed), batch \(batchIndex): \(counts)")
            batchIndex += 1
        }
        #expect(h.model.count > 50, "the run kept a sizeable tree (seed \(seed))")
    }

    /// The same final set, reached by different splits and orders, gives the same root and nodes.
    @Test func orderIndependence() throws {
        var rng = SplitMix64(seed: 42)
        let final = Dictionary(uniqueKeysWithValues: (0..<300).map { _ in (rng.hash(), rng.hash()) })
        let extra = (0..<150).map { _ in rng.hash() }

        let once = try SMTHarness()
        try once.insert(final)

        let oneByOne = try SMTHarness()
        for key in final.keys.sorted(by: >) { try oneByOne.insert([key: final[key]!]) }

        // Extra keys and wrong values first, then random batches that fix everything.
        let detour = try SMTHarness()
        var wrong: [Hash: Hash] = final.mapValues { _ in rng.hash() }
        for key in extra { wrong[key] = rng.hash() }
        try detour.insert(wrong)
        var fixes: [(Hash, Hash?)] = final.map { ($0.key, $0.value) } + extra.map { ($0, nil) }
        fixes.shuffle(using: &rng)
        while !fixes.isEmpty {
            let n = min(fixes.count, Int.random(in: 1...40, using: &rng))
            try detour.apply(Dictionary(uniqueKeysWithValues: fixes.prefix(n).map { ($0.0, $0.1) }))
            fixes.removeFirst(n)
        }

        let root = try once.tree.root()
        #expect(root == R.root(final))
        #expect(try oneByOne.tree.root() == root)
        #expect(try detour.tree.root() == root)
        #expect(oneByOne.nodes == once.nodes)
        #expect(detour.nodes == once.nodes)
    }

    /// `update` only appends to the batch; the store changes when the batch is written.
    @Test func updateDoesNotWrite() throws {
        var rng = SplitMix64(seed: 7)
        let h = try SMTHarness()
        let keys = (0..<40).map { _ in rng.hash() }
        try h.insert(Dictionary(uniqueKeysWithValues: keys.map { ($0, rng.hash()) }))
        let before = h.store.entries, writes = h.store.writes, rootBefore = try h.tree.root()

        var changes: [Hash: Hash?] = [rng.hash(): rng.hash(), keys[0]: nil, keys[1]: rng.hash()]
        for key in keys.dropFirst(2).prefix(30) { changes[key] = .some(nil) }
        var batch = StoreBatch()
        let root = try h.tree.update(changes, into: &batch)
        #expect(h.store.entries == before)
        #expect(h.store.writes == writes)
        #expect(try h.tree.root() == rootBefore)
        #expect(!batch.isEmpty)
        #expect(root != rootBefore)

        try h.store.write(batch, sync: false)
        #expect(try h.tree.root() == root)
    }

    /// Deleting absent keys and rewriting identical values change nothing and write nothing.
    @Test("no-op changes", arguments: [0, 1, 2, 30])
    func noOpChanges(_ n: Int) throws {
        var rng = SplitMix64(seed: UInt64(100 + n))
        let h = try SMTHarness()
        let leaves = Dictionary(uniqueKeysWithValues: (0..<n).map { _ in (rng.hash(), rng.hash()) })
        try h.insert(leaves)
        let root = try h.tree.root()
        var changes: [Hash: Hash?] = [rng.hash(): nil, rng.hash(): nil, smtKey(bits: []): nil]
        for (key, value) in leaves { changes[key] = value }
        var batch = StoreBatch()
        #expect(try h.tree.update(changes, into: &batch) == root)
        #expect(batch.isEmpty)
        var none = StoreBatch()
        #expect(try h.tree.update([:], into: &none) == root)
        #expect(none.isEmpty)
    }

    /// Cost: reads grow with changed keys × depth, not with the tree (no full rehash).
    @Test func updateReadsOnlyChangedPaths() throws {
        var rng = SplitMix64(seed: 9)
        let counting = SMTCountingStore()
        let tree = SparseMerkleTree(store: counting, prefix: R.prefix)
        let keys = (0..<4_000).map { _ in rng.hash() }
        var batch = StoreBatch()
        _ = try tree.update(Dictionary(uniqueKeysWithValues: keys.map { ($0, rng.hash()) }), into: &batch)
        try counting.write(batch, sync: false)

        var changes: [Hash: Hash?] = [:]
        for key in keys.prefix(10) { changes[key] = .some(nil) }
        for key in keys.dropFirst(10).prefix(10) { changes[key] = rng.hash() }
        for _ in 0..<10 { changes[rng.hash()] = rng.hash() }
        var maxDepth = 0
        for key in changes.keys { maxDepth = max(maxDepth, try tree.proof(for: key).siblings.count) }

        counting.reads = 0
        var update = StoreBatch()
        _ = try tree.update(changes, into: &update)
        // Root, one read per level on each path, one per collapse.
        #expect(counting.reads <= 1 + changes.count * (maxDepth + 2))
        #expect(update.operations.count <= changes.count * (maxDepth + 2))
        #expect(counting.reads < counting.inner.entries.count / 10, "\(counting.reads) reads")
    }
}

/// A store that counts reads.
final class SMTCountingStore: KeyValueStore {
    let inner = MemoryStore()
    var reads = 0

    func get(_ key: [UInt8]) throws(StoreError) -> [UInt8]? {
        reads += 1
        return try inner.get(key)
    }

    func write(_ batch: StoreBatch, sync: Bool) throws(StoreError) { try inner.write(batch, sync: sync) }

    func scan(prefix: [UInt8], from start: [UInt8]?, _ body: ([UInt8], [UInt8]) -> Bool) throws(StoreError) {
        try inner.scan(prefix: prefix, from: start, body)
    }
}

// MARK: - Proofs

@Suite("SparseMerkleProof")
struct SparseMerkleProofTests {
    typealias R = SMTReference

    /// A random tree of 64 leaves.
    static func randomTree(seed: UInt64) throws -> (SMTHarness, SplitMix64) {
        var rng = SplitMix64(seed: seed)
        let h = try SMTHarness()
        try h.insert(Dictionary(uniqueKeysWithValues: (0..<64).map { _ in (rng.hash(), rng.hash()) }))
        return (h, rng)
    }

    @Test func inclusionProofsVerify() throws {
        let (h, _) = try Self.randomTree(seed: 11)
        let root = try h.tree.root()
        for (key, value) in h.model {
            let proof = try h.tree.proof(for: key)
            #expect(proof.leaf == .init(key: key, valueHash: value))
            #expect(proof.verify(root: root, key: key, valueHash: value))
            #expect(!proof.verify(root: root, key: key, valueHash: nil), "a present key is not proved absent")
            #expect(!proof.verify(root: root, key: key, valueHash: smtLabel("other")), "wrong value hash")
            #expect(!proof.verify(root: smtLabel("root"), key: key, valueHash: value), "wrong root")
            let other = h.model.keys.first { $0 != key }!
            #expect(!proof.verify(root: root, key: other, valueHash: value), "wrong key")
        }
    }

    /// Absent keys whose search ends at an empty subtree and at another key's lone leaf.
    @Test func exclusionProofsVerify() throws {
        var (h, rng) = try Self.randomTree(seed: 12)
        let root = try h.tree.root()
        var endings = (empty: 0, otherLeaf: 0)
        for _ in 0..<300 {
            let key = rng.hash()
            let proof = try h.tree.proof(for: key)
            #expect(proof.verify(root: root, key: key, valueHash: nil))
            #expect(!proof.verify(root: root, key: key, valueHash: proof.leaf?.valueHash ?? smtLabel("v")))
            #expect(!proof.verify(root: smtLabel("root"), key: key, valueHash: nil))
            if let leaf = proof.leaf {
                endings.otherLeaf += 1
                #expect(leaf.key != key)
                // The other leaf's own key is present, not absent, under the same proof.
                #expect(!proof.verify(root: root, key: leaf.key, valueHash: nil))
                #expect(proof.verify(root: root, key: leaf.key, valueHash: leaf.valueHash))
                let tampered = SparseMerkleProof(siblings: proof.siblings,
                                                 leaf: .init(key: leaf.key, valueHash: smtLabel("forged")))
                #expect(!tampered.verify(root: root, key: key, valueHash: nil))
            } else {
                endings.empty += 1
                // Claiming a leaf where the subtree is empty fails.
                let forged = SparseMerkleProof(siblings: proof.siblings, leaf: .init(key: key, valueHash: smtLabel("v")))
                #expect(!forged.verify(root: root, key: key, valueHash: smtLabel("v")))
            }
        }
        #expect(endings.empty > 0 && endings.otherLeaf > 0, "both endings occurred: \(endings)")
    }

    /// Hand-made trees where each ending is certain. a = 00…, a1 = 01…, b = 1….
    @Test func exclusionEndingsByHand() throws {
        let a = smtKey(bits: []), a1 = smtKey(bits: [1]), b = smtKey(bits: [0]), v = smtLabel("v")
        let h = try SMTHarness()
        try h.insert([a: v, a1: v])
        // root = node(node(leaf a, leaf a1), empty): 11… ends at the empty right child.
        let empty = try h.tree.proof(for: smtKey(bits: [0, 1]))
        #expect(empty == SparseMerkleProof(siblings: [R.nodeHash(R.leafHash(a, v), R.leafHash(a1, v))], leaf: nil))
        #expect(empty.verify(root: try h.tree.root(), key: smtKey(bits: [0, 1]), valueHash: nil))

        try h.insert([b: v])
        // Now 11… ends at b's leaf, which stands alone in the right subtree.
        let other = try h.tree.proof(for: smtKey(bits: [0, 1]))
        #expect(other.leaf == .init(key: b, valueHash: v))
        #expect(other.siblings.count == 1)
        #expect(other.verify(root: try h.tree.root(), key: smtKey(bits: [0, 1]), valueHash: nil))
    }

    /// A leaf off the key's path proves nothing, even under a root that (non-canonically)
    /// places it there: 1… as the left child of the root, claimed to exclude 0….
    @Test func leafOffThePathProvesNothing() {
        let misplaced = smtKey(bits: [0]), v = smtLabel("v")
        let root = R.nodeHash(R.leafHash(misplaced, v), .zero)
        let proof = SparseMerkleProof(siblings: [.zero], leaf: .init(key: misplaced, valueHash: v))
        #expect(!proof.verify(root: root, key: smtKey(bits: []), valueHash: nil))
        #expect(!proof.verify(root: root, key: misplaced, valueHash: v))
    }

    @Test func emptyTreeProofs() throws {
        let h = try SMTHarness()
        let proof = try h.tree.proof(for: smtLabel("k"))
        #expect(proof == SparseMerkleProof(siblings: [], leaf: nil))
        #expect(proof.verify(root: .zero, key: smtLabel("k"), valueHash: nil))
        #expect(!proof.verify(root: .zero, key: smtLabel("k"), valueHash: smtLabel("v")))
        #expect(!proof.verify(root: smtLabel("root"), key: smtLabel("k"), valueHash: nil))
    }

    /// Every change to the siblings breaks the proof: altered, emptied, filled, dropped, added.
    @Test func tamperedSiblingsFail() throws {
        let (h, _) = try Self.randomTree(seed: 13)
        let root = try h.tree.root()
        // A key whose path is at least three deep.
        let (key, value) = try #require(h.model.first { (try? h.tree.proof(for: $0.key).siblings.count) ?? 0 >= 3 })
        let proof = try h.tree.proof(for: key)
        #expect(proof.verify(root: root, key: key, valueHash: value))
        for i in proof.siblings.indices {
            var siblings = proof.siblings
            siblings[i] = siblings[i] == .zero ? smtLabel("filled") : .zero
            #expect(!SparseMerkleProof(siblings: siblings, leaf: proof.leaf).verify(root: root, key: key, valueHash: value))
            siblings[i] = smtLabel("altered")
            #expect(!SparseMerkleProof(siblings: siblings, leaf: proof.leaf).verify(root: root, key: key, valueHash: value))
        }
        let dropped = SparseMerkleProof(siblings: Array(proof.siblings.dropLast()), leaf: proof.leaf)
        #expect(!dropped.verify(root: root, key: key, valueHash: value))
        let added = SparseMerkleProof(siblings: proof.siblings + [.zero], leaf: proof.leaf)
        #expect(!added.verify(root: root, key: key, valueHash: value))
    }

    /// A proof 256 siblings deep (leaves differing only in bit 255) encodes, decodes and verifies.
    @Test func deepestProof() throws {
        let a = smtKey(bits: []), d = smtKey(bits: [255]), v = smtLabel("v")
        let h = try SMTHarness()
        try h.insert([a: v, d: v])
        let proof = try h.tree.proof(for: d)
        #expect(proof.siblings.count == 256)
        #expect(proof.siblings.filter { $0 != .zero } == [R.leafHash(a, v)])
        let decoded = try SparseMerkleProof(canonicalBytes: proof.canonicalBytes)
        #expect(decoded == proof)
        #expect(decoded.verify(root: try h.tree.root(), key: d, valueHash: v))
        // version, uvarint 256 (2 bytes), 32-byte bitmap, one sibling, leaf flag and leaf.
        #expect(proof.canonicalBytes.count == 1 + 2 + 32 + 32 + 1 + 64)
    }

    @Test func encodingRoundTrips() throws {
        var (h, rng) = try Self.randomTree(seed: 14)
        let root = try h.tree.root()
        for key in Array(h.model.keys.prefix(10)) + (0..<10).map({ _ in rng.hash() }) {
            let proof = try h.tree.proof(for: key)
            let bytes = proof.canonicalBytes
            let decoded = try SparseMerkleProof(canonicalBytes: bytes)
            #expect(decoded == proof)
            #expect(decoded.canonicalBytes == bytes)
            #expect(decoded.verify(root: root, key: key, valueHash: h.model[key]))
            let nonEmpty = proof.siblings.count { $0 != .zero }
            let n = proof.siblings.count
            #expect(bytes.count == 1 + 1 + (n + 7) / 8 + 32 * nonEmpty + 1 + (proof.leaf == nil ? 0 : 64))
        }
    }

    static let sample = SparseMerkleProof(siblings: [smtLabel("s0"), .zero, .zero, smtLabel("s3")], leaf: nil)

    /// Each is one byte string that is not the canonical form of any proof.
    static let rejected: [(String, [UInt8])] = [
        ("version 2", [2] + Array(sample.canonicalBytes.dropFirst())),
        ("257 siblings", [1, 0x81, 0x02] + [UInt8](repeating: 0, count: 33) + [0]),
        ("bitmap bit beyond the count", [1, 4, 0x98] + smtLabel("s0").bytes + smtLabel("s3").bytes + [0]),
        ("empty sibling marked non-empty", [1, 1, 0x80] + Hash.zero.bytes + [0]),
        ("truncated", Array(sample.canonicalBytes.dropLast())),
        ("trailing byte", sample.canonicalBytes + [0]),
        ("leaf flag 2", Array(sample.canonicalBytes.dropLast()) + [2]),
    ]

    @Test("decoder rejects", arguments: rejected.indices)
    func decoderRejects(_ index: Int) {
        let (name, bytes) = Self.rejected[index]
        #expect(throws: DecodeError.self, "\(name)") { try SparseMerkleProof(canonicalBytes: bytes) }
    }

    @Test func sampleEncodingIsCompact() throws {
        // version 1, count 4, bitmap 1001 0000, two siblings, no leaf.
        #expect(Self.sample.canonicalBytes == [1, 4, 0x90] + smtLabel("s0").bytes + smtLabel("s3").bytes + [0])
        #expect(try SparseMerkleProof(canonicalBytes: Self.sample.canonicalBytes) == Self.sample)
    }
}
