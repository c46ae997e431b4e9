import CLevelDB
import Foundation
import Ledger

/// Why LevelDB refused an operation; `message` is LevelDB's own text (e.g. "Corruption: …").
public struct LevelDBError: Error, Equatable, Sendable, CustomStringConvertible {
    public let operation: String
    public let path: String
    public let message: String

    public var description: String { "LevelDB \(operation) failed for \(path): \(message)" }
}

/// A thin, safe wrapper over LevelDB's C API: open, get, put, delete, atomic batches,
/// ordered scans. The only place in Hansa that touches LevelDB's pointers.
///
/// Invariant: `handle` is open from `init` until `deinit`. LevelDB documents a `leveldb_t`
/// as safe for concurrent use, hence `@unchecked Sendable`.
public final class LevelDB: @unchecked Sendable {
    public let path: String
    fileprivate let handle: OpaquePointer
    private let options: OpaquePointer
    private let readOptions: OpaquePointer
    private let syncWrite: OpaquePointer
    private let asyncWrite: OpaquePointer

    public struct Options: Sendable {
        public var createIfMissing = true
        /// Fail if the database already exists (used when a directory must be new).
        public var errorIfExists = false
        /// Checks that detect corruption early (LevelDB's `paranoid_checks`).
        public var paranoidChecks = true
        public var writeBufferBytes = 4 * 1024 * 1024
        public var blockCacheBytes = 8 * 1024 * 1024
        /// Bits per key of the Bloom filter kept with each table (0: none). Without one, a read
        /// of an absent key searches every level: the state tree's update reads many absent
        /// nodes, and contracts read unset slots, so this made writes ~2× and absent reads ~3×
        /// dearer (`hansa bench gas --store leveldb`). Tables written before get theirs when compacted.
        public var bloomFilterBitsPerKey: Int32 = 10
        /// Remove the database's directory when it closes (the private copy of a read-only
        /// open: it lives exactly as long as the database, snapshots included).
        public var removeDirectoryWhenClosed = false
        public init() {}
    }

    private let cache: OpaquePointer?
    private let filter: OpaquePointer?
    private let removeDirectoryWhenClosed: Bool

    public init(path: String, options opts: Options = Options()) throws(LevelDBError) {
        self.path = path
        let options = leveldb_options_create()!
        leveldb_options_set_create_if_missing(options, opts.createIfMissing ? 1 : 0)
        leveldb_options_set_error_if_exists(options, opts.errorIfExists ? 1 : 0)
        leveldb_options_set_paranoid_checks(options, opts.paranoidChecks ? 1 : 0)
        leveldb_options_set_write_buffer_size(options, opts.writeBufferBytes)
        let cache = leveldb_cache_create_lru(opts.blockCacheBytes)
        leveldb_options_set_cache(options, cache)
        let filter = opts.bloomFilterBitsPerKey > 0 ? leveldb_filterpolicy_create_bloom(opts.bloomFilterBitsPerKey) : nil
        if let filter { leveldb_options_set_filter_policy(options, filter) }
        var err: UnsafeMutablePointer<CChar>? = nil
        let db = leveldb_open(options, path, &err)
        if let message = LevelDB.take(err) {
            leveldb_options_destroy(options)
            if let cache { leveldb_cache_destroy(cache) }
            if let filter { leveldb_filterpolicy_destroy(filter) }
            throw LevelDBError(operation: "open", path: path, message: message)
        }
        self.handle = db!
        self.options = options
        self.removeDirectoryWhenClosed = opts.removeDirectoryWhenClosed
        self.cache = cache
        self.filter = filter
        readOptions = leveldb_readoptions_create()!
        leveldb_readoptions_set_verify_checksums(readOptions, 1)
        syncWrite = leveldb_writeoptions_create()!
        leveldb_writeoptions_set_sync(syncWrite, 1)
        asyncWrite = leveldb_writeoptions_create()!
    }

    deinit {
        leveldb_close(handle)
        if removeDirectoryWhenClosed { try? FileManager.default.removeItem(atPath: path) }
        leveldb_options_destroy(options)
        if let cache { leveldb_cache_destroy(cache) }
        if let filter { leveldb_filterpolicy_destroy(filter) }
        leveldb_readoptions_destroy(readOptions)
        leveldb_writeoptions_destroy(syncWrite)
        leveldb_writeoptions_destroy(asyncWrite)
    }

    /// Frees a LevelDB error string and returns its text.
    private static func take(_ err: UnsafeMutablePointer<CChar>?) -> String? {
        guard let err else { return nil }
        defer { leveldb_free(err) }
        return String(cString: err)
    }

    public func get(_ key: [UInt8]) throws(LevelDBError) -> [UInt8]? { try get(key, options: readOptions) }

    fileprivate func get(_ key: [UInt8], options readOptions: OpaquePointer) throws(LevelDBError) -> [UInt8]? {
        var length = 0
        var err: UnsafeMutablePointer<CChar>? = nil
        let value = key.withUnsafeBufferPointer { k in
            k.withMemoryRebound(to: CChar.self) { leveldb_get(handle, readOptions, $0.baseAddress, $0.count, &length, &err) }
        }
        if let message = LevelDB.take(err) { throw LevelDBError(operation: "get", path: path, message: message) }
        guard let value else { return nil }
        defer { leveldb_free(value) }
        return value.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
    }

