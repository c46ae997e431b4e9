import ChainTypes
import ContractVM
import Dispatch
import Foundation
import HansaCrypto
import Ledger

/// One block as a source holds it: canonical bytes, not yet checked.
public struct SourceBlock: Sendable {
    /// The height the source keeps it at.
    public let height: UInt64
    public let block: [UInt8]
    public let certificate: [UInt8]?
    /// The receipt list as stored (docs/LEDGER.md `r/`), when the source has it.
    public let receipts: [UInt8]?

    public init(height: UInt64, block: [UInt8], certificate: [UInt8]?, receipts: [UInt8]?) {
        self.height = height
        self.block = block
        self.certificate = certificate
        self.receipts = receipts
    }
}

/// Where the auditor reads a chain from: a node's data directory, an archive, a node's RPC.
public protocol AuditSource: AnyObject {
    /// How messages name the source.
    var name: String { get }
    /// The genesis hash the source says it belongs to.
    func genesisHash() throws(AuditError) -> Hash
    /// The last height the source holds (for progress and the end check).
    func headHeight() throws(AuditError) -> UInt64
    /// The next block, in height order from 1; nil after the last.
    func next() throws(AuditError) -> SourceBlock?
    /// Checks of what the source keeps about a verified block besides its bytes (indexes).
    func check(verified block: Block, changes: BlockChanges) throws(AuditError)
    /// Checks of what the source keeps besides the blocks, once all of them verified.
    func finish(_ chain: VerifiedChain) throws(AuditError)
    /// The genesis state root the source recorded, if any.
    func genesisStateRoot() throws(AuditError) -> Hash?
}

extension AuditSource {
    public func check(verified block: Block, changes: BlockChanges) throws(AuditError) {}
    public func finish(_ chain: VerifiedChain) throws(AuditError) {}
    public func genesisStateRoot() throws(AuditError) -> Hash? { nil }
}

/// The chain as the auditor rebuilt it.
public struct VerifiedChain {
    public let height: UInt64
    public let hash: Hash
    public let stateRoot: Hash
    public let state: AuditState
}

/// `hansa audit verify`: checks a whole chain from its genesis alone (docs/AUDIT.md) — the
/// hash chain, heights, times and proposers; every commit certificate against the genesis
/// validator set; every transaction's signature; and re-executes every block with the
/// shared state-transition rules on its own in-memory state, recomputing the transactions,
/// receipts and state roots (the state root with its own tree, `StateTree`). It uses none
/// of the node's consensus or storage code. Signatures are checked on `threads` threads,
/// a batch of blocks ahead of the execution.
public final class Verifier {
    public struct Progress: Sendable {
        public let height: UInt64
        public let head: UInt64
        public let transactions: Int

        public init(height: UInt64, head: UInt64, transactions: Int) {
            self.height = height
            self.head = head
            self.transactions = transactions
        }
    }

    public struct Summary: Sendable {
        public let blocks: UInt64
        public let transactions: Int
        public let scheduledCalls: Int
        public let signatures: Int
        public let seconds: Double
        public let headHash: Hash
        public let stateRoot: Hash
        public var rate: Double { seconds > 0 ? Double(transactions) / seconds : 0 }
    }

    public let genesis: Genesis
    public let threads: Int
    let executor: Executor
    let quorum: Int
    /// A batch ends when it holds this many transactions or `batchBlocks` blocks.
    static let batchTransactions = 4_096
    static let batchBlocks = 64
    /// …or this many bytes of blocks and receipts, so that a source of large blocks (or a
    /// hostile archive) never holds more than two batches of this size in memory.
    static let batchBytes = 32 << 20

    public init(genesis: Genesis, threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.genesis = genesis
        self.threads = max(1, threads)
        var executor = Executor(rules: ChainRules(genesis: genesis), engine: HansaVM(), signatures: SignatureCache(capacity: 2))
        executor.checkSignatures = false  // checked here, on all threads, before execution
        self.executor = executor
        quorum = Self.quorum(of: genesis.validators.count)
    }

    /// docs/PROTOCOL.md §5.4: f = ⌊(n − 1)/3⌋, quorum = ⌈(n + f + 1)/2⌉ (the auditor's own count).
    static func quorum(of n: Int) -> Int { (n + (n - 1) / 3 + 2) / 2 }

