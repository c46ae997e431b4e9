import ChainTypes

/// The result of executing a block: what its header must commit to, and the state writes
/// that the ledger stores with it in one batch.
///
/// Invariant: `receipts` holds first one receipt per scheduled call run, in the order of
/// `scheduledCalls`, then one per transaction, in block order — so a transaction's receipt
/// is at `scheduledCalls.count + index`.
public struct BlockExecution: Sendable {
    public let receipts: [Receipt]
    /// The scheduled calls run at the start of the block (due ones, at most
    /// `ScheduledCall.maxRunsPerBlock`, in (time, sequence) order).
    public let scheduledCalls: [ScheduledCall]
    public let stateRoot: Hash
    public let receiptsRoot: Hash
    /// State values and Merkle-tree nodes to write with the block.
    public let stateBatch: StoreBatch
    /// The receipts as stored (`ReceiptList`), encoded once with the root.
    let receiptsEncoded: [UInt8]
}

/// A block's execution up to, not including, the state commitment (`Executor.executeChanges`).
public struct BlockChanges: Sendable {
    /// The scheduled calls' receipts first, then one per transaction (as in `BlockExecution`).
    public let receipts: [Receipt]
    public let scheduledCalls: [ScheduledCall]
    /// The receipts as a node stores them (the `r/` value, docs/LEDGER.md) and their root.
    public let receiptsEncoded: [UInt8]
    public let receiptsRoot: Hash
    /// The state's new values by tree key (SHA-256 of the state key), nil where deleted.
    public let stateChanges: [Hash: [UInt8]?]
    /// Writes to keys outside the state tree (the scheduled-call index `s/`), nil where deleted.
    public let indexChanges: [[UInt8]: [UInt8]?]
}

/// Executes transactions deterministically: every node computes the same receipts and state
/// root for the same block on the same state.
///
/// Two kinds of errors: a transaction that fails *admission* (signature, chain, size, gas
/// limit, payload form, sender, nonce) makes its block invalid; one that fails in
/// *execution* (funds, role, currency, approvals, contract) gets a failed receipt, consumes
/// its nonce and gas, and changes nothing else.
public struct Executor: Sendable {
    public let rules: ChainRules
    public let engine: (any ContractEngine)?
    public let signatures: SignatureCache
    /// Verify transaction signatures (benchmarks may switch this off).
    public var checkSignatures = true

    public init(rules: ChainRules, engine: (any ContractEngine)?, signatures: SignatureCache) {
        self.rules = rules
        self.engine = engine
        self.signatures = signatures
    }

    // MARK: Admission

    /// Checks that need no state. Decodes and returns nothing: the payload is decoded again
    /// in execution (cheap next to the signature check done here once).
    public func checkStateless(_ tx: Transaction) throws(TransactionError) {
        try checkStateless(tx, bytes: tx.encoded, hash: tx.hash)
    }

    /// The same, given the transaction's encoding and hash (computed once per transaction).
    func checkStateless(_ tx: Transaction, bytes: [UInt8], hash: Hash) throws(TransactionError) {
        let size = bytes.count
        guard size <= rules.maxTransactionBytes else { throw .oversize(bytes: size, limit: rules.maxTransactionBytes) }
        guard tx.body.chain.id == rules.chain else { throw .wrongChain(expected: rules.chain.value, got: tx.body.chain.id.value) }
        guard tx.body.chain.genesisHash == rules.binding.genesisHash else {
            throw .wrongGenesis(expected: rules.binding.genesisHash, got: tx.body.chain.genesisHash)
        }
        let needed = GasSchedule.intrinsic(tx.body.kind, payloadBytes: tx.body.payload.count)
        guard tx.body.gasLimit <= GasSchedule.maxGasLimit else { throw .gasLimitTooHigh(limit: tx.body.gasLimit, max: GasSchedule.maxGasLimit) }
        guard tx.body.gasLimit >= needed else { throw .gasLimitTooLow(limit: tx.body.gasLimit, needed: needed) }
        try checkPayloadForm(tx.body)
        if checkSignatures { guard signatures.verify(tx, hash: hash) else { throw .badSignature } }
    }

