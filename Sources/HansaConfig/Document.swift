import ChainTypes
import Foundation
import TOMLKit

/// A parsed TOML or JSON document as plain values, so that one strict reader serves both.
indirect enum DocValue: Decodable {
    case table([String: DocValue])
    case array([DocValue])
    case string(String)
    case integer(Int64)
    case bool(Bool)
    case float(Double)
    /// A TOML offset date-time, as milliseconds since the Unix epoch (UTC).
    case timestamp(Int64)
    /// A TOML value Hansa never uses (local date, time, date-time without offset).
    case unsupported(String)

    var typeName: String {
        switch self {
        case .table: "a table"
        case .array: "an array"
        case .string: "a string"
        case .integer: "an integer"
        case .bool: "a boolean"
        case .float: "a floating-point number"
        case .timestamp: "a date-time"
        case .unsupported(let what): what
        }
    }

    /// JSON decoding: booleans, integers, then other numbers, strings, arrays, objects.
    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .integer(i) }
        else if let d = try? c.decode(Double.self) { self = .float(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([DocValue].self) { self = .array(a) }
        else if let t = try? c.decode([String: DocValue].self) { self = .table(t) }
        else if c.decodeNil() { self = .unsupported("null") }
        else { throw DecodingError.dataCorruptedError(in: c, debugDescription: "unsupported JSON value") }
    }

    init(toml value: TOMLValueConvertible) {
        switch value.type {
        case .table:
            let t = value.table!
            var out: [String: DocValue] = [:]
            for key in t.keys { out[key] = DocValue(toml: t[key]!) }
            self = .table(out)
        case .array: self = .array(value.array!.map { DocValue(toml: $0) })
        case .string: self = .string(value.string!)
        case .int: self = .integer(Int64(value.int!))
        case .bool: self = .bool(value.bool!)
        case .double: self = .float(value.double!)
        case .dateTime:
            let dt = value.dateTime!
            if let offset = dt.offset {
                self = .timestamp(CivilTime.millis(dt, offsetMinutes: offset.offset))
            } else {
                self = .unsupported("a local date-time without a UTC offset")
            }
        case .date: self = .unsupported("a date without a time")
        case .time: self = .unsupported("a time without a date")
        }
    }
}

/// Proleptic Gregorian calendar arithmetic without Foundation's Calendar (no time zones,
/// no locale): days from 1970-01-01 by Howard Hinnant's `days_from_civil`.
enum CivilTime {
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func millis(_ dt: TOMLDateTime, offsetMinutes: Int) -> Int64 {
        let days = daysFromCivil(year: Int64(dt.date.year), month: Int64(dt.date.month), day: Int64(dt.date.day))
        let seconds = days * 86_400 + Int64(dt.time.hour) * 3600 + Int64(dt.time.minute) * 60 + Int64(dt.time.second)
            - Int64(offsetMinutes) * 60
        return seconds * 1000 + Int64(dt.time.nanoSecond) / 1_000_000
    }
}

/// Reads one table strictly: each getter names the field path in its error, and `finish()`
/// refuses keys nobody asked for (a misspelt key is an error, not silently ignored).
final class DocTable {
    let file: String
    let path: String
    private var entries: [String: DocValue]
    private var used: Set<String> = []

    init(file: String, path: String, entries: [String: DocValue]) {
        self.file = file
        self.path = path
        self.entries = entries
    }

    static func parseTOML(_ text: String, file: String) throws(ConfigError) -> DocTable {
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch let e as TOMLParseError {
            throw .syntax(path: file, line: e.source.begin.line, column: e.source.begin.column, message: e.description)
        } catch { throw .syntax(path: file, line: nil, column: nil, message: "\(error)") }
        guard case .table(let entries) = DocValue(toml: table) else { preconditionFailure("TOML root is a table") }
        return DocTable(file: file, path: "", entries: entries)
    }

    static func parseJSON(_ data: Data, file: String) throws(ConfigError) -> DocTable {
        let value: DocValue
        do { value = try JSONDecoder().decode(DocValue.self, from: data) } catch {
            throw .syntax(path: file, line: nil, column: nil, message: "not valid JSON: \(error)")
        }
        guard case .table(let entries) = value else {
            throw .syntax(path: file, line: nil, column: nil, message: "the top level must be a JSON object")
        }
        return DocTable(file: file, path: "", entries: entries)
    }

    func fieldPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func fail(_ key: String, _ problem: String) -> ConfigError {
        .field(path: file, field: fieldPath(key), problem: problem)
    }

    func has(_ key: String) -> Bool { entries[key] != nil }