    /// The genesis state (docs/PROTOCOL.md §15): an account per participant with its key,
    /// role and bank, and the deposits as balances.
    public func genesisState() throws(AuditError) -> AuditState {
        let state = AuditState()
        var accounts: [Address: Account] = [:]
        for p in genesis.participants {
            accounts[p.address] = Account(publicKey: p.publicKey, role: p.role, bank: p.bank)
        }
        for d in genesis.deposits {
            guard var a = accounts[d.account] else {
                throw .discrepancy(Discrepancy(.wrongChain, height: 0, "the genesis deposits to \(d.account), which is not a participant"))
            }
            a.setBalance(d.currency, d.amount)
            accounts[d.account] = a
        }
        for (address, account) in accounts { state.set(StateKey.account(address), account.canonicalBytes) }
        return state
    }

    /// Verifies `source` from genesis to its last block. Throws the first discrepancy.
    public func verify(_ source: AuditSource, progress: ((Progress) -> Void)? = nil) throws(AuditError) -> Summary {
        let started = Date()
        let claimed = try source.genesisHash()
        guard claimed == genesis.hash else {
            throw .discrepancy(Discrepancy(.wrongChain, height: 0,
                                           "\(source.name) belongs to the chain of genesis \(claimed.hex), not this genesis file's \(genesis.hash.hex)"))
        }
        let head = try source.headHeight()
        let state = try genesisState()
        if let recorded = try source.genesisStateRoot(), recorded != state.rootHash {
            throw .discrepancy(Discrepancy(.stateRoot, height: 0,
                                           "\(source.name) records the genesis state root \(recorded.hex); the genesis gives \(state.rootHash.hex)"))
        }
        var cursor = Cursor(height: 0, hash: genesis.hash, timestampMillis: genesis.genesisTimeMillis, stateRoot: state.rootHash)
        var totals = (transactions: 0, scheduled: 0, signatures: 0)
        var pending: Batch?
        var ended = false
        let pool = SignaturePool(workers: threads - 1)
        defer { pool.stop() }
        while !ended {
            let batch = Self.read(source, after: pending?.lastHeight ?? 0)
            ended = batch.ended
            batch.prepare(genesis: genesis, binding: executor.rules.binding)  // the genesis hash, computed once
            pool.submit(batch)
            if let p = pending {
                try check(p, source: source, state: state, cursor: &cursor, totals: &totals)
                progress?(Progress(height: cursor.height, head: head, transactions: totals.transactions))
            }
            pending = batch
        }
        if let p = pending {
            try check(p, source: source, state: state, cursor: &cursor, totals: &totals)
            progress?(Progress(height: cursor.height, head: head, transactions: totals.transactions))
        }
        guard cursor.height == head else {
            throw .discrepancy(Discrepancy(.head, height: cursor.height,
                                           "\(source.name) says its head is at height \(head) but its blocks end at \(cursor.height)"))
        }
        try source.finish(VerifiedChain(height: cursor.height, hash: cursor.hash, stateRoot: cursor.stateRoot, state: state))
        return Summary(blocks: cursor.height, transactions: totals.transactions, scheduledCalls: totals.scheduled,
                       signatures: totals.signatures, seconds: Date().timeIntervalSince(started),
                       headHash: cursor.hash, stateRoot: cursor.stateRoot)
    }

    struct Cursor {
        var height: UInt64
        var hash: Hash
        var timestampMillis: UInt64
        var stateRoot: Hash
    }

    // MARK: Batches

    /// Reads blocks after `height` until a batch is full, the source ends, or something in it
    /// does not decode (kept as the batch's failure, reported after its good blocks).
    static func read(_ source: AuditSource, after height: UInt64) -> Batch {
        let batch = Batch()
        var transactions = 0, bytes = 0
        var expected = height + 1
        while transactions < batchTransactions && batch.blocks.count < batchBlocks && bytes < batchBytes {
            let next: SourceBlock?
            do { next = try source.next() } catch {
                batch.failure = error
                batch.ended = true
                return batch
            }
            guard let next else {
                batch.ended = true
                return batch
            }
            guard next.height == expected else {
                batch.failure = .discrepancy(Discrepancy(.height, height: expected,
                                                         "\(source.name) has no block at height \(expected) (the next it holds is at \(next.height))"))
                batch.ended = true
                return batch
            }
            let block: Block
            do { block = try Block(canonicalBytes: next.block) } catch {
                batch.failure = .discrepancy(Discrepancy(.undecodable, height: expected, "the block does not decode: \(error)"))
                batch.ended = true
                return batch
            }
            var certificate: CommitCertificate?
            if let bytes = next.certificate {
                do { certificate = try CommitCertificate(canonicalBytes: bytes) } catch {
                    batch.failure = .discrepancy(Discrepancy(.undecodable, height: expected, "the commit certificate does not decode: \(error)"))
                    batch.ended = true
                    return batch
                }
            }
            batch.blocks.append(Batch.Entry(block: block, certificate: certificate, storedReceipts: next.receipts))
            transactions += block.transactions.count
            bytes += next.block.count + (next.receipts?.count ?? 0)
            expected += 1
        }
        return batch
    }