    func checkPayloadForm(_ body: TransactionBody) throws(TransactionError) {
        do {
            switch body.kind {
            case .transfer: _ = try TransferPayload(canonicalBytes: body.payload, root: "payload")
            case .mint, .burn: _ = try DepositPayload(canonicalBytes: body.payload, root: "payload")
            case .registerParticipant, .changeRole, .setNodePin:
                let p = try GovernancePayload(canonicalBytes: body.payload, root: "payload")
                switch (body.kind, p.action) {
                case (.registerParticipant, .register), (.changeRole, .changeRole), (.setNodePin, .setNodePin): break
                default: throw TransactionError.malformedPayload("the governance action does not match the transaction kind")
                }
            case .deployContract: _ = try DeployPayload(canonicalBytes: body.payload, root: "payload")
            case .callContract: _ = try CallPayload(canonicalBytes: body.payload, root: "payload")
            }
        } catch let e as DecodeError {
            throw .malformedPayload(e.description)
        } catch let e as TransactionError {
            throw e
        } catch {
            throw .malformedPayload("\(error)")
        }
    }

    /// The sender's account, which must belong to a registered participant holding this key.
    func senderAccount(_ tx: Transaction, _ state: StateOverlay) throws(LedgerError) -> Account? {
        guard let account = try state.account(tx.sender), account.publicKey == tx.body.sender, account.role != nil else { return nil }
        return account
    }

    // MARK: Blocks

    /// Executes `block` on the state in `store` (not modified): first the scheduled calls due
    /// by the block's time, then the transactions. The block must respect its genesis limits:
    /// transaction count and the gas it reserves (`reservedGas`); a transaction whose run
    /// would pass `maxBlockStateBytes` fails (`blockStateFull`) and changes nothing else.
    public func execute(_ block: Block, store: any KeyValueStore) throws(LedgerError) -> BlockExecution {
        let (state, receipts, scheduled) = try run(block, store: store)
        return try finish(state, receipts: receipts, scheduledCalls: scheduled)
    }

    /// Executes `block` like `execute` and stops before the state commitment: the receipts and
    /// the state's changes, for a verifier that computes the state root its own way (the
    /// auditor, `hansa audit verify`), from docs/PROTOCOL.md §15 rather than this ledger's tree.
    public func executeChanges(_ block: Block, store: any KeyValueStore) throws(LedgerError) -> BlockChanges {
        let (state, receipts, scheduled) = try run(block, store: store)
        let (encoded, root) = Receipt.encodeAll(receipts)
        return BlockChanges(receipts: receipts, scheduledCalls: scheduled, receiptsEncoded: encoded, receiptsRoot: root,
                            stateChanges: state.changes, indexChanges: state.indexChanges)
    }

    /// Scheduled calls, then admission and execution of every transaction, on an overlay of `store`.
    func run(_ block: Block, store: any KeyValueStore) throws(LedgerError) -> (StateOverlay, [Receipt], [ScheduledCall]) {
        let limits = rules.genesis.consensus
        guard UInt64(block.transactions.count) <= limits.maxBlockTransactions else {
            throw .invalidBlock(.tooManyTransactions(count: block.transactions.count, limit: limits.maxBlockTransactions))
        }
        let state = StateOverlay(store: store)
        state.reserve(transactions: block.transactions.count)
        let (scheduled, scheduledReceipts) = try runScheduledCalls(state: state, header: block.header)
        let reserved = Self.reservedGas(scheduledCalls: scheduled.count, transactions: block.transactions)
        guard reserved <= limits.maxBlockGas else {
            throw .invalidBlock(.gasReservedAboveLimit(reserved: reserved, scheduledCalls: scheduled.count, limit: limits.maxBlockGas))
        }
        var receipts = scheduledReceipts
        receipts.reserveCapacity(scheduledReceipts.count + block.transactions.count)
        var seen = Set<Hash>()
        var blockBytes = Self.headerAllowanceBytes
        for (i, tx) in block.transactions.enumerated() {
            let bytes = tx.encoded
            blockBytes += bytes.count
            // Consensus checks the whole block's encoding; the ledger checks what it reads, so
            // that a certified block from sync, or an archive, meets the same bound.
            guard blockBytes <= Int(clamping: limits.maxBlockBytes) else {
                throw .invalidBlock(.bytesAboveLimit(limit: limits.maxBlockBytes))
            }
            let hash = tx.hash
            guard seen.insert(hash).inserted else { throw .invalidBlock(.invalidTransaction(index: i, .duplicate)) }
            if let refusal = try admit(tx, bytes: bytes, hash: hash, state: state) { throw .invalidBlock(.invalidTransaction(index: i, refusal)) }
            receipts.append(try apply(tx, hash: hash, state: state, header: block.header))
        }
        return (state, receipts, scheduled)
    }

