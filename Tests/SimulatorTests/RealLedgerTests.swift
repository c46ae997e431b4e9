import ChainTypes
import HansaTestSupport
import Ledger
import PBFT
@testable import Simulator
import Testing
import TradeFinance

/// The real-ledger mode (docs/PROTOCOL.md §14): every replica's driver runs the real `Ledger`
/// and `Mempool` on a fault-injecting in-memory store, clients send signed transfers and run
/// a letter of credit to payment, and three checkers join the consensus ones — state roots,
/// receipts never lost, the credit paid.
@Suite("Simulator on the real ledger")
struct RealLedgerTests {
    static let contract = try! LetterOfCredit.compile(repositoryRoot() + "/contracts/letter_of_credit.hc")

    static func runner(nodes: Int = 4, byzantine: Int = 1, seam: LedgerSeam? = nil) -> SimRunner {
        var r = SimRunner(nodes: nodes, byzantine: byzantine)
        r.ledger = .real
        r.letterOfCredit = contract
        r.seam = seam
        return r
    }

    static func check(_ runner: SimRunner, _ seeds: Range<UInt64>) {
        for seed in seeds {
            let outcome = runner.run(seed: seed)
            #expect(outcome.passed, "seed \(seed): \(outcome.failures.first ?? "") — replay: \(runner.replayCommand(seed: seed))")
            #expect(outcome.workload?.hasPrefix("credit paid at height") == true, "seed \(seed): \(outcome.workload ?? "no workload")")
        }
    }

    @Test("n = 4, one byzantine replica, random faults, the real ledger: 18 seeds", arguments: [UInt64(0)..<6, 6..<12, 12..<18])
    func fourNodes(_ seeds: Range<UInt64>) { Self.check(Self.runner(), seeds) }

    @Test("n = 4, crash faults only, the real ledger: 6 seeds (more crashes land on honest replicas)", arguments: [UInt64(100)..<103, 103..<106])
    func crashFaultsOnly(_ seeds: Range<UInt64>) { Self.check(Self.runner(byzantine: 0), seeds) }

    // MARK: The checkers can fail

    @Test("the checkers can fail: a replica whose store perturbs its state root at one height is caught by the state-root checker")
    func perturbedStateRootIsCaught() {
        let broken = Self.runner(byzantine: 0, seam: .perturbStateRoot(node: 2, height: 3)).run(seed: 100)
        // The state-root checker names the height; the replica's own ledger may stop it too, at
        // the next block it executes on the perturbed tree (a driver failure, listed first).
        let checker = broken.failures.first { $0.hasPrefix("state root:") }
        #expect(checker?.contains("height 3") == true, "\(broken.failures)")
        // Seed 100 without the seam is clean (`crashFaultsOnly`).
    }

    @Test("the checkers can fail: a store that forgets its last batch when its replica crashes (a lying fsync) loses receipts, and the receipt checker says which")
    func lostReceiptIsCaught() {
        var runner = Self.runner(byzantine: 0, seam: .forgetLastBatchOnCrash)
        runner.scenario = .longOutage
        let broken = runner.run(seed: 3)
        #expect(broken.failures.first?.hasPrefix("receipt lost:") == true, "\(broken.failures)")
        runner.seam = nil
        #expect(runner.run(seed: 3).passed)
    }

    @Test("the checkers can fail: a presentation insured for 105 % only is discrepant, nobody waives it, and the letter-of-credit checker says why it was not paid")
    func unpaidCreditIsCaught() {
        let broken = Self.runner(byzantine: 0, seam: .discrepantPresentation).run(seed: 100)
        let failure = broken.failures.first ?? ""
        #expect(failure.hasPrefix("letter of credit:"), "\(broken.failures)")
        #expect(failure.contains("insurance below 110 %"), "\(failure)")
        // Seed 100 without the seam is clean and the credit is paid (`crashFaultsOnly`).
    }

    // MARK: The fault-injecting store

    /// A ledger of the dev chain on a `FaultyStore`, with one block applied.
    static func ledgerWithOneBlock() throws -> (DevChain, FaultyStore, Ledger) {
        let dev = DevChain(users: 4, depositPerUser: 10_000)
        let store = FaultyStore(index: 0, faults: StoreFaults())
        let ledger = try Ledger(store: store, genesis: dev.genesis, cacheBytes: 0)
        let (block, certificate) = try dev.nextBlock(on: ledger, [dev.transfer(from: 0, to: 1, amount: 5, nonce: 0)])
        try ledger.apply(block, certificate: certificate)
        return (dev, store, ledger)
    }

    @Test("a crash mid-batch leaves nothing half-written: the batch is in the store whole or not at all, and the ledger reopens on it", arguments: [false, true])
    func crashMidBatchIsAtomic(lands: Bool) throws {
        let (dev, store, ledger) = try Self.ledgerWithOneBlock()
        let before = store.inner.entries
        let (block, certificate) = try dev.nextBlock(on: ledger, [dev.transfer(from: 1, to: 2, amount: 3, nonce: 0),
                                                                  dev.transfer(from: 2, to: 3, amount: 4, nonce: 0)])
        store.faults.armed = .crash(atWrite: 1, lands: lands)
        #expect(throws: LedgerError.self) { try ledger.apply(block, certificate: certificate) }
        #expect(store.faults.isDown && store.faults.landedLastWrite == lands)
        // Down: nothing more is written.
        var batch = StoreBatch()
        batch.put([1], [2])
        #expect(throws: StoreError.self) { try store.write(batch, sync: true) }
        // What survives is the old state or the whole new block, and it opens as such.
        store.faults.restarted()
        let reopened = try Ledger(store: store, genesis: dev.genesis, cacheBytes: 0)
        if lands {
            #expect(reopened.head.hash == block.hash)
            #expect(try reopened.transaction(block.transactions[1].hash)?.height == 2)
            #expect(reopened.stateRoot == block.header.stateRoot)
        } else {
            #expect(store.inner.entries == before, "not one key of the crashed batch is in the store")
            #expect(reopened.head.height == 1)
        }
    }

    @Test("a failed write throws a StoreError and writes nothing; the next write goes through")
    func failedWriteWritesNothing() throws {
        let (dev, store, ledger) = try Self.ledgerWithOneBlock()
        let before = store.inner.entries
        let (block, certificate) = try dev.nextBlock(on: ledger, [dev.transfer(from: 1, to: 2, amount: 3, nonce: 0)])
        store.faults.armed = .fail
        #expect(throws: LedgerError.self) { try ledger.apply(block, certificate: certificate) }
        #expect(store.inner.entries == before)
        #expect(!store.faults.isDown)
        let reopened = try Ledger(store: store, genesis: dev.genesis, cacheBytes: 0)
        try reopened.apply(block, certificate: certificate)
        #expect(reopened.head.height == 2)
    }

    @Test("a crash armed at the k-th write lets k − 1 writes through first")
    func crashAtKthWrite() throws {
        let faults = StoreFaults()
        faults.armed = .crash(atWrite: 3, lands: false)
        var done = 0
        try faults.write { done += 1 }
        try faults.write { done += 1 }
        #expect(throws: StoreError.self) { try faults.write { done += 1 } }
        #expect(done == 2 && faults.isDown && !faults.landedLastWrite)
    }
}
