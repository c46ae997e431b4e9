import Testing
@testable import RPC

/// The strict JSON reader (RFC 8259) the RPC parses every request with.
@Suite("JSON")
struct JSONTests {
    @Test("numbers keep the text they were written with (ids echo exactly; 64-bit values never pass through a double)",
          arguments: ["1", "-0", "1.50", "1e3", "-2.5E-7", "18446744073709551615", "123456789012345678901234567890"])
    func numbersKeepTheirText(_ literal: String) throws {
        #expect(try JSON.parse(literal) == .number(literal))
        #expect(try JSON.parse("[\(literal)]").serialized() == "[\(literal)]")
    }

    @Test("strings: escapes, surrogate pairs and UTF-8 are read; control characters are written escaped")
    func strings() throws {
        #expect(try JSON.parse(#""a\"b\\c\/d\n\u00e9\ud83d\ude00""#) == .string("a\"b\\c/d\né😀"))
        #expect(JSON.string("x\u{1}y\n").serialized() == #""x\u0001y\n""#)
        let round = JSON.object(["k": .array([.string("é\t\""), .null, .bool(true), .number("2")])])
        #expect(try JSON.parse(round.serialized()) == round)
    }

    @Test("objects keep their members' order")
    func order() throws {
        #expect(try JSON.parse(#"{"z":1,"a":2,"m":3}"#).serialized() == #"{"z":1,"a":2,"m":3}"#)
    }

    @Test("refused, each with a reason and an offset", arguments: [
        ("", "ends"), ("{", "quoted name"), ("[1,]", "value"), ("01", "leading zero"), ("1.", "decimal point"), ("1e", "exponent"),
        ("-", "digit"), (#"{"a":1,"a":2}"#, "duplicate"), (#""\ud800""#, "surrogate"), (#""\udc00""#, "lone low"),
        ("\"a\u{1}b\"", "control character"), ("[1] x", "after the JSON value"), ("tru", "literal"), (#""\x""#, "unknown escape"),
        ("{\"a\" 1}", "':'"), ("[1 2]", "','"), ("NaN", "unexpected character"),
    ])
    func refused(_ text: String, _ reason: String) {
        #expect {
            _ = try JSON.parse(text)
        } throws: { error in
            "\(error)".contains(reason)
        }
    }

    @Test("invalid UTF-8 inside a string is refused")
    func invalidUTF8() {
        #expect(throws: JSONParseError.self) { _ = try JSON.parse([0x22, 0xC3, 0x28, 0x22]) }
    }

    @Test("nesting is bounded at 64 levels (a deep request cannot exhaust the stack)")
    func depth() throws {
        let ok = String(repeating: "[", count: JSON.maxDepth) + String(repeating: "]", count: JSON.maxDepth)
        _ = try JSON.parse(ok)
        let deep = String(repeating: "[", count: JSON.maxDepth + 1) + String(repeating: "]", count: JSON.maxDepth + 1)
        #expect(throws: JSONParseError.self) { _ = try JSON.parse(deep) }
        #expect(throws: JSONParseError.self) { _ = try JSON.parse(String(repeating: "[", count: 100_000)) }
    }

    @Test("integer(): only integer literals in range")
    func integers() throws {
        #expect(JSON.number("42").integer(UInt64.self) == 42)
        #expect(JSON.number("4.2").integer(UInt64.self) == nil)
        #expect(JSON.number("1e2").integer(UInt64.self) == nil)
        #expect(JSON.number("-1").integer(UInt64.self) == nil)
        #expect(JSON.number("18446744073709551616").integer(UInt64.self) == nil)
    }
}
