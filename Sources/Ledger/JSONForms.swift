import ChainTypes

// The JSON forms the RPC and the CLI print (docs/PROTOCOL.md §7). They are for reading:
// clients submit transactions as their canonical bytes in hex, which is what is signed.
// Conventions: hashes, keys, signatures and bytes as lowercase hex; addresses as `hx…`;
// 64-bit integers as decimal strings (JSON numbers lose precision above 2^53); amounts in
// minor units as decimal strings with their currency.

/// A transaction as JSON.
public struct TransactionJSON: Encodable, Sendable, Equatable {
    public let hash: String
    public let chain_id: String
    public let genesis_hash: String
    public let sender: String
    public let sender_public_key: String
    public let nonce: String
    public let kind: String
    public let payload_hex: String
    public let gas_limit: String
    public let signature: String
    /// The canonical bytes, to verify or resubmit.
    public let encoded_hex: String

    public init(_ tx: Transaction) {
        hash = tx.hash.hex
        chain_id = tx.body.chain.id.value
        genesis_hash = tx.body.chain.genesisHash.hex
        sender = tx.sender.text
        sender_public_key = tx.body.sender.hex
        nonce = String(tx.body.nonce)
        kind = tx.body.kind.name
        payload_hex = Hex.encode(tx.body.payload)
        gas_limit = String(tx.body.gasLimit)
        signature = tx.signature.hex
        encoded_hex = Hex.encode(tx.canonicalBytes)
    }
}

/// A block header as JSON, with the block's hash.
public struct BlockHeaderJSON: Encodable, Sendable, Equatable {
    public let hash: String
    public let height: String
    public let previous_hash: String
    public let timestamp_ms: String
    public let transactions_root: String
    public let state_root: String
    public let receipts_root: String
    public let proposer: String
    public let view: String

    public init(_ h: BlockHeader) {
        hash = h.hash.hex
        height = String(h.height)
        previous_hash = h.previousHash.hex
        timestamp_ms = String(h.timestampMillis)
        transactions_root = h.transactionsRoot.hex
        state_root = h.stateRoot.hex
        receipts_root = h.receiptsRoot.hex
        proposer = h.proposer.text
        view = String(h.view)
    }
}

/// A commit certificate as JSON.
public struct CommitCertificateJSON: Encodable, Sendable, Equatable {
    public struct SignerJSON: Encodable, Sendable, Equatable {
        public let validator_index: Int
        public let signature: String
    }
    public let view: String
    public let height: String
    public let block_hash: String
    public let signers: [SignerJSON]

    public init(_ c: CommitCertificate) {
        view = String(c.view)
        height = String(c.height)
        block_hash = c.blockHash.hex
        signers = c.signers.map { SignerJSON(validator_index: Int($0.validatorIndex), signature: $0.signature.hex) }
    }
}

/// A block with its transactions (in full or as hashes) and, once committed, its certificate.
public struct BlockJSON: Encodable, Sendable, Equatable {
    public let header: BlockHeaderJSON
    public let transaction_hashes: [String]
    public let transactions: [TransactionJSON]?
    public let certificate: CommitCertificateJSON?

    public init(_ block: Block, certificate: CommitCertificate?, fullTransactions: Bool) {
        header = BlockHeaderJSON(block.header)
        transaction_hashes = block.transactions.map(\.hash.hex)
        transactions = fullTransactions ? block.transactions.map(TransactionJSON.init) : nil
        self.certificate = certificate.map(CommitCertificateJSON.init)
    }
}

/// A receipt as JSON.
public struct ReceiptJSON: Encodable, Sendable, Equatable {
    public struct EventJSON: Encodable, Sendable, Equatable {
        public let emitter: String
        public let topics: [String]
        public let data_hex: String
    }
    public let transaction_hash: String
    public let status: String
    public let error_code: String?
    public let error: String?
    public let gas_used: String
    public let events: [EventJSON]

    public init(_ r: Receipt) {
        transaction_hash = r.transactionHash.hex
        switch r.status {
        case .success: status = "success"; error_code = nil; error = nil
        case .failure(let code, let message): status = "failure"; error_code = code; error = message
        }
        gas_used = String(r.gasUsed)
        events = r.events.map { EventJSON(emitter: $0.emitter.text, topics: $0.topics.map(\.hex), data_hex: Hex.encode($0.data)) }
    }
}

/// An account as JSON.
public struct AccountJSON: Encodable, Sendable, Equatable {
    public struct BalanceJSON: Encodable, Sendable, Equatable {
        public let currency: String
        public let amount_minor: String
    }
    public let address: String
    public let public_key: String?
    public let role: String?
    public let bank: String?
    public let nonce: String
    public let balances: [BalanceJSON]
    public let code_hash: String?

    public init(address: Address, _ a: Account) {
        self.address = address.text
        public_key = a.publicKey?.hex
        role = a.role?.name
        bank = a.bank?.text
        nonce = String(a.nonce)
        balances = a.balances.sorted { $0.key < $1.key }.map { BalanceJSON(currency: $0.key.value, amount_minor: String($0.value)) }
        code_hash = a.codeHash?.hex
    }
}

/// A scheduled call (pending, or the one a scheduled receipt belongs to) as JSON.
public struct ScheduledCallJSON: Encodable, Sendable, Equatable {
    /// The call's id, which its receipt carries as `transaction_hash`.
    public let id: String
    public let sequence: String
    public let at_ms: String
    public let contract: String
    public let input_hex: String

    public init(_ c: ScheduledCall) {
        id = c.id.hex
        sequence = String(c.sequence)
        at_ms = String(c.atMillis)
        contract = c.contract.text
        input_hex = Hex.encode(c.input)
    }
}
