import ChainTypes
import Ledger
import Testing

/// Every reason a transaction is refused or fails, each with its typed error.
@Suite("Ledger: transaction rules")
struct TransactionRuleTests {
    @Test("a transfer moves funds, consumes the nonce and emits a Transfer event")
    func transfer() throws {
        let f = try Fixture()
        let (a, b) = (f.user(0), f.user(1))
        let receipts = try f.commit([try f.transfer(a, to: f.address(b), 250)])
        #expect(receipts.count == 1 && receipts[0].succeeded)
        #expect(receipts[0].events.first?.topics.first == Event.topic("Transfer"))
        #expect(receipts[0].gasUsed == GasSchedule.transfer)
        #expect(try f.balance(f.address(a)) == 1_000_00 - 250)
        #expect(try f.balance(f.address(b)) == 1_000_00 + 250)
        #expect(try f.nonce(a) == 1)
    }

    /// Admission errors: the block carrying such a transaction is invalid.
    static let admission: [(String, String)] = [
        ("bad_signature", "signature"), ("wrong_chain", "chain"), ("wrong_genesis", "genesis"), ("nonce_reused", "nonce reused"),
        ("nonce_too_far_ahead", "nonce ahead"), ("unknown_sender", "unknown sender"), ("gas_limit_too_low", "gas low"),
        ("gas_limit_too_high", "gas high"), ("malformed_payload", "payload"), ("oversize", "oversize"), ("duplicate", "twice in a block"),
    ]

    func admissionCase(_ name: String, _ f: Fixture) throws -> [Transaction] {
        let a = f.user(0), b = f.address(f.user(1))
        switch name {
        case "signature":
            let good = try f.transfer(a, to: b, 1)
            return [Transaction(body: good.body, signature: f.user(1).sign(digest: SHA256.hash(utf8: "x")))]
        case "chain":
            let other = ChainBinding(id: try ChainID("other-chain"), genesisHash: f.dev.binding.genesisHash)
            return [try f.tx(a, .transfer, TransferPayload(to: b, currency: f.usd, amount: 1), chain: other)]
        case "genesis":
            let relaunch = ChainBinding(id: f.dev.binding.id, genesisHash: SHA256.hash(utf8: "another launch"))
            return [try f.tx(a, .transfer, TransferPayload(to: b, currency: f.usd, amount: 1), chain: relaunch)]
        case "nonce reused":
            try f.commit([try f.transfer(a, to: b, 1)])
            return [try f.transfer(a, to: b, 1, nonce: 0)]
        case "nonce ahead": return [try f.transfer(a, to: b, 1, nonce: 5)]
        case "unknown sender": return [try f.transfer(DevChain.key("stranger"), to: b, 1, nonce: 0)]
        case "gas low": return [try f.tx(a, .transfer, TransferPayload(to: b, currency: f.usd, amount: 1), gas: 10)]
        case "gas high": return [try f.tx(a, .transfer, TransferPayload(to: b, currency: f.usd, amount: 1), gas: GasSchedule.maxGasLimit + 1)]
        case "payload":
            return [try f.tx(a, .transfer, RawPayload(Array(TransferPayload(to: b, currency: f.usd, amount: 1).canonicalBytes.dropLast())))]
        case "oversize": return [try f.tx(a, .callContract, CallPayload(contract: b, input: [UInt8](repeating: 1, count: 110 * 1024)), gas: 100_000)]
        default:
            let t = try f.transfer(a, to: b, 1)
            return [t, t]
        }
    }

