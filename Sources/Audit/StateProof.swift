import ChainTypes
import HansaCrypto

/// Checks a state-tree proof (docs/PROTOCOL.md §15 "Proofs") with the auditor's own code:
/// `siblings[d]` is the other child at depth d on the key's path from the root, and `leaf`
/// what the path ends at — nil for an empty subtree.
public enum StateProof {
    /// Nil when the proof shows that under `root` the key `key` holds `valueHash` (for nil:
    /// that it is absent); else why not. A leaf of another key proves absence only if it
    /// shares the first `siblings.count` bits with `key`, so that it stands alone in the
    /// subtree where `key` would be.
    public static func problem(root: Hash, key: Hash, valueHash: Hash?, siblings: [Hash], leaf: (key: Hash, valueHash: Hash)?) -> String? {
        guard siblings.count <= 256 else { return "the proof has \(siblings.count) siblings; a path has at most 256" }
        switch (leaf, valueHash) {
        case (nil, nil): break
        case (nil, _?): return "the proof ends in an empty subtree: the key is absent, not holding the value"
        case (let found?, let want?):
            guard found.key == key else { return "the proof ends at another key's leaf: the key is absent" }
            guard found.valueHash == want else { return "the leaf holds value hash \(found.valueHash.hex), not \(want.hex)" }
        case (let found?, nil):
            guard found.key != key else { return "the proof shows the key present, with value hash \(found.valueHash.hex)" }
            guard sharedBits(found.key, key) >= siblings.count else { return "the leaf met is not in the key's subtree" }
        }
        var hash = leaf.map { SHA256.hash(tag: 0x00, $0.key, $0.valueHash) } ?? .zero
        for depth in siblings.indices.reversed() {
            hash = StateTree.bit(key, depth) ? SHA256.hash(tag: 0x01, siblings[depth], hash) : SHA256.hash(tag: 0x01, hash, siblings[depth])
        }
        return hash == root ? nil : "the path hashes to \(hash.hex), not the root \(root.hex)"
    }

    static func sharedBits(_ a: Hash, _ b: Hash) -> Int {
        var n = 0
        while n < 256 && StateTree.bit(a, n) == StateTree.bit(b, n) { n += 1 }
        return n
    }
}
