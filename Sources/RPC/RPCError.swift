import ChainTypes
import Ledger

/// A JSON-RPC error object (JSON-RPC 2.0 §5.1): a code, a sentence, and `data` that explains
/// — always an object with a stable `reason` name (docs/RPC.md "Errors" lists every code and
/// reason) and the facts a client can act on.
public struct RPCError: Error, Sendable, Equatable, CustomStringConvertible {
    public let code: Int
    public let message: String
    public let data: JSONObject

    public init(code: Int, message: String, reason: String, _ details: JSONObject = [:]) {
        self.code = code
        self.message = message
        var data: JSONObject = ["reason": .string(reason)]
        for key in details.keys { data[key] = details[key] }
        self.data = data
    }

    public var description: String { "\(message) (code \(code))" }

    /// The stable name in `data.reason`.
    public var reason: String { data["reason"]?.stringValue ?? "" }

    var json: JSON { .object(["code": .int(code), "message": .string(message), "data": .object(data)]) }

    // MARK: JSON-RPC 2.0 §5.1's codes

    public static func parseError(_ why: String) -> RPCError {
        RPCError(code: -32700, message: "parse error: \(why)", reason: "parse_error")
    }
    public static func invalidRequest(_ why: String) -> RPCError {
        RPCError(code: -32600, message: "invalid request: \(why)", reason: "invalid_request")
    }
    public static func methodNotFound(_ name: String) -> RPCError {
        RPCError(code: -32601, message: "no method \"\(name)\" (rpc.discover lists them)", reason: "method_not_found", ["method": .string(name)])
    }
    public static func invalidParams(_ why: String, param: String? = nil) -> RPCError {
        RPCError(code: -32602, message: "invalid params: \(why)", reason: "invalid_params", param.map { ["param": .string($0)] } ?? [:])
    }
    public static func internalError(_ why: String) -> RPCError {
        RPCError(code: -32603, message: "internal error: \(why)", reason: "internal_error")
    }

    // MARK: Application codes (docs/RPC.md "Errors")

    public static let codeTransactionRefused = 1000
    public static let codeNonceTooLow = 1001
    public static let codeNonceGap = 1002
    public static let codeInsufficientFunds = 1003
    public static let codeBadSignature = 1004
    public static let codeWrongChain = 1005
    public static let codeNotAuthorised = 1006
    public static let codeDuplicate = 1007
    public static let codeMempoolFull = 1008
    public static let codeNotFound = 1100
    public static let codeUnknownCredit = 1101
    public static let codeUnknownABI = 1102
    public static let codeCallFailed = 1103
    public static let codeReadNotAllowed = 1200
    public static let codeBadReadAuth = 1201
    public static let codeLimitExceeded = 1300
    public static let codeRateLimited = 1301
    public static let codeUnavailable = 1400

    public static func notFound(_ what: String, _ id: String) -> RPCError {
        RPCError(code: codeNotFound, message: "no \(what) \(id) on this chain", reason: "not_found", ["what": .string(what), "id": .string(id)])
    }

    public static func unknownCredit(_ address: Address, why: String) -> RPCError {
        RPCError(code: codeUnknownCredit, message: "\(address) is not a letter of credit: \(why)", reason: "unknown_credit",
                 ["credit": .string(address.text)])
    }

    /// A request over a limit: which one, its value and the most allowed.
    public static func limit(_ name: String, value: Int, max: Int, _ sentence: String) -> RPCError {
        RPCError(code: codeLimitExceeded, message: sentence, reason: "limit_exceeded",
                 ["limit": .string(name), "value": .int(value), "max": .int(max)])
    }

    public static func unavailable(_ why: String) -> RPCError {
        RPCError(code: codeUnavailable, message: "the node cannot answer now: \(why)", reason: "unavailable")
    }

    public static func readNotAllowed(_ why: String) -> RPCError {
        RPCError(code: codeReadNotAllowed, message: "not allowed to read this: \(why)", reason: "read_not_allowed")
    }

