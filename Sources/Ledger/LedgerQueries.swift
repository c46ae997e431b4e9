import ChainTypes

/// What reads the chain: the `Ledger` itself (its writer's view) and a `LedgerSnapshot` (a
/// Sendable view at one head, for readers beside the writer). The queries below serve both.
public protocol LedgerReader {
    var store: any KeyValueStore { get }
    var genesis: Genesis { get }
    var head: ChainTip { get }
    /// The state root after the head block.
    var stateRoot: Hash { get }
    var executor: Executor { get }
}

extension Ledger: LedgerReader {
    /// At most this many pending scheduled calls are listed at once.
    public static let maxPendingScheduledCallsListed = 1_000
}

// Reads for sync, RPC and audit.
extension LedgerReader {
    private func decode<T: CanonicalDecodable>(_ key: [UInt8], _ what: String) throws(LedgerError) -> T? {
        let bytes: [UInt8]?
        do { bytes = try store.get(key) } catch { throw .store(error) }
        guard let bytes else { return nil }
        do { return try T(canonicalBytes: bytes) } catch { throw .corrupted("\(what): \(error)") }
    }

    public func block(at height: UInt64) throws(LedgerError) -> Block? { try decode(Ledger.Keys.block(height), "block \(height)") }

    /// A committed block, its certificate and its receipt list as stored, undecoded (for an
    /// auditor who checks them: `audit.blocks`). Nil above the head.
    public func storedBlock(at height: UInt64) throws(LedgerError) -> (block: [UInt8], certificate: [UInt8]?, receipts: [UInt8]?)? {
        do {
            guard height >= 1, let block = try store.get(Ledger.Keys.block(height)) else { return nil }
            return (block, try store.get(Ledger.Keys.certificate(height)), try store.get(Ledger.Keys.receipts(height)))
        } catch { throw .store(error) }
    }

    public func certificate(at height: UInt64) throws(LedgerError) -> CommitCertificate? {
        try decode(Ledger.Keys.certificate(height), "certificate \(height)")
    }

    /// All receipts of a block: the scheduled calls' first, then one per transaction.
    public func receipts(at height: UInt64) throws(LedgerError) -> [Receipt]? {
        let list: ReceiptList? = try decode(Ledger.Keys.receipts(height), "receipts \(height)")
        return list?.receipts
    }

    /// A block's receipts split into those of the scheduled calls run at its start and those
    /// of its transactions (in block order).
    public func blockReceipts(at height: UInt64) throws(LedgerError) -> (scheduled: [Receipt], transactions: [Receipt])? {
        guard let block = try block(at: height), let receipts = try receipts(at: height) else { return nil }
        let first = try scheduledReceiptCount(block, receipts)
        return (Array(receipts[..<first]), Array(receipts[first...]))
    }

    /// How many receipts before the transactions' belong to scheduled calls.
    func scheduledReceiptCount(_ block: Block, _ receipts: [Receipt]) throws(LedgerError) -> Int {
        let n = receipts.count - block.transactions.count
        guard n >= 0, n <= ScheduledCall.maxRunsPerBlock else {
            throw .corrupted("block \(block.header.height) has \(block.transactions.count) transactions but \(receipts.count) receipts")
        }
        return n
    }

    public func height(of blockHash: Hash) throws(LedgerError) -> UInt64? {
        let bytes: [UInt8]?
        do { bytes = try store.get(Ledger.Keys.blockIndex(blockHash)) } catch { throw .store(error) }
        return bytes.map { Ledger.Keys.readBE64($0[...]) }
    }

    /// A committed transaction with where it is and its receipt.
    public func transaction(_ hash: Hash) throws(LedgerError) -> (transaction: Transaction, height: UInt64, index: Int, receipt: Receipt)? {
        let bytes: [UInt8]?
        do { bytes = try store.get(Ledger.Keys.transactionIndex(hash)) } catch { throw .store(error) }
        guard let bytes, bytes.count == 16 else { return nil }
        let height = Ledger.Keys.readBE64(bytes[0..<8])
        guard let block = try block(at: height), let index = Int(exactly: Ledger.Keys.readBE64(bytes[8..<16])),
              index < block.transactions.count, let receipts = try receipts(at: height) else {
            throw .corrupted("transaction index points at a missing block or receipt")
        }
        return (block.transactions[index], height, index, receipts[try scheduledReceiptCount(block, receipts) + index])
    }

    /// A scheduled call that ran, by its id (`ScheduledCall.id`, its receipt's
    /// `transactionHash`): the call, the height it ran at, its receipt's index among the
    /// block's receipts, and the receipt.
    public func scheduledCall(_ id: Hash) throws(LedgerError) -> (call: ScheduledCall, height: UInt64, index: Int, receipt: Receipt)? {
        let bytes: [UInt8]?
        do { bytes = try store.get(Ledger.Keys.scheduledReceiptIndex(id)) } catch { throw .store(error) }
        guard let bytes else { return nil }
        guard bytes.count > 16 else { throw .corrupted("scheduled-call receipt index entry of \(bytes.count) bytes") }
        let height = Ledger.Keys.readBE64(bytes[0..<8])
        let index = Ledger.Keys.readBE64(bytes[8..<16])
        let call: ScheduledCall
        do { call = try ScheduledCall(canonicalBytes: Array(bytes[16...])) } catch { throw .corrupted("scheduled call \(id): \(error)") }
        guard call.id == id, index < UInt64(ScheduledCall.maxRunsPerBlock), let receipts = try receipts(at: height),
              Int(index) < receipts.count, receipts[Int(index)].transactionHash == id else {
            throw .corrupted("the scheduled-call receipt index for \(id) points at a missing or different receipt")
        }
        return (call, height, Int(index), receipts[Int(index)])
    }