    public func put(_ key: [UInt8], _ value: [UInt8], sync: Bool = false) throws(LevelDBError) {
        var batch = StoreBatch()
        batch.put(key, value)
        try write(batch, sync: sync)
    }

    public func delete(_ key: [UInt8], sync: Bool = false) throws(LevelDBError) {
        var batch = StoreBatch()
        batch.delete(key)
        try write(batch, sync: sync)
    }

    /// Applies every operation of `batch` atomically: after a crash either all or none are
    /// visible. With `sync`, returns only after the log is on stable storage (fsync).
    public func write(_ batch: StoreBatch, sync: Bool) throws(LevelDBError) {
        let wb = leveldb_writebatch_create()!
        defer { leveldb_writebatch_destroy(wb) }
        for op in batch.operations {
            switch op {
            case .put(let k, let v):
                k.withUnsafeBufferPointer { kp in
                    v.withUnsafeBufferPointer { vp in
                        kp.withMemoryRebound(to: CChar.self) { kc in
                            vp.withMemoryRebound(to: CChar.self) { vc in
                                leveldb_writebatch_put(wb, kc.baseAddress, kc.count, vc.baseAddress, vc.count)
                            }
                        }
                    }
                }
            case .delete(let k):
                k.withUnsafeBufferPointer { kp in
                    kp.withMemoryRebound(to: CChar.self) { leveldb_writebatch_delete(wb, $0.baseAddress, $0.count) }
                }
            }
        }
        var err: UnsafeMutablePointer<CChar>? = nil
        leveldb_write(handle, sync ? syncWrite : asyncWrite, wb, &err)
        if let message = LevelDB.take(err) { throw LevelDBError(operation: "write", path: path, message: message) }
    }

    /// Visits keys ≥ `start` that begin with `prefix`, in byte order, until `body` returns
    /// false or `limit` entries were visited.
    public func scan(prefix: [UInt8], from start: [UInt8]? = nil, limit: Int = .max,
                     _ body: (_ key: [UInt8], _ value: [UInt8]) -> Bool) throws(LevelDBError) {
        try scan(prefix: prefix, from: start, limit: limit, options: readOptions, body)
    }

    fileprivate func scan(prefix: [UInt8], from start: [UInt8]?, limit: Int, options readOptions: OpaquePointer,
                          _ body: (_ key: [UInt8], _ value: [UInt8]) -> Bool) throws(LevelDBError) {
        let it = leveldb_create_iterator(handle, readOptions)!
        defer { leveldb_iter_destroy(it) }
        let seekKey = start.map { prefix.lexicographicallyPrecedes($0) ? $0 : prefix } ?? prefix
        seekKey.withUnsafeBufferPointer { kp in
            kp.withMemoryRebound(to: CChar.self) { leveldb_iter_seek(it, $0.baseAddress, $0.count) }
        }
        var visited = 0
        while visited < limit, leveldb_iter_valid(it) != 0 {
            let key = LevelDB.bytes { leveldb_iter_key(it, &$0) }
            guard key.starts(with: prefix) else { break }
            let value = LevelDB.bytes { leveldb_iter_value(it, &$0) }
            visited += 1
            guard body(key, value) else { break }
            leveldb_iter_next(it)
        }
        var err: UnsafeMutablePointer<CChar>? = nil
        leveldb_iter_get_error(it, &err)
        if let message = LevelDB.take(err) { throw LevelDBError(operation: "scan", path: path, message: message) }
    }

    /// Copies the bytes an iterator accessor points at (valid only until the iterator moves).
    private static func bytes(_ accessor: (inout Int) -> UnsafePointer<CChar>?) -> [UInt8] {
        var length = 0
        guard let p = accessor(&length), length > 0 else { return [] }
        return p.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
    }

    /// LevelDB's own statistics text (`leveldb.stats`), for operators and benchmarks.
    public func property(_ name: String) -> String? {
        guard let p = leveldb_property_value(handle, name) else { return nil }
        defer { leveldb_free(p) }
        return String(cString: p)
    }
}

/// A consistent, read-only view of a `LevelDB` at the moment it was taken (LevelDB's own
/// snapshot): later writes are invisible to it, and reading it never blocks a writer. Safe to
/// use from any thread (LevelDB snapshots and reads are thread-safe), hence `@unchecked Sendable`.
///
/// Invariant: the database outlives the snapshot (it holds a strong reference), and the
/// snapshot is released exactly once, in `deinit`.
public final class LevelDBSnapshot: @unchecked Sendable {
    public let db: LevelDB
    private let snapshot: OpaquePointer
    private let readOptions: OpaquePointer

    public init(of db: LevelDB) {
        self.db = db
        snapshot = leveldb_create_snapshot(db.handle)!
        readOptions = leveldb_readoptions_create()!
        leveldb_readoptions_set_verify_checksums(readOptions, 1)
        leveldb_readoptions_set_snapshot(readOptions, snapshot)
    }

    deinit {
        leveldb_readoptions_destroy(readOptions)
        leveldb_release_snapshot(db.handle, snapshot)
    }

    public func get(_ key: [UInt8]) throws(LevelDBError) -> [UInt8]? { try db.get(key, options: readOptions) }

    public func scan(prefix: [UInt8], from start: [UInt8]? = nil, limit: Int = .max,
                     _ body: (_ key: [UInt8], _ value: [UInt8]) -> Bool) throws(LevelDBError) {
        try db.scan(prefix: prefix, from: start, limit: limit, options: readOptions, body)
    }
}
