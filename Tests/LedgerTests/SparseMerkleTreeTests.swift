import HansaTestSupport
import Testing
import Ledger
import ChainTypes

// MARK: - An independent reference, written from the definitions in SparseMerkleTree's doc

/// The compressed sparse Merkle tree recomputed from the whole set of leaves, recursively:
/// no leaves → zero; one leaf → its leaf hash; two or more → split on bit `depth` and hash
/// the two halves. And the pages that store it: one wherever a subtree at a depth that is a
/// multiple of 4 holds two or more leaves, and the root page whenever the tree is not empty.
enum SMTReference {
    static let prefix: [UInt8] = Array("smt/".utf8)

    static func leafHash(_ key: Hash, _ value: Hash) -> Hash { SHA256.hash([0x00] + key.bytes + value.bytes) }
    static func nodeHash(_ left: Hash, _ right: Hash) -> Hash { SHA256.hash([0x01] + left.bytes + right.bytes) }
    static func bit(_ key: Hash, _ i: Int) -> UInt8 { (key.bytes[i / 8] >> UInt8(7 - i % 8)) & 1 }
    /// Bits depth…depth+3 (depth a multiple of 4).
    static func nibble(_ key: Hash, _ depth: Int) -> Int { Int(key.bytes[depth / 8] >> (depth % 8 == 0 ? 4 : 0)) & 0xf }

    /// prefix ‖ depth (one byte) ‖ ⌈depth/8⌉ path bytes, bits beyond depth zeroed.
    static func storeKey(depth: Int, path: Hash) -> [UInt8] {
        let count = (depth + 7) / 8
        var bytes = Array(path.bytes.prefix(count))
        if depth % 8 != 0 { bytes[count - 1] &= UInt8(0xff) << UInt8(8 - depth % 8) }
        return prefix + [UInt8(depth)] + bytes
    }

    static func root(_ leaves: [Hash: Hash]) -> Hash { subtree(leaves.map { ($0.key, $0.value) }, depth: 0) }

    /// The root and the exact set of stored pages the definition gives.
    static func build(_ leaves: [Hash: Hash]) -> (root: Hash, nodes: [[UInt8]: [UInt8]]) {
        var nodes: [[UInt8]: [UInt8]] = [:]
        let all = leaves.map { ($0.key, $0.value) }
        if !all.isEmpty { page(all, depth: 0, nodes: &nodes) }
        return (root(leaves), nodes)
    }

    private static func subtree(_ leaves: [(Hash, Hash)], depth: Int) -> Hash {
        guard let (key, value) = leaves.first else { return .zero }
        if leaves.count == 1 { return leafHash(key, value) }
        let left = subtree(leaves.filter { bit($0.0, depth) == 0 }, depth: depth + 1)
        let right = subtree(leaves.filter { bit($0.0, depth) == 1 }, depth: depth + 1)
        return nodeHash(left, right)
    }

