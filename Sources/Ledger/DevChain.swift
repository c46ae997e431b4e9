import ChainTypes

/// A deterministic development chain: 4 validator banks and `users` exporters holding USD at
/// bank 0, with keys derived from fixed strings (public knowledge — never use them for value).
/// The ledger tests, `hansa bench ledger` and the crash test build their blocks with it.
public struct DevChain: Sendable {
    public private(set) var genesis: Genesis { didSet { binding = genesis.binding } }
    /// Validator keys in validator-set order (index i signs as validator i).
    public let validatorKeys: [PrivateKey]
    public let userKeys: [PrivateKey]
    public let usd = try! CurrencyCode("USD")
    /// The chain id and genesis hash its signatures are bound to (kept: hashing the genesis
    /// per transaction would dominate the benchmarks).
    public private(set) var binding: ChainBinding

    public static func key(_ label: String) -> PrivateKey { try! PrivateKey(secret: SHA256.hash(utf8: "hansa devchain \(label)").bytes) }

    /// A chain of another genesis, signed by `validatorKeys` (in validator-set order), so that
    /// `nextBlock` and `certificate` serve it too.
    public init(genesis: Genesis, validatorKeys: [PrivateKey], userKeys: [PrivateKey] = []) {
        precondition(validatorKeys.map(\.publicKey) == genesis.validators.validators.map(\.publicKey), "keys in validator-set order")
        self.genesis = genesis
        self.binding = genesis.binding
        self.validatorKeys = validatorKeys
        self.userKeys = userKeys
    }

    public init(users: Int, depositPerUser: UInt64 = 1_000_000_00) {
        let banks = (0..<4).map { Self.key("bank \($0)") }
        let validators = banks.enumerated().map {
            Validator(name: "bank-\($0.offset)", publicKey: $0.element.publicKey, p2pAddress: "127.0.0.1:\(7100 + $0.offset)", tlsSPKISHA256: nil)
        }
        let set = try! ValidatorSet(validators)
        validatorKeys = set.validators.map { v in banks.first { $0.publicKey == v.publicKey }! }
        userKeys = (0..<users).map { Self.key("user \($0)") }
        let bank0 = validatorKeys[0].publicKey.address
        var participants = set.validators.map { Participant(name: $0.name, publicKey: $0.publicKey, role: .validatorBank, bank: nil) }
        participants += userKeys.enumerated().map {
            Participant(name: "user-\($0.offset)", publicKey: $0.element.publicKey, role: .exporter, bank: bank0)
        }
        let usd = try! CurrencyCode("USD")
        genesis = Genesis(chain: try! ChainID("hansa-dev"), genesisTimeMillis: 1_764_000_000_000, validators: set,
                          participants: participants,
                          currencies: [Currency(code: usd, decimals: 2, issuers: set.validators.map(\.address))],
                          deposits: userKeys.map { Deposit(account: $0.publicKey.address, currency: usd, amount: depositPerUser) },
                          consensus: ConsensusParameters(tickMillis: 100, requestTimeoutTicks: 20, maxViewChangeTimeoutTicks: 160,
                                                         checkpointInterval: 64, watermarkWindow: 256, maxBlockTransactions: 20_000,
                                                         maxBlockBytes: 64 * 1024 * 1024, maxClockDriftMillis: 2_000),
                          governanceThreshold: 3)
        binding = genesis.binding
    }

    /// A transfer; `signed: false` leaves a well-formed placeholder signature (benchmarks
    /// without signature checks).
    public func transfer(from: Int, to: Int, amount: UInt64, nonce: UInt64, signed: Bool = true) -> Transaction {
        transfer(from: from, payload: TransferPayload(to: userKeys[to].publicKey.address, currency: usd, amount: amount),
                 nonce: nonce, signed: signed)
    }

    /// A transfer by user `from` with any payload (e.g. to an account that is not a user).
    public func transfer(from: Int, payload: TransferPayload, nonce: UInt64, signed: Bool = true) -> Transaction {
        let body = TransactionBody(chain: binding, sender: userKeys[from].publicKey, nonce: nonce, kind: .transfer,
                                   payload: payload.canonicalBytes, gasLimit: GasSchedule.transfer)
        if signed { return body.signed(with: userKeys[from]) }
        return Transaction(body: body, signature: try! Signature(compact: [UInt8](repeating: 0, count: 31) + [1] + [UInt8](repeating: 0, count: 31) + [1]))
    }

    /// A commit certificate from a quorum of the validators.
    public func certificate(for block: Block, view: UInt64 = 0) -> CommitCertificate {
        CommitCertificate(votes: (0..<genesis.validators.quorum).map {
            Vote.make(phase: .commit, view: view, height: block.header.height, blockHash: block.hash,
                      validatorIndex: UInt16($0), chain: binding, key: validatorKeys[$0])
        })
    }

