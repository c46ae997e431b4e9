import ChainTypes
import ContractVM
import Foundation
import HansaCrypto
import HansaTestSupport
import Ledger
import Logging
import NIOConcurrencyHelpers
@testable import RPC
import TradeFinance

/// A node in one process for the RPC's tests: a trade dev chain in memory with a letter of
/// credit on it, which commits every admitted transaction at once in a block of its own.
final class InstantNode: RPCNodeService, @unchecked Sendable {
    static let auditor = PrivateKey.deterministic("rpc test auditor")
    static let outsider = PrivateKey.deterministic("rpc test outsider")

    let lock = NSLock()
    let chain: TradeDevChain
    let loc: LetterOfCredit
    private(set) var credit: Address = Address(bytes: [UInt8](repeating: 0, count: 20))!
    private var published: LedgerSnapshot?
    private var mempool: Mempool

    init() throws {
        loc = try LetterOfCredit.compile(repositoryRoot() + "/contracts/letter_of_credit.hc")
        chain = try TradeDevChain(store: MemoryStore(), importerDeposit: 1_000_000_00, extraParticipants: [
            Participant(name: "auditor", publicKey: Self.auditor.publicKey, role: .auditor, bank: nil),
            Participant(name: "outsider", publicKey: Self.outsider.publicKey, role: .exporter, bank: nil),
        ])
        mempool = Mempool(executor: chain.ledger.executor)
        let a = { (k: PrivateKey) in ABIValue.address(k.publicKey.address) }
        let start = chain.time + 60_000
        let day: UInt64 = 86_400_000
        let (deploy, credit) = chain.deploy(loc.compiled.bytecode, [
            a(chain.importer), a(chain.exporter), a(chain.advisingBank), a(chain.advisingBank), a(chain.carrier), .string("USD"),
            .int(250_000_00), .int(5_000), .int(Int64(start + 60 * day)), .int(Int64(start + 30 * day)), .int(21), .int(0),
            .string("CNSHA"), .string("NLRTM"), .int(loc.bits("DOC_INVOICE", "DOC_TRANSPORT")), .int(loc.bits("NAMED_CARRIER"))])
        self.credit = credit
        try chain.commit([deploy], at: start)
        try chain.commit([chain.call(chain.importer, credit, "fund", value: 250_000_00)], at: start + 1_000)
        try chain.commit([chain.call(chain.advisingBank, credit, "advise")], at: start + day)
        try chain.commit([chain.call(chain.carrier, credit, "shipping_event", [.string("MAEU-1"), .string("LOAD"), .string("ACT"),
                                                                              .string("CNSHA"), .string("MAERSK ESSEN"), .int(Int64(start + 2 * day))])],
                         at: start + 2 * day)
        published = try chain.ledger.snapshot()
    }

    var abi: ContractABI {
        try! ContractABI(json: try! JSON.parse(loc.compiled.abiJSON), name: "letter_of_credit", codeHash: SHA256.hash(loc.compiled.bytecode))
    }

    var snapshot: LedgerSnapshot? { lock.withLock { published } }

    func nodeInfo() -> RPCNodeInfo {
        RPCNodeInfo(name: "instant", role: .validator, version: "test", peers: [.init(name: "bank-1", role: "validator", height: 4)])
    }

    /// A transaction signed by `key` with its next nonce.
    func signed(_ key: PrivateKey, _ kind: TransactionKind, _ payload: some CanonicalEncodable) -> Transaction {
        lock.withLock {
            let nonce = (try? chain.ledger.account(key.publicKey.address))??.nonce ?? 0
            return TransactionBody(chain: chain.dev.binding, sender: key.publicKey, nonce: nonce, kind: kind,
                                   payload: payload.canonicalBytes, gasLimit: 100_000).signed(with: key)
        }
    }

    func submit(_ tx: Transaction) async throws(SubmitRefusal) -> Hash {
        let result: Result<Hash, SubmitRefusal> = lock.withLock {
            guard tx.verifySignature() else { return .failure(.refused(.badSignature)) }
            do throws(TransactionError) {
                try mempool.add(tx, state: chain.ledger.store, nowMillis: chain.time)
            } catch {
                return .failure(.refused(error))
            }
            do {
                try chain.commit([tx])
                mempool.prune(nextNonce: { (try? self.chain.ledger.account($0))??.nonce ?? 0 }, nowMillis: chain.time)
                published = try chain.ledger.snapshot()
            } catch {
                return .failure(.unavailable("\(error)"))
            }
            return .success(tx.hash)
        }
        return try result.get()
    }

    func receipt(of hash: Hash, timeout: Duration) async -> (height: UInt64, index: Int, receipt: Receipt)? {
        guard let s = snapshot, let found = try? s.transaction(hash) else { return nil }
        return (found.height, found.index, found.receipt)
    }

    /// A JSON-RPC server over this node with the letter of credit's ABI.
    func rpc(limits: RPCLimits = RPCLimits(), log: AccessLog = AccessLog(node: "instant")) -> HansaRPC {
        HansaRPC(service: self, abis: ABIRegistry([abi]), accessLog: log, limits: limits, logger: Logger(label: "rpc-test"))
    }

    /// A signed `auth` for a read of `method` with `params` by `key`.
    func auth(_ key: PrivateKey, _ method: String, _ params: JSONObject, expiresIn: UInt64 = 60_000, nonce: [UInt8]? = nil) -> JSON {
        let now = UInt64(Date().timeIntervalSince1970 * 1000)
        var rng = SystemRandomNumberGenerator()
        return ReadRequest.sign(method: method, params: params, key: key, chain: chain.dev.binding, expiresMillis: now + expiresIn,
                                nonce: nonce ?? (0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) })
    }
}

extension PrivateKey {
    /// A key from a seed phrase (tests only).
    static func deterministic(_ seed: String) -> PrivateKey { try! PrivateKey(secret: SHA256.hash(utf8: seed).bytes) }
}

/// Calls one method and returns the parsed response object.
func call(_ rpc: HansaRPC, _ method: String, _ params: JSONObject = [:], id: JSON = .int(1),
          transport: RPCTransport = .http) async throws -> JSONObject {
    let request: JSON = .object(["jsonrpc": "2.0", "method": .string(method), "params": .object(params), "id": id])
    let text = try #require(await rpc.respond(to: Array(request.serialized().utf8), transport: transport, remote: "test"))
    return try #require(try JSON.parse(text).objectValue)
}

import Testing
