/// A non-negative quantity of one currency in its minor unit (cents for USD, yen for JPY).
/// No floating point anywhere: decimal text is parsed digit by digit.
///
/// Invariant: `minorUnits` is the exact amount; `decimals` of the currency (ISO 4217
/// exponent, 0...18) fixes how text maps to minor units.
public struct Amount: Hashable, Sendable, CustomStringConvertible {
    public static let maxDecimals: UInt8 = 18
    /// The one range of money, everywhere: no amount moved and no balance held exceeds
    /// 10^17 minor units (10^15 dollars at two decimals). The ledger refuses anything that
    /// would pass it, so the contract VM's signed 64-bit integers hold every balance and the
    /// sum of any two (docs/PROTOCOL.md §3 "Amounts").
    public static let maxMinorUnits: UInt64 = 100_000_000_000_000_000

    /// `a + b` when it stays within `maxMinorUnits`, else nil.
    public static func sum(_ a: UInt64, _ b: UInt64) -> UInt64? {
        guard a <= maxMinorUnits, b <= maxMinorUnits - min(a, maxMinorUnits) else { return nil }
        return a + b
    }

    public let currency: CurrencyCode
    public let minorUnits: UInt64

    public init(_ minorUnits: UInt64, _ currency: CurrencyCode) {
        self.minorUnits = minorUnits
        self.currency = currency
    }

    /// Parses decimal text such as `"1250000.00"` or `"7"` for a currency with `decimals`
    /// digits after the point. Refuses signs, exponents, separators, too many fraction digits
    /// and values above 2^64 − 1 minor units, each with a sentence.
    public static func parse(_ text: String, currency: CurrencyCode, decimals: UInt8) throws(ValueError) -> Amount {
        Amount(try parseMinorUnits(text, decimals: decimals), currency)
    }

    public static func parseMinorUnits(_ text: String, decimals: UInt8) throws(ValueError) -> UInt64 {
        if text.hasPrefix("-") { throw ValueError("amount \"\(text)\" is negative; amounts are never below zero") }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = parts.first, !whole.isEmpty else {
            throw ValueError("amount \"\(text)\" is not a decimal number like 1250.00")
        }
        let fraction = parts.count == 2 ? parts[1] : ""
        if parts.count == 2 && fraction.isEmpty { throw ValueError("amount \"\(text)\" has no digits after the point") }
        guard (whole + fraction).utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
            throw ValueError("amount \"\(text)\" may contain only digits and one decimal point")
        }
        guard fraction.count <= Int(decimals) else {
            throw ValueError("amount \"\(text)\" has \(fraction.count) digits after the point; the currency allows \(decimals)")
        }
        let digits = whole + fraction + String(repeating: "0", count: Int(decimals) - fraction.count)
        var value: UInt64 = 0
        for d in digits.utf8 {
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(d - UInt8(ascii: "0")))
            if o1 || o2 { throw ValueError("amount \"\(text)\" is too large (above 2^64 − 1 minor units)") }
            value = sum
        }
        return value
    }

    /// Decimal text with exactly `decimals` fraction digits, e.g. `"1250000.00"`.
    public static func format(minorUnits: UInt64, decimals: UInt8) -> String {
        let digits = String(minorUnits)
        let d = Int(decimals)
        guard d > 0 else { return digits }
        let padded = String(repeating: "0", count: max(0, d + 1 - digits.count)) + digits
        return padded.dropLast(d) + "." + padded.suffix(d)
    }

    public var description: String { "\(minorUnits) \(currency) minor units" }
}
