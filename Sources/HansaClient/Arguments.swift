import ChainTypes
import ContractVM
import Foundation
import HansaCrypto
import RPC
import TOMLKit

/// Named arguments as people write them (docs/RPC.md "Credit terms and presentations"),
/// turned into the values a contract's ABI takes:
///
/// - a parameter matches a field of the same name, or with the contract's trailing `_`
///   (`applicant` for `applicant_`);
/// - **amounts** (int parameters whose name contains `amount`) are decimal text in the
///   credit's currency, `"250000.00"` or `"USD 250,000.00"`, or `{"minor": "25000000"}`;
///   a bare number is refused, so 250000 is never read as 2,500.00;
/// - **times** (int parameters named `…expiry…`, `…shipment…`, `…time…`, `…date…`,
///   `shipped_on_board`) are ISO 8601 dates or times (`"2027-03-01"`, `"2027-03-01T12:00:00Z"`)
///   or milliseconds;
/// - **sets of codes** (an int given as a list of names) are the sum of the contract's
///   constants of those names, `DOC_` tried as a prefix: `["invoice", "transport"]`,
///   `["about_amount", "pay_on_arrival"]`;
/// - **document hashes** (bytes named `…hash`) are `{"file": "invoice.pdf"}` (its SHA-256),
///   `{"hex": "…"}` or 64 hex digits;
/// - other bytes are text; addresses `hx…`; bools `true`/`false`.
public struct ArgumentShaper {
    public let abi: ContractABI
    public let currency: String?
    public let decimals: UInt8
    /// Relative `{"file": …}` paths are read from here (the file's directory).
    public let baseDirectory: String

    public init(abi: ContractABI, currency: String?, decimals: UInt8, baseDirectory: String) {
        self.abi = abi; self.currency = currency; self.decimals = decimals; self.baseDirectory = baseDirectory
    }

    /// The arguments of `function` from `fields`; every parameter must be given, no field may
    /// be left over.
    public func shape(_ fields: JSONObject, for function: String) throws(ClientError) -> JSONObject {
        guard let f = abi.function(function) else { throw .local("\(abi.name) has no function \(function)") }
        var out = JSONObject()
        var used: Set<String> = []
        for p in f.params {
            let plain = p.name.hasSuffix("_") ? String(p.name.dropLast()) : p.name
            guard let key = [p.name, plain].first(where: { fields[$0] != nil }), let v = fields[key] else {
                throw .local("\(function) needs \(plain) (\(p.type))")
            }
            used.insert(key)
            out[p.name] = try value(v, p, name: plain)
        }
        if let extra = fields.keys.first(where: { !used.contains($0) }) {
            throw .local("\(function) has no field \(extra); it takes \(f.params.map { $0.name.hasSuffix("_") ? String($0.name.dropLast()) : $0.name }.joined(separator: ", "))")
        }
        return out
    }

    static func isAmount(_ name: String) -> Bool { name.contains("amount") }
    static func isTime(_ name: String) -> Bool {
        ["expiry", "shipment", "time", "date"].contains { name.contains($0) } || name == "shipped_on_board"
    }

    func value(_ v: JSON, _ p: ContractABI.Field, name: String) throws(ClientError) -> JSON {
        switch p.type {
        case .int:
            if let list = v.arrayValue { return .string(String(try codes(list, name: name))) }
            if Self.isAmount(name) { return .string(String(try amount(v, name: name))) }
            if Self.isTime(name), let s = v.stringValue, Int64(s) == nil { return .string(String(try time(s, name: name))) }
            return v
        case .bytes:
            if name.hasSuffix("hash") {
                if let file = v["file"]?.stringValue {
                    let path = file.hasPrefix("/") ? file : (baseDirectory as NSString).appendingPathComponent(file)
                    guard let data = FileManager.default.contents(atPath: path) else { throw .local("\(name): cannot read \(path)") }
                    return .object(["hex": .string(SHA256.hash([UInt8](data)).hex)])
                }
                if let s = v.stringValue, s.count == 64, Hex.decode(s) != nil { return .object(["hex": .string(s)]) }
                if let s = v.stringValue, s.isEmpty { return .object(["hex": ""]) }
            }
            return v
        default:
            return v
        }
    }

