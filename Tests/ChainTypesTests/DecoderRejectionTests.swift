import Testing
import ChainTypes
import HansaCrypto

/// One malformed encoding and the exact `DecodeError` it must produce.
struct Rejection: Sendable, CustomTestStringConvertible {
    enum Expected: Sendable {
        case reason(DecodeError.Reason)
        /// `.invalidValue` whose message contains this phrase.
        case invalidValue(containing: String)
    }

    let name: String
    let kind: RoundTripTests.Kind
    let bytes: [UInt8]
    let field: String
    let offset: Int
    let expected: Expected

    var testDescription: String { "\(kind.rawValue): \(name)" }

    /// Decodes the bytes and checks field path, offset and reason of the error.
    func check(sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let again = try kind.reencode(bytes)
            Issue.record("accepted \(again.count) bytes; expected \(field) at \(offset) to be refused",
                         sourceLocation: sourceLocation)
        } catch {
            #expect(error.field == field, sourceLocation: sourceLocation)
            #expect(error.offset == offset, sourceLocation: sourceLocation)
            switch expected {
            case .reason(let reason):
                #expect(error.reason == reason, sourceLocation: sourceLocation)
            case .invalidValue(let phrase):
                guard case .invalidValue(let why) = error.reason else {
                    Issue.record("reason \(error.reason), expected invalidValue", sourceLocation: sourceLocation)
                    return
                }
                #expect(why.contains(phrase), sourceLocation: sourceLocation)
            }
            // The message names the field and the offset.
            #expect(error.description.hasPrefix("\(field) at byte \(offset): "), sourceLocation: sourceLocation)
        }
    }
}

/// Byte strings that are nearly right, each refused with the field and offset of the first
/// bad byte (docs/PROTOCOL.md §1: strict decoding; STYLE: nothing from a peer crashes the node).
@Suite("Decoder rejections: transactions, headers, blocks, votes")
struct DecoderRejectionTests {
    static let one = [UInt8](repeating: 0, count: 31) + [1]
    /// 5³ + 7 is not a square mod p, so no point has x = 5.
    static let offCurveKey: [UInt8] = [0x02] + [UInt8](repeating: 0, count: 31) + [5]
    static let nHex = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"

    /// `sig` with s replaced by n − s: the same signature in its high-S twin form.
    static func highS(_ sig: Signature) -> [UInt8] {
        let n = Hex.decode(nHex)!
        var s = Array(sig.compact[32...])
        var borrow = 0
        for i in stride(from: 31, through: 0, by: -1) {
            var d = Int(n[i]) - Int(s[i]) - borrow
            borrow = d < 0 ? 1 : 0
            if d < 0 { d += 256 }
            s[i] = UInt8(d)
        }
        return Array(sig.compact[..<32]) + s
    }