    /// 0x02 ‖ occupied(u16) ‖ leaves(u16) ‖ per occupied slot: key ‖ valueHash, or the child's hash.
    private static func page(_ leaves: [(Hash, Hash)], depth: Int, nodes: inout [[UInt8]: [UInt8]]) {
        var occupied = 0, leafBits = 0
        var body: [UInt8] = []
        for slot in 0..<16 {
            let group = leaves.filter { nibble($0.0, depth) == slot }
            guard let (key, value) = group.first else { continue }
            occupied |= 0x8000 >> slot
            if group.count == 1 {
                leafBits |= 0x8000 >> slot
                body += key.bytes + value.bytes
            } else {
                body += subtree(group, depth: depth + 4).bytes
                page(group, depth: depth + 4, nodes: &nodes)
            }
        }
        nodes[storeKey(depth: depth, path: leaves[0].0)] =
            [0x02, UInt8(occupied >> 8), UInt8(occupied & 0xff), UInt8(leafBits >> 8), UInt8(leafBits & 0xff)] + body
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

    /// Stored pages and what their slots hold; `other` counts stored values that are not
    /// well-formed pages.
    struct Counts: Equatable, CustomStringConvertible {
        var pages = 0, leaves = 0, children = 0, other = 0
        var description: String { "\(pages) pages, \(leaves) leaf slots, \(children) child slots, \(other) other" }
    }

    var counts: Counts {
        var counts = Counts()
        for value in nodes.values {
            guard value.count >= 5, value[0] == 0x02 else { counts.other += 1; continue }
            let occupied = (Int(value[1]) << 8 | Int(value[2])).nonzeroBitCount
            let leaves = (Int(value[3]) << 8 | Int(value[4])).nonzeroBitCount
            guard value.count == 5 + 32 * (occupied + leaves) else { counts.other += 1; continue }
            counts.pages += 1
            counts.leaves += leaves
            counts.children += occupied - leaves
        }
        return counts
    }

    /// The layout's invariant for n leaves: every leaf in one slot, and every page but the
    /// root named by exactly one child slot.
    func checkCounts() -> Bool {
        let c = counts
        return c.other == 0 && c.leaves == model.count && c.pages == c.children + (model.isEmpty ? 0 : 1)
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
    /// a = 00…, a1 = 01… (bit 1), b = 1… — slots 0, 4 and 8 of the root page.
    @Test func collapseAndSplitMoveLeaves() throws {
        let a1 = smtKey(bits: [1])
        let (a, va, b, vb, c) = (Self.a, Self.va, Self.b, Self.vb, Self.c)
        let h = try SMTHarness()
        let p = R.prefix
        try h.insert([a: va, a1: va, b: vb])
        #expect(h.nodes == [p + [0]: [0x02, 0x88, 0x80, 0x88, 0x80] + a.bytes + va.bytes + a1.bytes + va.bytes + b.bytes + vb.bytes])
        #expect(try h.tree.root() == R.nodeHash(R.nodeHash(R.leafHash(a, va), R.leafHash(a1, va)), R.leafHash(b, vb)))

        // Deleting b leaves the root with an empty right child.
        try h.apply([b: nil])
        #expect(h.nodes == [p + [0]: [0x02, 0x88, 0x00, 0x88, 0x00] + a.bytes + va.bytes + a1.bytes + va.bytes])
        #expect(try h.tree.root() == R.nodeHash(R.nodeHash(R.leafHash(a, va), R.leafHash(a1, va)), .zero))

        // Deleting a1 leaves a alone: the root page keeps it, and the root is its leaf hash.
        try h.apply([a1: nil])
        #expect(h.nodes == [p + [0]: [0x02, 0x80, 0x00, 0x80, 0x00] + a.bytes + va.bytes])
        #expect(try h.tree.root() == R.leafHash(a, va))

        // A key sharing 200 bits with a: both fall in slot 0 of every page down to depth 200,
        // where c takes slot 8 — 51 pages, 50 of them named by a child slot.
        try h.insert([c: vb])
        #expect(h.counts == SMTHarness.Counts(pages: 51, leaves: 2, children: 50, other: 0))
        #expect(h.nodes[R.storeKey(depth: 200, path: c)] == [0x02, 0x80, 0x80, 0x80, 0x80] + a.bytes + va.bytes + c.bytes + vb.bytes)
        #expect(h.nodes == R.build(h.model).nodes)

        // Deleting a collapses all 51 pages into the root page's slot 0.
        try h.apply([a: nil])
        #expect(h.nodes == [p + [0]: [0x02, 0x80, 0x00, 0x80, 0x00] + c.bytes + vb.bytes])
        try h.apply([c: nil])
        #expect(h.nodes.isEmpty)
        #expect(try h.tree.root() == .zero)
        #expect(h.store.entries[SMTHarness.otherData] == [1, 2, 3], "data outside the prefix is untouched")
    }

    /// With n leaves the store holds every leaf in exactly one slot, one page per child slot
    /// plus the root page, nothing else — after inserts and after deletes; and random keys
    /// need far fewer pages than the 2n − 1 nodes a node-per-position layout would store.
    @Test("page count invariant", arguments: [0, 1, 2, 3, 5, 17, 100, 257])
    func nodeCount(_ n: Int) throws {
        var rng = SplitMix64(seed: UInt64(n))
        let h = try SMTHarness()
        let keys = (0..<n).map { _ in rng.hash() }
        try h.insert(Dictionary(uniqueKeysWithValues: keys.map { ($0, rng.hash()) }))
        #expect(h.checkCounts(), "\(h.counts)")
        if n >= 17 { #expect(h.counts.pages <= n / 2, "\(h.counts)") }
        #expect(h.nodes == R.build(h.model).nodes)
        let removed = keys.prefix(n / 2 + 1)
        try h.apply(Dictionary(uniqueKeysWithValues: removed.map { ($0, Hash?.none) }))
        #expect(h.checkCounts(), "\(h.counts)")
        #expect(h.nodes == R.build(h.model).nodes)
        try h.apply(Dictionary(uniqueKeysWithValues: keys.map { ($0, Hash?.none) }))
        #expect(h.nodes.isEmpty)
    }

    /// A stored page that breaks the layout is a corrupt store — a typed error naming it from
    /// `root`, `update` and `proof` — never a crash and never used as if it were right.
    @Test("malformed pages are refused", arguments: [
        ("too short", [0x02, 0x80]),
        ("wrong tag", [0x01, 0x80, 0x00, 0x80, 0x00] + smtKey(bits: []).bytes + smtLabel("v").bytes),
        ("leaf outside the occupied slots", [0x02, 0x00, 0x00, 0x80, 0x00] + smtKey(bits: []).bytes + smtLabel("v").bytes),
        ("length off by one", [0x02, 0x80, 0x00, 0x80, 0x00] + smtKey(bits: []).bytes + smtLabel("v").bytes + [0]),
        ("leaf in another key's slot", [0x02, 0x40, 0x00, 0x40, 0x00] + smtKey(bits: []).bytes + smtLabel("v").bytes),
        ("empty child", [0x02, 0x80, 0x00, 0x00, 0x00] + Hash.zero.bytes),
        ("empty root page", [0x02, 0x00, 0x00, 0x00, 0x00]),
    ] as [(String, [UInt8])])
    func malformedPages(_ name: String, _ value: [UInt8]) throws {
        let h = try SMTHarness()
        var batch = StoreBatch()
        batch.put(R.prefix + [0], value)
        try h.store.write(batch, sync: false)
        for attempt in ["root", "update", "proof"] {
            do {
                switch attempt {
                case "root": _ = try h.tree.root()
                case "update": var b = StoreBatch(); _ = try h.tree.update([smtLabel("k"): smtLabel("v")], into: &b)
                default: _ = try h.tree.proof(for: smtLabel("k"))
                }
                Issue.record("\(name): \(attempt) accepted a malformed page")
            } catch {
                #expect(error.description.contains("malformed page at depth 0"), "\(name), \(attempt): \(error)")
            }
        }
    }

    /// A child slot whose page is missing is a corrupt store too.
    @Test func missingChildPage() throws {
        let h = try SMTHarness()
        let a = smtKey(bits: []), b = smtKey(bits: [5]), v = smtLabel("v")
        try h.insert([a: v, b: v])  // both in slot 0: a child page at depth 4
        var batch = StoreBatch()
        batch.delete(R.storeKey(depth: 4, path: a))
        try h.store.write(batch, sync: false)
        #expect(throws: StoreError.self) { _ = try h.tree.proof(for: a) }
        var b2 = StoreBatch()
        #expect(throws: StoreError.self) { _ = try h.tree.update([a: nil], into: &b2) }
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
            try #require(h.checkCounts(), "seed \(seed), batch \(batchIndex): \(h.counts)")
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
        // The root page, then one read per page (four levels) on each path, one per collapse.
        #expect(counting.reads <= 1 + changes.count * (maxDepth / 4 + 2))
        #expect(update.operations.count <= changes.count * (maxDepth / 4 + 2))
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
