import Foundation
import Ledger
import LevelDBStore
import Testing

@Suite("LevelDB wrapper")
struct LevelDBTests {
    static func tempPath() -> String { NSTemporaryDirectory() + "hansa-leveldb-" + UUID().uuidString }

    @Test func putGetDelete() throws {
        let path = Self.tempPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let db = try LevelDB(path: path)
        #expect(try db.get([1]) == nil)
        try db.put([1], [10, 11], sync: true)
        #expect(try db.get([1]) == [10, 11])
        try db.put([2], [], sync: false)
        #expect(try db.get([2]) == [])
        try db.delete([1])
        #expect(try db.get([1]) == nil)
    }

    @Test func batchIsAtomicAndSurvivesReopen() throws {
        let path = Self.tempPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let db = try LevelDB(path: path)
            var batch = StoreBatch()
            for i: UInt8 in 0..<100 { batch.put([7, i], [i, i]) }
            batch.delete([7, 50])
            try db.write(batch, sync: true)
        }
        let db = try LevelDB(path: path)
        #expect(try db.get([7, 49]) == [49, 49])
        #expect(try db.get([7, 50]) == nil)
    }

    @Test func scanVisitsPrefixInOrderWithLimit() throws {
        let path = Self.tempPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let db = try LevelDB(path: path)
        var batch = StoreBatch()
        for i: UInt8 in [5, 1, 3] { batch.put([9, i], [i]) }
        batch.put([8, 0], [0])
        batch.put([10, 0], [0])
        try db.write(batch, sync: false)
        var seen: [[UInt8]] = []
        try db.scan(prefix: [9]) { key, _ in seen.append(key); return true }
        #expect(seen == [[9, 1], [9, 3], [9, 5]])
        seen = []
        try db.scan(prefix: [9], from: [9, 2], limit: 1) { key, _ in seen.append(key); return true }
        #expect(seen == [[9, 3]])
    }

    @Test func errorIfExistsAndUnopenablePathsAreTypedErrors() throws {
        let path = Self.tempPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try LevelDB(path: path)
        var options = LevelDB.Options()
        options.errorIfExists = true
        #expect(throws: LevelDBError.self) { _ = try LevelDB(path: path, options: options) }
        #expect(throws: LevelDBError.self) { _ = try LevelDB(path: "/proc/hansa-cannot-create-here") }
    }

    @Test func corruptedDatabaseIsRefusedWithLevelDBsMessage() throws {
        let path = Self.tempPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let db = try LevelDB(path: path)
            try db.put([1], [2], sync: true)
        }
        // Overwrite the manifest pointer with garbage.
        try Data("garbage\n".utf8).write(to: URL(fileURLWithPath: path + "/CURRENT"))
        do {
            _ = try LevelDB(path: path)
            Issue.record("corrupted database opened")
        } catch {
            #expect(error.operation == "open")
            #expect(!error.message.isEmpty)
        }
    }
}
