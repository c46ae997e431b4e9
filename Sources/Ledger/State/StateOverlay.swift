import ChainTypes

/// Reads state through the store and keeps one block's writes in memory, with a journal so
/// that a failed transaction's changes can be undone exactly.
///
/// Invariant: `changes` holds, per state key hash, the latest value written in this block
/// (nil = deleted); nothing reaches the store until the ledger commits the block.
public final class StateOverlay {
    public static let valuePrefix: [UInt8] = Array("v/".utf8)

    let store: any KeyValueStore
    public private(set) var changes: [Hash: [UInt8]?] = [:]
    private var journal: [(Hash, [UInt8]??)] = []
    private var accountCache: [Address: Account?] = [:]

    public init(store: any KeyValueStore) { self.store = store }

    public func get(_ key: [UInt8]) throws(StoreError) -> [UInt8]? {
        let h = StateKey.hash(key)
        if let changed = changes[h] { return changed }
        return try store.get(Self.valuePrefix + h.bytes)
    }

    public func set(_ key: [UInt8], _ value: [UInt8]?) {
        let h = StateKey.hash(key)
        journal.append((h, changes[h]))
        changes[h] = .some(value)
    }

    /// A point to return to with `revert`.
    public func mark() -> Int { journal.count }

    public func revert(to mark: Int) {
        while journal.count > mark {
            let (h, previous) = journal.removeLast()
            if let previous { changes[h] = previous } else { changes.removeValue(forKey: h) }
        }
        accountCache.removeAll(keepingCapacity: true)
    }

    public func account(_ a: Address) throws(LedgerError) -> Account? {
        if let cached = accountCache[a] { return cached }
        let bytes: [UInt8]?
        do { bytes = try get(StateKey.account(a)) } catch { throw .store(error) }
        guard let bytes else { accountCache[a] = .some(nil); return nil }
        do {
            let account = try Account(canonicalBytes: bytes)
            accountCache[a] = account
            return account
        } catch {
            throw .corrupted("account \(a): \(error)")
        }
    }

    public func setAccount(_ a: Address, _ account: Account) {
        set(StateKey.account(a), account.canonicalBytes)
        accountCache[a] = account
    }
}
