import ChainTypes

// What each kind of transaction does (../shared/DOMAIN.md roles; docs/LEDGER.md).
extension Executor {
    func fail(_ e: TransactionError, gas: UInt64 = 0) -> ExecutionFailure { ExecutionFailure(error: e, gasUsed: gas) }

    /// Returns extra gas (beyond intrinsic) and events; throws `ExecutionFailure` to revert.
    func run(_ tx: Transaction, state: StateOverlay, header: BlockHeader) throws -> (UInt64, [Event]) {
        let body = tx.body
        let sender = tx.sender
        guard let account = try state.account(sender), let role = account.role else { throw fail(.unknownSender(sender)) }
        switch body.kind {
        case .transfer:
            let p = try TransferPayload(canonicalBytes: body.payload)
            guard role != .auditor && role != .regulator else { throw fail(.roleNotAllowed(role: role.name, action: "move money")) }
            // A contract's balance is its escrow, kept by its own code: value reaches it only
            // with a call, which the contract sees and accounts for.
            guard try state.account(p.to)?.codeHash == nil else {
                throw fail(.notAuthorized("\(p.to) is a contract; send value to it with a call_contract transaction"))
            }
            try move(p.amount, p.currency, from: sender, to: p.to, state: state)
            return (0, [Event(emitter: sender, topics: [Event.topic("Transfer"), addressTopic(sender), addressTopic(p.to)],
                              data: amountData(p.currency, p.amount))])
        case .mint, .burn:
            let p = try DepositPayload(canonicalBytes: body.payload)
            try checkIssuer(sender, role: role, currency: p.currency, customer: p.account, state: state)
            guard var target = try state.account(p.account) else { throw fail(.unknownAccount(p.account)) }
            let balance = target.balance(p.currency)
            if body.kind == .mint {
                guard let sum = Amount.sum(balance, p.amount) else { throw fail(.amountOverflow) }
                target.setBalance(p.currency, sum)
            } else {
                guard balance >= p.amount else { throw fail(.insufficientFunds(currency: p.currency, balance: balance, needed: p.amount)) }
                target.setBalance(p.currency, balance - p.amount)
            }
            state.setAccount(p.account, target)
            let name = body.kind == .mint ? "Mint" : "Burn"
            return (0, [Event(emitter: sender, topics: [Event.topic(name), addressTopic(p.account)], data: amountData(p.currency, p.amount))])
        case .registerParticipant, .changeRole, .setNodePin:
            let p = try GovernancePayload(canonicalBytes: body.payload)
            guard role == .validatorBank else { throw fail(.roleNotAllowed(role: role.name, action: "propose governance actions")) }
            let sequence = try governanceSequence(state)
            guard p.proposal.sequence == sequence else { throw fail(.governanceSequence(expected: sequence, got: p.proposal.sequence)) }
            guard header.timestampMillis <= p.proposal.expiresAtMillis else {
                throw fail(.governanceExpired(expiresAtMillis: p.proposal.expiresAtMillis, blockTimeMillis: header.timestampMillis))
            }
            try checkApprovals(p)
            let event = try govern(p.action, state: state)
            state.set(StateKey.governanceSequence, Ledger.Keys.be64(sequence + 1))
            return (0, [event])
        case .deployContract:
            let p = try DeployPayload(canonicalBytes: body.payload)
            guard role.isBank else { throw fail(.roleNotAllowed(role: role.name, action: "deploy contracts")) }
            return try deploy(p, by: sender, nonce: body.nonce, tx: tx, state: state, header: header)
        case .callContract:
            let p = try CallPayload(canonicalBytes: body.payload)
            return try call(p, by: sender, role: role, tx: tx, state: state, header: header)
        }
    }

    func addressTopic(_ a: Address) -> Hash { Hash(bytes: a.bytes + [UInt8](repeating: 0, count: 12))! }

    func amountData(_ c: CurrencyCode, _ amount: UInt64) -> [UInt8] {
        var w = CanonicalWriter(capacity: 16)
        w.currency(c)
        w.uvarint(amount)
        return w.bytes
    }

