import ChainTypes
import Ledger
import Testing

/// Scheduled contract calls (docs/LEDGER.md "Scheduled calls"): a call runs at the start of
/// the first block whose time reaches it, in (time, sequence) order, at most
/// `ScheduledCall.maxRunsPerBlock` per block; it is deleted whatever it does.
@Suite("Ledger: scheduled calls")
struct ScheduledCallTests {
    /// The ScriptEngine command that schedules `count` copies of `call` at +`secs` seconds.
    static func schedule(secs: UInt8, count: UInt8 = 1, _ call: [UInt8]) -> [UInt8] {
        [6, secs, count, UInt8(call.count >> 8), UInt8(call.count & 0xff)] + call
    }

    /// A ledger with a ScriptEngine contract deployed in block 1.
    static func deployed() throws -> (Fixture, Address) {
        let f = try Fixture(engine: ScriptEngine())
        return (f, try ContractHostTests().deployed(f))
    }

    /// User 0 calls the contract (give the nonce when several calls go in one block).
    static func call(_ f: Fixture, _ contract: Address, _ input: [UInt8], nonce: UInt64? = nil) throws -> Transaction {
        try f.tx(f.user(0), .callContract, CallPayload(contract: contract, input: input), nonce: nonce, gas: 1_000_000)
    }

    static func slot(_ f: Fixture, _ contract: Address, _ key: UInt8) throws -> [UInt8]? {
        try StateOverlay(store: f.ledger.store).get(StateKey.slot(contract, [key]))
    }

    static func be64(_ bytes: [UInt8]?) -> UInt64 { (bytes ?? []).reduce(0) { $0 << 8 | UInt64($1) } }

    /// The index and the state describe the same calls: every sequence number handed out is
    /// either in both (same bytes) or in neither, and each contract's count is its number of calls.
    static func expectConsistent(_ store: MemoryStore, _ contract: Address) throws {
        let state = StateOverlay(store: store)
        let next = be64(try state.get(StateKey.scheduleSequence))
        var indexed: [UInt64: [UInt8]] = [:]
        for (key, value) in store.entries where key.starts(with: Ledger.Keys.scheduleIndexPrefix) {
            let call = try ScheduledCall(canonicalBytes: value)
            #expect(key == Ledger.Keys.scheduleIndex(atMillis: call.atMillis, sequence: call.sequence))
            #expect(call.sequence < next)
            indexed[call.sequence] = value
        }
        for sequence in 0..<next {
            #expect(try state.get(StateKey.scheduledCall(sequence)) == indexed[sequence], "sequence \(sequence)")
        }
        let own = try indexed.values.filter { try ScheduledCall(canonicalBytes: $0).contract == contract }
        #expect(be64(try state.get(StateKey.scheduledCount(contract))) == UInt64(own.count))
    }

    @Test("a due call runs at the start of the first block whose time reaches it, not before, and once")
    func runsWhenDue() throws {
        let (f, contract) = try Self.deployed()
        let r = try f.commit([try Self.call(f, contract, Self.schedule(secs: 10, [8, 7, 0xa1]))])
        #expect(r.count == 1 && r[0].succeeded)
        #expect(try Self.slot(f, contract, 0xfe) == [1], "scheduleCall answered true")
        let t = f.ledger.head.timestampMillis
        let call = try #require(try f.ledger.pendingScheduledCalls(limit: 10).first)
        #expect(call == ScheduledCall(atMillis: t + 10_000, sequence: 0, contract: contract, input: [8, 7, 0xa1]))
        // One millisecond early: nothing runs.
        #expect(try f.commit([], at: t + 9_999).isEmpty)
        #expect(try f.ledger.pendingScheduledCalls(limit: 10) == [call])
        // Due: it runs before the block's transaction, with the contract as its own caller.
        let transfer = try f.transfer(f.user(1), to: f.address(f.user(2)), 5)
        let receipts = try f.commit([transfer], at: t + 10_000)
        #expect(receipts.count == 2)
        #expect(receipts[0] == Receipt(transactionHash: call.id, status: .success, gasUsed: 200, events: []))
        #expect(receipts[1].transactionHash == transfer.hash && receipts[1].succeeded)
        #expect(try Self.slot(f, contract, 0xff) == [0xa1])
        #expect(try Self.slot(f, contract, 0xfd) == [1], "entry .scheduled, caller = the contract")
        #expect(try f.ledger.pendingScheduledCalls(limit: 10).isEmpty)
        #expect(try f.commit([], at: t + 60_000).isEmpty, "a call runs once")
        try Self.expectConsistent(f.store, contract)
    }