    /// At most this many pending scheduled calls are listed at once.
    public static var maxPendingScheduledCallsListed: Int { Ledger.maxPendingScheduledCallsListed }

    /// Scheduled calls waiting to run, in the order they will run ((time, sequence)), at most
    /// `limit` (capped at `maxPendingScheduledCallsListed`).
    public func pendingScheduledCalls(limit: Int) throws(LedgerError) -> [ScheduledCall] {
        try ScheduledCall.indexed(in: store, dueByMillis: nil, limit: min(limit, Self.maxPendingScheduledCallsListed))
    }

    /// The sequence number the chain's next governance proposal must carry
    /// (`GovernanceProposal`): validators sign proposals for this turn.
    public func governanceSequence() throws(LedgerError) -> UInt64 {
        try executor.governanceSequence(StateOverlay(store: store))
    }

    /// The committed state of an account.
    public func account(_ address: Address) throws(LedgerError) -> Account? {
        try StateOverlay(store: store).account(address)
    }

    /// The account with a proof of it (or of its absence) against the head's state root.
    public func accountProof(_ address: Address) throws(LedgerError) -> (account: Account?, proof: SparseMerkleProof, stateRoot: Hash) {
        let tree = SparseMerkleTree(store: store, prefix: Ledger.Keys.stateNodePrefix)
        do {
            return (try account(address), try tree.proof(for: StateKey.hash(StateKey.account(address))), stateRoot)
        } catch let e as LedgerError { throw e } catch let e as StoreError { throw .store(e) } catch { throw .corrupted("\(error)") }
    }
}

extension LedgerReader {
    /// Proof that a committed transaction is in its block: its index, the block's number of
    /// transactions and the audit path to the header's `transactions_root`; and for its
    /// receipt, its index among the block's receipts (after the scheduled calls'), their
    /// number and the audit path to `receipts_root`.
    public func inclusionProof(of transactionHash: Hash) throws(LedgerError)
        -> (height: UInt64, index: Int, size: Int, transactionPath: [Hash],
            receiptIndex: Int, receiptCount: Int, receiptPath: [Hash])? {
        guard let found = try transaction(transactionHash), let block = try block(at: found.height),
              let receipts = try receipts(at: found.height) else { return nil }
        let receiptIndex = try scheduledReceiptCount(block, receipts) + found.index
        return (found.height, found.index, block.transactions.count,
                MerkleTree.auditPath(index: found.index, leaves: block.transactions.map(\.hash)),
                receiptIndex, receipts.count, MerkleTree.auditPath(index: receiptIndex, leaves: receipts.map(\.hash)))
    }

    /// Proof that a scheduled call's receipt is in the block it ran at: its index among the
    /// block's receipts, their number and the audit path to the header's `receipts_root`.
    public func scheduledCallProof(of id: Hash) throws(LedgerError) -> (height: UInt64, index: Int, size: Int, receiptPath: [Hash])? {
        guard let found = try scheduledCall(id), let receipts = try receipts(at: found.height) else { return nil }
        return (found.height, found.index, receipts.count, MerkleTree.auditPath(index: found.index, leaves: receipts.map(\.hash)))
    }
}

// Contract reads for RPC, clients and tests.
extension LedgerReader {
    /// A contract's storage value at the head state, or nil when unset. Slot keys are in the
    /// contract's ABI (docs/CONTRACTS.md: "name" for a variable, "name/" ‖ ABI(key) for a map).
    public func contractStorage(_ contract: Address, key: [UInt8]) throws(LedgerError) -> [UInt8]? {
        do { return try StateOverlay(store: store).get(StateKey.slot(contract, key)) } catch { throw .store(error) }
    }

    /// Runs a contract's `pub fn` on the head state as `caller` would, at the head block's time,
    /// and throws every change away: a free query (e.g. the letter of credit's `status()`).
    public func readOnlyCall(_ contract: Address, input: [UInt8], caller: Address,
                             gasLimit: UInt64 = GasSchedule.maxGasLimit) throws(LedgerError) -> ContractOutcome {
        guard let engine = executor.engine else { return ContractOutcome(succeeded: false, failure: "this node has no contract engine", gasUsed: 0) }
        let state = StateOverlay(store: store)
        guard let (code, codeHash) = try state.contractCode(contract) else {
            return ContractOutcome(succeeded: false, failure: "\(contract) is not a contract", gasUsed: 0)
        }
        let header = BlockHeader(height: head.height, previousHash: head.hash, timestampMillis: head.timestampMillis, transactionsRoot: .zero,
                                 stateRoot: stateRoot, receiptsRoot: .zero, proposer: contract, view: 0)
        let host = try LedgerHost(state: state, contract: contract, caller: caller, header: header, rules: executor.rules)
        let outcome = engine.run(code: code, codeHash: codeHash, entry: .call, input: input, gasLimit: min(gasLimit, GasSchedule.maxGasLimit), host: host)
        try host.throwIfFaulted()
        return outcome
    }
}
