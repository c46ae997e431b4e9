import ChainTypes
import ContractVM
import Foundation
import Ledger

/// A development chain with the parties of a documentary credit — the four dev validator
/// banks (bank 0 issues, bank 1 advises and confirms), an importer holding USD at bank 0, an
/// exporter banking with bank 1 and a carrier — and a ledger with the contract VM. Blocks are
/// committed at explicit times. Used by `hansa demo`, `hansa bench vm` and `hansa bench gas`.
public final class TradeDevChain {
    public let dev: DevChain
    public let importer = DevChain.tradeImporter
    public let exporter = DevChain.tradeExporter
    public let carrier = DevChain.tradeCarrier
    public var issuingBank: PrivateKey { dev.validatorKeys[0] }
    public var advisingBank: PrivateKey { dev.validatorKeys[1] }
    public let genesis: Genesis
    public let ledger: Ledger
    private var nonces: [Address: UInt64] = [:]
    /// The time of the last committed block.
    public private(set) var time: UInt64
    /// Receipts of the scheduled calls run at the start of the last block.
    public private(set) var lastScheduled: [Receipt] = []
    /// Seconds spent executing and applying blocks.
    public private(set) var applySeconds = 0.0

    /// `users`: exporters besides the trade parties (`DevChain.userKeys`), e.g. payees for a benchmark.
    /// `extraParticipants`: more participants in genesis (e.g. an auditor for the RPC's tests).
    public init(store: any KeyValueStore, importerDeposit: UInt64, users: Int = 0, extraParticipants: [Participant] = []) throws {
        let base = DevChain(users: users).withTradeParties(importerDeposit: importerDeposit)
        var g = base.genesis
        g.participants += extraParticipants
        dev = extraParticipants.isEmpty ? base : DevChain(genesis: g, validatorKeys: base.validatorKeys, userKeys: base.userKeys)
        genesis = dev.genesis
        ledger = try Ledger(store: store, genesis: genesis, engine: HansaVM())
        time = genesis.genesisTimeMillis
    }

    public func tx(_ key: PrivateKey, _ kind: TransactionKind, _ payload: some CanonicalEncodable, gas: UInt64) -> Transaction {
        let a = key.publicKey.address
        defer { nonces[a, default: 0] += 1 }
        return TransactionBody(chain: dev.binding, sender: key.publicKey, nonce: nonces[a, default: 0], kind: kind,
                               payload: payload.canonicalBytes, gasLimit: gas).signed(with: key)
    }

    public func call(_ key: PrivateKey, _ contract: Address, _ function: String, _ args: [ABIValue] = [], value: UInt64? = nil) -> Transaction {
        tx(key, .callContract, CallPayload(contract: contract, input: ABI.encodeCall(function, args), value: value.map { Amount($0, dev.usd) }),
           gas: 2_000_000)
    }

    /// Deploys `code` from the issuing bank; returns the transaction and the contract's address.
    public func deploy(_ code: [UInt8], _ args: [ABIValue]) -> (Transaction, Address) {
        let nonce = nonces[issuingBank.publicKey.address, default: 0]
        let t = tx(issuingBank, .deployContract, DeployPayload(code: code, constructorInput: ABI.encodeCall("init", args)), gas: 5_000_000)
        return (t, Executor.contractAddress(deployer: issuingBank.publicKey.address, nonce: nonce))
    }

    /// Commits a block of `txs` at `at` (default: a minute after the last block); returns the
    /// transactions' receipts.
    @discardableResult
    public func commit(_ txs: [Transaction], at: UInt64? = nil) throws -> [Receipt] {
        time = at ?? time + 60_000
        let t = ContinuousClock().now
        let (block, certificate) = try dev.nextBlock(on: ledger, txs, timestampMillis: time)
        try ledger.apply(block, certificate: certificate)
        let elapsed = ContinuousClock().now - t
        applySeconds += Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let receipts = try ledger.blockReceipts(at: block.header.height)!
        lastScheduled = receipts.scheduled
        return receipts.transactions
    }

    public func balance(_ a: Address) throws -> UInt64 { try ledger.account(a)?.balance(dev.usd) ?? 0 }
    public func balance(_ k: PrivateKey) throws -> UInt64 { try balance(k.publicKey.address) }

    public static func compileLetterOfCredit(_ path: String) throws(TradeFinanceError) -> CompiledContract {
        try LetterOfCredit.compile(path).compiled
    }
}
