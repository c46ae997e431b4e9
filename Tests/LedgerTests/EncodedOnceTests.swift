import ChainTypes
import Testing
@testable import Ledger

/// What is encoded once and reused must equal what encoding again would give.
@Suite("Encoded once")
struct EncodedOnceTests {
    static let dev = DevChain(users: 3)

    /// A transaction keeps its canonical bytes, hash and sender from construction or decoding.
    @Test func transactionKeepsItsEncoding() throws {
        let tx = Self.dev.transfer(from: 0, to: 1, amount: 5, nonce: 0)
        var w = CanonicalWriter()
        tx.body.encode(to: &w)
        w.signature(tx.signature)
        #expect(tx.encoded == w.bytes)
        #expect(tx.canonicalBytes == w.bytes)
        #expect(tx.hash == SHA256.hash(w.bytes))
        #expect(tx.sender == tx.body.sender.address)

        let decoded = try Transaction(canonicalBytes: tx.encoded)
        #expect(decoded.encoded == tx.encoded && decoded.hash == tx.hash && decoded.sender == tx.sender)
        #expect(decoded == tx)
        #expect(Set([tx, decoded]).count == 1)

        // Inside a block the decoder keeps each transaction's own bytes.
        let other = Self.dev.transfer(from: 1, to: 2, amount: 7, nonce: 0)
        let header = BlockHeader(height: 1, previousHash: Self.dev.genesis.hash, timestampMillis: 1, transactionsRoot: .zero,
                                 stateRoot: .zero, receiptsRoot: .zero, proposer: Self.dev.validatorKeys[0].publicKey.address, view: 0)
        let block = try Block(canonicalBytes: Block(header: header, transactions: [tx, other]).canonicalBytes)
        #expect(block.transactions.map(\.encoded) == [tx.encoded, other.encoded])
        #expect(block.transactions.map(\.hash) == [tx.hash, other.hash])
        #expect(block.encodedByteCount == block.canonicalBytes.count)
        #expect(Block(header: header, transactions: []).encodedByteCount == Block(header: header, transactions: []).canonicalBytes.count)

        // Another signature over the same body is another transaction.
        let unsigned = Self.dev.transfer(from: 0, to: 1, amount: 5, nonce: 0, signed: false)
        #expect(unsigned != tx)
        #expect(unsigned.hash != tx.hash)
    }

    /// The receipts' stored list and root, made in one pass, equal the list's own encoding and
    /// the root over each receipt's hash.
    @Test func receiptsEncodedOnce() {
        let a = Self.dev.userKeys[0].publicKey.address
        let receipts = [
            Receipt(transactionHash: SHA256.hash(utf8: "t0"), status: .success, gasUsed: 21_000,
                    events: [Event(emitter: a, topics: [Event.topic("Transfer"), SHA256.hash(utf8: "x")], data: [1, 2, 3])]),
            Receipt(transactionHash: SHA256.hash(utf8: "t1"), status: .failure(code: "insufficient_funds", message: "USD: 0 < 5"),
                    gasUsed: 21_000, events: []),
        ]
        for list in [[], Array(receipts.prefix(1)), receipts] {
            let (bytes, root) = Receipt.encodeAll(list)
            #expect(bytes == ReceiptList(receipts: list).canonicalBytes)
            #expect(root == Receipt.root(list))
        }
    }

    /// The last blocks applied come back as they were handed in; older ones from the store,
    /// and nothing above the head.
    @Test func committedBlocksFromMemoryAndStore() throws {
        let store = MemoryStore()
        let ledger = try Ledger(store: store, genesis: Self.dev.genesis)
        var applied: [(Block, CommitCertificate)] = []
        for i in 0..<(Ledger.recentBlocksKept + 3) {
            let (block, cert) = try Self.dev.nextBlock(on: ledger, [Self.dev.transfer(from: 0, to: 1, amount: 1, nonce: UInt64(i))])
            try ledger.apply(block, certificate: cert)
            applied.append((block, cert))
        }
        for (i, (block, cert)) in applied.enumerated() {
            let got = try #require(try ledger.committedBlock(at: UInt64(i + 1)))
            #expect(got.block == block && got.certificate == cert, "height \(i + 1)")
        }
        #expect(try ledger.committedBlock(at: UInt64(applied.count + 1)) == nil)
        // A reopened ledger keeps none in memory and reads them all back.
        let reopened = try Ledger(store: store, genesis: Self.dev.genesis)
        #expect(try reopened.committedBlock(at: UInt64(applied.count))?.block == applied.last?.0)
    }
}
