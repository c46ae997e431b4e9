import ChainTypes
import Foundation
import HansaCrypto
import ContractVM
import Ledger
import RPC

/// What the `hansa` client commands do against a node: signed reads, transactions built,
/// signed and submitted with the next nonce, contract calls by their ABI's named parameters.
public final class HansaClient: Sendable {
    public let session: RPCSession
    /// The key the client signs with; nil for anonymous reads only.
    public let key: PrivateKey?
    public let chain: ChainBinding
    /// The chain's currencies and their decimals (from `chain.info`).
    public let currencies: [String: UInt8]

    /// How long a submission waits for its receipt by default.
    public static let defaultWaitMillis = 30_000

    public static func connect(rpc: String, key: PrivateKey?, onNotification: @escaping @Sendable (JSON) -> Void = { _ in },
                               onClose: @escaping @Sendable (ClientError) -> Void = { _ in }) async throws(ClientError) -> HansaClient {
        let session = try await RPCSession.connect(rpc, onNotification: onNotification, onClose: onClose)
        let info = try await session.call("chain.info")
        guard let id = info["chain_id"]?.stringValue, let chainID = try? ChainID(id),
              let g = info["genesis_hash"]?.stringValue.flatMap(Hash.init(hex:)) else {
            throw .unreachable("the node's chain.info lacks chain_id or genesis_hash: is it a Hansa node?")
        }
        var currencies: [String: UInt8] = [:]
        for c in info["currencies"]?.arrayValue ?? [] {
            if let code = c["code"]?.stringValue, let d = c["decimals"]?.integer(UInt8.self) { currencies[code] = d }
        }
        return HansaClient(session: session, key: key, chain: ChainBinding(id: chainID, genesisHash: g), currencies: currencies)
    }

    init(session: RPCSession, key: PrivateKey?, chain: ChainBinding, currencies: [String: UInt8]) {
        self.session = session; self.key = key; self.chain = chain; self.currencies = currencies
    }

    public var address: Address? { key?.publicKey.address }

    func requireKey() throws(ClientError) -> PrivateKey {
        guard let key else { throw .local("this command signs: give --key FILE (or a profile with a key)") }
        return key
    }

    /// Calls `method`, signing the read when the client has a key.
    public func read(_ method: String, _ params: JSONObject = [:]) async throws(ClientError) -> JSON {
        var p = params
        if let key {
            var nonce = [UInt8](repeating: 0, count: ReadRequest.nonceBytes)
            var rng = SystemRandomNumberGenerator()
            for i in nonce.indices { nonce[i] = UInt8.random(in: 0...255, using: &rng) }
            let expires = UInt64(Date().timeIntervalSince1970 * 1000) + 60_000
            p["auth"] = ReadRequest.sign(method: method, params: params, key: key, chain: chain, expiresMillis: expires, nonce: nonce)
        }
        return try await session.call(method, p)
    }

    /// The sender's next nonce, from its account (a signed read of its own account).
    public func nextNonce() async throws(ClientError) -> UInt64 {
        let key = try requireKey()
        let account = try await read("account.get", ["address": .string(key.publicKey.address.text)])
        guard let n = account["nonce"]?.stringValue.flatMap(UInt64.init) else { throw .unreachable("account.get answered without a nonce") }
        return n
    }

    /// Builds, signs and submits a transaction, then waits for its receipt (`pending` when it
    /// does not commit within `waitMillis`). Returns the `tx.submit` answer (with the receipt).
    public func send(_ kind: TransactionKind, payload: [UInt8], gasLimit: UInt64 = 2_000_000, nonce given: UInt64? = nil,
                     waitMillis: Int = HansaClient.defaultWaitMillis) async throws(ClientError) -> JSON {
        let key = try requireKey()
        let nonce: UInt64
        if let given { nonce = given } else { nonce = try await nextNonce() }
        let tx = TransactionBody(chain: chain, sender: key.publicKey, nonce: nonce, kind: kind, payload: payload, gasLimit: gasLimit).signed(with: key)
        let answer = try await session.call("tx.submit", ["transaction": .string(Hex.encode(tx.canonicalBytes)), "wait_ms": .int(waitMillis)])
        guard answer["status"] == "committed" else { throw .pending(hash: tx.hash.hex, waited: waitMillis) }
        if let receipt = answer["receipt"], receipt["status"] != "success" {
            throw .failed(hash: tx.hash.hex, height: answer["height"]?.stringValue ?? "?", reason: receipt["error"]?.stringValue ?? "no reason given")
        }
        return answer
    }