    /// Blocks read together; their signatures (transactions' and certificates') are checked
    /// in chunks claimed by the pool's workers and, while it would otherwise wait, by the
    /// verifier's own thread — so both cores stay busy whichever side has more to do.
    final class Batch: @unchecked Sendable {
        struct Entry {
            let block: Block
            let certificate: CommitCertificate?
            let storedReceipts: [UInt8]?
            /// Where this block's signature results start in `results`.
            var firstTransaction = 0
            var firstVote = 0
        }

        enum Job {
            case transaction(Transaction)
            case vote(body: [UInt8], signature: Signature, key: PublicKey)
        }

        var blocks: [Entry] = []
        var failure: AuditError?
        var ended = false
        private(set) var jobs: [Job] = []
        private(set) var results: UnsafeMutableBufferPointer<Bool> = .allocate(capacity: 0)
        private var binding: ChainBinding?
        private let condition = NSCondition()
        private var claimed = 0
        private var finished = 0
        static let chunk = 32

        var lastHeight: UInt64 { blocks.last?.block.header.height ?? 0 }

        deinit { results.deallocate() }

        /// Lists every signature to check. A certificate's votes are listed only for signers
        /// that name a validator of the set (the others fail before their signatures matter).
        func prepare(genesis: Genesis, binding: ChainBinding) {
            let validators = genesis.validators.validators
            for i in blocks.indices {
                blocks[i].firstTransaction = jobs.count
                for tx in blocks[i].block.transactions { jobs.append(.transaction(tx)) }
                blocks[i].firstVote = jobs.count
                if let c = blocks[i].certificate {
                    for s in c.signers where Int(s.validatorIndex) < validators.count {
                        let body = Vote.signingBody(phase: .commit, view: c.view, height: c.height, blockHash: c.blockHash,
                                                    validatorIndex: s.validatorIndex)
                        jobs.append(.vote(body: body, signature: s.signature, key: validators[Int(s.validatorIndex)].publicKey))
                    }
                }
            }
            results.deallocate()
            results = .allocate(capacity: jobs.count)
            results.initialize(repeating: false)
            self.binding = binding
        }

        /// Checks one unclaimed chunk; false when none is left.
        func runChunk() -> Bool {
            condition.lock()
            let start = claimed
            let end = min(jobs.count, start + Self.chunk)
            claimed = end
            condition.unlock()
            guard start < end else { return false }
            for i in start..<end {
                switch jobs[i] {
                case .transaction(let tx): results[i] = tx.verifySignature()
                case .vote(let body, let signature, let key): results[i] = SigningDomain.commit.verify(signature, over: body, chain: binding!, by: key)
                }
            }
            condition.lock()
            finished += end - start
            if finished == jobs.count { condition.broadcast() }
            condition.unlock()
            return true
        }

        /// Helps with the unclaimed chunks, then waits for the claimed ones.
        func complete() {
            while runChunk() {}
            condition.lock()
            while finished < jobs.count { condition.wait() }
            condition.unlock()
        }
    }

    /// Worker threads that check the signatures of the batches handed to them, oldest first.
    final class SignaturePool: @unchecked Sendable {
        private let condition = NSCondition()
        private var queue: [Batch] = []
        private var stopped = false

        init(workers: Int) {
            for _ in 0..<workers { Thread { [self] in work() }.start() }
        }

        func submit(_ batch: Batch) {
            condition.lock()
            queue.append(batch)
            condition.broadcast()
            condition.unlock()
        }

