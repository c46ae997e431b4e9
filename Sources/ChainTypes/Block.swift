/// A block header. The block's hash is SHA-256 of the header's canonical encoding; the
/// header commits to the transactions, the state after them and their receipts.
public struct BlockHeader: Hashable, Sendable, CanonicalCodable {
    public static let version: UInt8 = 1

    /// 1 for the first block after genesis.
    public var height: UInt64
    /// The hash of the block at `height - 1`, or the genesis hash at height 1.
    public var previousHash: Hash
    /// The proposer's clock, milliseconds since 1970-01-01T00:00:00Z (UTC). Replicas bound it.
    public var timestampMillis: UInt64
    /// Merkle root over the hashes of the block's transactions (docs/PROTOCOL.md §5).
    public var transactionsRoot: Hash
    /// Root of the authenticated state after executing this block.
    public var stateRoot: Hash
    /// Merkle root over the hashes of the receipts, in transaction order.
    public var receiptsRoot: Hash
    /// The validator that proposed this block.
    public var proposer: Address
    /// The PBFT view in which the block was proposed.
    public var view: UInt64

    public init(height: UInt64, previousHash: Hash, timestampMillis: UInt64, transactionsRoot: Hash,
                stateRoot: Hash, receiptsRoot: Hash, proposer: Address, view: UInt64) {
        self.height = height; self.previousHash = previousHash; self.timestampMillis = timestampMillis
        self.transactionsRoot = transactionsRoot; self.stateRoot = stateRoot; self.receiptsRoot = receiptsRoot
        self.proposer = proposer; self.view = view
    }

    public func encode(to w: inout CanonicalWriter) {
        w.header(.blockHeader, version: Self.version)
        w.uvarint(height)
        w.hash(previousHash)
        w.uvarint(timestampMillis)
        w.hash(transactionsRoot)
        w.hash(stateRoot)
        w.hash(receiptsRoot)
        w.address(proposer)
        w.uvarint(view)
    }

    public init(from r: inout CanonicalReader) throws(DecodeError) {
        _ = try r.header(.blockHeader, versions: Self.version...Self.version)
        height = try r.uvarint("height")
        previousHash = try r.hash("previous_hash")
        timestampMillis = try r.uvarint("timestamp_ms")
        transactionsRoot = try r.hash("transactions_root")
        stateRoot = try r.hash("state_root")
        receiptsRoot = try r.hash("receipts_root")
        proposer = try r.address("proposer")
        view = try r.uvarint("view")
    }

    public var hash: Hash { SHA256.hash(canonicalBytes) }
}

/// A header and its transactions in order.
public struct Block: Hashable, Sendable, CanonicalCodable {
    public static let version: UInt8 = 1

    public var header: BlockHeader
    public var transactions: [Transaction]

    public init(header: BlockHeader, transactions: [Transaction]) {
        precondition(transactions.count <= Limits.maxBlockTransactions, "block above Limits.maxBlockTransactions")
        self.header = header
        self.transactions = transactions
    }

    public func encode(to w: inout CanonicalWriter) {
        w.header(.block, version: Self.version)
        w.value(header)
        w.list(transactions)
    }

    public init(from r: inout CanonicalReader) throws(DecodeError) {
        _ = try r.header(.block, versions: Self.version...Self.version)
        header = try r.value("header")
        transactions = try r.list("transactions", limit: Limits.maxBlockTransactions)
    }

    public var hash: Hash { header.hash }

    /// The header of an encoded block, without decoding its transactions (the rest of the
    /// bytes are not checked).
    public static func header(ofEncoded bytes: [UInt8]) throws(DecodeError) -> BlockHeader {
        var r = CanonicalReader(bytes, root: "block")
        _ = try r.header(.block, versions: version...version)
        return try r.value("header")
    }

    /// `canonicalBytes.count`, without copying the transactions' bytes into a new encoding.
    public var encodedByteCount: Int {
        var w = CanonicalWriter(capacity: 512)
        w.header(.block, version: Self.version)
        w.value(header)
        w.uvarint(transactions.count)
        return transactions.reduce(w.bytes.count) { $0 + $1.encoded.count }
    }

    /// The Merkle root the header must carry for these transactions.
    public static func transactionsRoot(_ transactions: [Transaction]) -> Hash {
        MerkleTree.root(leaves: transactions.map(\.hash))
    }
}
