import ChainTypes

// Reads for sync, RPC and audit.
extension Ledger {
    private func decode<T: CanonicalDecodable>(_ key: [UInt8], _ what: String) throws(LedgerError) -> T? {
        let bytes: [UInt8]?
        do { bytes = try store.get(key) } catch { throw .store(error) }
        guard let bytes else { return nil }
        do { return try T(canonicalBytes: bytes) } catch { throw .corrupted("\(what): \(error)") }
    }

    public func block(at height: UInt64) throws(LedgerError) -> Block? { try decode(Keys.block(height), "block \(height)") }

    public func certificate(at height: UInt64) throws(LedgerError) -> CommitCertificate? {
        try decode(Keys.certificate(height), "certificate \(height)")
    }

    public func receipts(at height: UInt64) throws(LedgerError) -> [Receipt]? {
        let list: ReceiptList? = try decode(Keys.receipts(height), "receipts \(height)")
        return list?.receipts
    }

    public func height(of blockHash: Hash) throws(LedgerError) -> UInt64? {
        let bytes: [UInt8]?
        do { bytes = try store.get(Keys.blockIndex(blockHash)) } catch { throw .store(error) }
        return bytes.map { Keys.readBE64($0[...]) }
    }

    /// A committed transaction with where it is and its receipt.
    public func transaction(_ hash: Hash) throws(LedgerError) -> (transaction: Transaction, height: UInt64, index: Int, receipt: Receipt)? {
        let bytes: [UInt8]?
        do { bytes = try store.get(Keys.transactionIndex(hash)) } catch { throw .store(error) }
        guard let bytes, bytes.count == 16 else { return nil }
        let height = Keys.readBE64(bytes[0..<8])
        let index = Int(Keys.readBE64(bytes[8..<16]))
        guard let block = try block(at: height), index < block.transactions.count,
              let receipts = try receipts(at: height), index < receipts.count else {
            throw .corrupted("transaction index points at a missing block or receipt")
        }
        return (block.transactions[index], height, index, receipts[index])
    }

    /// The committed state of an account.
    public func account(_ address: Address) throws(LedgerError) -> Account? {
        try StateOverlay(store: store).account(address)
    }

    /// The account with a proof of it (or of its absence) against the head's state root.
    public func accountProof(_ address: Address) throws(LedgerError) -> (account: Account?, proof: SparseMerkleProof, stateRoot: Hash) {
        let tree = SparseMerkleTree(store: store, prefix: Keys.stateNodePrefix)
        do {
            return (try account(address), try tree.proof(for: StateKey.hash(StateKey.account(address))), stateRoot)
        } catch let e as LedgerError { throw e } catch let e as StoreError { throw .store(e) } catch { throw .corrupted("\(error)") }
    }
}

extension Ledger {
    /// Proof that a committed transaction is in its block: its index, the block's size and the
    /// audit path to the header's `transactions_root` (and the same for its receipt).
    public func inclusionProof(of transactionHash: Hash) throws(LedgerError)
        -> (height: UInt64, index: Int, size: Int, transactionPath: [Hash], receiptPath: [Hash])? {
        guard let found = try transaction(transactionHash), let block = try block(at: found.height),
              let receipts = try receipts(at: found.height) else { return nil }
        return (found.height, found.index, block.transactions.count,
                MerkleTree.auditPath(index: found.index, leaves: block.transactions.map(\.hash)),
                MerkleTree.auditPath(index: found.index, leaves: receipts.map(\.hash)))
    }
}