    /// The ABI the node uses for `contract`.
    public func abi(of contract: Address) async throws(ClientError) -> ContractABI {
        let doc = try await session.call("contract.abi", ["contract": .string(contract.text)])
        do { return try ContractABI(json: doc, name: doc["name"]?.stringValue ?? "contract") } catch {
            throw .unreachable("the node's ABI for \(contract) does not read: \(error)")
        }
    }

    /// Calls a contract's `pub fn` in a transaction. The input is encoded here, from the ABI
    /// the node serves and the fields as people write them (``ArgumentShaper``), so what is
    /// signed is what was asked.
    public func callContract(_ contract: Address, _ function: String, fields: JSONObject, value: Amount? = nil,
                             currency: String? = nil, baseDirectory: String = ".",
                             waitMillis: Int = HansaClient.defaultWaitMillis) async throws(ClientError) -> JSON {
        let abi = try await abi(of: contract)
        let shaper = ArgumentShaper(abi: abi, currency: currency, decimals: currency.flatMap { currencies[$0] } ?? 0, baseDirectory: baseDirectory)
        let args = try shaper.shape(fields, for: function)
        let input: [UInt8]
        do { input = try abi.encodeCall(function, args: args) } catch { throw .local("\(function): \(error.message)") }
        return try await send(.callContract, payload: CallPayload(contract: contract, input: input, value: value).canonicalBytes, waitMillis: waitMillis)
    }

    /// Deploys a contract whose constructor `init` takes `fields`; returns its address and
    /// the submission's answer.
    public func deploy(code: [UInt8], abi: ContractABI, fields: JSONObject, currency: String?,
                       baseDirectory: String = ".", waitMillis: Int = HansaClient.defaultWaitMillis) async throws(ClientError) -> (Address, JSON) {
        let key = try requireKey()
        let shaper = ArgumentShaper(abi: abi, currency: currency, decimals: currency.flatMap { currencies[$0] } ?? 0, baseDirectory: baseDirectory)
        let args = try shaper.shape(fields, for: "init")
        let input: [UInt8]
        do { input = try abi.encodeCall("init", args: args) } catch { throw .local("init: \(error.message)") }
        let nonce = try await nextNonce()
        let answer = try await send(.deployContract, payload: DeployPayload(code: code, constructorInput: input).canonicalBytes,
                                    gasLimit: 5_000_000, nonce: nonce, waitMillis: waitMillis)
        return (Executor.contractAddress(deployer: key.publicKey.address, nonce: nonce), answer)
    }

    /// A credit's currency (its `currency` storage), read as a party.
    public func creditCurrency(_ credit: Address) async throws(ClientError) -> String {
        let v = try await read("contract.storage", ["contract": .string(credit.text), "name": "currency"])
        guard let c = v["value"]?.stringValue else { throw .unreachable("the credit \(credit) has no currency") }
        return c
    }

    /// An amount given as text (`"250000.00"`, or `"USD 250,000.00"`) in `currency`.
    public func amount(_ text: String, _ currency: String) throws(ClientError) -> Amount {
        var t = text.replacingOccurrences(of: ",", with: "").trimmingCharacters(in: .whitespaces)
        if t.hasPrefix(currency + " ") { t = String(t.dropFirst(currency.count + 1)) }
        guard let decimals = currencies[currency], let code = try? CurrencyCode(currency) else {
            throw .local("the chain has no currency \(currency); it has \(currencies.keys.sorted().joined(separator: ", "))")
        }
        do { return try Amount.parse(t, currency: code, decimals: decimals) } catch { throw .local("\(error)") }
    }

    public func close() async { await session.close() }
}

