import ChainTypes
import Ledger
import Testing

/// Hardening finding 1: a block's work and memory are bounded by genesis parameters —
/// `max_block_gas` (its transactions' gas limits plus its scheduled calls' budgets) and
/// `max_block_state_bytes` — enforced when validating and when building a proposal.
@Suite("Block limits")
struct BlockLimitTests {
    static let maxGas = GasSchedule.maxGasLimit

    /// A transfer from user `i` with the largest gas limit a transaction may ask for.
    func heavy(_ f: Fixture, _ i: Int) throws -> Transaction {
        try f.tx(f.user(i), .transfer, TransferPayload(to: f.address(f.user((i + 1) % 6)), currency: f.usd, amount: 1), gas: Self.maxGas)
    }

    func header(_ f: Fixture) -> BlockHeader {
        BlockHeader(height: f.ledger.head.height + 1, previousHash: f.ledger.head.hash, timestampMillis: f.ledger.head.timestampMillis + 1_000,
                    transactionsRoot: .zero, stateRoot: .zero, receiptsRoot: .zero, proposer: f.address(f.bank(0)), view: 0)
    }

    @Test("finding 1: a block whose gas limits add up past max_block_gas is invalid; a proposal leaves the excess for later")
    func finding1_blockGasIsBounded() throws {
        let f = try Fixture()
        #expect(f.dev.genesis.consensus.maxBlockGas == 2 * Self.maxGas)
        let txs = try (0..<3).map { try heavy(f, $0) }
        do {
            _ = try f.commit(txs)
            Issue.record("a block reserving 150 M gas was accepted")
        } catch let LedgerError.invalidBlock(reason) {
            #expect(reason == .gasReservedAboveLimit(reserved: 150_000_000, scheduledCalls: 0, limit: 100_000_000))
            #expect(reason.description.contains("reserves 150000000 gas") && reason.description.contains("the limit is 100000000"), "\(reason)")
        }
        let block = try f.ledger.propose(txs, header: header(f))
        #expect(block.transactions == Array(txs.prefix(2)))
        try f.ledger.apply(block, certificate: f.dev.certificate(for: block))
        #expect(try f.commit([txs[2]])[0].succeeded, "the one left out goes in the next block")
    }

    @Test("finding 1: scheduled calls count against max_block_gas")
    func finding1_scheduledCallsCount() throws {
        let f = try Fixture(engine: ScriptEngine())
        let contract = try ContractHostTests().deployed(f)
        try f.commit([try ScheduledCallTests.call(f, contract, ScheduledCallTests.schedule(secs: 2, count: 8, [7, 1]))])
        let due = f.ledger.head.timestampMillis + 2_000
        let txs = try (0..<2).map { try heavy(f, $0) }
        do {
            _ = try f.commit(txs, at: due)
            Issue.record("2 × 50 M gas beside 8 scheduled calls was accepted")
        } catch let LedgerError.invalidBlock(reason) {
            #expect(reason == .gasReservedAboveLimit(reserved: 108_000_000, scheduledCalls: 8, limit: 100_000_000))
            #expect(reason.description.contains("reserves 108000000 gas") && reason.description.contains("8 scheduled calls"), "\(reason)")
        }
        var h = header(f)
        h.timestampMillis = due
        let block = try f.ledger.propose(txs, header: h)
        #expect(block.transactions.count == 1)
        try f.ledger.apply(block, certificate: f.dev.certificate(for: block))
        #expect(try f.ledger.receipts(at: block.header.height)?.count == 8 + 1)
    }

    /// User `i` calls the contract to store `count` values of 4 KiB.
    func writer(_ f: Fixture, _ contract: Address, _ i: Int, count: Int) throws -> Transaction {
        try f.tx(f.user(i), .callContract, CallPayload(contract: contract, input: [9, UInt8(count >> 8), UInt8(count & 0xff)]), gas: 1_000_000)
    }

