import ChainTypes
import Ledger
import Testing

@Suite("Ledger: receipt limits")
struct ReceiptLimitTests {
    @Test("a failure message or code above its limit is cut so that the receipt decodes again", arguments: [1_025, 5_000, 20_000])
    func longFailureMessage(length: Int) throws {
        let message = String(repeating: "é", count: length / 2) + String(repeating: "x", count: length % 2)
        let r = Receipt(transactionHash: SHA256.hash(utf8: "t"), status: .failure(code: String(repeating: "c", count: 100), message: message),
                        gasUsed: 1, events: [])
        guard case .failure(let code, let kept) = r.status else { Issue.record("not a failure"); return }
        #expect(code.utf8.count <= Receipt.maxCodeBytes)
        #expect(kept.utf8.count <= Receipt.maxMessageBytes && kept.hasSuffix("…") && kept.hasPrefix("éé"))
        #expect(try Receipt(canonicalBytes: r.canonicalBytes) == r)
    }
}