    @Test("due calls run in (time, sequence) order")
    func order() throws {
        let (f, contract) = try Self.deployed()
        // Sequences 0…3: a at +20 s, b at +10 s, c at +20 s, d at +10 s.
        let input = Self.schedule(secs: 20, [7, 0xa]) + Self.schedule(secs: 10, [7, 0xb])
            + Self.schedule(secs: 20, [7, 0xc]) + Self.schedule(secs: 10, [7, 0xd])
        try f.commit([try Self.call(f, contract, input)])
        let pending = try f.ledger.pendingScheduledCalls(limit: 10)
        #expect(pending.map(\.sequence) == [1, 3, 0, 2])
        #expect(try f.ledger.pendingScheduledCalls(limit: 2) == Array(pending.prefix(2)))
        let receipts = try f.commit([], at: f.ledger.head.timestampMillis + 30_000)
        #expect(receipts.map(\.transactionHash) == pending.map(\.id))
        #expect(try Self.slot(f, contract, 0xff) == [0xb, 0xd, 0xa, 0xc])
    }

    @Test("a block runs at most maxRunsPerContractPerBlock due calls of one contract and maxRunsPerBlock in all; the rest carry over, in order")
    func perBlockBound() throws {
        let (f, a) = try Self.deployed()
        let others = try (0..<4).map { _ in try ContractHostTests().deployed(f) }
        let nonce = try f.nonce(f.user(0))
        // Contract a schedules 16 calls due at +5 s, then b, c, d and e 8 each: 48 in all.
        let txs = try ([(a, 16)] + others.map { ($0, 8) }).enumerated().map { k, job in
            try Self.call(f, job.0, Self.schedule(secs: 5, count: UInt8(job.1), [7, UInt8(k)]), nonce: nonce + UInt64(k))
        }
        try f.commit(txs)
        let all = try f.ledger.pendingScheduledCalls(limit: 100)
        #expect(all.count == 48)
        let ofA = all.filter { $0.contract == a }
        let share = ScheduledCall.maxRunsPerContractPerBlock
        // Block 1: a's first 8 (its share), then b, c, d: 32, the block's bound.
        let first = try f.commit([], at: f.ledger.head.timestampMillis + 5_000)
        let expectedFirst = Array(ofA.prefix(share)) + all.filter { others.prefix(3).contains($0.contract) }
        #expect(expectedFirst.count == ScheduledCall.maxRunsPerBlock)
        #expect(first.map(\.transactionHash) == expectedFirst.map(\.id) && first.allSatisfy(\.succeeded))
        for c in [a] + others { try Self.expectConsistent(f.store, c) }
        // Block 2: the rest of a's, then e's, in order.
        let second = try f.commit([])
        #expect(second.map(\.transactionHash) == (Array(ofA.dropFirst(share)) + all.filter { $0.contract == others[3] }).map(\.id))
        #expect(try f.ledger.pendingScheduledCalls(limit: 100).isEmpty)
        #expect(try f.commit([]).isEmpty)
        #expect(try Self.slot(f, a, 0xff) == [UInt8](repeating: 0, count: 16))
        for c in [a] + others { try Self.expectConsistent(f.store, c) }
    }

