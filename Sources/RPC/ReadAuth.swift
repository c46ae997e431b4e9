import ChainTypes
import HansaCrypto
import Ledger
import NIOConcurrencyHelpers

/// The `auth` parameter of every method that reads need-to-know data (docs/RPC.md "Who may
/// read what"): the reader's public key, an expiry, a fresh nonce and a signature over them
/// and the request.
let authParam = RPCParam("auth", required: false,
                         "a signed read: {public_key, expires_ms, nonce, signature} (docs/RPC.md \"Signed reads\")",
                         schema: Schema.object("signed read"))

/// A signed read request.
///
/// The signature is the chain's ordinary one (PROTOCOL.md §4) in the domain `rpc/read` over
///
///     body = string(method) ‖ hash(SHA-256 of the params' canonical JSON, `auth` left out)
///            ‖ u64 expires_ms (big-endian) ‖ 16-byte nonce
///
/// where the canonical JSON is ``ReadRequest/canonicalParams(_:)``: members sorted by name,
/// no whitespace. The domain and the chain binding stop the signature from being replayed on
/// another chain or as any other kind of message; the expiry (at most
/// ``ReadAuthenticator/maxLifetimeMillis`` ahead) and the nonce (each accepted once while it
/// is unexpired) stop it from being replayed later.
public struct ReadRequest: Sendable, Equatable {
    public let publicKey: PublicKey
    public let expiresMillis: UInt64
    public let nonce: [UInt8]
    public let signature: Signature

    public static let nonceBytes = 16

    public static func body(method: String, params: JSONObject, expiresMillis: UInt64, nonce: [UInt8]) -> [UInt8] {
        var w = CanonicalWriter()
        w.string(method)
        w.hash(SHA256.hash(Array(canonicalParams(params).utf8)))
        w.fixed((0..<8).map { UInt8(truncatingIfNeeded: expiresMillis >> (56 - 8 * UInt64($0))) })
        w.fixed(nonce)
        return w.bytes
    }

    /// The params as signed: every member but `auth`, sorted by name at every level.
    public static func canonicalParams(_ params: JSONObject) -> String {
        var copy = params
        copy["auth"] = nil
        return sorted(.object(copy)).serialized()
    }

    static func sorted(_ v: JSON) -> JSON {
        switch v {
        case .array(let a): return .array(a.map(sorted))
        case .object(let o):
            var out = JSONObject()
            for k in o.keys.sorted() { out[k] = sorted(o[k]!) }
            return .object(out)
        default: return v
        }
    }

    /// Signs a read of `method` with `params` (what `hansa` and the tests do).
    public static func sign(method: String, params: JSONObject, key: PrivateKey, chain: ChainBinding,
                            expiresMillis: UInt64, nonce: [UInt8]) -> JSON {
        let signature = SigningDomain.rpcRead.sign(body(method: method, params: params, expiresMillis: expiresMillis, nonce: nonce),
                                                   chain: chain, with: key)
        return .object(["public_key": .string(key.publicKey.hex), "expires_ms": .string(String(expiresMillis)),
                        "nonce": .string(Hex.encode(nonce)), "signature": .string(signature.hex)])
    }

    init(json: JSONObject) throws(RPCError) {
        for key in json.keys where !["public_key", "expires_ms", "nonce", "signature"].contains(key) {
            throw .badReadAuth("unknown member \"\(key)\" in auth")
        }
        let p = RPCParams(json)
        guard let keyHex = try? p.string("public_key", maxBytes: 70), let key = try? PublicKey(hex: keyHex) else {
            throw .badReadAuth("auth.public_key must be a compressed secp256k1 public key in hex")
        }
        guard let expires = try? p.uint64("expires_ms") else { throw .badReadAuth("auth.expires_ms must be a time in ms since 1970") }
        guard let nonce = try? p.hex("nonce", maxBytes: Self.nonceBytes), nonce.count == Self.nonceBytes else {
            throw .badReadAuth("auth.nonce must be \(Self.nonceBytes) bytes in hex")
        }
        guard let sigHex = try? p.string("signature", maxBytes: 140), let signature = try? Signature(hex: sigHex) else {
            throw .badReadAuth("auth.signature must be a 64-byte compact signature in hex")
        }
        self.publicKey = key; self.expiresMillis = expires; self.nonce = nonce; self.signature = signature
    }
}

/// Checks signed reads and remembers used nonces until they expire.
final class ReadAuthenticator: Sendable {
    /// Longest a signed read may be valid for.
    static let maxLifetimeMillis: UInt64 = 5 * 60 * 1_000
    /// Nonces remembered at once; beyond it new signed reads are refused until some expire.
    static let maxRemembered = 100_000

    private let used = NIOLockedValueBox([Hash: UInt64]())

