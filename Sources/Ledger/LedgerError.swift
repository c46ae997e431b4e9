import ChainTypes

/// Why the ledger refused to open, apply or answer. Opening refuses another chain's or a
/// newer schema's data directory, and a corrupted one, without writing anything. A refused
/// block is `.invalidBlock` with the rule it breaks; every other case is the store's or the
/// data directory's trouble, not the block's.
public enum LedgerError: Error, Equatable, Sendable, CustomStringConvertible {
    case store(StoreError)
    case corrupted(String)
    case wrongChain(expected: Hash, found: Hash)
    case newerSchema(found: UInt64, supported: UInt64)
    case olderSchema(found: UInt64, supported: UInt64)
    /// The block breaks a rule of the chain; nothing was written.
    case invalidBlock(BlockRejection)

    public var description: String {
        switch self {
        case .store(let e): "\(e)"
        case .corrupted(let why): "the data directory is corrupted: \(why)"
        case .wrongChain(let expected, let found):
            "the data directory belongs to the chain with genesis \(found), not \(expected); use another directory"
        case .newerSchema(let found, let supported):
            "the data directory has schema version \(found); this build reads up to \(supported) — upgrade hansa"
        case .olderSchema(let found, let supported):
            "the data directory has schema version \(found), written by an older hansa; this build reads \(supported) — sync a new directory from genesis"
        case .invalidBlock(let why): "invalid block: \(why)"
        }
    }
}