    /// Moves funds between two existing accounts.
    func move(_ amount: UInt64, _ currency: CurrencyCode, from: Address, to: Address, state: StateOverlay) throws {
        guard rules.currencies[currency] != nil else { throw fail(.currencyMismatch("\(currency) is not a currency of this chain")) }
        guard var source = try state.account(from) else { throw fail(.unknownAccount(from)) }
        guard try state.account(to) != nil else { throw fail(.unknownAccount(to)) }
        let have = source.balance(currency)
        guard have >= amount else { throw fail(.insufficientFunds(currency: currency, balance: have, needed: amount)) }
        source.setBalance(currency, have - amount)
        state.setAccount(from, source)
        var target = try state.account(to)!
        guard let sum = Amount.sum(target.balance(currency), amount) else { throw fail(.amountOverflow) }
        target.setBalance(currency, sum)
        state.setAccount(to, target)
    }

    /// A bank mints and burns only currencies it issues, only for itself or its own customers.
    func checkIssuer(_ bank: Address, role: Role, currency: CurrencyCode, customer: Address, state: StateOverlay) throws {
        guard role.isBank else { throw fail(.roleNotAllowed(role: role.name, action: "mint or burn deposits")) }
        guard let c = rules.currencies[currency] else { throw fail(.currencyMismatch("\(currency) is not a currency of this chain")) }
        guard c.issuers.contains(bank) else { throw fail(.notAuthorized("\(bank) is not an issuer of \(currency)")) }
        let customerBank = try state.account(customer)?.bank
        guard customer == bank || customerBank == bank else {
            throw fail(.notAuthorized("\(customer) is not a customer of \(bank)"))
        }
    }

    /// The sequence number the next governance proposal must carry (absent = 0).
    func governanceSequence(_ state: StateOverlay) throws(LedgerError) -> UInt64 {
        try state.counter(StateKey.governanceSequence, "the governance sequence")
    }

    /// Counts distinct validators whose governance-domain signature over the proposal verifies.
    func checkApprovals(_ p: GovernancePayload) throws {
        let set = rules.genesis.validators
        let body = p.proposal.canonicalBytes
        var valid = Set<UInt16>()
        for a in p.approvals where Int(a.validatorIndex) < set.count {
            if SigningDomain.governance.verify(a.signature, over: body, chain: rules.binding,
                                               by: set.validators[Int(a.validatorIndex)].publicKey) {
                valid.insert(a.validatorIndex)
            }
        }
        let need = Int(rules.genesis.governanceThreshold)
        guard valid.count >= need else { throw fail(.governanceApprovals(have: valid.count, need: need)) }
    }

    func govern(_ action: GovernanceAction, state: StateOverlay) throws -> Event {
        switch action {
        case .register(let name, let key, let role, let bank):
            guard NameRule.problem(name) == nil else { throw fail(.malformedPayload(NameRule.problem(name)!)) }
            guard role != .validatorBank else { throw fail(.notAuthorized("validator banks are fixed by genesis")) }
            let address = key.address
            guard try state.account(address) == nil else { throw fail(.alreadyRegistered(address)) }
            if let bank {
                guard !role.isBank, let b = try state.account(bank), b.role?.isBank == true else {
                    throw fail(.notAuthorized("\(bank) cannot hold this participant's deposits"))
                }
            }
            state.setAccount(address, Account(publicKey: key, role: role, bank: bank))
            return Event(emitter: address, topics: [Event.topic("Registered"), addressTopic(address)], data: [role.rawValue])
        case .changeRole(let address, let role):
            guard var account = try state.account(address), let old = account.role else { throw fail(.unknownAccount(address)) }
            guard old != .validatorBank && role != .validatorBank else {
                throw fail(.notAuthorized("validator banks are fixed by genesis"))
            }
            account.role = role
            if role.isBank { account.bank = nil }
            state.setAccount(address, account)
            return Event(emitter: address, topics: [Event.topic("RoleChanged"), addressTopic(address)], data: [old.rawValue, role.rawValue])
        case .setNodePin(let node, let spki):
            return try setNodePin(node: node, spki: spki, state: state)
        }
    }

