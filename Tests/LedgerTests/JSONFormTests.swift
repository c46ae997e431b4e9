import ChainTypes
import Foundation
import Ledger
import Testing

@Suite("JSON forms")
struct JSONFormTests {
    func json(_ value: some Encodable) throws -> [String: Any] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try #require(try JSONSerialization.jsonObject(with: encoder.encode(value)) as? [String: Any])
    }

    @Test("a transaction's JSON names every field, with 64-bit numbers as strings and its canonical bytes")
    func transaction() throws {
        let f = try Fixture()
        let tx = try f.transfer(f.user(0), to: f.address(f.user(1)), 250)
        let j = try json(TransactionJSON(tx))
        #expect(j["hash"] as? String == tx.hash.hex)
        #expect(j["sender"] as? String == tx.sender.text)
        #expect(j["nonce"] as? String == "0")
        #expect(j["kind"] as? String == "transfer")
        // The canonical bytes round-trip to the same transaction.
        let back = try Transaction(canonicalBytes: Hex.decode(j["encoded_hex"] as! String)!)
        #expect(back == tx)
    }

    @Test("blocks, certificates, receipts and accounts")
    func others() throws {
        let f = try Fixture()
        try f.commit([try f.transfer(f.user(0), to: f.address(f.user(1)), 250), try f.transfer(f.user(2), to: f.address(f.user(1)), 9_999_999)])
        let block = try #require(try f.ledger.block(at: 1))
        let cert = try f.ledger.certificate(at: 1)
        let b = try json(BlockJSON(block, certificate: cert, fullTransactions: false))
        #expect((b["header"] as? [String: Any])?["height"] as? String == "1")
        #expect((b["transaction_hashes"] as? [String])?.count == 2)
        #expect(b["transactions"] == nil)
        #expect(((b["certificate"] as? [String: Any])?["signers"] as? [Any])?.count == 3)
        let receipts = try #require(try f.ledger.receipts(at: 1))
        #expect(try json(ReceiptJSON(receipts[0]))["status"] as? String == "success")
        let failed = try json(ReceiptJSON(receipts[1]))
        #expect(failed["status"] as? String == "failure" && failed["error_code"] as? String == "insufficient_funds")
        let a = try json(AccountJSON(address: f.address(f.user(1)), try #require(try f.ledger.account(f.address(f.user(1))))))
        #expect(a["role"] as? String == "exporter")
        #expect(((a["balances"] as? [[String: Any]])?.first)?["amount_minor"] as? String == String(1_000_00 + 250))
    }

    @Test("a scheduled call's JSON names its id (its receipt's transaction_hash), sequence, time, contract and input")
    func scheduledCall() throws {
        let contract = Executor.contractAddress(deployer: Fixture.chain.userKeys[0].publicKey.address, nonce: 3)
        let call = ScheduledCall(atMillis: 1_764_000_060_000, sequence: 7, contract: contract, input: [0xab, 0x01])
        let j = try json(ScheduledCallJSON(call))
        #expect(j["id"] as? String == call.id.hex)
        #expect(j["sequence"] as? String == "7" && j["at_ms"] as? String == "1764000060000")
        #expect(j["contract"] as? String == contract.text && j["input_hex"] as? String == "ab01")
        #expect(try ScheduledCall(canonicalBytes: call.canonicalBytes) == call)
    }
}
