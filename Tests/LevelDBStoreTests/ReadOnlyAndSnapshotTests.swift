import ChainTypes
import Foundation
import HansaTestSupport
import Ledger
import LevelDBStore
import Testing

/// The concurrency model's storage side (docs/LEDGER.md "Concurrency model"): readers beside
/// the one writer read snapshots; auditors and tools open a data directory read-only, and it
/// is never written — not even when it is empty or missing.
@Suite("Read-only directories and snapshots")
struct ReadOnlyAndSnapshotTests {
    static func temporary(_ label: String) -> String { NSTemporaryDirectory() + "hansa-\(label)-" + UUID().uuidString }

    /// Every file of `dir` with its size, modification time and SHA-256.
    static func fingerprint(_ dir: String) throws -> [String: String] {
        let fm = FileManager.default
        var out: [String: String] = [:]
        for name in try fm.contentsOfDirectory(atPath: dir) {
            let attributes = try fm.attributesOfItem(atPath: dir + "/" + name)
            let data = fm.contents(atPath: dir + "/" + name) ?? Data()
            out[name] = "\(attributes[.size] ?? 0) \(attributes[.modificationDate] ?? 0) \(SHA256.hash([UInt8](data)).hex)"
        }
        return out
    }

    /// A directory holding a dev chain of `blocks` blocks of transfers.
    static func chain(blocks: UInt64) throws -> (String, DevChain) {
        let dir = temporary("chain")
        let dev = DevChain(users: 64)
        let ledger = try Ledger(store: try LevelDBLedgerStore(path: dir), genesis: dev.genesis)
        ledger.setSignatureChecks(false)
        try dev.writeTransferBlocks(to: ledger, until: blocks, transfersPerBlock: 20) { _ in }
        return (dir, dev)
    }

    @Test("a data directory opened read-only answers queries and is not changed by a byte")
    func readOnlyDirectoryIsNeverWritten() throws {
        let (dir, dev) = try Self.chain(blocks: 5)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let before = try Self.fingerprint(dir)
        do {
            let store = try LevelDBLedgerStore.openReadOnly(path: dir)
            let ledger = try Ledger(store: store, genesis: dev.genesis)
            #expect(ledger.head.height == 5)
            #expect(try ledger.block(at: 3)?.transactions.count == 20)
            #expect(try ledger.account(dev.userKeys[0].publicKey.address) != nil)
            #expect(throws: StoreError.self) { try store.write(StoreBatch(), sync: true) }
            _ = try ledger.snapshot()
        }
        #expect(try Self.fingerprint(dir) == before)
    }

    @Test("a snapshot of a read-only store outlives the store: its private copy lives as long as the database (review finding)")
    func readOnlySnapshotOutlivesTheStore() throws {
        let (dir, dev) = try Self.chain(blocks: 3)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let snapshot: LedgerSnapshot
        do {
            let ledger = try Ledger(store: try LevelDBLedgerStore.openReadOnly(path: dir), genesis: dev.genesis, cacheBytes: 0)
            snapshot = try ledger.snapshot()
        }
        #expect(try snapshot.block(at: 2)?.transactions.count == 20)
        #expect(try snapshot.account(dev.userKeys[5].publicKey.address) != nil)
    }

    @Test("read-only refuses a missing or empty directory and creates nothing")
    func readOnlyCreatesNothing() throws {
        let missing = Self.temporary("missing")
        #expect(throws: StoreError.self) { _ = try LevelDBLedgerStore.openReadOnly(path: missing) }
        #expect(!FileManager.default.fileExists(atPath: missing))
        let empty = Self.temporary("empty")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: empty) }
        let refusal = #expect(throws: StoreError.self) { _ = try LevelDBLedgerStore.openReadOnly(path: empty) }
        #expect(refusal?.message.contains("no LevelDB database here") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: empty).isEmpty)
    }

    @Test("a snapshot keeps answering for its head while the writer commits, from another task")
    func snapshotIsStableUnderWrites() async throws {
        let dir = Self.temporary("snapshot")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let dev = DevChain(users: 64)
        let ledger = try Ledger(store: try LevelDBLedgerStore(path: dir), genesis: dev.genesis)
        ledger.setSignatureChecks(false)
        try dev.writeTransferBlocks(to: ledger, until: 2, transfersPerBlock: 64) { _ in }
        let snapshot = try ledger.snapshot()
        let user = dev.userKeys[0].publicKey.address
        let balance = try #require(try snapshot.account(user)).balance(dev.usd)
        let nonce = try #require(try snapshot.account(user)).nonce
        // The reader runs on another task while the writer goes on.
        let reader = Task.detached { () throws -> Bool in
            var same = true
            for _ in 0..<200 {
                let account = try snapshot.account(user)
                let later = try snapshot.block(at: 3)
                same = same && account?.nonce == nonce && account?.balance(dev.usd) == balance && later == nil && snapshot.head.height == 2
            }
            return same
        }
        try dev.writeTransferBlocks(to: ledger, until: 12, transfersPerBlock: 64) { _ in }
        #expect(try await reader.value)
        #expect(try ledger.account(user)?.nonce == nonce + 10)
        // The snapshot's proofs hold against its own state root.
        let (_, proof, root) = try snapshot.accountProof(user)
        #expect(root == snapshot.stateRoot && root != ledger.stateRoot)
        let value = try #require(try snapshot.account(user)).canonicalBytes
        #expect(proof.verify(root: root, key: StateKey.hash(StateKey.account(user)), valueHash: SHA256.hash(value)))
        let fresh = try ledger.snapshot()
        let newest = try fresh.block(at: 12)
        #expect(fresh.head.height == 12 && newest != nil)
    }
}