    @Test("finding 1: a transaction whose writes would pass max_block_state_bytes fails and changes nothing but its nonce")
    func finding1_stateBytesAreBounded() throws {
        let f = try Fixture(engine: ScriptEngine())
        let contract = try ContractHostTests().deployed(f)
        #expect(f.dev.genesis.consensus.maxBlockStateBytes == 8 * 1024 * 1024)
        // 1 200 values of 4 KiB are 4.9 MB: one fits in 8 MiB, two do not.
        let a = try writer(f, contract, 0, count: 1_200), b = try writer(f, contract, 1, count: 1_200)
        let receipts = try f.commit([a, b])
        #expect(receipts[0].succeeded, "\(receipts[0].status)")
        #expect(receipts[1].status == .failure(code: "block_state_full", message: TransactionError.blockStateFull(limitBytes: 8 * 1024 * 1024).description))
        #expect(try f.nonce(f.user(1)) == 1)
        // The block wrote a's values and not b's (the same slots, so a's are what is there).
        #expect(try StateOverlay(store: f.store).get(StateKey.slot(contract, [9, 4, 175]))?.count == 4096)
        #expect(try StateOverlay(store: f.store).get(StateKey.slot(contract, [9, 4, 176])) == nil)

        // A proposal leaves b for the next block instead of failing it.
        let b2 = try writer(f, contract, 1, count: 1_200), c = try writer(f, contract, 2, count: 1_200)
        let block = try f.ledger.propose([c, b2], header: header(f))
        #expect(block.transactions == [c])
        try f.ledger.apply(block, certificate: f.dev.certificate(for: block))
        // Alone in a block, a transaction above the bound still fails rather than waiting forever.
        let huge = try writer(f, contract, 3, count: 2_100)
        let alone = try f.ledger.propose([huge], header: header(f))
        #expect(alone.transactions == [huge])
        try f.ledger.apply(alone, certificate: f.dev.certificate(for: alone))
        #expect(try f.ledger.receipts(at: alone.header.height)?.first?.failureCode == "block_state_full")
    }
}

extension BlockLimitTests {
    @Test("finding 1 sibling: the ledger itself refuses a block whose transactions pass max_block_bytes")
    func finding1_blockBytesAreCheckedByTheLedger() throws {
        var genesis = Fixture.chain.genesis
        genesis.consensus.maxBlockBytes = 4 * 1024
        let dev = DevChain(genesis: genesis, validatorKeys: Fixture.chain.validatorKeys, userKeys: Fixture.chain.userKeys)
        let ledger = try Ledger(store: MemoryStore(), genesis: dev.genesis)
        let txs = (0..<20).map { dev.transfer(from: $0 % 6, to: ($0 + 1) % 6, amount: 1, nonce: UInt64($0 / 6)) }
        let refusal = #expect(throws: LedgerError.invalidBlock(.bytesAboveLimit(limit: 4 * 1024))) { _ = try dev.nextBlock(on: ledger, txs) }
        #expect(refusal?.description.contains("max_block_bytes") == true, "\(String(describing: refusal))")
        let block = try ledger.propose(txs, header: BlockHeader(height: 1, previousHash: ledger.head.hash, timestampMillis: ledger.head.timestampMillis + 1_000,
            transactionsRoot: .zero, stateRoot: .zero, receiptsRoot: .zero, proposer: dev.validatorKeys[0].publicKey.address, view: 0))
        #expect(block.transactions.count < txs.count && !block.transactions.isEmpty)
        #expect(try ledger.rejection(of: block) == nil)
    }
}

extension BlockLimitTests {
    @Test("a block built by propose is applied only with the transactions its header commits to (review finding)")
    func proposedExecutionIsNotReusedForOtherTransactions() throws {
        let f = try Fixture()
        let t1 = try f.transfer(f.user(0), to: f.address(f.user(1)), 1), t2 = try f.transfer(f.user(2), to: f.address(f.user(3)), 1)
        let proposed = try f.ledger.propose([t1], header: header(f))
        let swapped = Block(header: proposed.header, transactions: [t2])
        let refusal = #expect(throws: LedgerError.self) { try f.ledger.apply(swapped, certificate: f.dev.certificate(for: swapped)) }
        #expect(refusal?.description.contains("transactions root") == true, "\(String(describing: refusal))")
        #expect(f.ledger.head.height == 0)
        try f.ledger.apply(proposed, certificate: f.dev.certificate(for: proposed))
        #expect(try f.nonce(f.user(0)) == 1 && (try f.nonce(f.user(2))) == 0)
    }
}
