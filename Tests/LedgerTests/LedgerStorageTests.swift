import ChainTypes
import Ledger
import Testing

/// Opening, reopening, crash consistency, proofs and determinism.
@Suite("Ledger: storage")
struct LedgerStorageTests {
    func someBlocks(_ f: Fixture, count: Int) throws {
        for i in 0..<count {
            try f.commit([try f.transfer(f.user(i % 6), to: f.address(f.user((i + 1) % 6)), UInt64(10 + i))])
        }
    }

    @Test("reopening a store gives the same head, state root and balances")
    func reopen() throws {
        let f = try Fixture()
        try someBlocks(f, count: 5)
        let again = try Ledger(store: f.store, genesis: f.dev.genesis)
        #expect(again.head == f.ledger.head)
        #expect(again.stateRoot == f.ledger.stateRoot)
        #expect(try again.account(f.address(f.user(1))) == f.ledger.account(f.address(f.user(1))))
        let (tx, height, index, receipt) = try #require(try again.transaction(try again.block(at: 3)!.transactions[0].hash))
        #expect(height == 3 && index == 0 && receipt.transactionHash == tx.hash)
    }

    @Test("another chain's directory is refused without a write")
    func wrongChain() throws {
        let f = try Fixture()
        let other = DevChain(users: 2)
        let writes = f.store.writes
        #expect(throws: LedgerError.wrongChain(expected: other.genesis.hash, found: f.dev.genesis.hash)) {
            _ = try Ledger(store: f.store, genesis: other.genesis)
        }
        #expect(f.store.writes == writes)
    }

    /// A newer schema needs a newer hansa; an older one (1: contract code stored by address;
    /// 2: the state tree stored node by node) is refused rather than misread. Either way
    /// nothing is written.
    @Test("a data directory of another schema is refused without a write", arguments: [
        (UInt64(9), LedgerError.newerSchema(found: 9, supported: 3)),
        (UInt64(1), LedgerError.olderSchema(found: 1, supported: 3)),
        (UInt64(2), LedgerError.olderSchema(found: 2, supported: 3)),
    ])
    func otherSchema(version: UInt64, refusal: LedgerError) throws {
        let f = try Fixture()
        var b = StoreBatch()
        b.put(Ledger.Keys.schema, (0..<8).map { UInt8(truncatingIfNeeded: version >> UInt64(56 - 8 * $0)) })
        try f.store.write(b, sync: true)
        let writes = f.store.writes
        #expect(throws: refusal) { _ = try Ledger(store: f.store, genesis: f.dev.genesis) }
        #expect(f.store.writes == writes)
    }

    static let corruptions: [(String, [UInt8])] = [
        ("head block missing", Ledger.Keys.block(2)), ("head certificate missing", Ledger.Keys.certificate(2)),
        ("genesis hash missing", Ledger.Keys.genesisHash), ("head pointer missing", Ledger.Keys.head),
    ]

    @Test("a corrupted directory is refused with a reason", arguments: corruptions.map(\.0))
    func corrupted(_ name: String) throws {
        let f = try Fixture()
        try someBlocks(f, count: 2)
        var b = StoreBatch()
        b.delete(Self.corruptions.first { $0.0 == name }!.1)
        try f.store.write(b, sync: true)
        do {
            _ = try Ledger(store: f.store, genesis: f.dev.genesis)
            Issue.record("opened a store with \(name)")
        } catch {
            guard case .corrupted(let why) = error else { Issue.record("\(error)"); return }
            #expect(!why.isEmpty)
        }
    }

    @Test("a store with foreign data is not touched")
    func foreignData() throws {
        let store = MemoryStore()
        var b = StoreBatch()
        b.put([1, 2, 3], [4])
        try store.write(b, sync: true)
        #expect(throws: LedgerError.self) { _ = try Ledger(store: store, genesis: Fixture.chain.genesis) }
        #expect(store.entries.count == 1)
    }

    /// A store that fails on its n-th write: before applying anything (a crash before the
    /// batch reached the disk) or after applying it (a crash after the write, before the reply).
    final class FaultyStore: KeyValueStore {
        let inner = MemoryStore()
        var failOnWrite = Int.max
        var applyBeforeFailing = false
        var writes = 0

        func get(_ key: [UInt8]) throws(StoreError) -> [UInt8]? { try inner.get(key) }
        func scan(prefix: [UInt8], from start: [UInt8]?, _ body: ([UInt8], [UInt8]) -> Bool) throws(StoreError) {
            try inner.scan(prefix: prefix, from: start, body)
        }
        func write(_ batch: StoreBatch, sync: Bool) throws(StoreError) {
            writes += 1
            if writes == failOnWrite {
                if applyBeforeFailing { try inner.write(batch, sync: sync) }
                throw StoreError(operation: "write", message: "injected crash")
            }
            try inner.write(batch, sync: sync)
        }
    }

    @Test("crash consistency: a failed block write leaves the last committed block, never half a block",
          arguments: [(2, false), (3, false), (4, true), (5, true)])
    func crashConsistency(_ failAt: Int, _ applied: Bool) throws {
        let store = FaultyStore()
        store.failOnWrite = failAt
        store.applyBeforeFailing = applied
        let dev = Fixture.chain
        var ledger = try Ledger(store: store, genesis: dev.genesis)
        var committed: [Hash] = []
        for i in 0..<6 {
            let tx = dev.transfer(from: i % 6, to: (i + 1) % 6, amount: 1, nonce: UInt64(i / 6))
            let (block, cert) = try dev.nextBlock(on: ledger, [tx])
            do {
                try ledger.apply(block, certificate: cert)
                committed.append(block.hash)
            } catch {
                // "Restart": reopen from what the store holds.
                ledger = try Ledger(store: store, genesis: dev.genesis)
                if applied { committed.append(block.hash) }
            }
            let reopened = try Ledger(store: store.inner, genesis: dev.genesis)
            #expect(reopened.head.height == UInt64(committed.count))
            #expect(reopened.head.hash == (committed.last ?? dev.genesis.hash))
        }
        // Every committed height is whole: block, certificate, receipts, indexes, and the state root.
        let final = try Ledger(store: store.inner, genesis: dev.genesis)
        for h in 1...final.head.height {
            let block = try #require(try final.block(at: h))
            #expect(try final.certificate(at: h)?.blockHash == block.hash)
            #expect(try final.receipts(at: h)?.count == block.transactions.count)
            #expect(try final.height(of: block.hash) == h)
        }
    }

    @Test("determinism: the same blocks on two independent stores give the same roots and bytes")
    func determinism() throws {
        let a = try Fixture(), b = try Fixture()
        for i in 0..<8 {
            let txs = try (0..<3).map { k in try a.transfer(a.user((i + k) % 6), to: a.address(a.user((i + k + 1) % 6)), UInt64(i * 10 + k)) }
            let (block, cert) = try a.dev.nextBlock(on: a.ledger, txs)
            try a.ledger.apply(block, certificate: cert)
            #expect(try b.ledger.rejection(of: block) == nil)
            try b.ledger.apply(block, certificate: cert)
            #expect(a.ledger.stateRoot == b.ledger.stateRoot)
        }
        #expect(a.store.entries == b.store.entries)
    }

    @Test("a block whose state root is wrong is refused, and changes nothing")
    func wrongStateRoot() throws {
        let f = try Fixture()
        let (block, _) = try f.dev.nextBlock(on: f.ledger, [try f.transfer(f.user(0), to: f.address(f.user(1)), 1)])
        var bad = block
        bad.header.stateRoot = SHA256.hash(utf8: "lie")
        let refusal = BlockRejection.stateRootMismatch(header: bad.header.stateRoot, executed: block.header.stateRoot)
        #expect(try f.ledger.rejection(of: bad) == refusal)
        #expect(refusal.description.contains("state root"))
        #expect(throws: LedgerError.invalidBlock(refusal)) { try f.ledger.apply(bad, certificate: f.dev.certificate(for: bad)) }
        #expect(f.ledger.head.height == 0)
    }

    @Test("account proofs: inclusion and exclusion verify against the state root; tampering fails")
    func proofs() throws {
        let f = try Fixture()
        try someBlocks(f, count: 3)
        let address = f.address(f.user(2))
        let (account, proof, root) = try f.ledger.accountProof(address)
        let key = StateKey.hash(StateKey.account(address))
        let valueHash = SHA256.hash(try #require(account).canonicalBytes)
        #expect(proof.verify(root: root, key: key, valueHash: valueHash))
        #expect(!proof.verify(root: root, key: key, valueHash: SHA256.hash(utf8: "other")))
        #expect(!proof.verify(root: SHA256.hash(utf8: "root"), key: key, valueHash: valueHash))
        let stranger = DevChain.key("never registered").publicKey.address
        let (none, absence, _) = try f.ledger.accountProof(stranger)
        #expect(none == nil)
        #expect(absence.verify(root: root, key: StateKey.hash(StateKey.account(stranger)), valueHash: nil))
        #expect(!absence.verify(root: root, key: key, valueHash: nil), "cannot prove a present key absent")
        // A proof travels as canonical bytes.
        #expect(try SparseMerkleProof(canonicalBytes: proof.canonicalBytes) == proof)
    }
}