    /// The verified reader of a call, or nil when it carries no `auth`.
    func reader(of call: RPCCall, chain: ChainBinding, nowMillis: Int64) throws(RPCError) -> PublicKey? {
        guard let authJSON = call.params["auth"] else { return nil }
        guard let o = authJSON.objectValue else { throw .badReadAuth("auth must be an object") }
        let auth = try ReadRequest(json: o)
        let now = UInt64(max(0, nowMillis))
        guard auth.expiresMillis > now else { throw .badReadAuth("it expired at \(Format.time(auth.expiresMillis))") }
        guard auth.expiresMillis - now <= Self.maxLifetimeMillis else {
            throw .badReadAuth("it expires more than \(Self.maxLifetimeMillis / 1000) s ahead; sign reads for at most 5 minutes")
        }
        let body = ReadRequest.body(method: call.method, params: call.params.values, expiresMillis: auth.expiresMillis, nonce: auth.nonce)
        guard SigningDomain.rpcRead.verify(auth.signature, over: body, chain: chain, by: auth.publicKey) else {
            throw .badReadAuth("the signature does not verify for this method, these parameters and this chain")
        }
        let tag = SHA256.hash(auth.publicKey.bytes + auth.nonce)
        let fresh: Bool? = used.withLockedValue { used in
            if used.count >= Self.maxRemembered { used = used.filter { $0.value > now } }
            guard used.count < Self.maxRemembered else { return nil }
            guard used[tag] == nil else { return false }
            used[tag] = auth.expiresMillis
            return true
        }
        switch fresh {
        case true?: return auth.publicKey
        case false?: throw .badReadAuth("this signed read was used before (its nonce is spent); sign each read afresh")
        case nil: throw RPCError(code: RPCError.codeRateLimited, message: "too many signed reads at once; try again in a minute",
                                 reason: "rate_limited")
        }
    }
}

/// Who is reading, and what they may see (docs/RPC.md "Who may read what").
///
/// - Auditors and regulators read everything.
/// - A contract's details — its storage, its events, the transactions that deploy or call it
///   — are readable by its parties: the addresses in its address-typed storage variables
///   (for a letter of credit: issuing bank, applicant, beneficiary, advising and confirming
///   bank, named carrier) and by whoever sent the transaction in question.
/// - An account is readable by itself and by its bank; a transfer by its sender, its
///   recipient and their banks.
/// - Everything else (headers, certificates, hashes, governance, registrations) is public.
struct Reader {
    let address: Address?
    let role: Role?
    let abis: ABIRegistry

    var seesEverything: Bool { role == .auditor || role == .regulator }

    func mayReadAccount(_ a: Address, _ s: LedgerSnapshot) -> Bool {
        guard let me = address else { return false }
        if seesEverything || me == a { return true }
        return (try? s.account(a))??.bank == me
    }

    func mayReadContract(_ contract: Address, _ s: LedgerSnapshot) -> Bool {
        guard let me = address else { return false }
        return seesEverything || abis.parties(of: contract, s).contains(me)
    }

    func mayRead(_ tx: Transaction, _ s: LedgerSnapshot) -> Bool {
        if seesEverything || tx.sender == address { return true }
        switch tx.body.kind {
        case .transfer:
            guard let p = try? TransferPayload(canonicalBytes: tx.body.payload) else { return false }
            return mayReadAccount(tx.sender, s) || mayReadAccount(p.to, s)
        case .mint, .burn:
            guard let p = try? DepositPayload(canonicalBytes: tx.body.payload) else { return false }
            return mayReadAccount(p.account, s)
        case .callContract:
            guard let p = try? CallPayload(canonicalBytes: tx.body.payload) else { return false }
            return mayReadContract(p.contract, s)
        case .deployContract:
            let contract = Executor.contractAddress(deployer: tx.sender, nonce: tx.body.nonce)
            return mayReadContract(contract, s)
        case .registerParticipant, .changeRole, .setNodePin:
            return true
        }
    }
}

extension HansaRPC {
    /// The caller of `call` as a reader: anonymous without `auth`, else the verified signer
    /// with the role the chain gives its address.
    func reader(_ call: RPCCall, _ s: LedgerSnapshot) throws(RPCError) -> Reader {
        guard let key = try readAuth.reader(of: call, chain: s.executor.rules.binding, nowMillis: nowMillis()) else {
            return Reader(address: nil, role: nil, abis: abis)
        }
        let account = try read { () throws(LedgerError) in try s.account(key.address) }
        guard let account, account.publicKey == key else {
            throw .badReadAuth("\(key.address) is not a registered participant of this chain")
        }
        return Reader(address: key.address, role: account.role, abis: abis)
    }
}

extension Reader {
    /// The contract a transaction deploys or calls, if any.
    static func contract(of tx: Transaction) -> Address? {
        switch tx.body.kind {
        case .callContract: (try? CallPayload(canonicalBytes: tx.body.payload))?.contract
        case .deployContract: Executor.contractAddress(deployer: tx.sender, nonce: tx.body.nonce)
        default: nil
        }
    }

    func requireAccount(_ a: Address, _ s: LedgerSnapshot, remote: String) throws(RPCError) {
        guard mayReadAccount(a, s) else { throw refusal("account \(a)") }
    }

    func refusal(_ what: String) -> RPCError {
        guard let address else {
            return .readNotAllowed("\(what) is need-to-know: sign the request (auth) as a party, an auditor or a regulator")
        }
        return .readNotAllowed("\(address) is not a party to \(what), nor an auditor or a regulator")
    }
}