    static let transactionCases: [Rejection] = {
        let tx = Fixture.transaction()
        let l = Layout.transaction(tx)
        func c(_ name: String, _ bytes: [UInt8], _ field: String, at offset: Int, _ e: Rejection.Expected) -> Rejection {
            Rejection(name: name, kind: .transaction, bytes: bytes, field: "Transaction." + field, offset: offset, expected: e)
        }
        return [
            c("last byte missing", Array(l.bytes.dropLast()), "signature", at: l.offset(of: "signature"),
              .reason(.unexpectedEnd(needed: 1))),
            c("payload cut short", Array(l.bytes.prefix(l.offset(of: "payload") + 3)), "payload",
              at: l.offset(of: "payload") + 1, .reason(.unexpectedEnd(needed: 2))),
            Rejection(name: "one trailing byte", kind: .transaction, bytes: l.bytes + [0], field: "Transaction",
                      offset: l.bytes.count, expected: .reason(.trailingBytes(count: 1))),
            c("payload above the limit", l.replacing("payload", with: Layout.enc { $0.uvarint(Limits.maxPayloadBytes + 1) }).bytes,
              "payload", at: 77, .reason(.lengthExceedsLimit(length: UInt64(Limits.maxPayloadBytes + 1), limit: Limits.maxPayloadBytes))),
            c("chain id of 65 bytes", l.replacing("chain", with: Layout.enc { $0.string(String(repeating: "a", count: 65)) }).bytes,
              "chain", at: 2, .reason(.lengthExceedsLimit(length: 65, limit: 64))),
            c("nonce padded to two bytes", l.replacing("nonce", with: paddedUVarint(5)).bytes, "nonce", at: 75,
              .reason(.nonCanonicalInteger)),
            c("nonce padded to five bytes", l.replacing("nonce", with: paddedUVarint(5, extra: 4)).bytes, "nonce", at: 75,
              .reason(.nonCanonicalInteger)),
            c("gas limit padded", l.replacing("gas_limit", with: paddedUVarint(21_000)).bytes, "gas_limit", at: 82,
              .reason(.nonCanonicalInteger)),
            c("nonce of eleven bytes", l.replacing("nonce", with: [UInt8](repeating: 0xff, count: 10) + [0x01]).bytes,
              "nonce", at: 75, .reason(.integerOverflow(maximum: .max))),
            c("a vote's type tag", l.replacing("type", with: [TypeTag.vote.rawValue]).bytes, "type", at: 0,
              .reason(.unexpectedType(found: 0x04, expected: 0x01))),
            c("version 1 (before the genesis hash)", l.replacing("version", with: [1]).bytes, "version", at: 1, .reason(.unknownVersion(1))),
            c("version 3", l.replacing("version", with: [3]).bytes, "version", at: 1, .reason(.unknownVersion(3))),
            c("version 0", l.replacing("version", with: [0]).bytes, "version", at: 1, .reason(.unknownVersion(0))),
            c("kind 99", l.replacing("kind", with: [99]).bytes, "kind", at: 76, .reason(.unknownTag(99))),
            c("kind 0", l.replacing("kind", with: [0]).bytes, "kind", at: 76, .reason(.unknownTag(0))),
            c("chain id not UTF-8", l.replacing("chain", with: [2, 0xc3, 0x28]).bytes, "chain", at: 2, .reason(.invalidUTF8)),
            c("chain id with a capital", l.replacing("chain", with: Layout.enc { $0.string("Hansa") }).bytes, "chain", at: 2,
              .invalidValue(containing: "must start with a lowercase letter")),
            c("empty chain id", l.replacing("chain", with: [0]).bytes, "chain", at: 2, .invalidValue(containing: "is empty")),
            c("sender off the curve", l.replacing("sender", with: offCurveKey).bytes, "sender", at: 42,
              .invalidValue(containing: "not the coordinate of a point")),
            c("sender with prefix 0x04", l.replacing("sender", with: [0x04] + tx.body.sender.bytes.dropFirst()).bytes,
              "sender", at: 42, .invalidValue(containing: "0x02 or 0x03")),
            c("high-S signature", l.replacing("signature", with: highS(tx.signature)).bytes, "signature", at: 85,
              .reason(.highS)),
            c("signature with r = 0", l.replacing("signature", with: [UInt8](repeating: 0, count: 32) + one).bytes,
              "signature", at: 85, .invalidValue(containing: "r is zero")),
        ]
    }()

    @Test("transaction", arguments: transactionCases)
    func transaction(_ r: Rejection) { r.check() }