        func stop() {
            condition.lock()
            stopped = true
            queue.removeAll()
            condition.broadcast()
            condition.unlock()
        }

        private func work() {
            while true {
                condition.lock()
                while queue.isEmpty && !stopped { condition.wait() }
                guard !stopped, let batch = queue.first else {
                    condition.unlock()
                    return
                }
                condition.unlock()
                if !batch.runChunk() {
                    condition.lock()
                    if queue.first === batch { queue.removeFirst() }
                    condition.unlock()
                }
            }
        }
    }

    // MARK: Checks

    /// Checks a batch's blocks in height order, each against the chain so far, and applies them.
    func check(_ batch: Batch, source: AuditSource, state: AuditState, cursor: inout Cursor,
               totals: inout (transactions: Int, scheduled: Int, signatures: Int)) throws(AuditError) {
        batch.complete()
        let validators = genesis.validators.validators
        for entry in batch.blocks {
            let block = entry.block, h = block.header
            let height = cursor.height + 1
            func fail(_ kind: Discrepancy.Kind, _ message: String, tx: Int? = nil) -> AuditError {
                .discrepancy(Discrepancy(kind, height: height,
                                         transaction: tx.map { Discrepancy.TransactionRef(index: $0, hash: block.transactions[$0].hash) }, message))
            }
            guard h.height == height else { throw fail(.height, "the block's header says height \(h.height)") }
            guard h.previousHash == cursor.hash else {
                throw fail(.previousHash, "the block names \(h.previousHash.hex) as its parent, but block \(cursor.height) is \(cursor.hash.hex)")
            }
            guard h.timestampMillis > cursor.timestampMillis else {
                throw fail(.timestamp, "the block's time \(h.timestampMillis) ms is not after its parent's \(cursor.timestampMillis) ms")
            }
            let primary = validators[Int(h.view % UInt64(validators.count))]
            guard h.proposer == primary.address else {
                throw fail(.proposer, "the header names \(h.proposer) as proposer; the primary of view \(h.view) is \(primary.name) (\(primary.address))")
            }
            // The commit certificate (docs/PROTOCOL.md §5.4, §12).
            guard let c = entry.certificate else { throw fail(.certificateMissing, "the block has no commit certificate") }
            let hash = block.hash
            if let problem = Self.certificateProblem(c, header: h, hash: hash, validators: validators, quorum: quorum,
                                                     signatureVerifies: { batch.results[entry.firstVote + $0] }) {
                throw fail(.certificate, problem)
            }
            // Transactions: signatures, then the root the header commits to.
            for i in block.transactions.indices where !batch.results[entry.firstTransaction + i] {
                throw fail(.signature, "the transaction's signature does not verify for its sender \(block.transactions[i].sender)", tx: i)
            }
            let transactionsRoot = Block.transactionsRoot(block.transactions)
            guard transactionsRoot == h.transactionsRoot else {
                throw fail(.transactionsRoot, "the transactions hash to the root \(transactionsRoot.hex), not the header's \(h.transactionsRoot.hex) (transactions added, removed, replaced or reordered)")
            }
            // Re-execution on the state so far.
            let changes: BlockChanges
            do { changes = try executor.executeChanges(block, store: state) } catch {
                switch error {
                case .invalidBlock(.invalidTransaction(let i, let reason)):
                    throw fail(.admission, "the transaction fails admission: \(reason) [\(reason.code)]", tx: i)
                case .invalidBlock(let reason): throw fail(.admission, "the block breaks a rule: \(reason)")
                default: throw .source("re-executing block \(height): \(error)")
                }
            }
            guard changes.receiptsRoot == h.receiptsRoot else {
                throw fail(.receiptsRoot, "re-execution gives the receipts root \(changes.receiptsRoot.hex), not the header's \(h.receiptsRoot.hex)")
            }
            if let stored = entry.storedReceipts, stored != changes.receiptsEncoded {
                throw Self.receiptDifference(stored, changes, block: block, height: height)
            }
            let root = state.apply(changes)
            guard root == h.stateRoot else {
                throw fail(.stateRoot, "re-execution gives the state root \(root.hex), not the header's \(h.stateRoot.hex)")
            }
            try source.check(verified: block, changes: changes)
            cursor = Cursor(height: height, hash: hash, timestampMillis: h.timestampMillis, stateRoot: root)
            totals.transactions += block.transactions.count
            totals.scheduled += changes.scheduledCalls.count
            totals.signatures += block.transactions.count + c.signers.count
        }
        if let failure = batch.failure { throw failure }
    }