    /// The table's keys, sorted (for tables whose keys are names, like `[p2p.dial]`).
    var keys: [String] { entries.keys.sorted() }

    /// Replaces (or adds) a string value before it is read: command-line overrides of a file.
    func override(_ key: String, string: String) { entries[key] = .string(string) }

    private func value(_ key: String) -> DocValue? {
        used.insert(key)
        return entries[key]
    }

    private func mismatch(_ key: String, _ expected: String, _ found: DocValue) -> ConfigError {
        fail(key, "expected \(expected), found \(found.typeName)")
    }

    func optionalString(_ key: String) throws(ConfigError) -> String? {
        guard let v = value(key) else { return nil }
        guard case .string(let s) = v else { throw mismatch(key, "a string", v) }
        return s
    }

    func string(_ key: String) throws(ConfigError) -> String {
        guard let s = try optionalString(key) else { throw fail(key, "is missing") }
        return s
    }

    func optionalInteger(_ key: String) throws(ConfigError) -> Int64? {
        guard let v = value(key) else { return nil }
        guard case .integer(let i) = v else { throw mismatch(key, "an integer", v) }
        return i
    }

    func integer(_ key: String) throws(ConfigError) -> Int64 {
        guard let i = try optionalInteger(key) else { throw fail(key, "is missing") }
        return i
    }

    /// A non-negative integer, refusing negatives with a sentence.
    func unsigned(_ key: String, default fallback: UInt64? = nil) throws(ConfigError) -> UInt64 {
        guard let i = try optionalInteger(key) else {
            if let fallback { return fallback }
            throw fail(key, "is missing")
        }
        guard i >= 0 else { throw fail(key, "is negative (\(i)); expected 0 or more") }
        return UInt64(i)
    }

    func optionalTimestamp(_ key: String) throws(ConfigError) -> Int64? {
        guard let v = value(key) else { return nil }
        guard case .timestamp(let ms) = v else { throw mismatch(key, "a date-time with offset, e.g. 2026-11-25T00:00:00Z", v) }
        return ms
    }

    func stringArray(_ key: String) throws(ConfigError) -> [String] {
        guard let v = value(key) else { throw fail(key, "is missing") }
        guard case .array(let items) = v else { throw mismatch(key, "an array of strings", v) }
        var out: [String] = []
        for (i, item) in items.enumerated() {
            guard case .string(let s) = item else { throw mismatch("\(key)[\(i)]", "a string", item) }
            out.append(s)
        }
        return out
    }

    func optionalTable(_ key: String) throws(ConfigError) -> DocTable? {
        guard let v = value(key) else { return nil }
        guard case .table(let t) = v else { throw mismatch(key, "a table", v) }
        return DocTable(file: file, path: fieldPath(key), entries: t)
    }

    func table(_ key: String) throws(ConfigError) -> DocTable {
        guard let t = try optionalTable(key) else { throw fail(key, "is missing") }
        return t
    }

    /// An array of tables (`[[key]]` in TOML); empty when absent.
    func tables(_ key: String) throws(ConfigError) -> [DocTable] {
        guard let v = value(key) else { return [] }
        guard case .array(let items) = v else { throw mismatch(key, "an array of tables", v) }
        var out: [DocTable] = []
        for (i, item) in items.enumerated() {
            guard case .table(let t) = item else { throw mismatch("\(key)[\(i)]", "a table", item) }
            out.append(DocTable(file: file, path: fieldPath("\(key)[\(i)]"), entries: t))
        }
        return out
    }

    /// Refuses keys that no getter asked for.
    func finish() throws(ConfigError) {
        let unknown = Set(entries.keys).subtracting(used).sorted()
        if let first = unknown.first {
            throw fail(first, "unknown key (misspelt?)" + (unknown.count > 1 ? "; also unknown: \(unknown.dropFirst().joined(separator: ", "))" : ""))
        }
    }
}

enum FileIO {
    static func read(_ path: String) throws(ConfigError) -> Data {
        do { return try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            let exists = FileManager.default.fileExists(atPath: path)
            throw .cannotRead(path: path, why: exists ? error.localizedDescription : "no such file")
        }
    }

    static func readText(_ path: String) throws(ConfigError) -> String {
        let data = try read(path)
        guard let text = String(data: data, encoding: .utf8) else { throw .cannotRead(path: path, why: "not UTF-8 text") }
        return text
    }

    /// Writes atomically (temporary file, then rename) so a crash never leaves half a file.
    static func write(_ data: Data, to path: String) throws(ConfigError) {
        do { try data.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw .cannotWrite(path: path, why: error.localizedDescription)
        }
    }
}
