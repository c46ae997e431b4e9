import Ledger

/// The ledger's `KeyValueStore` on LevelDB: a block's batch becomes one LevelDB WriteBatch,
/// synced, so it is all or nothing across a crash.
public final class LevelDBLedgerStore: KeyValueStore {
    public let db: LevelDB

    /// Opens (creating if needed) the database at `path`. A corrupted database fails here
    /// with LevelDB's own message; nothing is repaired or overwritten.
    public init(path: String) throws(StoreError) {
        do { db = try LevelDB(path: path) } catch { throw StoreError(operation: "open \(path)", message: error.message) }
    }

    public func get(_ key: [UInt8]) throws(StoreError) -> [UInt8]? {
        do { return try db.get(key) } catch { throw StoreError(operation: "get", message: error.message) }
    }

    public func write(_ batch: StoreBatch, sync: Bool) throws(StoreError) {
        do { try db.write(batch, sync: sync) } catch { throw StoreError(operation: "write", message: error.message) }
    }

    public func scan(prefix: [UInt8], from start: [UInt8]?, _ body: ([UInt8], [UInt8]) -> Bool) throws(StoreError) {
        do { try db.scan(prefix: prefix, from: start, body) } catch { throw StoreError(operation: "scan", message: error.message) }
    }
}
