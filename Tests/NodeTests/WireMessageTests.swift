import ChainTypes
import Foundation
import HansaCrypto
import Ledger
import PBFT
import PeerTransport
import Testing
@testable import Node

@Suite("Peer messages and the peer directory")
struct WireMessageTests {
    static let dev = DevChain(users: 4)

    static func block() -> Block {
        let tx = dev.transfer(from: 0, to: 1, amount: 5, nonce: 0)
        let header = BlockHeader(height: 1, previousHash: dev.genesis.hash, timestampMillis: 1, transactionsRoot: Block.transactionsRoot([tx]),
                                 stateRoot: .zero, receiptsRoot: .zero, proposer: dev.genesis.validators.validators[0].address, view: 0)
        return Block(header: header, transactions: [tx])
    }

    static func certificate(for block: Block) -> CommitCertificate {
        CommitCertificate(view: 0, height: block.header.height, blockHash: block.hash, signers: [])
    }

    static let samples: [WireMessage] = {
        let b = block()
        let cb = WireMessage.CommittedBlock(block: b, certificate: certificate(for: b))
        let cp = Checkpoint(height: 64, blockHash: b.hash, validatorIndex: 1, signature: try! Signature(compact: [UInt8](repeating: 1, count: 64)))
        return [.consensus(.checkpoint(cp)), .transactions(b.transactions), .transactions([]), .status(height: 7, headHash: b.hash),
                .syncRequest(fromHeight: 1, toHeight: 64), .syncBlocks([cb, cb]), .syncBlocks([]), .committed(cb)]
    }()

    @Test("every kind round-trips through its bytes", arguments: samples)
    func roundTrip(_ m: WireMessage) throws {
        #expect(try WireMessage(bytes: m.bytes) == m)
        #expect(m.bytes.first == m.kind.rawValue)
    }

    @Test("an unknown kind, trailing bytes and a truncation are refused")
    func refusals() throws {
        let status = WireMessage.status(height: 1, headHash: Self.dev.genesis.hash).bytes
        #expect(throws: DecodeError.self) { try WireMessage(bytes: [0x7f] + status.dropFirst()) }
        #expect(throws: DecodeError.self) { try WireMessage(bytes: status + [0]) }
        #expect(throws: DecodeError.self) { try WireMessage(bytes: Array(status.dropLast())) }
        #expect(throws: DecodeError.self) { try WireMessage(bytes: []) }
    }

    @Test("a sync request must start at 1 and not run backwards")
    func syncRangeChecked() {
        for (from, to) in [(UInt64(0), UInt64(3)), (5, 4)] {
            var w = CanonicalWriter()
            w.byte(WireMessage.Kind.syncRequest.rawValue)
            w.uvarint(from)
            w.uvarint(to)
            #expect(throws: DecodeError.self) { try WireMessage(bytes: w.bytes) }
        }
    }

    @Test("lists above their bound are refused from the count alone")
    func bounds() {
        var w = CanonicalWriter()
        w.byte(WireMessage.Kind.transactions.rawValue)
        w.uvarint(WireMessage.maxGossipTransactions + 1)
        #expect(throws: DecodeError.self) { try WireMessage(bytes: w.bytes) }
        var s = CanonicalWriter()
        s.byte(WireMessage.Kind.syncBlocks.rawValue)
        s.uvarint(WireMessage.maxSyncBlocks + 1)
        #expect(throws: DecodeError.self) { try WireMessage(bytes: s.bytes) }
    }

    static func peer(_ name: String, index: Int?) -> PeerInfo {
        let key = PrivateKey.generate().publicKey
        return PeerInfo(name: name, nodeKey: key, spki: SPKIFingerprint(bytes: SHA256.hash(utf8: name).bytes)!,
                        validatorIndex: index, address: index.map { PeerAddress(host: "127.0.0.1", port: 7000 + $0) })
    }

    @Test("one connection per pair: the lower validator index dials, observers dial every validator, nobody dials an observer")
    func dialRule() {
        let v = (0..<4).map { (i: Int) in Self.peer("v\(i)", index: i) }
        let o = Self.peer("auditor", index: nil)
        let dir = PeerDirectory(v + [o])
        #expect(dir.dialled(by: v[0]).map(\.name) == ["v1", "v2", "v3"])
        #expect(dir.dialled(by: v[2]).map(\.name) == ["v3"])
        #expect(dir.dialled(by: v[3]).isEmpty)
        #expect(dir.dialled(by: o).map(\.name) == ["v0", "v1", "v2", "v3"])
        for a in v + [o] {
            for b in v + [o] where a != b {
                // Exactly one side of each validator pair dials; observer pairs never connect.
                let count = [PeerDirectory.dials(a, b), PeerDirectory.dials(b, a)].filter { $0 }.count
                #expect(count == (a.isValidator || b.isValidator ? 1 : 0))
            }
        }
    }

    @Test("host:port parsing", arguments: [("127.0.0.1:26656", "127.0.0.1", 26656), ("[::1]:80", "::1", 80), ("node-1.bank.example:1", "node-1.bank.example", 1)])
    func address(_ text: String, _ host: String, _ port: Int) throws {
        let a = try #require(PeerAddress(text))
        #expect(a.host == host && a.port == port)
        #expect(PeerAddress(a.description) == a)
    }

    @Test("not host:port", arguments: ["127.0.0.1", ":80", "host:", "host:65536", "host:-1", "host:http"])
    func badAddress(_ text: String) { #expect(PeerAddress(text) == nil) }

    @Test("the seen-set forgets only whole generations and never holds more than twice its capacity")
    func seenSet() {
        var s = SeenSet(capacity: 3)
        let h = (0..<7).map { SHA256.hash(utf8: "\($0)") }
        let first = [s.insert(h[0]), s.insert(h[1]), s.insert(h[2]), s.insert(h[0])]
        #expect(first == [true, true, true, false])
        let rolled = s.insert(h[3])  // rolls: h0...h2 become the previous generation
        #expect(rolled && s.contains(h[0]) && s.contains(h[3]))
        let again = [s.insert(h[4]), s.insert(h[5]), s.insert(h[6])]  // rolls again: h0...h2 forgotten
        #expect(again == [true, true, true])
        #expect(!s.contains(h[0]) && s.contains(h[3]) && s.contains(h[6]))
    }

    @Test("the mailbox keeps order, bounds optional events and drains after close")
    func mailbox() {
        let m = Mailbox<Int>(maxOptional: 2)
        #expect(m.post(1))
        #expect(m.offer(2) && m.offer(3))
        #expect(!m.offer(4))  // two optional events already wait
        #expect(m.post(5))  // a required one is still taken
        var got: [Int] = []
        while case .event(let e) = m.take(until: Date()) { got.append(e) }
        #expect(got == [1, 2, 3, 5])
        #expect(m.offer(6))  // taken optional events free their places
        m.close()
        #expect(!m.post(7))
        if case .event(6) = m.take(until: Date()) {} else { Issue.record("the event queued before close is still delivered") }
        if case .closed = m.take(until: Date().addingTimeInterval(5)) {} else { Issue.record("closed and empty") }
    }
}
