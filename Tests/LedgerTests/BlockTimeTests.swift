import ChainTypes
import Ledger
import Testing

/// Block time on the ledger side (review finding 9, its sibling): a block's timestamp must be
/// after its parent's — also for a block that arrives by sync with a valid certificate, which
/// the consensus core's proposal checks never saw. (The lag bound against a clock cannot
/// apply here: a synced block may be old.)
@Suite("Ledger block time")
struct BlockTimeTests {
    @Test("a block stamped at (or before) its parent's time is refused, by validation and by apply, even when certified",
          arguments: [UInt64(0), 1_000])
    func notAfterParentIsRefused(_ earlierBy: UInt64) throws {
        let f = try Fixture()
        try f.commit([])
        let parent = f.ledger.head
        let (block, certificate) = try f.dev.nextBlock(on: f.ledger, [], timestampMillis: parent.timestampMillis - earlierBy)
        let refusal = BlockRejection.timestampNotAfterParent(height: 2, timestampMillis: parent.timestampMillis - earlierBy,
                                                             parentMillis: parent.timestampMillis)
        #expect(try f.ledger.rejection(of: block) == refusal)
        #expect(refusal.description.contains("not after its parent's"))
        #expect(throws: LedgerError.invalidBlock(refusal)) { try f.ledger.apply(block, certificate: certificate) }
        #expect(f.ledger.head == parent)
    }

    @Test("the first block must be after the genesis time")
    func firstBlockAfterGenesis() throws {
        let f = try Fixture()
        let (block, certificate) = try f.dev.nextBlock(on: f.ledger, [], timestampMillis: f.dev.genesis.genesisTimeMillis)
        #expect(throws: LedgerError.self) { try f.ledger.apply(block, certificate: certificate) }
        #expect(f.ledger.head.height == 0)
    }

    @Test("a block the ledger itself proposed at its parent's time is refused at apply (its kept execution skips validation)")
    func proposedNotAfterParentIsRefused() throws {
        let f = try Fixture()
        try f.commit([])
        let parent = f.ledger.head
        let header = BlockHeader(height: parent.height + 1, previousHash: parent.hash, timestampMillis: parent.timestampMillis,
                                 transactionsRoot: .zero, stateRoot: .zero, receiptsRoot: .zero, proposer: f.address(f.bank(0)), view: 0)
        let block = try f.ledger.propose([], header: header)
        #expect(throws: LedgerError.self) { try f.ledger.apply(block, certificate: f.dev.certificate(for: block)) }
        #expect(f.ledger.head == parent)
    }

    @Test("one millisecond after the parent is accepted")
    func justAfterParent() throws {
        let f = try Fixture()
        try f.commit([])
        let (block, certificate) = try f.dev.nextBlock(on: f.ledger, [], timestampMillis: f.ledger.head.timestampMillis + 1)
        #expect(try f.ledger.rejection(of: block) == nil)
        try f.ledger.apply(block, certificate: certificate)
        #expect(f.ledger.head.height == 2)
    }
}
