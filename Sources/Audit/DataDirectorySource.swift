import ChainTypes
import HansaCrypto
import Ledger
import LevelDBStore

/// A node's data directory as an audit source, opened read-only (a private copy: the node
/// may keep running). It reads the key layout of docs/LEDGER.md with its own code — none of
/// the ledger's readers — and checks, besides the blocks, everything else the directory
/// keeps: the head pointer, the block and transaction indexes, the scheduled-call receipt
/// index, and at the end every state value, the scheduled-call index and every state-tree
/// page against the re-executed state.
public final class DataDirectorySource: AuditSource {
    /// The schema this auditor reads (docs/LEDGER.md "Key layout").
    public static let schema: UInt64 = 3
    public let path: String
    let store: LevelDBLedgerStore
    private var nextHeight: UInt64 = 1
    private var head: (height: UInt64, hash: Hash)?

    public var name: String { "the data directory \(path)" }

    /// Opens `path`. Refuses a directory that is not a Hansa data directory, one of another
    /// schema, and a development one whose blocks carry placeholder signatures.
    public init(path: String) throws(AuditError) {
        self.path = path
        do { store = try LevelDBLedgerStore.openReadOnly(path: path) } catch { throw .source("\(error)") }
        guard let schema = try get(Self.key("m/schema")), schema.count == 8 else {
            throw .source("\(path) is not a Hansa data directory (no m/schema)")
        }
        let version = Self.be64(schema[...])
        guard version == Self.schema else {
            throw .source("\(path) has data schema \(version); this auditor reads schema \(Self.schema)")
        }
        if let note = try get(Self.developmentKey) {
            throw .discrepancy(Discrepancy(.development, height: 0,
                                           "\(path) is a development data directory (\(String(decoding: note, as: UTF8.self))): its transactions carry placeholder signatures, which the rules refuse"))
        }
    }

    /// Written by `hansa dev ledger-writer` into the directories it fills.
    public static let developmentKey = key("m/development")

