import ChainTypes
import Ledger
import Testing

@Suite("Ledger: mempool")
struct MempoolTests {
    func nextNonce(_ f: Fixture) -> (Address) -> UInt64 { { (try? f.ledger.account($0)?.nonce) ?? 0 } }

    @Test("orders by nonce per sender; a sender's gap holds back only that sender")
    func nonceOrderAndGaps() throws {
        let f = try Fixture()
        let pool = Mempool(executor: f.ledger.executor)
        let a = f.user(0), b = f.user(1), to = f.address(f.user(2))
        // a: nonces 2, 0, 1 (out of order); b: nonce 1 only (gap at 0).
        for n in [2, 0, 1] as [UInt64] { try pool.add(try f.transfer(a, to: to, 1, nonce: n), state: f.store, nowMillis: 0) }
        try pool.add(try f.transfer(b, to: to, 1, nonce: 1), state: f.store, nowMillis: 0)
        let picked = pool.select(maxCount: 100, maxBytes: 1 << 20, maxGas: ConsensusParameters.standardMaxBlockGas, nextNonce: nextNonce(f))
        #expect(picked.map(\.body.nonce) == [0, 1, 2])
        #expect(picked.allSatisfy { $0.sender == f.address(a) })
        // b's gap fills; now both flow.
        try pool.add(try f.transfer(b, to: to, 1, nonce: 0), state: f.store, nowMillis: 0)
        let all = pool.select(maxCount: 100, maxBytes: 1 << 20, maxGas: ConsensusParameters.standardMaxBlockGas, nextNonce: nextNonce(f))
        #expect(all.count == 5)
        // The selected block applies cleanly, and pruning removes what it included.
        let receipts = try f.commit(pool.select(maxCount: 100, maxBytes: 1 << 20, maxGas: ConsensusParameters.standardMaxBlockGas, nextNonce: nextNonce(f)))
        #expect(receipts.allSatisfy { $0.succeeded })
        pool.prune(nextNonce: nextNonce(f), nowMillis: 0)
        #expect(pool.count == 0 && pool.byteCount == 0)
    }

    @Test("the oldest ready transaction (PBFT's request timer) skips one parked above a nonce gap")
    func oldestReady() throws {
        let f = try Fixture()
        let pool = Mempool(executor: f.ledger.executor)
        let a = f.user(0), b = f.user(1), to = f.address(f.user(2))
        #expect(pool.oldestReady(nextNonce: nextNonce(f)) == nil)
        let parked = try f.transfer(b, to: to, 1, nonce: 1)
        try pool.add(parked, state: f.store, nowMillis: 0)
        #expect(pool.oldestReady(nextNonce: nextNonce(f)) == nil, "a parked transaction cannot commit yet")
        let first = try f.transfer(a, to: to, 1, nonce: 0)
        try pool.add(first, state: f.store, nowMillis: 0)
        try pool.add(try f.transfer(b, to: to, 1, nonce: 0), state: f.store, nowMillis: 0)
        #expect(pool.oldestReady(nextNonce: nextNonce(f)) == first.hash)
    }

    @Test("deduplicates, and refuses a second transaction for a pending (sender, nonce)")
    func duplicates() throws {
        let f = try Fixture()
        let pool = Mempool(executor: f.ledger.executor)
        let t = try f.transfer(f.user(0), to: f.address(f.user(1)), 5)
        try pool.add(t, state: f.store, nowMillis: 0)
        #expect(throws: TransactionError.duplicate) { try pool.add(t, state: f.store, nowMillis: 0) }
        let other = try f.transfer(f.user(0), to: f.address(f.user(1)), 6, nonce: 0)
        #expect(throws: TransactionError.nonceAlreadyPending(0)) { try pool.add(other, state: f.store, nowMillis: 0) }
        #expect(pool.count == 1)
    }

    @Test("bounded by count, bytes and per-sender; the count and bytes stay exact", arguments: ["count", "bytes", "sender"])
    func bounds(_ which: String) throws {
        let f = try Fixture()
        var limits = Mempool.Limits()
        switch which {
        case "count": limits.maxTransactions = 3
        case "bytes": limits.maxBytes = 3 * (try f.transfer(f.user(0), to: f.address(f.user(1)), 1)).canonicalBytes.count
        default: limits.maxPerSender = 3
        }
        let pool = Mempool(executor: f.ledger.executor, limits: limits)
        for n in 0..<3 as Range<UInt64> { try pool.add(try f.transfer(f.user(0), to: f.address(f.user(1)), 1, nonce: n), state: f.store, nowMillis: 0) }
        do {
            try pool.add(try f.transfer(f.user(0), to: f.address(f.user(1)), 1, nonce: 3), state: f.store, nowMillis: 0)
            Issue.record("over the \(which) bound")
        } catch let error as TransactionError {
            #expect(error.code == "mempool_full")
        }
        #expect(pool.count == 3)
    }

    @Test("stale entries expire after the time-to-live")
    func expiry() throws {
        let f = try Fixture()
        var limits = Mempool.Limits()
        limits.ttlMillis = 1_000
        let pool = Mempool(executor: f.ledger.executor, limits: limits)
        try pool.add(try f.transfer(f.user(0), to: f.address(f.user(1)), 1), state: f.store, nowMillis: 0)
        try pool.add(try f.transfer(f.user(1), to: f.address(f.user(0)), 1), state: f.store, nowMillis: 800)
        pool.prune(nextNonce: nextNonce(f), nowMillis: 1_500)
        #expect(pool.count == 1)
    }

    @Test("each signature is verified once: admission verifies, the block's execution does not again")
    func signaturesVerifiedOnce() throws {
        let f = try Fixture()
        let pool = Mempool(executor: f.ledger.executor)
        let before = f.ledger.executor.signatures.verifications.withLock { $0 }
        let txs = try (0..<4).map { try f.transfer(f.user($0), to: f.address(f.user(5)), 1) }
        for t in txs { try pool.add(t, state: f.store, nowMillis: 0) }
        #expect(f.ledger.executor.signatures.verifications.withLock { $0 } == before + 4)
        try f.commit(pool.select(maxCount: 10, maxBytes: 1 << 20, maxGas: ConsensusParameters.standardMaxBlockGas, nextNonce: nextNonce(f)))
        #expect(f.ledger.executor.signatures.verifications.withLock { $0 } == before + 4)
    }
}
