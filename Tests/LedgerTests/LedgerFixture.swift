import ChainTypes
import Ledger

/// A dev chain with a ledger on an in-memory store, and helpers to build transactions.
struct Fixture {
    static let chain = DevChain(users: 6, depositPerUser: 1_000_00)
    let dev: DevChain
    let store: MemoryStore
    let ledger: Ledger
    var usd: CurrencyCode { dev.usd }

    init(store: MemoryStore = MemoryStore(), engine: (any ContractEngine)? = nil, chain: DevChain = Fixture.chain) throws {
        self.store = store
        self.dev = chain
        ledger = try Ledger(store: store, genesis: chain.genesis, engine: engine)
    }

    func user(_ i: Int) -> PrivateKey { dev.userKeys[i] }
    func bank(_ i: Int) -> PrivateKey { dev.validatorKeys[i] }
    func address(_ k: PrivateKey) -> Address { k.publicKey.address }

    func nonce(_ k: PrivateKey) throws -> UInt64 { try ledger.account(k.publicKey.address)?.nonce ?? 0 }

    func tx(_ key: PrivateKey, _ kind: TransactionKind, _ payload: some CanonicalEncodable, nonce: UInt64? = nil,
            gas: UInt64? = nil, chain: ChainBinding? = nil) throws -> Transaction {
        let bytes = payload.canonicalBytes
        let body = TransactionBody(chain: chain ?? dev.binding, sender: key.publicKey, nonce: try nonce ?? self.nonce(key),
                                   kind: kind, payload: bytes, gasLimit: gas ?? GasSchedule.intrinsic(kind, payloadBytes: bytes.count))
        return body.signed(with: key)
    }

    func transfer(_ from: PrivateKey, to: Address, _ amount: UInt64, currency: CurrencyCode? = nil, nonce: UInt64? = nil) throws -> Transaction {
        try tx(from, .transfer, TransferPayload(to: to, currency: currency ?? usd, amount: amount), nonce: nonce)
    }

    /// Executes and commits one block (at `timestampMillis`, or a second after the head);
    /// returns its receipts — those of scheduled calls first, then the transactions'.
    @discardableResult
    func commit(_ txs: [Transaction], at timestampMillis: UInt64? = nil) throws -> [Receipt] {
        let (block, cert) = try dev.nextBlock(on: ledger, txs, timestampMillis: timestampMillis)
        try ledger.apply(block, certificate: cert)
        return try ledger.receipts(at: block.header.height) ?? []
    }

    func balance(_ a: Address) throws -> UInt64 { try ledger.account(a)?.balance(usd) ?? 0 }

    /// `action` as the chain's next governance proposal (or `sequence`), valid for an hour of
    /// block time past the head, approved by the validators `signers`.
    func governance(_ action: GovernanceAction, signers: some Sequence<Int>, sequence: UInt64? = nil,
                    expiresAtMillis: UInt64? = nil) throws -> GovernancePayload {
        let proposal = GovernanceProposal(sequence: try sequence ?? ledger.governanceSequence(),
                                          expiresAtMillis: expiresAtMillis ?? ledger.head.timestampMillis + 3_600_000, action: action)
        return GovernancePayload(proposal: proposal, approvals: signers.map {
            proposal.approve(as: UInt16($0), key: bank($0), chain: dev.binding) })
    }
}
