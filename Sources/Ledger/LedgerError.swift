import ChainTypes

/// Why the ledger refused to open, apply or answer. Opening refuses another chain's or a
/// newer schema's data directory, and a corrupted one, without writing anything.
public enum LedgerError: Error, Equatable, Sendable, CustomStringConvertible {
    case store(StoreError)
    case corrupted(String)
    case wrongChain(expected: Hash, found: Hash)
    case newerSchema(found: UInt64, supported: UInt64)
    case olderSchema(found: UInt64, supported: UInt64)
    case invalidBlock(String)
    case invalidTransaction(index: Int, TransactionError)

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
        case .invalidTransaction(let i, let e): "invalid block: transaction \(i): \(e)"
        }
    }
}