    static let headerCases: [Rejection] = {
        let l = Layout.header(Fixture.header())
        func c(_ name: String, _ bytes: [UInt8], _ field: String, at offset: Int, _ e: Rejection.Expected) -> Rejection {
            Rejection(name: name, kind: .blockHeader, bytes: bytes, field: "BlockHeader." + field, offset: offset, expected: e)
        }
        return [
            c("a block's type tag", l.replacing("type", with: [TypeTag.block.rawValue]).bytes, "type", at: 0,
              .reason(.unexpectedType(found: 0x03, expected: 0x02))),
            c("version 2", l.replacing("version", with: [2]).bytes, "version", at: 1, .reason(.unknownVersion(2))),
            c("height padded", l.replacing("height", with: paddedUVarint(7)).bytes, "height", at: 2, .reason(.nonCanonicalInteger)),
            c("view padded", l.replacing("view", with: paddedUVarint(2, extra: 2)).bytes, "view", at: l.offset(of: "view"),
              .reason(.nonCanonicalInteger)),
            c("view missing", Array(l.bytes.dropLast()), "view", at: l.bytes.count - 1, .reason(.unexpectedEnd(needed: 1))),
            c("proposer cut short", Array(l.bytes.prefix(l.offset(of: "proposer") + 5)), "proposer",
              at: l.offset(of: "proposer"), .reason(.unexpectedEnd(needed: 15))),
            Rejection(name: "two trailing bytes", kind: .blockHeader, bytes: l.bytes + [0, 0], field: "BlockHeader",
                      offset: l.bytes.count, expected: .reason(.trailingBytes(count: 2))),
        ]
    }()

    @Test("block header", arguments: headerCases)
    func blockHeader(_ r: Rejection) { r.check() }

    static let blockCases: [Rejection] = {
        let block = Fixture.block(transactionCount: 2)
        let l = Layout.block(block)
        func c(_ name: String, _ bytes: [UInt8], _ field: String, at: String, _ e: Rejection.Expected) -> Rejection {
            Rejection(name: name, kind: .block, bytes: bytes, field: "Block." + field, offset: l.offset(of: at), expected: e)
        }
        return [
            c("version 2", l.replacing("version", with: [2]).bytes, "version", at: "version", .reason(.unknownVersion(2))),
            c("header with a block's type tag", l.replacing("header.type", with: [0x03]).bytes, "header.type", at: "header",
              .reason(.unexpectedType(found: 0x03, expected: 0x02))),
            c("header version 2", l.replacing("header.version", with: [2]).bytes, "header.version", at: "header.version",
              .reason(.unknownVersion(2))),
            c("header height padded", l.replacing("header.height", with: paddedUVarint(7)).bytes, "header.height",
              at: "header.height", .reason(.nonCanonicalInteger)),
            c("more transactions than the limit",
              l.replacing("transactions", with: Layout.enc { $0.uvarint(Limits.maxBlockTransactions + 1) }).bytes,
              "transactions", at: "transactions",
              .reason(.lengthExceedsLimit(length: UInt64(Limits.maxBlockTransactions + 1), limit: Limits.maxBlockTransactions))),
            c("a vote among the transactions", l.replacing("transactions[0].type", with: [0x04]).bytes,
              "transactions[0].type", at: "transactions[0]", .reason(.unexpectedType(found: 0x04, expected: 0x01))),
            c("second transaction's nonce padded", l.replacing("transactions[1].nonce", with: paddedUVarint(1)).bytes,
              "transactions[1].nonce", at: "transactions[1].nonce", .reason(.nonCanonicalInteger)),
            c("first transaction high-S", l.replacing("transactions[0].signature", with: highS(block.transactions[0].signature)).bytes,
              "transactions[0].signature", at: "transactions[0].signature", .reason(.highS)),
            c("second transaction kind 99", l.replacing("transactions[1].kind", with: [99]).bytes,
              "transactions[1].kind", at: "transactions[1].kind", .reason(.unknownTag(99))),
            Rejection(name: "count says 3, two present", kind: .block,
                      bytes: l.replacing("transactions", with: [3]).bytes, field: "Block.transactions[2].type",
                      offset: l.bytes.count, expected: .reason(.unexpectedEnd(needed: 1))),
            Rejection(name: "trailing byte", kind: .block, bytes: l.bytes + [0x01], field: "Block",
                      offset: l.bytes.count, expected: .reason(.trailingBytes(count: 1))),
        ]
    }()

