import Testing
import ChainTypes

/// Unsigned LEB128 in its shortest form only (docs/PROTOCOL.md §1): one byte string per number.
@Suite("uvarint")
struct UVarintTests {
    static func write(_ value: UInt64) -> [UInt8] {
        var w = CanonicalWriter()
        w.uvarint(value)
        return w.bytes
    }

    static func read(_ bytes: [UInt8], maximum: UInt64 = .max) throws(DecodeError) -> UInt64 {
        var r = CanonicalReader(bytes, root: "test")
        let value = try r.uvarint("n", maximum: maximum)
        try r.finish()
        return value
    }

    @Test("exact bytes", arguments: [
        (0, [0x00]),
        (1, [0x01]),
        (127, [0x7f]),
        (128, [0x80, 0x01]),
        (300, [0xac, 0x02]),
        (16383, [0xff, 0x7f]),
        (16384, [0x80, 0x80, 0x01]),
        (UInt64(UInt32.max), [0xff, 0xff, 0xff, 0xff, 0x0f]),
        (UInt64(1) << 63, [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),
        (UInt64.max, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
    ] as [(UInt64, [UInt8])])
    func exactBytes(_ value: UInt64, _ bytes: [UInt8]) throws {
        #expect(Self.write(value) == bytes)
        #expect(try Self.read(bytes) == value)
    }

    /// Every boundary between byte lengths, and its neighbours, round-trips.
    @Test("round trip around every length boundary", arguments: 1...9)
    func boundaries(_ bytesLong: Int) throws {
        let edge = UInt64(1) << UInt64(7 * bytesLong)   // the first value that needs one more byte
        for value in [edge - 1, edge, edge + 1] {
            let bytes = Self.write(value)
            #expect(bytes.count == (value < edge ? bytesLong : bytesLong + 1))
            #expect(try Self.read(bytes) == value)
        }
    }

    @Test("the Int overload matches", arguments: [0, 127, 128, 16383, 16384, Int(UInt32.max), Int.max])
    func intOverload(_ value: Int) {
        var w = CanonicalWriter()
        w.uvarint(value)
        #expect(w.bytes == Self.write(UInt64(value)))
    }

    struct Bad: Sendable, CustomTestStringConvertible {
        let name: String
        let bytes: [UInt8]
        let reason: DecodeError.Reason
        var testDescription: String { name }
    }

    static let rejected: [Bad] = [
        Bad(name: "0 as two bytes", bytes: [0x80, 0x00], reason: .nonCanonicalInteger),
        Bad(name: "127 as two bytes", bytes: [0xff, 0x00], reason: .nonCanonicalInteger),
        Bad(name: "1 as three bytes", bytes: [0x81, 0x80, 0x00], reason: .nonCanonicalInteger),
        Bad(name: "128 with a trailing zero byte", bytes: [0x80, 0x81, 0x00], reason: .nonCanonicalInteger),
        Bad(name: "UInt64.max padded to 11 bytes", bytes: [UInt8](repeating: 0xff, count: 9) + [0x81, 0x00],
            reason: .integerOverflow(maximum: .max)),
        Bad(name: "0 padded to ten bytes", bytes: [UInt8](repeating: 0x80, count: 9) + [0x00],
            reason: .nonCanonicalInteger),
        // The tenth byte may hold only bit 63.
        Bad(name: "ten bytes, last 0x02 (2^64)", bytes: [UInt8](repeating: 0xff, count: 9) + [0x02],
            reason: .integerOverflow(maximum: .max)),
        Bad(name: "ten bytes, last 0x7f", bytes: [UInt8](repeating: 0x80, count: 9) + [0x7f],
            reason: .integerOverflow(maximum: .max)),
        Bad(name: "eleven bytes", bytes: [UInt8](repeating: 0xff, count: 10) + [0x01],
            reason: .integerOverflow(maximum: .max)),
        Bad(name: "twenty continuation bytes", bytes: [UInt8](repeating: 0x80, count: 20) + [0x01],
            reason: .integerOverflow(maximum: .max)),
        Bad(name: "empty", bytes: [], reason: .unexpectedEnd(needed: 1)),
        Bad(name: "continuation then end", bytes: [0x80], reason: .unexpectedEnd(needed: 1)),
        Bad(name: "nine continuation bytes then end", bytes: [UInt8](repeating: 0xff, count: 9),
            reason: .unexpectedEnd(needed: 1)),
    ]

    @Test("refused", arguments: rejected)
    func refused(_ bad: Bad) {
        #expect(throws: DecodeError(field: "test.n", offset: bad.reason == .unexpectedEnd(needed: 1) ? bad.bytes.count : 0,
                                    reason: bad.reason)) {
            _ = try Self.read(bad.bytes)
        }
    }

    /// The error points at the first byte of the bad integer, not where reading stopped.
    @Test func offsetIsWhereTheIntegerStarts() throws {
        var r = CanonicalReader([0x05, 0x80, 0x80, 0x00], root: "msg")
        #expect(try r.uvarint("a") == 5)
        #expect(throws: DecodeError(field: "msg.b", offset: 1, reason: .nonCanonicalInteger)) { try r.uvarint("b") }
    }

    @Test("maximum bounds the value", arguments: [
        (UInt64(0), UInt64(0), true),
        (1, 0, false),
        (255, 255, true),
        (256, 255, false),
        (UInt64.max, UInt64.max - 1, false),
        (UInt64.max, UInt64.max, true),
    ] as [(UInt64, UInt64, Bool)])
    func maximum(_ value: UInt64, _ maximum: UInt64, _ accepted: Bool) throws {
        let bytes = Self.write(value)
        if accepted {
            #expect(try Self.read(bytes, maximum: maximum) == value)
        } else {
            #expect(throws: DecodeError(field: "test.n", offset: 0, reason: .integerOverflow(maximum: maximum))) {
                _ = try Self.read(bytes, maximum: maximum)
            }
        }
    }

    /// A non-canonical form is refused even when its value is within the maximum.
    @Test func nonCanonicalWinsOverMaximum() {
        #expect(throws: DecodeError(field: "test.n", offset: 0, reason: .nonCanonicalInteger)) {
            _ = try Self.read([0x81, 0x00], maximum: 10)
        }
    }

    /// Exhaustive over all two-byte inputs: accepted exactly when the writer produces them.
    @Test func everyTwoByteInputIsCanonicalOrRefused() {
        var accepted = 0
        for a in 0...255 {
            for b in 0...255 {
                let bytes = [UInt8(a), UInt8(b)]
                var r = CanonicalReader(bytes, root: "x")
                guard let value = try? r.uvarint("n"), r.remaining == 0 else { continue }
                #expect(Self.write(value) == bytes)
                accepted += 1
            }
        }
        // 128…16383 are the two-byte numbers.
        #expect(accepted == 16384 - 128)
    }

    @Test func descriptionsAreSentences() {
        let e = DecodeError(field: "Transaction.nonce", offset: 43, reason: .nonCanonicalInteger)
        #expect(e.description == "Transaction.nonce at byte 43: integer is not in its shortest (canonical) LEB128 form")
        let o = DecodeError(field: "Vote.validator_index", offset: 40, reason: .integerOverflow(maximum: 255))
        #expect(o.description.contains("exceeds the maximum of 255"))
    }
}
