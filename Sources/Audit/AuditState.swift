import ChainTypes
import HansaCrypto
import Ledger

/// The state the auditor re-executes on, in memory: state values by tree key, kept next to
/// the auditor's own tree (`StateTree`), and the few keys outside the tree (the
/// scheduled-call index `s/`). It serves the shared state-transition rules (`Executor`) as a
/// `KeyValueStore`, under the store layout of docs/LEDGER.md ("v/" ‖ tree key for a value).
///
/// Invariant: `tree` holds exactly one leaf (key, SHA-256(value)) per entry of `values`.
public final class AuditState: KeyValueStore {
    public private(set) var values: [Hash: [UInt8]] = [:]
    /// Keys outside the state tree (scanned in byte order by the executor: few entries).
    public private(set) var others: [[UInt8]: [UInt8]] = [:]
    public let tree = StateTree()

    static let valuePrefix: [UInt8] = Array("v/".utf8)

    public init() {}

    /// The tree key of a store key "v/" ‖ key, or nil for another key.
    private static func treeKey(_ key: [UInt8]) -> Hash? {
        guard key.count == 34, key[0] == 0x76, key[1] == 0x2f else { return nil }
        return Hash(bytes: key[2...])
    }

    public func get(_ key: [UInt8]) throws(StoreError) -> [UInt8]? {
        if let h = Self.treeKey(key) { return values[h] }
        return others[key]
    }

    /// Not used by the executor (it only reads); writes go through `apply`.
    public func write(_ batch: StoreBatch, sync: Bool) throws(StoreError) {
        throw StoreError(operation: "write", message: "the audit state changes only through apply(_:)")
    }

    public func scan(prefix: [UInt8], from start: [UInt8]?, _ body: ([UInt8], [UInt8]) -> Bool) throws(StoreError) {
        let keys = others.keys.filter { key in key.starts(with: prefix) && (start.map { !key.lexicographicallyPrecedes($0) } ?? true) }
            .sorted { $0.lexicographicallyPrecedes($1) }
        for k in keys where !body(k, others[k]!) { return }
        if Self.valuePrefix.starts(with: prefix) || prefix.starts(with: Self.valuePrefix) {
            // Values are scanned only by tools, never by the rules: in key order, from memory.
            for h in values.keys.sorted() {
                let k = Self.valuePrefix + h.bytes
                guard k.starts(with: prefix), start.map({ !k.lexicographicallyPrecedes($0) }) ?? true else { continue }
                if !body(k, values[h]!) { return }
            }
        }
    }

    /// Sets a state value (the genesis state).
    func set(_ stateKey: [UInt8], _ value: [UInt8]) {
        let h = StateKey.hash(stateKey)
        values[h] = value
        tree.update([h: SHA256.hash(value)])
    }

    /// Applies one block's changes and returns the new state root.
    @discardableResult
    public func apply(_ changes: BlockChanges) -> Hash {
        var leaves: [StateTree.Change] = []
        leaves.reserveCapacity(changes.stateChanges.count)
        for (key, value) in changes.stateChanges {
            if let value {
                values[key] = value
                leaves.append(StateTree.Change(key: key, valueHash: SHA256.hash(value)))
            } else {
                values.removeValue(forKey: key)
                leaves.append(StateTree.Change(key: key, valueHash: nil))
            }
        }
        for (key, value) in changes.indexChanges {
            if let value { others[key] = value } else { others.removeValue(forKey: key) }
        }
        return tree.update(leaves)
    }

    public var rootHash: Hash { tree.rootHash }
}
