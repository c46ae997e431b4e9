/// Why the store failed. The ledger maps these into its own errors; nothing is half-written:
/// every change of a block goes through one `StoreBatch`.
public struct StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    public let operation: String
    public let message: String

    public init(operation: String, message: String) {
        self.operation = operation
        self.message = message
    }

    public var description: String { "store \(operation) failed: \(message)" }
}

/// Writes applied together by `KeyValueStore.write`: after a crash either all of them are
/// visible or none.
public struct StoreBatch: Sendable {
    public enum Operation: Sendable, Equatable {
        case put([UInt8], [UInt8])
        case delete([UInt8])
    }

    public private(set) var operations: [Operation] = []
    public private(set) var byteCount = 0

    public init() {}

    public mutating func put(_ key: [UInt8], _ value: [UInt8]) {
        operations.append(.put(key, value))
        byteCount += key.count + value.count
    }

    public mutating func delete(_ key: [UInt8]) {
        operations.append(.delete(key))
        byteCount += key.count
    }

    public var isEmpty: Bool { operations.isEmpty }
}

/// The ledger's view of storage: an ordered byte-keyed map with atomic batches.
/// `LevelDBStore` provides the durable one; `MemoryStore` serves tests and tools.
public protocol KeyValueStore: AnyObject {
    func get(_ key: [UInt8]) throws(StoreError) -> [UInt8]?
    /// Applies `batch` atomically; with `sync`, durable (fsync'd) before returning.
    func write(_ batch: StoreBatch, sync: Bool) throws(StoreError)
    /// Keys beginning with `prefix`, in byte order, from `start` on, until `body` returns false.
    func scan(prefix: [UInt8], from start: [UInt8]?, _ body: (_ key: [UInt8], _ value: [UInt8]) -> Bool) throws(StoreError)
}

/// An in-memory store with the same semantics (tests, tools, the simulator).
public final class MemoryStore: KeyValueStore {
    public private(set) var entries: [[UInt8]: [UInt8]] = [:]
    public private(set) var writes = 0

    public init() {}

    public func get(_ key: [UInt8]) throws(StoreError) -> [UInt8]? { entries[key] }

    public func write(_ batch: StoreBatch, sync: Bool) throws(StoreError) {
        writes += 1
        for op in batch.operations {
            switch op {
            case .put(let k, let v): entries[k] = v
            case .delete(let k): entries.removeValue(forKey: k)
            }
        }
    }

    public func scan(prefix: [UInt8], from start: [UInt8]?, _ body: ([UInt8], [UInt8]) -> Bool) throws(StoreError) {
        Self.scan(entries, prefix: prefix, from: start, body)
    }

    /// A scan of an in-memory map, in byte order (this store's and its frozen snapshot's).
    static func scan(_ entries: [[UInt8]: [UInt8]], prefix: [UInt8], from start: [UInt8]?, _ body: ([UInt8], [UInt8]) -> Bool) {
        let keys = entries.keys.filter { key in
            key.starts(with: prefix) && (start.map { !key.lexicographicallyPrecedes($0) } ?? true)
        }.sorted { $0.lexicographicallyPrecedes($1) }
        for k in keys where !body(k, entries[k]!) { return }
    }
}