    func amount(_ v: JSON, name: String) throws(ClientError) -> Int64 {
        if let minor = v["minor"] {
            guard let n = minor.integer(Int64.self) ?? minor.stringValue.flatMap({ Int64($0) }) else { throw .local("\(name).minor must be an integer") }
            return n
        }
        guard var text = v.stringValue else {
            throw .local("\(name) must be written as text, e.g. \"250000.00\" (or {\"minor\": \"25000000\"} in minor units)")
        }
        text = text.replacingOccurrences(of: ",", with: "").trimmingCharacters(in: .whitespaces)
        if let currency, text.hasPrefix(currency + " ") { text = String(text.dropFirst(currency.count + 1)) }
        do { return Int64(try Amount.parseMinorUnits(text, decimals: decimals)) } catch { throw .local("\(name): \(error)") }
    }

    func time(_ text: String, name: String) throws(ClientError) -> Int64 {
        let full = ISO8601DateFormatter()
        full.formatOptions = [.withInternetDateTime]
        let frac = ISO8601DateFormatter()
        frac.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        guard let d = full.date(from: text) ?? frac.date(from: text) ?? day.date(from: text) else {
            throw .local("\(name): \"\(text)\" is not an ISO 8601 date or time (2027-03-01 or 2027-03-01T12:00:00Z)")
        }
        return Int64((d.timeIntervalSince1970 * 1000).rounded())
    }

    func codes(_ list: [JSON], name: String) throws(ClientError) -> Int64 {
        var sum: Int64 = 0
        for item in list {
            guard let s = item.stringValue else { throw .local("\(name): each code is a name, e.g. \"invoice\"") }
            let upper = s.uppercased()
            guard let v = [upper, "DOC_" + upper].lazy.compactMap({ self.abi.constant($0) }).first else {
                throw .local("\(name): \(abi.name) has no code \(s)")
            }
            sum |= v
        }
        return sum
    }
}

/// Reads a JSON or TOML file of named fields (by its extension).
public enum FieldsFile {
    public static func read(_ path: String) throws(ClientError) -> JSONObject {
        guard let data = FileManager.default.contents(atPath: path), data.count <= 1 << 20 else {
            throw .local("cannot read \(path) (or it is over 1 MiB)")
        }
        if path.hasSuffix(".toml") {
            let table: TOMLTable
            do { table = try TOMLTable(string: String(decoding: data, as: UTF8.self)) } catch { throw .local("\(path) is not TOML: \(error)") }
            return toJSON(table)
        }
        let json: JSON
        do { json = try JSON.parse(data) } catch { throw .local("\(path) is not JSON: \(error)") }
        guard let o = json.objectValue else { throw .local("\(path) must hold one object of named fields") }
        return o
    }

    static func toJSON(_ table: TOMLTable) -> JSONObject {
        var o = JSONObject()
        for key in table.keys { o[key] = toJSON(table[key]!) }
        return o
    }

    /// TOML values as JSON; dates stay text (`2027-03-01`), times with an offset as RFC 3339 text.
    static func toJSON(_ v: any TOMLValueConvertible) -> JSON {
        switch v.type {
        case .table: return .object(toJSON(v.table!))
        case .array: return .array(v.array!.map { toJSON($0) })
        case .string: return .string(v.string!)
        case .int: return .int(v.int!)
        case .bool: return .bool(v.bool!)
        case .double: return .number(String(v.double!))
        case .date:
            let d = v.date!
            return .string(String(format: "%04d-%02d-%02d", Int(d.year), Int(d.month), Int(d.day)))
        case .dateTime, .time: return .string(v.tomlValue.debugDescription)
        }
    }
}