    @Test("scheduleCall refuses the block's own time, an oversized input, a 17th call in one run and a 257th waiting call")
    func limits() throws {
        let (f, contract) = try Self.deployed()
        try f.commit([try Self.call(f, contract, Self.schedule(secs: 0, [7, 1]))])
        #expect(try Self.slot(f, contract, 0xfe) == [0], "at the block's own time")
        let big = [UInt8](repeating: 7, count: ScheduledCall.maxInputBytes + 1)
        try f.commit([try Self.call(f, contract, Self.schedule(secs: 100, big))])
        #expect(try Self.slot(f, contract, 0xfe) == [0], "input above the limit")
        try f.commit([try Self.call(f, contract, Self.schedule(secs: 100, Array(big.dropLast())))])
        #expect(try Self.slot(f, contract, 0xfe) == [1], "input at the limit")
        try f.commit([try Self.call(f, contract, Self.schedule(secs: 100, count: 20, [7, 2]))])
        #expect(try Self.slot(f, contract, 0xfe) == [UInt8(ScheduledCall.maxSchedulesPerRun)])
        // 1 + 16 waiting; 15 more runs of 16 pass the contract's bound of 256 by 1.
        let nonce = try f.nonce(f.user(0))
        try f.commit(try (0..<15).map { try Self.call(f, contract, Self.schedule(secs: 100, count: 16, [7, 3]), nonce: nonce + UInt64($0)) })
        #expect(try f.ledger.pendingScheduledCalls(limit: 1_000).count == ScheduledCall.maxPendingPerContract)
        #expect(try Self.slot(f, contract, 0xfe) == [15], "the last run got 15 of 16")
        try f.commit([try Self.call(f, contract, Self.schedule(secs: 100, [7, 4]))])
        #expect(try Self.slot(f, contract, 0xfe) == [0])
        try Self.expectConsistent(f.store, contract)
    }