    /// The next block on `ledger` with these transactions, its roots computed by executing them;
    /// its time is `timestampMillis`, or one second after the head's.
    public func nextBlock(on ledger: Ledger, _ transactions: [Transaction],
                          timestampMillis: UInt64? = nil) throws(LedgerError) -> (Block, CommitCertificate) {
        let tip = ledger.head
        var header = BlockHeader(height: tip.height + 1, previousHash: tip.hash, timestampMillis: timestampMillis ?? tip.timestampMillis + 1_000,
                                 transactionsRoot: Block.transactionsRoot(transactions), stateRoot: .zero, receiptsRoot: .zero,
                                 proposer: validatorKeys[0].publicKey.address, view: 0)
        let execution = try ledger.executeProposal(transactions, header: header)
        header.stateRoot = execution.stateRoot
        header.receiptsRoot = execution.receiptsRoot
        let block = Block(header: header, transactions: transactions)
        return (block, certificate(for: block))
    }
}

// MARK: Governance

extension DevChain {
    /// `action` as the next governance proposal on `ledger` (its `governanceSequence()`),
    /// valid until `expiresAtMillis` (default: an hour of block time past the head), approved
    /// by the validators `signers` (default: the first `governanceThreshold`), sent by
    /// validator `sender` with its next committed nonce (or `nonce`), in the kind the action
    /// needs. E.g. a pin rotation: `governanceTransaction(.setNodePin(node: key, spki: pin), on: ledger)`.
    public func governanceTransaction(_ action: GovernanceAction, on ledger: some LedgerReader, sender: Int = 0,
                                      signers: [Int]? = nil, expiresAtMillis: UInt64? = nil,
                                      nonce: UInt64? = nil) throws(LedgerError) -> Transaction {
        let proposal = GovernanceProposal(sequence: try ledger.governanceSequence(),
                                          expiresAtMillis: expiresAtMillis ?? ledger.head.timestampMillis + 3_600_000, action: action)
        let approvers = signers ?? Array(0..<Int(genesis.governanceThreshold))
        let payload = GovernancePayload(proposal: proposal, approvals: approvers.map {
            proposal.approve(as: UInt16($0), key: validatorKeys[$0], chain: binding) })
        let key = validatorKeys[sender]
        var next = nonce ?? 0
        if nonce == nil { next = try ledger.account(key.publicKey.address)?.nonce ?? 0 }
        let bytes = payload.canonicalBytes
        let body = TransactionBody(chain: binding, sender: key.publicKey, nonce: next,
                                   kind: action.transactionKind, payload: bytes,
                                   gasLimit: GasSchedule.intrinsic(action.transactionKind, payloadBytes: bytes.count))
        return body.signed(with: key)
    }
}

// MARK: Writing blocks (the crash test's writer)

extension DevChain {
    /// Appends blocks of `transfersPerBlock` unsigned transfers (signature checks must be off)
    /// among the first 64 users to `ledger` until its head reaches `height`, calling
    /// `applied(height)` after each; it resumes from whatever head the ledger has, since each
    /// user sends a fixed number of transfers per block, so its nonce follows from the height.
    /// `hansa dev ledger-writer` runs it for the kill -9 test.
    public func writeTransferBlocks(to ledger: Ledger, until height: UInt64, transfersPerBlock: Int,
                                    applied: (UInt64) -> Void) throws(LedgerError) {
        precondition(userKeys.count >= 64, "the writer spreads transfers over 64 users")
        let perUser = UInt64((transfersPerBlock + 63) / 64)
        while ledger.head.height < height {
            let head = ledger.head.height
            let txs = (0..<transfersPerBlock).map { i in
                transfer(from: i % 64, to: (i + 1) % 64, amount: 1, nonce: head * perUser + UInt64(i / 64), signed: false)
            }
            let (block, certificate) = try nextBlock(on: ledger, txs)
            try ledger.apply(block, certificate: certificate)
            applied(ledger.head.height)
        }
    }
}

// MARK: The parties of a documentary credit

extension DevChain {
    /// The applicant: an importer banking with validator bank 0.
    public static let tradeImporter = key("trade importer")
    /// The beneficiary: an exporter banking with validator bank 1.
    public static let tradeExporter = key("trade exporter")
    public static let tradeCarrier = key("trade carrier")

    /// This chain with an importer (holding `importerDeposit` USD at bank 0), an exporter (at
    /// bank 1) and a carrier added: the parties of a letter of credit, for `hansa demo`,
    /// `hansa bench vm` and the integration tests. Bank 0 issues, bank 1 advises.
    public func withTradeParties(importerDeposit: UInt64) -> DevChain {
        var chain = self
        chain.genesis.participants += [
            Participant(name: "importer", publicKey: Self.tradeImporter.publicKey, role: .importer, bank: validatorKeys[0].publicKey.address),
            Participant(name: "exporter", publicKey: Self.tradeExporter.publicKey, role: .exporter, bank: validatorKeys[1].publicKey.address),
            Participant(name: "carrier", publicKey: Self.tradeCarrier.publicKey, role: .carrier, bank: nil),
        ]
        chain.genesis.deposits.append(Deposit(account: Self.tradeImporter.publicKey.address, currency: usd, amount: importerDeposit))
        return chain
    }
}
