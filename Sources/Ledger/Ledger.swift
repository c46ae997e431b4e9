import ChainTypes

/// The chain on disk: blocks with their commit certificates, transactions by hash, receipts,
/// the authenticated state and the head — behind a `KeyValueStore` (LevelDB in a node).
///
/// Invariant: everything one block changes is written in **one** synced batch, so after a
/// crash at any moment the ledger reopens at the last fully committed block. Opening another
/// chain's directory, a newer schema, or a corrupted one fails without writing anything.
public final class Ledger {
    /// 3: the state tree stored as pages of four levels (2: contract code stored by code
    /// hash; scheduled calls — docs/LEDGER.md).
    public static let schemaVersion: UInt64 = 3

    /// The store's key layout (docs/LEDGER.md).
    public enum Keys {
        public static let schema = Array("m/schema".utf8)
        public static let genesisHash = Array("m/genesis".utf8)
        public static let genesisStateRoot = Array("m/genesis-state-root".utf8)
        /// The genesis itself, canonically encoded (its SHA-256 is `m/genesis`): a data
        /// directory says which chain it holds without a file kept elsewhere.
        public static let genesisEncoded = Array("m/genesis-encoded".utf8)
        public static let head = Array("m/head".utf8)
        public static let stateNodePrefix = Array("n/".utf8)
        public static func block(_ height: UInt64) -> [UInt8] { Array("b/".utf8) + be64(height) }
        public static func certificate(_ height: UInt64) -> [UInt8] { Array("c/".utf8) + be64(height) }
        public static func receipts(_ height: UInt64) -> [UInt8] { Array("r/".utf8) + be64(height) }
        public static func blockIndex(_ hash: Hash) -> [UInt8] { Array("h/".utf8) + hash.bytes }
        public static func transactionIndex(_ hash: Hash) -> [UInt8] { Array("t/".utf8) + hash.bytes }
        /// Pending scheduled calls in time order, outside the state tree (`ScheduledCall`).
        public static let scheduleIndexPrefix = Array("s/".utf8)
        public static func scheduleIndex(atMillis: UInt64, sequence: UInt64) -> [UInt8] {
            scheduleIndexPrefix + be64(atMillis) + be64(sequence)
        }
        /// A scheduled call that ran: its id → height ‖ index of its receipt ‖ the call.
        public static func scheduledReceiptIndex(_ id: Hash) -> [UInt8] { Array("d/".utf8) + id.bytes }

