import Foundation
import Ledger

/// The ledger's `KeyValueStore` on LevelDB: a block's batch becomes one LevelDB WriteBatch,
/// synced, so it is all or nothing across a crash.
///
/// Two ways to read without writing: `readSnapshot()` — a consistent view for readers beside
/// the one writer (RPC, sync serving) — and `openReadOnly(path:)` — a data directory opened
/// by an auditor or a tool, which is never written, not even when it is empty.
public final class LevelDBLedgerStore: KeyValueStore, SnapshotProviding {
    public let db: LevelDB
    /// Whether writes are refused (the store was opened with `openReadOnly`).
    public let isReadOnly: Bool

    /// Opens (creating if needed) the database at `path`. A corrupted database fails here
    /// with LevelDB's own message; nothing is repaired or overwritten.
    public init(path: String) throws(StoreError) {
        do { db = try LevelDB(path: path) } catch { throw StoreError(operation: "open \(path)", message: error.message) }
        isReadOnly = false
    }

    private init(readOnly db: LevelDB) {
        self.db = db
        isReadOnly = true
    }

    public func get(_ key: [UInt8]) throws(StoreError) -> [UInt8]? {
        do { return try db.get(key) } catch { throw StoreError(operation: "get", message: error.message) }
    }

    public func write(_ batch: StoreBatch, sync: Bool) throws(StoreError) {
        guard !isReadOnly else { throw ReadOnlyStore.refusal }
        do { try db.write(batch, sync: sync) } catch { throw StoreError(operation: "write", message: error.message) }
    }

    public func scan(prefix: [UInt8], from start: [UInt8]?, _ body: ([UInt8], [UInt8]) -> Bool) throws(StoreError) {
        do { try db.scan(prefix: prefix, from: start, body) } catch { throw StoreError(operation: "scan", message: error.message) }
    }

    public func readSnapshot() -> any KeyValueStore & Sendable { LevelDBSnapshotStore(LevelDBSnapshot(of: db)) }

    /// Opens the data directory at `path` without ever writing to it: LevelDB writes even when
    /// it only reads (a lock, a new log, compactions), so this opens a private copy — table
    /// files hard-linked (LevelDB never changes one once written), the small rest copied — in
    /// the temporary directory, removed when the database closes (after the last snapshot
    /// of it). A node may be running on `path` meanwhile: a copy caught mid-compaction is
    /// retried. A missing directory or one without a database is refused, and nothing is
    /// created.
    public static func openReadOnly(path: String) throws(StoreError) -> LevelDBLedgerStore {
        let fm = FileManager.default
        guard fm.fileExists(atPath: path + "/CURRENT") else {
            throw StoreError(operation: "open \(path) read-only", message: "there is no LevelDB database here (no CURRENT file); nothing was created")
        }
        var last = ""
        for _ in 0..<3 {
            let copy = NSTemporaryDirectory() + "hansa-read-only-" + UUID().uuidString
            do {
                try privateCopy(of: path, into: copy)
                var options = LevelDB.Options()
                options.createIfMissing = false
                options.removeDirectoryWhenClosed = true
                return LevelDBLedgerStore(readOnly: try LevelDB(path: copy, options: options))
            } catch {
                last = "\(error)"
                try? fm.removeItem(atPath: copy)
            }
        }
        throw StoreError(operation: "open \(path) read-only", message: last)
    }

    private static func privateCopy(of path: String, into copy: String) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: copy, withIntermediateDirectories: false)
        for name in try fm.contentsOfDirectory(atPath: path) where name != "LOCK" {
            let from = path + "/" + name, to = copy + "/" + name
            if name.hasSuffix(".ldb") || name.hasSuffix(".sst") {
                do { try fm.linkItem(atPath: from, toPath: to) } catch { try fm.copyItem(atPath: from, toPath: to) }
            } else {
                try fm.copyItem(atPath: from, toPath: to)
            }
        }
    }
}

/// A LevelDB snapshot as a read-only `KeyValueStore`.
final class LevelDBSnapshotStore: KeyValueStore, Sendable {
    let snapshot: LevelDBSnapshot
    init(_ snapshot: LevelDBSnapshot) { self.snapshot = snapshot }

    func get(_ key: [UInt8]) throws(StoreError) -> [UInt8]? {
        do { return try snapshot.get(key) } catch { throw StoreError(operation: "get", message: error.message) }
    }

    func write(_ batch: StoreBatch, sync: Bool) throws(StoreError) { throw ReadOnlyStore.refusal }

    func scan(prefix: [UInt8], from start: [UInt8]?, _ body: ([UInt8], [UInt8]) -> Bool) throws(StoreError) {
        do { try snapshot.scan(prefix: prefix, from: start, body) } catch { throw StoreError(operation: "scan", message: error.message) }
    }
}
