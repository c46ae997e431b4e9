import ChainTypes
import HansaCrypto
import Ledger
import Testing
@testable import RPC

/// Every refusal of a transaction has its documented code and stable reason (docs/RPC.md
/// "Errors"), so a client can branch on them.
@Suite("RPC error codes")
struct ErrorCodeTests {
    static let a = Address(bytes: [UInt8](repeating: 1, count: 20))!
    static let usd = try! CurrencyCode("USD")

    @Test("each TransactionError maps to its code and reason", arguments: [
        (TransactionError.nonceReused(expected: 3, got: 1), 1001, "nonce_too_low"),
        (.nonceAlreadyPending(4), 1001, "nonce_pending"),
        (.nonceTooFarAhead(expected: 3, got: 90, maxGap: 64), 1002, "nonce_gap"),
        (.insufficientFunds(currency: usd, balance: 1, needed: 2), 1003, "insufficient_funds"),
        (.badSignature, 1004, "bad_signature"),
        (.wrongChain(expected: "a", got: "b"), 1005, "wrong_chain"),
        (.wrongGenesis(expected: .zero, got: .zero), 1005, "wrong_genesis"),
        (.unknownSender(a), 1006, "unknown_sender"),
        (.roleNotAllowed(role: "carrier", action: "mint"), 1006, "role_not_allowed"),
        (.notAuthorized("no"), 1006, "not_authorised"),
        (.duplicate, 1007, "duplicate"),
        (.mempoolFull("full"), 1008, "mempool_full"),
        (.unknownAccount(a), 1000, "unknown_account"),
        (.oversize(bytes: 9, limit: 1), 1000, "oversize"),
        (.gasLimitTooLow(limit: 1, needed: 2), 1000, "gas_limit_too_low"),
        (.malformedPayload("x"), 1000, "malformed_payload"),
        (.contract("reverted"), 1000, "contract_refused"),
        (.blockStateFull(limitBytes: 1), 1000, "block_state_full"),
        (.storeUnreadable("disk"), -32603, "internal_error"),
    ])
    func refusals(_ e: TransactionError, _ code: Int, _ reason: String) {
        let r = RPCError.refused(e)
        #expect(r.code == code && r.reason == reason, "\(e) → \(r.code) \(r.reason)")
        #expect(!r.message.isEmpty)
    }
}