    /// The gas a block reserves: each transaction's gas limit plus a scheduled call's budget
    /// for each scheduled call it runs. At most `maxBlockGas` (docs/PROTOCOL.md §16).
    public static func reservedGas(scheduledCalls: Int, transactions: [Transaction]) -> UInt64 {
        // Each term is at most 50 M and there are at most 20 032: no overflow.
        transactions.reduce(UInt64(scheduledCalls) * GasSchedule.scheduledCallGas) { $0 + $1.body.gasLimit }
    }

    /// The state bytes a block may write (`ConsensusParameters.maxBlockStateBytes`).
    var stateLimit: Int { Int(clamping: rules.genesis.consensus.maxBlockStateBytes) }

    /// Admission with state: the stateless checks, a registered sender holding the key, the
    /// next nonce — which it then consumes. Returns why the transaction may not be in a block
    /// (nothing changed then); throws only when the state cannot be read.
    func admit(_ tx: Transaction, bytes: [UInt8], hash: Hash, state: StateOverlay) throws(LedgerError) -> TransactionError? {
        do { try checkStateless(tx, bytes: bytes, hash: hash) } catch { return error }
        guard var sender = try senderAccount(tx, state) else { return .unknownSender(tx.sender) }
        guard tx.body.nonce == sender.nonce else {
            return tx.body.nonce < sender.nonce
                ? .nonceReused(expected: sender.nonce, got: tx.body.nonce)
                : .nonceTooFarAhead(expected: sender.nonce, got: tx.body.nonce, maxGap: 0)
        }
        sender.nonce += 1
        state.setAccount(tx.sender, sender)
        return nil
    }

    /// Turns a block's state writes into the value writes and the new state root, and adds
    /// its index writes (outside the state tree) to the same batch.
    func finish(_ state: StateOverlay, receipts: [Receipt], scheduledCalls: [ScheduledCall] = []) throws(LedgerError) -> BlockExecution {
        var batch = StoreBatch()
        var leaves: [Hash: Hash?] = [:]
        for (key, value) in state.changes {
            if let value {
                batch.put(StateOverlay.valueKey(key), value)
                leaves[key] = .some(SHA256.hash(value))
            } else {
                batch.delete(StateOverlay.valueKey(key))
                leaves[key] = .some(nil)
            }
        }
        for (key, value) in state.indexChanges {
            if let value { batch.put(key, value) } else { batch.delete(key) }
        }
        let tree = SparseMerkleTree(store: state.store, prefix: Ledger.Keys.stateNodePrefix)
        let root: Hash
        do { root = try tree.update(leaves, into: &batch) } catch { throw .store(error) }
        let (receiptsEncoded, receiptsRoot) = Receipt.encodeAll(receipts)
        return BlockExecution(receipts: receipts, scheduledCalls: scheduledCalls, stateRoot: root,
                              receiptsRoot: receiptsRoot, stateBatch: batch, receiptsEncoded: receiptsEncoded)
    }

    /// Runs one admitted transaction; its nonce is already consumed.
    func apply(_ tx: Transaction, hash: Hash, state: StateOverlay, header: BlockHeader) throws(LedgerError) -> Receipt {
        let mark = state.mark()
        let intrinsic = GasSchedule.intrinsic(tx.body.kind, payloadBytes: tx.body.payload.count)
        do {
            let (gas, events) = try run(tx, state: state, header: header)
            guard state.bytesWritten <= stateLimit else {
                throw fail(.blockStateFull(limitBytes: rules.genesis.consensus.maxBlockStateBytes), gas: gas)
            }
            return Receipt(transactionHash: hash, status: .success, gasUsed: intrinsic + gas, events: events)
        } catch let failure as ExecutionFailure {
            state.revert(to: mark)
            return Receipt(transactionHash: hash, status: .failure(code: failure.error.code, message: failure.error.description),
                           gasUsed: intrinsic + failure.gasUsed, events: [])
        } catch let e as LedgerError {
            throw e
        } catch let e as StoreError {
            throw .store(e)
        } catch {
            // A payload that passed admission decodes; anything else is a failed transaction, not a crash.
            state.revert(to: mark)
            return Receipt(transactionHash: hash, status: .failure(code: "malformed_payload", message: "\(error)"),
                           gasUsed: intrinsic, events: [])
        }
    }

    struct ExecutionFailure: Error {
        let error: TransactionError
        var gasUsed: UInt64 = 0
    }
}
