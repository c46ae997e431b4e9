import ChainTypes
import ContractVM
import Foundation

/// Why a trade-finance tool could not go on; the description is a sentence.
public struct TradeFinanceError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The letter-of-credit contract (contracts/letter_of_credit.hc) compiled, with its vocabulary
/// read from the contract's own constants: credit flags (`ABOUT_AMOUNT`, …), document codes
/// (`DOC_*`), discrepancy bits (`D_*`) and states. Nothing here keeps a copy of a code, so a
/// new version of the contract needs no change here — only names it does not know are shown
/// by their constant names.
public struct LetterOfCredit: Sendable {
    public let compiled: CompiledContract

    public init(_ compiled: CompiledContract) { self.compiled = compiled }

    /// Compiles the contract at `path`.
    public static func compile(_ path: String) throws(TradeFinanceError) -> LetterOfCredit {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw TradeFinanceError("cannot read \(path) (run from the repository root, or pass --contract)")
        }
        do { return LetterOfCredit(try Compiler.compile(text, file: path)) } catch { throw TradeFinanceError("\(error)") }
    }

    /// The sum of the integer constants `names` (flags or document codes are bit sets).
    public func bits(_ names: String...) -> Int64 { names.reduce(0) { $0 | compiled.int($1) } }

    /// The discrepancies a bit set lists, in words with their UCP 600 article, in bit order.
    public func discrepancies(in bits: Int64) -> [String] {
        compiled.constants.compactMap { c -> (Int64, String)? in
            guard c.name.hasPrefix("D_"), case .int(let bit) = c.value, bits & bit != 0 else { return nil }
            return (bit, Self.discrepancyWords[c.name] ?? c.name)
        }.sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// How a person reads each discrepancy, with the article that makes it one. Keyed by the
    /// contract's constant names: the codes themselves come from the contract.
    static let discrepancyWords: [String: String] = [
        "D_LATE_PRESENTATION": "late presentation (Art. 14(c))",
        "D_INVOICE_CURRENCY": "invoice currency (Art. 18(b))",
        "D_AMOUNT": "amount (Art. 18(b))",
        "D_QUANTITY": "quantity (Art. 30)",
        "D_PARTIAL": "partial drawing (Art. 31(a))",
        "D_LATE_SHIPMENT": "late shipment (Art. 20(a)(ii))",
        "D_PORT_OF_LOADING": "port of loading (Art. 20(a)(iii))",
        "D_PORT_OF_DISCHARGE": "port of discharge (Art. 20(a)(iii))",
        "D_TRANSPORT_UNVERIFIED": "transport document not authenticated by its carrier (Art. 14(d))",
        "D_VESSEL": "vessel (Art. 20(a)(ii))",
        "D_INSURANCE_AMOUNT": "insurance below 110 % (Art. 28(f)(ii))",
        "D_INSURANCE_CURRENCY": "insurance currency (Art. 28(f)(i))",
        "D_INSURANCE_DATE": "insurance dated after shipment (Art. 28(e))",
        "D_MISSING_DOCUMENT": "missing document (Art. 14(a))",
        "D_TRANSPORT_REUSED": "transport document drawn against before (Art. 14(d))",
    ]
}