    /// Why `c` does not prove that the block with `header` and `hash` committed, or nil: it
    /// names this height and hash; its view is not before the header's (a block proposed in
    /// one view can commit in a later one, never an earlier); its signers are distinct
    /// validators of the set in ascending index order, at least a quorum; and each signature
    /// verifies (`signatureVerifies(k)` for the k-th signer) as a commit vote for (view,
    /// height, hash) on this chain.
    public static func certificateProblem(_ c: CommitCertificate, header h: BlockHeader, hash: Hash, validators: [Validator], quorum: Int,
                                          signatureVerifies: (Int) -> Bool) -> String? {
        guard c.height == h.height, c.blockHash == hash else {
            return "the certificate is for block \(c.blockHash.hex) at height \(c.height), not this block \(hash.hex)"
        }
        guard c.view >= h.view else { return "the certificate's view \(c.view) is before the view \(h.view) the block was proposed in" }
        var last = -1
        for s in c.signers {
            let i = Int(s.validatorIndex)
            guard i > last else { return "the certificate lists validator \(i) twice or out of order" }
            last = i
            guard i < validators.count else { return "the certificate names validator \(i); the set has \(validators.count) (indices 0…\(validators.count - 1))" }
        }
        guard c.signers.count >= quorum else {
            return "the certificate has \(c.signers.count) commit signatures; a quorum of \(validators.count) validators is \(quorum)"
        }
        for (k, s) in c.signers.enumerated() where !signatureVerifies(k) {
            return "the commit signature of validator \(s.validatorIndex) (\(validators[Int(s.validatorIndex)].name)) does not verify for this block"
        }
        return nil
    }

    /// `certificateProblem` with the signatures checked here, against `genesis`.
    public static func certificateProblem(_ c: CommitCertificate, header: BlockHeader, genesis: Genesis) -> String? {
        let validators = genesis.validators.validators
        return certificateProblem(c, header: header, hash: header.hash, validators: validators, quorum: quorum(of: validators.count)) { k in
            let s = c.signers[k]
            let body = Vote.signingBody(phase: .commit, view: c.view, height: c.height, blockHash: c.blockHash, validatorIndex: s.validatorIndex)
            return SigningDomain.commit.verify(s.signature, over: body, chain: genesis.binding, by: validators[Int(s.validatorIndex)].publicKey)
        }
    }

    /// The first stored receipt that differs from the re-executed one, and how.
    static func receiptDifference(_ stored: [UInt8], _ changes: BlockChanges, block: Block, height: UInt64) -> AuditError {
        let scheduled = changes.scheduledCalls.count
        func at(_ i: Int, _ message: String) -> AuditError {
            let tx = i >= scheduled && i - scheduled < block.transactions.count
                ? Discrepancy.TransactionRef(index: i - scheduled, hash: block.transactions[i - scheduled].hash) : nil
            let what = tx == nil ? "the receipt of scheduled call \(i)" : "the stored receipt"
            return .discrepancy(Discrepancy(.receipt, height: height, transaction: tx, "\(what) differs from the re-executed one: \(message)"))
        }
        let list: ReceiptList
        do { list = try ReceiptList(canonicalBytes: stored) } catch {
            return .discrepancy(Discrepancy(.receipt, height: height, "the stored receipts do not decode: \(error)"))
        }
        for (i, want) in changes.receipts.enumerated() {
            guard i < list.receipts.count else { return at(i, "it is missing (\(list.receipts.count) stored, \(changes.receipts.count) re-executed)") }
            let got = list.receipts[i]
            if got == want { continue }
            if got.transactionHash != want.transactionHash { return at(i, "it names \(got.transactionHash.hex), not \(want.transactionHash.hex)") }
            if got.status != want.status { return at(i, "status \(got.status), re-executed \(want.status)") }
            if got.gasUsed != want.gasUsed { return at(i, "gas used \(got.gasUsed), re-executed \(want.gasUsed)") }
            return at(i, "its events differ (\(got.events.count) stored, \(want.events.count) re-executed)")
        }
        return at(changes.receipts.count, "\(list.receipts.count - changes.receipts.count) receipts more are stored than re-executed")
    }
}
