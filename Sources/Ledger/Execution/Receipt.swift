import ChainTypes

/// Something a transaction announced, for clients to filter on: who emitted it, up to four
/// 32-byte topics, and data.
public struct Event: Hashable, Sendable, CanonicalCodable {
    public static let maxTopics = 4
    public static let maxDataBytes = 4096

    public var emitter: Address
    public var topics: [Hash]
    public var data: [UInt8]

    public init(emitter: Address, topics: [Hash], data: [UInt8]) {
        precondition(topics.count <= Self.maxTopics && data.count <= Self.maxDataBytes, "event above its limits")
        self.emitter = emitter; self.topics = topics; self.data = data
    }

    /// The topic naming an event kind, e.g. `Event.topic("Transfer")`: SHA-256 of the name.
    public static func topic(_ name: String) -> Hash {
        name == "Transfer" ? transferTopic : SHA256.hash(utf8: name)
    }

    static let transferTopic = SHA256.hash(utf8: "Transfer")

    public func encode(to w: inout CanonicalWriter) {
        w.address(emitter)
        w.uvarint(topics.count)
        for t in topics { w.hash(t) }
        w.lengthPrefixed(data)
    }

    public init(from r: inout CanonicalReader) throws(DecodeError) {
        emitter = try r.address("emitter")
        let n = try r.count("topics", limit: Self.maxTopics)
        var topics: [Hash] = []
        for i in 0..<n { topics.append(try r.hash("topics[\(i)]")) }
        self.topics = topics
        data = try r.lengthPrefixed("data", limit: Self.maxDataBytes)
    }
}

/// The outcome of one transaction — or one scheduled call — in a block. A failed transaction
/// still consumes its nonce and gas, changes nothing else, and says why.
///
/// A scheduled call's receipt carries the call's `ScheduledCall.id` as `transactionHash`;
/// a block's receipts list the scheduled calls' first (see `BlockExecution`).
public struct Receipt: Hashable, Sendable, CanonicalCodable {
    public static let version: UInt8 = 1
    public static let maxEvents = 64

    public enum Status: Hashable, Sendable {
        case success
        case failure(code: String, message: String)
    }

    public var transactionHash: Hash
    public var status: Status
    public var gasUsed: UInt64
    public var events: [Event]

    /// Longest failure code and message a receipt keeps (longer ones are cut, so that every
    /// receipt the executor makes decodes again).
    public static let maxCodeBytes = 64
    public static let maxMessageBytes = 1024

    public init(transactionHash: Hash, status: Status, gasUsed: UInt64, events: [Event]) {
        precondition(events.count <= Self.maxEvents, "a receipt holds at most \(Self.maxEvents) events")
        self.transactionHash = transactionHash; self.gasUsed = gasUsed; self.events = events
        switch status {
        case .success: self.status = .success
        case .failure(let code, let message):
            self.status = .failure(code: Self.clamp(code, Self.maxCodeBytes), message: Self.clamp(message, Self.maxMessageBytes))
        }
    }

    /// `text` cut at a character boundary to at most `limit` UTF-8 bytes, ending in "…" when cut.
    static func clamp(_ text: String, _ limit: Int) -> String {
        guard text.utf8.count > limit else { return text }
        var kept = String.UnicodeScalarView()
        var bytes = 0
        for scalar in text.unicodeScalars {
            let n = String(scalar).utf8.count
            guard bytes + n <= limit - 3 else { break }
            kept.append(scalar)
            bytes += n
        }
        return String(kept) + "…"
    }

    public var succeeded: Bool { status == .success }

    public func encode(to w: inout CanonicalWriter) {
        w.byte(Self.version)
        w.hash(transactionHash)
        switch status {
        case .success: w.byte(0)
        case .failure(let code, let message):
            w.byte(1)
            w.string(code)
            w.string(message)
        }
        w.uvarint(gasUsed)
        w.list(events)
    }

    public init(from r: inout CanonicalReader) throws(DecodeError) {
        try r.version(Self.version)
        transactionHash = try r.hash("transaction_hash")
        let at = r.offset
        switch try r.byte("status") {
        case 0: status = .success
        case 1: status = .failure(code: try r.string("code", limit: Self.maxCodeBytes), message: try r.string("message", limit: Self.maxMessageBytes))
        case let t: throw r.error("status", .unknownTag(UInt64(t)), at: at)
        }
        gasUsed = try r.uvarint("gas_used")
        events = try r.list("events", limit: Self.maxEvents)
    }

    public var hash: Hash { SHA256.hash(canonicalBytes) }

    /// The header's receipts root: a Merkle root (RFC 6962 shape) over receipt hashes in order
    /// (scheduled calls' first, then transactions').
    public static func root(_ receipts: [Receipt]) -> Hash { MerkleTree.root(leaves: receipts.map(\.hash)) }

    /// The stored list of `receipts` (`ReceiptList`'s encoding) and their Merkle root, each
    /// receipt encoded once for both.
    static func encodeAll(_ receipts: [Receipt]) -> (list: [UInt8], root: Hash) {
        var w = CanonicalWriter(capacity: 64 + receipts.count * 160)
        w.uvarint(receipts.count)
        var hashes: [Hash] = []
        hashes.reserveCapacity(receipts.count)
        for receipt in receipts {
            let start = w.bytes.count
            receipt.encode(to: &w)
            hashes.append(SHA256.hash(w.bytes[start...]))
        }
        return (w.bytes, MerkleTree.root(leaves: hashes))
    }
}

/// The receipts of one block, stored under the block's height: the scheduled calls' first,
/// then the transactions'.
public struct ReceiptList: CanonicalCodable, Sendable {
    public var receipts: [Receipt]

    public func encode(to w: inout CanonicalWriter) { w.list(receipts) }

    public init(receipts: [Receipt]) { self.receipts = receipts }

    public init(from r: inout CanonicalReader) throws(DecodeError) {
        receipts = try r.list("receipts", limit: Limits.maxBlockTransactions + ScheduledCall.maxRunsPerBlock)
    }
}
