import ChainTypes

/// Why a transaction was refused (by the mempool or a block's validation) or failed in
/// execution. Every case reads as a sentence for the CLI and RPC.
public enum TransactionError: Error, Equatable, Sendable, CustomStringConvertible {
    case badSignature
    case wrongChain(expected: String, got: String)
    /// The chain id matches but the genesis does not: another launch of a chain with this id.
    case wrongGenesis(expected: Hash, got: Hash)
    case nonceReused(expected: UInt64, got: UInt64)
    case nonceTooFarAhead(expected: UInt64, got: UInt64, maxGap: UInt64)
    case unknownSender(Address)
    case unknownAccount(Address)
    case roleNotAllowed(role: String, action: String)
    case insufficientFunds(currency: CurrencyCode, balance: UInt64, needed: UInt64)
    case currencyMismatch(String)
    case oversize(bytes: Int, limit: Int)
    case gasLimitTooLow(limit: UInt64, needed: UInt64)
    case gasLimitTooHigh(limit: UInt64, max: UInt64)
    case malformedPayload(String)
    case notAuthorized(String)
    case governanceApprovals(have: Int, need: Int)
    /// The proposal is not the chain's next governance decision (already decided, or out of turn).
    case governanceSequence(expected: UInt64, got: UInt64)
    case governanceExpired(expiresAtMillis: UInt64, blockTimeMillis: UInt64)
    case alreadyRegistered(Address)
    /// A pin rotation names a key that is neither a validator's nor an observer's in genesis.
    case unknownNode(PublicKey)
    /// A pin rotation to the pin the node already has.
    case pinUnchanged(node: PublicKey, spki: Hash)
    /// A pin rotation to a pin another node holds: the transport maps each pin to one node.
    case pinInUse(spki: Hash, holder: PublicKey)
    case duplicate
    /// Another transaction of the sender with this nonce already waits in the mempool.
    case nonceAlreadyPending(UInt64)
    case mempoolFull(String)
    /// The node could not read its own state (a local fault, not the transaction's).
    case storeUnreadable(String)
    case contract(String)
    case amountOverflow
    /// Running the transaction would take its block past `maxBlockStateBytes`.
    case blockStateFull(limitBytes: UInt64)

    public var description: String {
        switch self {
        case .badSignature: "the signature does not verify for the sender's key"
        case .wrongChain(let e, let g): "the transaction is for chain \"\(g)\", this is \"\(e)\""
        case .wrongGenesis(let e, let g):
            "the transaction is for genesis \(g), this chain's genesis is \(e): it was signed for another launch of a chain with this id"
        case .nonceReused(let e, let g): "nonce \(g) was already used; the sender's next nonce is \(e)"
        case .nonceTooFarAhead(let e, let g, let m):
            m == 0 ? "nonce \(g) skips ahead of the sender's next nonce \(e)" : "nonce \(g) is more than \(m) ahead of the sender's next nonce \(e)"
        case .unknownSender(let a): "the sender \(a) is not a registered participant"
        case .unknownAccount(let a): "no account \(a) exists"
        case .roleNotAllowed(let role, let action): "role \(role) may not \(action)"
        case .insufficientFunds(let c, let b, let n): "insufficient funds: balance \(b) \(c) minor units, needed \(n)"
        case .currencyMismatch(let why): "currency mismatch: \(why)"
        case .oversize(let b, let l): "the transaction is \(b) bytes; the limit is \(l)"
        case .gasLimitTooLow(let l, let n): "gas limit \(l) is below the \(n) this transaction needs"
        case .gasLimitTooHigh(let l, let m): "gas limit \(l) is above the maximum of \(m)"
        case .malformedPayload(let why): "malformed payload: \(why)"
        case .notAuthorized(let why): "not authorized: \(why)"
        case .governanceApprovals(let h, let n): "governance needs \(n) validator approvals; \(h) valid ones were given"
        case .governanceSequence(let e, let g):
            g < e ? "governance proposal \(g) was already decided; approvals are usable once, and the chain's next proposal is \(e)"
                  : "governance proposal \(g) is out of turn; the chain's next proposal is \(e)"
        case .governanceExpired(let x, let t): "the governance proposal expired at \(x) ms; the block's time is \(t) ms"
        case .alreadyRegistered(let a): "\(a) is already registered"
        case .unknownNode(let k): "\(k.hex) is neither a validator's key nor an observer's node key in genesis, so it has no TLS pin to change"
        case .pinUnchanged(let k, let p): "node \(k.hex) already has TLS pin \(p.hex); a rotation must name a new pin"
        case .pinInUse(let p, let h): "TLS pin \(p.hex) is node \(h.hex)'s current pin; two nodes may never share a TLS key"
        case .duplicate: "the transaction is already known"
        case .nonceAlreadyPending(let n): "another transaction with nonce \(n) from this sender is already pending"
        case .mempoolFull(let why): "the mempool is full (\(why)); try again later"
        case .storeUnreadable(let why): "the node could not read its state (\(why)); try again later"
        case .contract(let why): "contract: \(why)"
        case .blockStateFull(let l):
            "the block's state-write budget of \(l) bytes would be passed; the transaction changed nothing but its nonce (send it again for a later block)"
        case .amountOverflow: "the amount would take a balance above the limit of 10^17 minor units (Amount.maxMinorUnits)"
        }
    }

    /// A short stable code for receipts and RPC errors.
    public var code: String {
        switch self {
        case .badSignature: "bad_signature"
        case .wrongChain: "wrong_chain"
        case .wrongGenesis: "wrong_genesis"
        case .nonceReused: "nonce_reused"
        case .nonceTooFarAhead: "nonce_too_far_ahead"
        case .unknownSender: "unknown_sender"
        case .unknownAccount: "unknown_account"
        case .roleNotAllowed: "role_not_allowed"
        case .insufficientFunds: "insufficient_funds"
        case .currencyMismatch: "currency_mismatch"
        case .oversize: "oversize"
        case .gasLimitTooLow: "gas_limit_too_low"
        case .gasLimitTooHigh: "gas_limit_too_high"
        case .malformedPayload: "malformed_payload"
        case .notAuthorized: "not_authorized"
        case .governanceApprovals: "governance_approvals"
        case .governanceSequence: "governance_sequence"
        case .governanceExpired: "governance_expired"
        case .alreadyRegistered: "already_registered"
        case .unknownNode: "unknown_node"
        case .pinUnchanged: "pin_unchanged"
        case .pinInUse: "pin_in_use"
        case .duplicate: "duplicate"
        case .nonceAlreadyPending: "nonce_already_pending"
        case .mempoolFull: "mempool_full"
        case .storeUnreadable: "store_unreadable"
        case .contract: "contract_error"
        case .amountOverflow: "amount_overflow"
        case .blockStateFull: "block_state_full"
        }
    }
}