    @Test("a trapping scheduled call is undone — its writes and the calls it scheduled — deleted, with a failed receipt")
    func trap() throws {
        let (f, contract) = try Self.deployed()
        // The scheduled call stores, schedules another call, then traps.
        let doomed: [UInt8] = [1, 5, 6] + Self.schedule(secs: 5, [7, 0xc]) + [3]
        try f.commit([try Self.call(f, contract, Self.schedule(secs: 1, doomed))])
        let call = try #require(try f.ledger.pendingScheduledCalls(limit: 10).first)
        let receipts = try f.commit([])
        #expect(receipts == [Receipt(transactionHash: call.id, status: .failure(code: "contract_error", message: "contract: trap: explicit"),
                                     gasUsed: 300, events: [])])
        #expect(try Self.slot(f, contract, 5) == nil)
        #expect(try f.ledger.pendingScheduledCalls(limit: 10).isEmpty, "neither the call nor the one it scheduled waits")
        #expect(!f.store.entries.keys.contains { $0.starts(with: Ledger.Keys.scheduleIndexPrefix) })
        try Self.expectConsistent(f.store, contract)
        #expect(try f.commit([], at: f.ledger.head.timestampMillis + 10_000).isEmpty, "it never runs again")
        // Its receipt is found like any other.
        #expect(try f.ledger.scheduledCall(call.id)?.receipt == receipts[0])
    }

    @Test("a scheduled call may schedule later calls")
    func chained() throws {
        let (f, contract) = try Self.deployed()
        try f.commit([try Self.call(f, contract, Self.schedule(secs: 1, [7, 1] + Self.schedule(secs: 1, [7, 2])))])
        #expect(try f.commit([]).count == 1)
        #expect(try f.ledger.pendingScheduledCalls(limit: 10).map(\.input) == [[7, 2]])
        #expect(try f.commit([]).count == 1)
        #expect(try Self.slot(f, contract, 0xff) == [1, 2])
        try Self.expectConsistent(f.store, contract)
    }

    @Test("scheduled receipts come first, are in the receipts root and found by id; transactions' receipts by hash")
    func receipts() throws {
        let (f, contract) = try Self.deployed()
        try f.commit([try Self.call(f, contract, Self.schedule(secs: 1, count: 2, [7, 1]))])
        let pending = try f.ledger.pendingScheduledCalls(limit: 10)
        let txs = try (1...3).map { try f.transfer(f.user($0), to: f.address(f.user(0)), 1) }
        try f.commit(txs)
        let height = f.ledger.head.height
        let header = try #require(try f.ledger.block(at: height)).header
        let all = try #require(try f.ledger.receipts(at: height))
        #expect(all.count == 5 && Receipt.root(all) == header.receiptsRoot)
        let split = try #require(try f.ledger.blockReceipts(at: height))
        #expect(split.scheduled.map(\.transactionHash) == pending.map(\.id))
        #expect(split.transactions.map(\.transactionHash) == txs.map(\.hash))
        for (i, call) in pending.enumerated() {
            let found = try #require(try f.ledger.scheduledCall(call.id))
            #expect(found.call == call && found.height == height && found.index == i && found.receipt == all[i])
            let p = try #require(try f.ledger.scheduledCallProof(of: call.id))
            #expect(p.index == i && p.size == 5)
            #expect(MerkleTree.verify(leaf: all[i].hash, index: p.index, size: p.size, path: p.receiptPath, root: header.receiptsRoot))
        }
        for (i, tx) in txs.enumerated() {
            let found = try #require(try f.ledger.transaction(tx.hash))
            #expect(found.index == i && found.receipt == all[2 + i])
            let p = try #require(try f.ledger.inclusionProof(of: tx.hash))
            #expect(p.index == i && p.size == 3 && p.receiptIndex == 2 + i && p.receiptCount == 5)
            #expect(MerkleTree.verify(leaf: tx.hash, index: p.index, size: p.size, path: p.transactionPath, root: header.transactionsRoot))
            #expect(MerkleTree.verify(leaf: all[2 + i].hash, index: p.receiptIndex, size: p.receiptCount, path: p.receiptPath,
                                      root: header.receiptsRoot))
        }
        #expect(try f.ledger.scheduledCall(SHA256.hash(utf8: "no such call")) == nil)
        #expect(try f.ledger.transaction(pending[0].id) == nil, "a scheduled call is not a transaction")
    }

    @Test("a node without a contract engine still deletes a due call, with a failed receipt")
    func noEngine() throws {
        let (f, contract) = try Self.deployed()
        try f.commit([try Self.call(f, contract, Self.schedule(secs: 1, [7, 1]))])
        let call = try #require(try f.ledger.pendingScheduledCalls(limit: 10).first)
        let bare = try Ledger(store: f.store, genesis: f.dev.genesis)
        let (block, cert) = try f.dev.nextBlock(on: bare, [])
        try bare.apply(block, certificate: cert)
        #expect(try bare.receipts(at: block.header.height) == [
            Receipt(transactionHash: call.id, status: .failure(code: "contract_error", message: "contract: this node has no contract engine"),
                    gasUsed: 0, events: []),
        ])
        #expect(try bare.pendingScheduledCalls(limit: 10).isEmpty)
        try Self.expectConsistent(f.store, contract)
    }

    @Test("determinism: two independent ledgers validating the same blocks hold the same roots, index and bytes")
    func determinism() throws {
        let (a, contract) = try Self.deployed()
        let b = try Fixture(engine: ScriptEngine())
        func mirror() throws {
            let h = a.ledger.head.height
            let block = try #require(try a.ledger.block(at: h)), cert = try #require(try a.ledger.certificate(at: h))
            #expect(try b.ledger.rejection(of: block) == nil)
            try b.ledger.apply(block, certificate: cert)
            #expect(a.ledger.stateRoot == b.ledger.stateRoot)
        }
        try mirror()
        let nonce = try a.nonce(a.user(0))
        try a.commit(try (0..<3).map { k in
            try Self.call(a, contract, Self.schedule(secs: UInt8(2 + k), count: 16, [7, UInt8(k)]) + Self.schedule(secs: 2, [1, 9, 9, 3]),
                          nonce: nonce + UInt64(k))
        })
        try mirror()
        // 51 calls of one contract: 8 a block (its share) drain them in 7 blocks.
        for _ in 0..<8 {
            try a.commit([try a.transfer(a.user(1), to: a.address(a.user(2)), 1)])
            try mirror()
        }
        #expect(try b.ledger.pendingScheduledCalls(limit: 100).isEmpty)
        #expect(a.store.entries == b.store.entries)
    }

    @Test("crash consistency: after a failed write of a block that runs and schedules calls, index and state agree",
          arguments: [false, true])
    func crashConsistency(_ applied: Bool) throws {
        let (f, contract) = try Self.deployed()
        try f.commit([try Self.call(f, contract, Self.schedule(secs: 5, count: 3, [7, 1]))])
        let store = LedgerStorageTests.FaultyStore()
        var copy = StoreBatch()
        for (k, v) in f.store.entries { copy.put(k, v) }
        try store.inner.write(copy, sync: true)
        var ledger = try Ledger(store: store, genesis: f.dev.genesis, engine: ScriptEngine())
        // The block runs the three due calls and schedules three more.
        let (block, cert) = try f.dev.nextBlock(on: ledger, [try Self.call(f, contract, Self.schedule(secs: 5, count: 3, [7, 2]))],
                                                timestampMillis: ledger.head.timestampMillis + 5_000)
        store.failOnWrite = store.writes + 1
        store.applyBeforeFailing = applied
        #expect(throws: LedgerError.self) { try ledger.apply(block, certificate: cert) }
        // "Restart".
        ledger = try Ledger(store: store.inner, genesis: f.dev.genesis, engine: ScriptEngine())
        try Self.expectConsistent(store.inner, contract)
        if !applied {
            #expect(ledger.head == f.ledger.head)
            #expect(try ledger.pendingScheduledCalls(limit: 10) == f.ledger.pendingScheduledCalls(limit: 10))
            try ledger.apply(block, certificate: cert)
            try Self.expectConsistent(store.inner, contract)
        }
        try f.ledger.apply(block, certificate: cert)
        #expect(ledger.head == f.ledger.head && ledger.stateRoot == f.ledger.stateRoot)
        #expect(try ledger.pendingScheduledCalls(limit: 10).map(\.input) == Array(repeating: [7, 2], count: 3))
        #expect(store.inner.entries == f.store.entries)
    }

    @Test("a corrupt index entry is a LedgerError, not a trap",
          arguments: ["undecodable value", "short key", "key and value disagree", "no state entry"])
    func corruptIndex(_ kind: String) throws {
        let (f, contract) = try Self.deployed()
        try f.commit([try Self.call(f, contract, Self.schedule(secs: 1, [7, 1]))])
        let call = try #require(try f.ledger.pendingScheduledCalls(limit: 1).first)
        var b = StoreBatch()
        switch kind {
        case "undecodable value": b.put(Ledger.Keys.scheduleIndex(atMillis: call.atMillis, sequence: call.sequence), [0xff, 1, 2])
        case "short key": b.put(Ledger.Keys.scheduleIndexPrefix + [0], call.canonicalBytes)
        case "key and value disagree": b.put(Ledger.Keys.scheduleIndex(atMillis: call.atMillis - 1, sequence: call.sequence), call.canonicalBytes)
        default:
            var ghost = call
            ghost.sequence = 99
            b.put(Ledger.Keys.scheduleIndex(atMillis: ghost.atMillis, sequence: ghost.sequence), ghost.canonicalBytes)
        }
        try f.store.write(b, sync: true)
        func expectCorrupted(_ body: () throws -> Void) {
            do {
                try body()
                Issue.record("\(kind) went unnoticed")
            } catch let error as LedgerError {
                guard case .corrupted(let why) = error else { Issue.record("\(error)"); return }
                #expect(why.contains("scheduled"))
            } catch {
                Issue.record("\(error)")
            }
        }
        if kind != "no state entry" { expectCorrupted { _ = try f.ledger.pendingScheduledCalls(limit: 10) } }
        expectCorrupted { _ = try f.dev.nextBlock(on: f.ledger, []) }
        #expect(f.ledger.head.height == 2)
    }

    @Test("a scheduled call that would pass the block's state budget is deferred to the next block, not lost (review finding)")
    func stateFullCallsAreDeferred() throws {
        let (f, contract) = try Self.deployed()
        // Three calls due at +2 s, each writing 1 200 values of 4 KiB (4.9 MB): one fits a block's 8 MiB.
        try f.commit([try Self.call(f, contract, Self.schedule(secs: 2, count: 3, [9, 0x04, 0xb0]))])
        let all = try f.ledger.pendingScheduledCalls(limit: 10)
        #expect(all.count == 3)
        var ranPerBlock: [Int] = []
        var ids: [Hash] = []
        for k in 0..<4 {
            let receipts = try f.commit([], at: f.ledger.head.timestampMillis + (k == 0 ? 2_000 : 1_000))
            ranPerBlock.append(receipts.count)
            let failed = receipts.filter { !$0.succeeded }.map(\.status)
            #expect(failed.isEmpty, "\(failed)")
            ids += receipts.map(\.transactionHash)
        }
        #expect(ranPerBlock == [1, 1, 1, 0])
        #expect(ids == all.map(\.id), "each ran once, in order")
        #expect(try f.ledger.pendingScheduledCalls(limit: 10).isEmpty)
        try Self.expectConsistent(f.store, contract)
    }
}