    public static func badReadAuth(_ why: String) -> RPCError {
        RPCError(code: codeBadReadAuth, message: "the read request's signature is not accepted: \(why)", reason: "bad_read_auth")
    }

    /// A ledger fault while answering: the node's problem, not the client's.
    static func ledger(_ e: LedgerError) -> RPCError { .internalError("the node could not read its ledger: \(e)") }

    /// Why a transaction was refused, with the code a client can branch on.
    public static func refused(_ e: TransactionError) -> RPCError {
        let message = "transaction refused: \(e)"
        switch e {
        case .nonceReused(let expected, let got):
            return RPCError(code: codeNonceTooLow, message: message, reason: "nonce_too_low",
                            ["expected_nonce": .string(String(expected)), "nonce": .string(String(got))])
        case .nonceTooFarAhead(let expected, let got, let gap):
            return RPCError(code: codeNonceGap, message: message, reason: "nonce_gap",
                            ["expected_nonce": .string(String(expected)), "nonce": .string(String(got)), "max_gap": .string(String(gap))])
        case .nonceAlreadyPending(let nonce):
            return RPCError(code: codeNonceTooLow, message: message, reason: "nonce_pending", ["nonce": .string(String(nonce))])
        case .insufficientFunds(let currency, let balance, let needed):
            return RPCError(code: codeInsufficientFunds, message: message, reason: "insufficient_funds",
                            ["currency": .string(currency.value), "balance_minor": .string(String(balance)),
                             "needed_minor": .string(String(needed))])
        case .badSignature:
            return RPCError(code: codeBadSignature, message: message, reason: "bad_signature")
        case .wrongChain(let expected, let got):
            return RPCError(code: codeWrongChain, message: message, reason: "wrong_chain",
                            ["expected_chain_id": .string(expected), "chain_id": .string(got)])
        case .wrongGenesis(let expected, let got):
            return RPCError(code: codeWrongChain, message: message, reason: "wrong_genesis",
                            ["expected_genesis_hash": .string(expected.hex), "genesis_hash": .string(got.hex)])
        case .unknownSender(let a):
            return RPCError(code: codeNotAuthorised, message: message, reason: "unknown_sender", ["sender": .string(a.text)])
        case .roleNotAllowed(let role, let action):
            return RPCError(code: codeNotAuthorised, message: message, reason: "role_not_allowed",
                            ["role": .string(role), "action": .string(action)])
        case .notAuthorized:
            return RPCError(code: codeNotAuthorised, message: message, reason: "not_authorised")
        case .duplicate:
            return RPCError(code: codeDuplicate, message: message, reason: "duplicate")
        case .mempoolFull:
            return RPCError(code: codeMempoolFull, message: message, reason: "mempool_full")
        case .storeUnreadable(let why):
            return .internalError("the node could not read its state: \(why)")
        default:
            return RPCError(code: codeTransactionRefused, message: message, reason: refusalName(e))
        }
    }

    /// Stable names for the other refusals (docs/RPC.md).
    static func refusalName(_ e: TransactionError) -> String {
        switch e {
        case .unknownAccount: "unknown_account"
        case .currencyMismatch: "currency_mismatch"
        case .oversize: "oversize"
        case .gasLimitTooLow: "gas_limit_too_low"
        case .gasLimitTooHigh: "gas_limit_too_high"
        case .malformedPayload: "malformed_payload"
        case .governanceApprovals: "governance_approvals"
        case .governanceSequence: "governance_sequence"
        case .governanceExpired: "governance_expired"
        case .alreadyRegistered: "already_registered"
        case .unknownNode: "unknown_node"
        case .pinUnchanged: "pin_unchanged"
        case .pinInUse: "pin_in_use"
        case .contract: "contract_refused"
        case .amountOverflow: "amount_overflow"
        case .blockStateFull: "block_state_full"
        default: "refused"
        }
    }
}
