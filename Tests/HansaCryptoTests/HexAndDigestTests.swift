import Testing
import HansaCrypto

/// Hex is the only text form of keys, signatures and hashes: lowercase out, either case in,
/// and nothing else accepted.
@Suite("Hex and Digest32")
struct HexAndDigestTests {
    @Test("encode is lowercase, two digits a byte", arguments: [
        ([], ""),
        ([0x00], "00"),
        ([0x0f], "0f"),
        ([0xab, 0xcd, 0xef], "abcdef"),
        ([0x01, 0x23, 0x45, 0x67, 0x89], "0123456789"),
        ([0xff, 0x00, 0x10], "ff0010"),
    ] as [([UInt8], String)])
    func encode(_ bytes: [UInt8], _ text: String) {
        #expect(Hex.encode(bytes) == text)
        #expect(Hex.decode(text) == bytes)
    }

    @Test func encodeDecodeAllByteValues() {
        let all = (0...255).map { UInt8($0) }
        let text = Hex.encode(all)
        #expect(text.count == 512)
        #expect(Hex.decode(text) == all)
        #expect(Hex.decode(text.uppercased()) == all)
    }

    @Test("decode accepts upper and mixed case", arguments: [
        ("ABCDEF", [0xab, 0xcd, 0xef]),
        ("aBcD", [0xab, 0xcd]),
        ("FF00", [0xff, 0x00]),
    ] as [(String, [UInt8])])
    func decodeCase(_ text: String, _ bytes: [UInt8]) {
        #expect(Hex.decode(text) == bytes)
    }

    @Test("decode rejects", arguments: [
        "0",          // odd length
        "abc",        // odd length
        "0x00",       // prefix
        "0X00",       // prefix
        "zz",         // non-hex
        "0g",         // non-hex second nibble
        "g0",         // non-hex first nibble
        " 00",        // leading space (odd length)
        "00 ",        // trailing space (odd length)
        "0 0 ",       // spaces
        "-1",         // sign
        "é0",         // non-ASCII: 3 UTF-8 bytes
        "\u{FF10}\u{FF10}", // fullwidth digits
        "00\n",       // newline
    ])
    func decodeRejects(_ text: String) {
        #expect(Hex.decode(text) == nil)
    }

    @Test func digestRoundTripsItsBytes() throws {
        let raw = (0..<32).map { UInt8($0 * 7 + 1) }
        let d = try #require(Digest32(bytes: raw))
        #expect(d.bytes == raw)
        #expect(d.hex == Hex.encode(raw))
        #expect(d.description == d.hex)
        var appended: [UInt8] = [0xaa]
        d.appendBytes(to: &appended)
        #expect(appended == [0xaa] + raw)
        #expect(Digest32(bytes: raw[...]) == d)
    }

    @Test("Digest32 needs exactly 32 bytes", arguments: [0, 1, 31, 33, 64])
    func digestWrongLength(_ count: Int) {
        #expect(Digest32(bytes: [UInt8](repeating: 1, count: count)) == nil)
    }

    @Test func zeroIsAllZeroBytes() {
        #expect(Digest32.zero.bytes == [UInt8](repeating: 0, count: 32))
        #expect(Digest32.zero.hex == String(repeating: "0", count: 64))
    }

    /// Ordering is lexicographic on the bytes, whichever word holds the first difference.
    @Test("ordering follows the bytes", arguments: [0, 7, 8, 15, 16, 24, 31])
    func ordering(_ position: Int) throws {
        var low = [UInt8](repeating: 0x80, count: 32)
        var high = low
        low[position] = 0x7f
        high[position] = 0x81
        // Bytes after the first difference must not matter.
        if position < 31 { low[31] = 0xff; high[31] = 0x00 }
        let a = try #require(Digest32(bytes: low))
        let b = try #require(Digest32(bytes: high))
        #expect(a < b)
        #expect(!(b < a))
        #expect(low.lexicographicallyPrecedes(high))
    }
}