    /// A contract's address: the first 20 bytes of SHA-256(string("hansa/contract/v1") ‖ deployer ‖ uvarint(nonce)).
    public static func contractAddress(deployer: Address, nonce: UInt64) -> Address {
        var w = CanonicalWriter(capacity: 48)
        w.string("hansa/contract/v1")
        w.address(deployer)
        w.uvarint(nonce)
        return Address(bytes: Array(SHA256.hash(w.bytes).bytes.prefix(20)))!
    }

    func deploy(_ p: DeployPayload, by sender: Address, nonce: UInt64, tx: Transaction, state: StateOverlay,
                header: BlockHeader) throws -> (UInt64, [Event]) {
        guard let engine else { throw fail(.contract("this node has no contract engine")) }
        if let problem = engine.verify(code: p.code) { throw fail(.contract("code refused by the verifier: \(problem)")) }
        let address = Self.contractAddress(deployer: sender, nonce: nonce)
        guard try state.account(address) == nil else { throw fail(.alreadyRegistered(address)) }
        let codeHash = SHA256.hash(p.code)
        state.setAccount(address, Account(publicKey: nil, role: nil, bank: nil, codeHash: codeHash))
        if try state.get(StateKey.code(codeHash)) == nil { state.set(StateKey.code(codeHash), p.code) }
        let budget = tx.body.gasLimit - GasSchedule.intrinsic(.deployContract, payloadBytes: tx.body.payload.count)
        let host = try LedgerHost(state: state, contract: address, caller: sender, header: header, rules: rules)
        let outcome = engine.run(code: p.code, codeHash: codeHash, entry: .constructor, input: p.constructorInput, gasLimit: budget, host: host)
        try host.throwIfFaulted()
        try throwIfStateLimitHit(host, gas: outcome.gasUsed)
        guard outcome.succeeded else { throw fail(.contract(outcome.failure ?? "constructor failed"), gas: outcome.gasUsed) }
        let deployed = Event(emitter: address, topics: [Event.topic("Deployed"), addressTopic(address)], data: sender.bytes)
        return (outcome.gasUsed, [deployed] + host.events)
    }

    func call(_ p: CallPayload, by sender: Address, role: Role, tx: Transaction, state: StateOverlay,
              header: BlockHeader) throws -> (UInt64, [Event]) {
        guard let engine else { throw fail(.contract("this node has no contract engine")) }
        guard let (code, codeHash) = try state.contractCode(p.contract) else { throw fail(.unknownAccount(p.contract)) }
        if let value = p.value {
            guard role != .auditor && role != .regulator else { throw fail(.roleNotAllowed(role: role.name, action: "move money")) }
            try move(value.minorUnits, value.currency, from: sender, to: p.contract, state: state)
        }
        let budget = tx.body.gasLimit - GasSchedule.callBase
        let host = try LedgerHost(state: state, contract: p.contract, caller: sender, header: header, rules: rules, value: p.value)
        let outcome = engine.run(code: code, codeHash: codeHash, entry: .call, input: p.input, gasLimit: budget, host: host)
        try host.throwIfFaulted()
        try throwIfStateLimitHit(host, gas: outcome.gasUsed)
        guard outcome.succeeded else { throw fail(.contract(outcome.failure ?? "call failed"), gas: outcome.gasUsed) }
        return (outcome.gasUsed, host.events)
    }

    /// A run whose writes would pass the block's state budget fails as a whole.
    func throwIfStateLimitHit(_ host: LedgerHost, gas: UInt64) throws {
        if host.stateLimitHit { throw fail(.blockStateFull(limitBytes: rules.genesis.consensus.maxBlockStateBytes), gas: gas) }
    }
}