        static func be64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> UInt64(56 - 8 * $0)) } }
        static func readBE64(_ b: ArraySlice<UInt8>) -> UInt64 { b.reduce(0) { $0 << 8 | UInt64($1) } }
    }

    public let store: any KeyValueStore
    public let genesis: Genesis
    public private(set) var executor: Executor
    public private(set) var head: ChainTip
    /// The state root after the head block (the genesis state's root at height 0).
    public private(set) var stateRoot: Hash
    /// Executions of blocks validated but not yet applied, by block hash (at most a few).
    private var pending: [Hash: BlockExecution] = [:]
    /// The last few blocks applied, as they were handed in, by height: what the node does
    /// after a commit (receipt waiters, the observer push, metrics) reads them from here
    /// instead of reading and decoding the block back from the store.
    private var recent: [UInt64: (block: Block, certificate: CommitCertificate)] = [:]
    public static let recentBlocksKept = 8

    /// Opens (or initialises) the ledger of `genesis` in `store`, behind a bounded read cache
    /// of state values and tree pages: two generations of at most `cacheBytes` each (0 = none).
    public init(store: any KeyValueStore, genesis: Genesis, engine: (any ContractEngine)? = nil,
                signatures: SignatureCache = SignatureCache(), cacheBytes: Int = 32 << 20) throws(LedgerError) {
        self.store = cacheBytes > 0
            ? CachedStore(store, capacityBytes: cacheBytes, cachedPrefixes: [StateOverlay.valuePrefix, Keys.stateNodePrefix])
            : store
        self.genesis = genesis
        self.executor = Executor(rules: ChainRules(genesis: genesis), engine: engine, signatures: signatures)
        self.head = ChainTip.init(height: 0, hash: genesis.hash, timestampMillis: genesis.genesisTimeMillis, certificate: nil)
        self.stateRoot = .zero
        do {
            if let schema = try store.get(Keys.schema) {
                try openExisting(schema: schema)
            } else {
                var any = false
                try store.scan(prefix: [], from: nil) { _, _ in any = true; return false }
                guard !any else { throw LedgerError.corrupted("the directory holds data but no Hansa schema marker; refusing to touch it") }
                try initialise()
            }
        } catch let e as LedgerError {
            throw e
        } catch let e as StoreError {
            throw .store(e)
        } catch {
            throw .corrupted("\(error)")
        }
    }

    public var rules: ChainRules { executor.rules }

    /// Switches signature checks off (benchmarks only).
    public func setSignatureChecks(_ on: Bool) { executor.checkSignatures = on }

    private func openExisting(schema: [UInt8]) throws {
        guard schema.count == 8 else { throw LedgerError.corrupted("schema marker has \(schema.count) bytes") }
        let version = Keys.readBE64(schema[...])
        guard version <= Self.schemaVersion else { throw LedgerError.newerSchema(found: version, supported: Self.schemaVersion) }
        guard version == Self.schemaVersion else { throw LedgerError.olderSchema(found: version, supported: Self.schemaVersion) }
        guard let g = try store.get(Keys.genesisHash), let found = Hash(bytes: g) else {
            throw LedgerError.corrupted("no genesis hash")
        }
        guard found == genesis.hash else { throw LedgerError.wrongChain(expected: genesis.hash, found: found) }
        if try store.get(Keys.genesisEncoded) == nil {
            // Directories initialised before the genesis was stored get it on their next open
            // (metadata only: a read-only store, which refuses the write, goes on without it).
            var batch = StoreBatch()
            batch.put(Keys.genesisEncoded, genesis.canonicalBytes)
            try? store.write(batch, sync: true)
        }
        guard let r = try store.get(Keys.genesisStateRoot), let genesisRoot = Hash(bytes: r) else {
            throw LedgerError.corrupted("no genesis state root")
        }
        stateRoot = genesisRoot
        guard let h = try store.get(Keys.head), h.count == 40 else { throw LedgerError.corrupted("no head pointer") }
        let height = Keys.readBE64(h[0..<8])
        let hash = Hash(bytes: h[8..<40])!
        guard height > 0 else { return }
        guard let block = try self.block(at: height), block.hash == hash, let cert = try certificate(at: height) else {
            throw LedgerError.corrupted("the head block \(height) is missing or does not match the head pointer")
        }
        head = ChainTip(height: height, hash: hash, timestampMillis: block.header.timestampMillis, certificate: cert)
        stateRoot = block.header.stateRoot
        let treeRoot = try SparseMerkleTree(store: store, prefix: Keys.stateNodePrefix).root()
        guard treeRoot == stateRoot else {
            throw LedgerError.corrupted("the state tree's root \(treeRoot) is not the head block's state root \(stateRoot)")
        }
    }

    /// Writes the genesis state and the metadata in one synced batch.
    private func initialise() throws {
        let state = StateOverlay(store: store)
        for p in genesis.participants {
            state.setAccount(p.address, Account(publicKey: p.publicKey, role: p.role, bank: p.bank))
        }
        for d in genesis.deposits {
            var a = try state.account(d.account)!
            a.setBalance(d.currency, d.amount)
            state.setAccount(d.account, a)
        }
        let execution = try executor.finish(state, receipts: [])
        var batch = execution.stateBatch
        batch.put(Keys.schema, Keys.be64(Self.schemaVersion))
        batch.put(Keys.genesisHash, genesis.hash.bytes)
        batch.put(Keys.genesisEncoded, genesis.canonicalBytes)
        batch.put(Keys.genesisStateRoot, execution.stateRoot.bytes)
        batch.put(Keys.head, Keys.be64(0) + genesis.hash.bytes)
        try store.write(batch, sync: true)
        stateRoot = execution.stateRoot
    }

    // MARK: Blocks

    /// Why a block with `header` cannot follow the head, or nil: it must be the next height,
    /// on the head's hash, and later than the head (block time only moves forward; the
    /// executor runs scheduled calls and deadlines by it). Consensus checks a proposal's time
    /// against the clocks too; a synced block skips those checks, so this one is its guard.
    func extensionRejection(_ h: BlockHeader) -> BlockRejection? {
        guard h.height == head.height + 1, h.previousHash == head.hash else {
            return .doesNotExtendHead(height: h.height, headHeight: head.height)
        }
        guard h.timestampMillis > head.timestampMillis else {
            return .timestampNotAfterParent(height: h.height, timestampMillis: h.timestampMillis, parentMillis: head.timestampMillis)
        }
        return nil
    }

    /// Why `block` cannot follow the head, or nil: it is executed here (transactions,
    /// state root, receipts root) unless its execution on this head is already kept (a block
    /// this ledger proposed or checked), and the execution is kept for `apply`. Throws only when
    /// the state cannot be read (`.store`, `.corrupted`): that says nothing about the block.
    public func rejection(of block: Block) throws(LedgerError) -> BlockRejection? {
        let h = block.header
        if let reason = extensionRejection(h) { return reason }
        guard Block.transactionsRoot(block.transactions) == h.transactionsRoot else { return .transactionsRootMismatch }
        // Built here by `propose` (the primary's own block) or checked before: its execution on
        // this head is kept under its hash, which commits to every header field — roots included.
        if pending[block.hash] != nil { return nil }
        let execution: BlockExecution
        do {
            execution = try executor.execute(block, store: store)
        } catch {
            if case .invalidBlock(let reason) = error { return reason }
            throw error
        }
        guard execution.stateRoot == h.stateRoot else { return .stateRootMismatch(header: h.stateRoot, executed: execution.stateRoot) }
        guard execution.receiptsRoot == h.receiptsRoot else { return .receiptsRootMismatch }
        if pending.count >= 8 { pending.removeAll() }
        pending[block.hash] = execution
        return nil
    }

    /// Why `certificate` does not prove that `block` committed, or nil (docs/LEDGER.md
    /// "Commit certificates"): it must name this block's height and hash, and hold a quorum
    /// of distinct genesis validators' commit signatures over its (view, height, hash) on
    /// this chain. The view is not held against the header's: a block proposed in one view
    /// can commit in a later one, after a view change re-proposes it.
    public func certificateRejection(_ certificate: CommitCertificate, for block: Block) -> BlockRejection? {
        guard certificate.height == block.header.height, certificate.blockHash == block.hash else {
            return .certificateForAnotherBlock(certificateHeight: certificate.height, certificateHash: certificate.blockHash,
                                               blockHeight: block.header.height)
        }
        do { try certificate.verify(in: genesis.validators, chain: rules.binding) } catch { return .certificate(error) }
        return nil
    }

    /// A proposal on the head: `header` with its transactions chosen from `candidates` (in
    /// order, within the genesis block limits: `Executor.build`) and its roots filled in.
    /// Its execution is kept, so validating and applying it does not execute it again.
    public func propose(_ candidates: [Transaction], header: BlockHeader) throws(LedgerError) -> Block {
        let (transactions, execution) = try executor.build(candidates, header: header, store: store)
        var h = header
        h.transactionsRoot = Block.transactionsRoot(transactions)
        h.stateRoot = execution.stateRoot
        h.receiptsRoot = execution.receiptsRoot
        let block = Block(header: h, transactions: transactions)
        if pending.count >= 8 { pending.removeAll() }
        pending[block.hash] = execution
        return block
    }

    /// The committed block at `height` with its certificate: from memory for the last
    /// `recentBlocksKept` applied, else from the store. Nil above the head.
    public func committedBlock(at height: UInt64) throws(LedgerError) -> (block: Block, certificate: CommitCertificate)? {
        if let kept = recent[height] { return kept }
        guard let block = try block(at: height), let certificate = try certificate(at: height) else { return nil }
        return (block, certificate)
    }

    /// Executes transactions on the head state for a proposal: the roots a new header needs.
    public func executeProposal(_ transactions: [Transaction], header: BlockHeader) throws(LedgerError) -> BlockExecution {
        try executor.execute(Block(header: header, transactions: transactions), store: store)
    }

    /// Appends a committed block: one synced batch with the block, its certificate, indexes,
    /// receipts, the state changes and the new head. If it throws `.store`, the batch may or
    /// may not have reached the disk: reopen the ledger (restart the node) before going on.
    public func apply(_ block: Block, certificate: CommitCertificate) throws(LedgerError) {
        let h = block.header
        // Checked here too: an execution kept by `propose` or `rejection(of:)` skips them.
        if let reason = extensionRejection(h) { throw .invalidBlock(reason) }
        if let reason = certificateRejection(certificate, for: block) { throw .invalidBlock(reason) }
        // A kept execution is keyed by the block hash, which is the header's: the transactions
        // must still be the ones the header commits to.
        guard Block.transactionsRoot(block.transactions) == h.transactionsRoot else { throw .invalidBlock(.transactionsRootMismatch) }
        if pending[block.hash] == nil, let reason = try rejection(of: block) { throw .invalidBlock(reason) }
        guard let execution = pending.removeValue(forKey: block.hash) else {
            preconditionFailure("rejection(of:) keeps the execution of every block it accepts")
        }
        var batch = execution.stateBatch
        batch.put(Keys.block(h.height), block.canonicalBytes)
        batch.put(Keys.certificate(h.height), certificate.canonicalBytes)
        batch.put(Keys.blockIndex(block.hash), Keys.be64(h.height))
        for (i, tx) in block.transactions.enumerated() {
            batch.put(Keys.transactionIndex(tx.hash), Keys.be64(h.height) + Keys.be64(UInt64(i)))
        }
        for (i, call) in execution.scheduledCalls.enumerated() {
            batch.put(Keys.scheduledReceiptIndex(call.id), Keys.be64(h.height) + Keys.be64(UInt64(i)) + call.canonicalBytes)
        }
        batch.put(Keys.receipts(h.height), execution.receiptsEncoded)
        batch.put(Keys.head, Keys.be64(h.height) + block.hash.bytes)
        do { try store.write(batch, sync: true) } catch { throw .store(error) }
        pending.removeAll()
        recent[h.height] = (block, certificate)
        if h.height > UInt64(Self.recentBlocksKept) { recent.removeValue(forKey: h.height - UInt64(Self.recentBlocksKept)) }
        head = ChainTip(height: h.height, hash: block.hash, timestampMillis: h.timestampMillis, certificate: certificate)
        stateRoot = h.stateRoot
    }
}