    @Test("block", arguments: blockCases)
    func block(_ r: Rejection) { r.check() }

    static let voteCases: [Rejection] = {
        let vote = Fixture.vote()
        let l = Layout.vote(vote)
        func c(_ name: String, _ bytes: [UInt8], _ field: String, _ e: Rejection.Expected) -> Rejection {
            Rejection(name: name, kind: .vote, bytes: bytes, field: "Vote." + field, offset: l.offset(of: field), expected: e)
        }
        return [
            c("a transaction's type tag", l.replacing("type", with: [0x01]).bytes, "type",
              .reason(.unexpectedType(found: 0x01, expected: 0x04))),
            c("version 2", l.replacing("version", with: [2]).bytes, "version", .reason(.unknownVersion(2))),
            c("phase 9", l.replacing("phase", with: [9]).bytes, "phase", .reason(.unknownTag(9))),
            c("phase 0", l.replacing("phase", with: [0]).bytes, "phase", .reason(.unknownTag(0))),
            c("view padded", l.replacing("view", with: paddedUVarint(2)).bytes, "view", .reason(.nonCanonicalInteger)),
            c("height padded", l.replacing("height", with: paddedUVarint(7)).bytes, "height", .reason(.nonCanonicalInteger)),
            // Limits.maxValidators − 1 is the largest index.
            c("validator index 256", l.replacing("validator_index", with: Layout.enc { $0.uvarint(UInt64(256)) }).bytes,
              "validator_index", .reason(.integerOverflow(maximum: 255))),
            // 65536 would truncate to 0 in a UInt16: it must be refused, not wrapped.
            c("validator index 65536", l.replacing("validator_index", with: Layout.enc { $0.uvarint(UInt64(65_536)) }).bytes,
              "validator_index", .reason(.integerOverflow(maximum: 255))),
            c("validator index padded", l.replacing("validator_index", with: paddedUVarint(1)).bytes, "validator_index",
              .reason(.nonCanonicalInteger)),
            c("signature with s = n", l.replacing("signature", with: one + Hex.decode(nHex)!).bytes, "signature",
              .invalidValue(containing: "not below the secp256k1 group order")),
            c("high-S signature", l.replacing("signature", with: highS(vote.signature)).bytes, "signature",
              .reason(.highS)),
            Rejection(name: "trailing byte", kind: .vote, bytes: l.bytes + [0], field: "Vote",
                      offset: l.bytes.count, expected: .reason(.trailingBytes(count: 1))),
        ]
    }()

    @Test("vote", arguments: voteCases)
    func vote(_ r: Rejection) { r.check() }

    /// Each top-level type refuses every other type's tag and every version but 1.
    @Test("type tag and version", arguments: RoundTripTests.Kind.allCases)
    func typeAndVersion(_ kind: RoundTripTests.Kind) {
        let bytes = kind.sample.bytes
        let own = bytes[0]
        for tag in TypeTag.allCases.map(\.rawValue) + [0x00, 0x07, 0xff] where tag != own {
            Rejection(name: "tag \(tag)", kind: kind, bytes: [tag] + bytes.dropFirst(), field: "\(kind.root).type", offset: 0,
                      expected: .reason(.unexpectedType(found: tag, expected: own))).check()
        }
        for version: UInt8 in [0, bytes[1] + 1, 0xff] where version != bytes[1] {
            Rejection(name: "version \(version)", kind: kind, bytes: [own, version] + bytes.dropFirst(2),
                      field: "\(kind.root).version", offset: 1, expected: .reason(.unknownVersion(version))).check()
        }
    }
}

extension RoundTripTests.Kind {
    /// The root of field paths in errors: the type's name.
    var root: String {
        switch self {
        case .transaction: "Transaction"
        case .blockHeader: "BlockHeader"
        case .block: "Block"
        case .vote: "Vote"
        case .certificate: "CommitCertificate"
        case .genesis: "Genesis"
        }
    }
}