    static func key(_ text: String) -> [UInt8] { Array(text.utf8) }
    static func key(_ prefix: String, _ height: UInt64) -> [UInt8] { key(prefix) + be64Bytes(height) }
    static func be64Bytes(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> UInt64(56 - 8 * $0)) } }
    static func be64(_ b: ArraySlice<UInt8>) -> UInt64 { b.reduce(0) { $0 << 8 | UInt64($1) } }

    private func get(_ key: [UInt8]) throws(AuditError) -> [UInt8]? {
        do { return try store.get(key) } catch { throw .source("\(error)") }
    }

    public func genesisHash() throws(AuditError) -> Hash {
        guard let g = try get(Self.key("m/genesis")), let h = Hash(bytes: g) else { throw .source("\(path) has no genesis hash (m/genesis)") }
        if let encoded = try get(Self.key("m/genesis-encoded")), SHA256.hash(encoded) != h {
            throw .discrepancy(Discrepancy(.storedState, height: 0, "the genesis stored in \(path) (m/genesis-encoded) does not hash to its genesis hash \(h.hex)"))
        }
        return h
    }

    /// The genesis the directory stores (m/genesis-encoded), if it has one.
    public func storedGenesis() throws(AuditError) -> Genesis? {
        guard let encoded = try get(Self.key("m/genesis-encoded")) else { return nil }
        do { return try Genesis(canonicalBytes: encoded) } catch { throw .source("the genesis stored in \(path) does not decode: \(error)") }
    }

    public func genesisStateRoot() throws(AuditError) -> Hash? {
        guard let r = try get(Self.key("m/genesis-state-root")) else { return nil }
        guard let h = Hash(bytes: r) else { throw .discrepancy(Discrepancy(.storedState, height: 0, "m/genesis-state-root has \(r.count) bytes")) }
        return h
    }

    public func headHeight() throws(AuditError) -> UInt64 {
        guard let h = try get(Self.key("m/head")), h.count == 40 else {
            throw .discrepancy(Discrepancy(.head, height: 0, "\(path) has no head pointer of 40 bytes (m/head)"))
        }
        let head = (Self.be64(h[0..<8]), Hash(bytes: h[8..<40])!)
        self.head = head
        return head.0
    }

    public func next() throws(AuditError) -> SourceBlock? {
        let height = nextHeight
        guard let block = try get(Self.key("b/", height)) else {
            // Past the head the directory has no blocks; a block missing below it is a gap.
            if let head, height <= head.height {
                throw .discrepancy(Discrepancy(.height, height: height, "\(path) has no block at height \(height) below its head \(head.height)"))
            }
            return nil
        }
        guard let receipts = try get(Self.key("r/", height)) else {
            throw .discrepancy(Discrepancy(.receipt, height: height, "\(path) holds block \(height) without its receipts (r/)"))
        }
        nextHeight += 1
        return SourceBlock(height: height, block: block, certificate: try get(Self.key("c/", height)), receipts: receipts)
    }

    public func check(verified block: Block, changes: BlockChanges) throws(AuditError) {
        let height = block.header.height
        func fail(_ message: String, tx: Int? = nil) -> AuditError {
            .discrepancy(Discrepancy(.index, height: height,
                                     transaction: tx.map { Discrepancy.TransactionRef(index: $0, hash: block.transactions[$0].hash) }, message))
        }
        guard let h = try get(Self.key("h/") + block.hash.bytes), h == Self.be64Bytes(height) else {
            throw fail("the block index h/\(block.hash.hex) does not give height \(height)")
        }
        for (i, tx) in block.transactions.enumerated() {
            guard let t = try get(Self.key("t/") + tx.hash.bytes), t == Self.be64Bytes(height) + Self.be64Bytes(UInt64(i)) else {
                throw fail("the transaction index t/\(tx.hash.hex) does not give (height \(height), index \(i))", tx: i)
            }
        }
        for (i, call) in changes.scheduledCalls.enumerated() {
            let want = Self.be64Bytes(height) + Self.be64Bytes(UInt64(i)) + call.canonicalBytes
            guard let d = try get(Self.key("d/") + call.id.bytes), d == want else {
                throw fail("the scheduled-call index d/\(call.id.hex) does not give (height \(height), receipt \(i), the call)")
            }
        }
    }

    public func finish(_ chain: VerifiedChain) throws(AuditError) {
        let at = chain.height
        guard let head, head.height == chain.height, head.hash == chain.hash else {
            throw .discrepancy(Discrepancy(.head, height: at, "the head pointer m/head does not name the last block \(chain.hash.hex)"))
        }
        // Every state value, each exactly once, as re-executed.
        try compareEntries("v/", "state value", expectedCount: chain.state.values.count, at: at) { key in
            guard key.count == 34, let h = Hash(bytes: key[2...]) else { return ("under a key of \(key.count) bytes", nil) }
            return ("under \(h.hex)", chain.state.values[h])
        }
        // The scheduled-call index.
        var index: [[UInt8]: [UInt8]] = [:]
        try scan("s/") { key, value in index[key] = value; return true }
        let wantIndex = chain.state.others.filter { $0.key.starts(with: Self.key("s/")) }
        guard index == wantIndex else {
            throw .discrepancy(Discrepancy(.storedState, height: at,
                                           "the scheduled-call index s/ holds \(index.count) entries that differ from the re-executed \(wantIndex.count)"))
        }
        // The state tree's pages.
        var pages: [[UInt8]: [UInt8]] = [:]
        chain.state.tree.expectedPages { key, value in pages[Self.key("n/") + key] = value }
        try compareEntries("n/", "state-tree page", expectedCount: pages.count, at: at) { key in (Hex.encode(key), pages[key]) }
    }

    /// Checks that every entry under `prefix` is the one `expected` gives for its key (its
    /// name in messages and the value the re-executed state needs there, nil for none), and
    /// that there are `expectedCount` of them: the first difference is a `stored_state`
    /// discrepancy at height `at`.
    private func compareEntries(_ prefix: String, _ what: String, expectedCount: Int, at: UInt64,
                                _ expected: ([UInt8]) -> (name: String, value: [UInt8]?)) throws(AuditError) {
        var seen = 0
        var problem: String?
        try scan(prefix) { key, value in
            let (name, want) = expected(key)
            guard let want else {
                problem = "the directory holds a \(what) \(name) that the re-executed state has no place for"
                return false
            }
            guard want == value else {
                problem = "the \(what) \(name) differs from the re-executed state's (\(value.count) bytes stored, \(want.count) re-executed)"
                return false
            }
            seen += 1
            return true
        }
        if problem == nil, seen != expectedCount {
            problem = "the directory holds \(seen) entries of \(prefix) (\(what)s); the re-executed state needs \(expectedCount)"
        }
        if let problem { throw .discrepancy(Discrepancy(.storedState, height: at, problem)) }
    }

    private func scan(_ prefix: String, _ body: ([UInt8], [UInt8]) -> Bool) throws(AuditError) {
        do { try store.scan(prefix: Self.key(prefix), from: nil, body) } catch { throw .source("\(error)") }
    }
}
