import ChainTypes

/// Reads state through the store and keeps one block's writes in memory, with a journal so
/// that a failed transaction's changes can be undone exactly.
///
/// Besides the authenticated state it carries writes to plain **index** keys (outside the
/// state tree, e.g. the scheduled-call index `s/…`), journalled the same way, so that an
/// index always follows the state values it mirrors — reverted with them, and written with
/// them in the block's one batch.
///
/// Invariant: `changes` holds, per state key hash, the latest value written in this block
/// (nil = deleted), and `indexChanges` the same per index key; nothing reaches the store
/// until the ledger commits the block.
public final class StateOverlay {
    public static let valuePrefix: [UInt8] = Array("v/".utf8)

    private enum Undo {
        case state(Hash, [UInt8]??)
        case index([UInt8], [UInt8]??)
    }

    let store: any KeyValueStore
    public private(set) var changes: [Hash: [UInt8]?] = [:]
    /// Writes to unhashed store keys that are not part of the state root (nil = delete).
    public private(set) var indexChanges: [[UInt8]: [UInt8]?] = [:]
    private var journal: [Undo] = []
    /// Accounts decoded in this block, with their tree keys (hashed once).
    private var accountCache: [Address: (account: Account?, key: Hash)] = [:]
    /// Bytes written since the overlay began and still in effect (reverted writes are taken
    /// back): each state or index write counts its value's bytes plus `writeOverheadBytes`.
    /// What the block's `maxBlockStateBytes` bounds — and with it the journal's memory.
    public private(set) var bytesWritten = 0
    public static let writeOverheadBytes = 32

    static func cost(_ value: [UInt8]?) -> Int { (value?.count ?? 0) + writeOverheadBytes }

    public init(store: any KeyValueStore) { self.store = store }

    /// Room for a block of `transactions` without regrowing the tables (about two accounts
    /// and two writes a transfer).
    func reserve(transactions: Int) {
        guard transactions > 0 else { return }
        accountCache.reserveCapacity(2 * transactions)
        changes.reserveCapacity(2 * transactions)
        journal.reserveCapacity(2 * transactions)
    }

    public func get(_ key: [UInt8]) throws(StoreError) -> [UInt8]? {
        try get(hashed: StateKey.hash(key))
    }

    /// The value under tree key `h` (a state key already hashed).
    func get(hashed h: Hash) throws(StoreError) -> [UInt8]? {
        if let changed = changes[h] { return changed }
        return try store.get(Self.valueKey(h))
    }

    /// The store key of the state value under tree key `h`: "v/" ‖ h.
    public static func valueKey(_ h: Hash) -> [UInt8] {
        var key = valuePrefix
        key.reserveCapacity(valuePrefix.count + Hash.byteCount)
        h.appendBytes(to: &key)
        return key
    }

    public func set(_ key: [UInt8], _ value: [UInt8]?) {
        set(hashed: StateKey.hash(key), value)
    }

    /// Writes the value under tree key `h` (a state key already hashed).
    func set(hashed h: Hash, _ value: [UInt8]?) {
        journal.append(.state(h, changes[h]))
        changes[h] = .some(value)
        bytesWritten += Self.cost(value)
    }

    /// Writes (or with nil deletes) a plain store key with the block, outside the state tree.
    public func setIndex(_ key: [UInt8], _ value: [UInt8]?) {
        journal.append(.index(key, indexChanges[key]))
        indexChanges[key] = .some(value)
        bytesWritten += Self.cost(value)
    }

    /// A point to return to with `revert`.
    public func mark() -> Int { journal.count }

    public func revert(to mark: Int) {
        while journal.count > mark {
            switch journal.removeLast() {
            case .state(let h, let previous):
                bytesWritten -= Self.cost(changes[h] ?? nil)
                if let previous { changes[h] = previous } else { changes.removeValue(forKey: h) }
            case .index(let key, let previous):
                bytesWritten -= Self.cost(indexChanges[key] ?? nil)
                if let previous { indexChanges[key] = previous } else { indexChanges.removeValue(forKey: key) }
            }
        }
        accountCache.removeAll(keepingCapacity: true)
    }

    /// The code of the contract at `a` and its hash, or nil when `a` is not a contract.
    public func contractCode(_ a: Address) throws(LedgerError) -> (code: [UInt8], hash: Hash)? {
        guard let codeHash = try account(a)?.codeHash else { return nil }
        let code: [UInt8]?
        do { code = try get(StateKey.code(codeHash)) } catch { throw .store(error) }
        guard let code else { throw .corrupted("contract \(a) has code hash \(codeHash) but no code under it") }
        return (code, codeHash)
    }

    public func account(_ a: Address) throws(LedgerError) -> Account? {
        if let cached = accountCache[a] { return cached.account }
        let h = StateKey.hash(StateKey.account(a))
        let bytes: [UInt8]?
        do { bytes = try get(hashed: h) } catch { throw .store(error) }
        guard let bytes else { accountCache[a] = (nil, h); return nil }
        do {
            let account = try Account(canonicalBytes: bytes)
            accountCache[a] = (account, h)
            return account
        } catch {
            throw .corrupted("account \(a): \(error)")
        }
    }

    public func setAccount(_ a: Address, _ account: Account) {
        // The tree key was hashed when the account was read (accounts are read before written).
        let h = accountCache[a]?.key ?? StateKey.hash(StateKey.account(a))
        set(hashed: h, account.canonicalBytes)
        accountCache[a] = (account, h)
    }
}
