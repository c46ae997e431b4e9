import Testing
import ChainTypes

/// Decimal text to minor units, digit by digit, no floating point.
@Suite("Amount")
struct AmountTests {
    static let usd = try! CurrencyCode("USD")

    @Test("accepted", arguments: [
        ("0", 2, 0),
        ("7", 2, 700),
        ("1250000.00", 2, 125_000_000),
        ("0.5", 2, 50),
        ("0.05", 2, 5),
        ("12.3", 2, 1_230),
        ("007", 0, 7),
        ("42", 0, 42),
        ("1", 18, 1_000_000_000_000_000_000),
        ("0.000000000000000001", 18, 1),
        ("18.446744073709551615", 18, UInt64.max),
        ("18446744073709551615", 0, UInt64.max),
        ("184467440737095516.15", 2, UInt64.max),
    ] as [(String, UInt8, UInt64)])
    func accepted(_ text: String, _ decimals: UInt8, _ minor: UInt64) throws {
        #expect(try Amount.parseMinorUnits(text, decimals: decimals) == minor)
        let amount = try Amount.parse(text, currency: Self.usd, decimals: decimals)
        #expect(amount.minorUnits == minor && amount.currency == Self.usd)
    }

    @Test("refused with a sentence", arguments: [
        ("-1", 2, "is negative"),
        ("-0", 2, "is negative"),
        ("1.005", 2, "has 3 digits after the point; the currency allows 2"),
        ("5.0", 0, "has 1 digits after the point; the currency allows 0"),
        ("1e5", 2, "may contain only digits"),
        ("1,000", 2, "may contain only digits"),
        ("+5", 2, "may contain only digits"),
        (" 5", 2, "may contain only digits"),
        ("5 ", 2, "may contain only digits"),
        ("١٢", 2, "may contain only digits"),   // Arabic-Indic digits are not ASCII digits
        ("0x10", 2, "may contain only digits"),
        ("", 2, "is not a decimal number"),
        (".5", 2, "is not a decimal number"),
        ("1.2.3", 2, "is not a decimal number"),
        ("5.", 2, "has no digits after the point"),
        ("18446744073709551616", 0, "is too large"),
        ("184467440737095516.16", 2, "is too large"),
        ("18.446744073709551616", 18, "is too large"),
        ("99999999999999999999999", 0, "is too large"),
    ] as [(String, UInt8, String)])
    func refused(_ text: String, _ decimals: UInt8, _ phrase: String) {
        #expect {
            _ = try Amount.parseMinorUnits(text, decimals: decimals)
        } throws: { error in
            guard let e = error as? ValueError else { return false }
            return e.message.contains(phrase) && e.message.contains("\"\(text)\"")
        }
    }

    @Test("format", arguments: [
        (0, 2, "0.00"),
        (5, 2, "0.05"),
        (50, 2, "0.50"),
        (125_000_000, 2, "1250000.00"),
        (42, 0, "42"),
        (0, 0, "0"),
        (1, 18, "0.000000000000000001"),
        (0, 18, "0.000000000000000000"),
        (UInt64.max, 18, "18.446744073709551615"),
        (UInt64.max, 0, "18446744073709551615"),
        (1_000, 3, "1.000"),
    ] as [(UInt64, UInt8, String)])
    func format(_ minor: UInt64, _ decimals: UInt8, _ text: String) throws {
        #expect(Amount.format(minorUnits: minor, decimals: decimals) == text)
        #expect(try Amount.parseMinorUnits(text, decimals: decimals) == minor)
    }

    /// parse(format(x)) == x across magnitudes, for every allowed number of decimals.
    @Test("format then parse is the identity", arguments: Array(UInt8(0)...Amount.maxDecimals))
    func formatParse(_ decimals: UInt8) throws {
        var values: [UInt64] = [0, 1, 9, 10, 99, 100, 101, UInt64.max, UInt64.max - 1]
        var p: UInt64 = 1
        for _ in 0..<19 { p *= 10; values += [p - 1, p, p + 1] }
        for v in values {
            let text = Amount.format(minorUnits: v, decimals: decimals)
            #expect(try Amount.parseMinorUnits(text, decimals: decimals) == v, "\(text)")
        }
    }

    @Test func description() {
        #expect(Amount(50, Self.usd).description == "50 USD minor units")
    }

    @Test("currency codes", arguments: [("USD", true), ("JPY", true), ("usd", false), ("US", false), ("USDX", false),
                                        ("U$D", false), ("ÜSD", false), ("", false)])
    func currencyCode(_ text: String, _ valid: Bool) {
        #expect(((try? CurrencyCode(text)) != nil) == valid)
    }
}