    @Test("admission errors make a block invalid and the mempool refuse", arguments: admission)
    func admissionErrors(_ code: String, _ name: String) throws {
        let f = try Fixture()
        let txs = try admissionCase(name, f)
        let head = f.ledger.head
        #expect(throws: LedgerError.self) { try f.commit(txs) }
        do {
            _ = try f.dev.nextBlock(on: f.ledger, txs)
            Issue.record("\(name): block accepted")
        } catch LedgerError.invalidBlock(.invalidTransaction(_, let e)) {
            #expect(e.code == code, "\(name): \(e)")
        }
        #expect(f.ledger.head == head, "a refused block changed nothing")
        let pool = Mempool(executor: f.ledger.executor)
        var refused: TransactionError?
        for t in txs {
            do { try pool.add(t, state: f.store, nowMillis: 0) } catch { refused = error }
        }
        if name == "nonce ahead" {
            // The mempool holds a transaction a few nonces ahead (its gap may fill), but not one too far ahead.
            #expect(refused == nil)
            #expect(throws: TransactionError.nonceTooFarAhead(expected: 0, got: 200, maxGap: 64)) {
                try pool.add(try f.transfer(f.user(0), to: f.address(f.user(1)), 1, nonce: 200), state: f.store, nowMillis: 0)
            }
        } else {
            #expect(refused?.code == code || (name == "twice in a block" && refused == .duplicate), "\(name): mempool said \(String(describing: refused))")
        }
    }

    /// Execution failures: the transaction lands with a failed receipt, nothing else changes.
    static let execution: [(String, String)] = [
        ("insufficient_funds", "overdraw"), ("role_not_allowed", "exporter mints"), ("role_not_allowed", "auditor-like deploy"),
        ("currency_mismatch", "unknown currency"), ("unknown_account", "unregistered recipient"),
        ("not_authorized", "mint for another bank's customer"), ("governance_approvals", "too few approvals"),
        ("already_registered", "register twice"), ("role_not_allowed", "exporter governs"), ("amount_overflow", "mint overflow"),
    ]

    func executionCase(_ name: String, _ f: Fixture) throws -> Transaction {
        let a = f.user(0), b = f.address(f.user(1))
        let eur = try CurrencyCode("EUR")
        switch name {
        case "overdraw": return try f.transfer(a, to: b, 10_000_000)
        case "exporter mints": return try f.tx(a, .mint, DepositPayload(account: f.address(a), currency: f.usd, amount: 1))
        case "auditor-like deploy": return try f.tx(a, .deployContract, DeployPayload(code: [1, 2, 3], constructorInput: []))
        case "unknown currency": return try f.transfer(a, to: b, 1, currency: eur)
        case "unregistered recipient": return try f.transfer(a, to: DevChain.key("nobody").publicKey.address, 1)
        case "mint for another bank's customer":
            return try f.tx(f.bank(1), .mint, DepositPayload(account: f.address(a), currency: f.usd, amount: 1))
        case "too few approvals":
            let action = GovernanceAction.register(name: "new-carrier", publicKey: DevChain.key("carrier").publicKey, role: .carrier, bank: nil)
            return try f.tx(f.bank(0), .registerParticipant, try f.governance(action, signers: 0..<2))
        case "register twice":
            let action = GovernanceAction.register(name: "again", publicKey: f.user(2).publicKey, role: .carrier, bank: nil)
            return try f.tx(f.bank(0), .registerParticipant, try f.governance(action, signers: 0..<3))
        case "exporter governs":
            let action = GovernanceAction.changeRole(account: b, role: .importer)
            return try f.tx(a, .changeRole, try f.governance(action, signers: 0..<3))
        default:
            return try f.tx(f.bank(0), .mint, DepositPayload(account: f.address(a), currency: f.usd, amount: UInt64.max))
        }
    }

    @Test("execution failures give a failed receipt with the reason and change nothing else", arguments: execution)
    func executionFailures(_ code: String, _ name: String) throws {
        let f = try Fixture()
        let tx = try executionCase(name, f)
        let senderBefore = try f.ledger.account(tx.sender)!
        let balances = try (0..<6).map { try f.balance(f.address(f.user($0))) }
        let pool = Mempool(executor: f.ledger.executor)
        #expect(throws: TransactionError.self) { try pool.add(tx, state: f.store, nowMillis: 0) }
        let receipts = try f.commit([tx])
        guard case .failure(let got, let message) = receipts.first?.status else {
            Issue.record("\(name): succeeded")
            return
        }
        #expect(got == code, "\(name): \(message)")
        #expect(!message.isEmpty)
        #expect(try (0..<6).map { try f.balance(f.address(f.user($0))) } == balances)
        #expect(try f.ledger.account(tx.sender)!.nonce == senderBefore.nonce + 1, "the nonce is consumed")
    }

    @Test("governance: a quorum of validator approvals registers a participant, who can then transact")
    func registerAndChangeRole() throws {
        let f = try Fixture()
        let newcomer = DevChain.key("new importer")
        let register = GovernanceAction.register(name: "importer-9", publicKey: newcomer.publicKey, role: .importer, bank: f.address(f.bank(0)))
        let receipts = try f.commit([try f.tx(f.bank(0), .registerParticipant, try f.governance(register, signers: 0..<3))])
        #expect(receipts[0].succeeded)
        #expect(try f.ledger.account(newcomer.publicKey.address)?.role == .importer)
        // Its bank mints it deposits; it pays an exporter.
        try f.commit([try f.tx(f.bank(0), .mint, DepositPayload(account: newcomer.publicKey.address, currency: f.usd, amount: 500))])
        let paid = try f.commit([try f.transfer(newcomer, to: f.address(f.user(0)), 200)])
        #expect(paid[0].succeeded)
        let change = GovernanceAction.changeRole(account: newcomer.publicKey.address, role: .auditor)
        try f.commit([try f.tx(f.bank(1), .changeRole, try f.governance(change, signers: 1..<4))])
        #expect(try f.ledger.account(newcomer.publicKey.address)?.role == .auditor)
        let refused = try f.commit([try f.transfer(newcomer, to: f.address(f.user(0)), 1)])
        #expect(refused[0].status == .failure(code: "role_not_allowed", message: "role auditor may not move money"))
    }

    @Test("mint and burn by the customer's own bank")
    func mintAndBurn() throws {
        let f = try Fixture()
        let a = f.address(f.user(0))
        try f.commit([try f.tx(f.bank(0), .mint, DepositPayload(account: a, currency: f.usd, amount: 1_000))])
        #expect(try f.balance(a) == 1_000_00 + 1_000)
        try f.commit([try f.tx(f.bank(0), .burn, DepositPayload(account: a, currency: f.usd, amount: 100_00))])
        #expect(try f.balance(a) == 1_000_00 + 1_000 - 100_00)
    }
}

/// Raw bytes as a payload (to build malformed transactions).
struct RawPayload: CanonicalEncodable, ExpressibleByArrayLiteral {
    let bytes: [UInt8]
    init(arrayLiteral elements: UInt8...) { bytes = elements }
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    func encode(to w: inout CanonicalWriter) { w.fixed(bytes) }
}
