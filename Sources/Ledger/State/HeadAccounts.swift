import ChainTypes

/// Decoded accounts of the ledger's **head** state, by tree key, shared by the executions the
/// ledger runs on its head (validating, proposing): an account read and decoded in one block
/// is not read and decoded again in the next.
///
/// Invariant: every entry is the account that the head state holds under its key. Entries
/// are added only from reads of the head state (a key the block has not written), replaced
/// or dropped only when a block commits (`commit`), and everything is dropped when a commit
/// fails (the store may hold the batch or not). At most 2 × `capacity` entries (two
/// generations), so memory stays bounded.
public final class HeadAccounts {
    public let capacity: Int
    private var current: [Hash: Account] = [:]
    private var previous: [Hash: Account] = [:]

    public init(capacity: Int = 50_000) {
        precondition(capacity > 0, "a head-account cache needs room")
        self.capacity = capacity
    }

    /// Entries held in both generations (tests: the bound).
    var count: Int { current.count + previous.count }

    func account(_ key: Hash) -> Account? {
        if let hit = current[key] { return hit }
        guard let hit = previous[key] else { return nil }
        remember(key, hit)
        return hit
    }

    /// An account read from the head state (not from a block's own writes).
    func remember(_ key: Hash, _ account: Account) {
        if current.count >= capacity {
            previous = current
            current.removeAll(keepingCapacity: true)
        }
        current[key] = account
    }

    /// A block committed: every state key it changed is dropped, then the accounts it wrote
    /// (decoded as they were written) are the head's.
    func commit(changed: some Sequence<Hash>, accounts: [Hash: Account]) {
        for key in changed {
            current.removeValue(forKey: key)
            previous.removeValue(forKey: key)
        }
        for (key, account) in accounts { remember(key, account) }
    }

    /// Forgets everything (a commit whose outcome on disk is unknown).
    func clear() {
        current.removeAll()
        previous.removeAll()
    }
}
