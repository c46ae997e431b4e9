import Foundation

/// A JSON value (RFC 8259) as the RPC reads and writes it.
///
/// Numbers keep the text they were written with, so a request id such as `1.50` or `1e3` is
/// echoed exactly (JSON-RPC 2.0 §5: the response id is the same as the request's), and a
/// 64-bit integer never passes through a `Double`.
public enum JSON: Sendable, Equatable, CustomStringConvertible {
    case null
    case bool(Bool)
    /// The number's literal as written (it matches RFC 8259's `number` grammar).
    case number(String)
    case string(String)
    case array([JSON])
    case object(JSONObject)

    /// An integer number.
    public static func int<T: BinaryInteger>(_ v: T) -> JSON { .number(String(v)) }

    public var description: String { serialized() }

    /// The value's compact text form.
    public func serialized() -> String {
        var out = ""
        write(to: &out)
        return out
    }

    func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += n
        case .string(let s): JSON.writeString(s, to: &out)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.write(to: &out)
            }
            out += "]"
        case .object(let object):
            out += "{"
            for (i, key) in object.keys.enumerated() {
                if i > 0 { out += "," }
                JSON.writeString(key, to: &out)
                out += ":"
                object.values[key]!.write(to: &out)
            }
            out += "}"
        }
    }

    static func writeString(_ s: String, to out: inout String) {
        out += "\""
        // Most strings (hex, names, addresses) need no escape: copy them whole.
        if s.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x22 && $0 != 0x5C && $0 < 0xE2 }) {
            out += s
            out += "\""
            return
        }
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let c where c.value < 0x20 || c.value == 0x2028 || c.value == 0x2029:
                let hex = String(c.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    // MARK: Reading

    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    public var boolValue: Bool? { if case .bool(let b) = self { b } else { nil } }
    public var arrayValue: [JSON]? { if case .array(let a) = self { a } else { nil } }
    public var objectValue: JSONObject? { if case .object(let o) = self { o } else { nil } }
    public var isNull: Bool { self == .null }

    /// The member `key` of an object; nil for a missing key or a value that is not an object.
    public subscript(key: String) -> JSON? { objectValue?[key] }

    /// A JSON number that is an integer in `T`'s range, written without fraction or exponent.
    public func integer<T: FixedWidthInteger>(_: T.Type = T.self) -> T? {
        guard case .number(let text) = self, !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) else { return nil }
        return T(text)
    }

    /// What kind of value this is, in words (for error messages).
    public var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// A JSON object: members in the order they were written or added; names are unique.
public struct JSONObject: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    public private(set) var keys: [String] = []
    fileprivate(set) var values: [String: JSON] = [:]

    public init() {}

    public init(dictionaryLiteral elements: (String, JSON)...) {
        for (k, v) in elements { self[k] = v }
    }

    public var count: Int { keys.count }

    /// Setting nil removes the member; setting a value keeps the member's place.
    public subscript(key: String) -> JSON? {
        get { values[key] }
        set {
            if let newValue {
                if values.updateValue(newValue, forKey: key) == nil { keys.append(key) }
            } else if values.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    public static func == (a: JSONObject, b: JSONObject) -> Bool { a.values == b.values }
}

/// Why a text is not JSON, with the byte offset where reading stopped.
public struct JSONParseError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public let offset: Int
    public var description: String { "\(message) at byte \(offset)" }
}

extension JSON {
    /// Deepest nesting of arrays and objects a parsed document may have.
    public static let maxDepth = 64

    /// Parses one JSON text (RFC 8259): whitespace around one value, nothing after it. Strict:
    /// no duplicate member names, no lone surrogates, no invalid UTF-8, no leading zeros.
    public static func parse(_ bytes: some Collection<UInt8>) throws(JSONParseError) -> JSON {
        var parser = Parser(bytes: Array(bytes))
        parser.skipSpace()
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.offset == parser.bytes.count else { throw parser.error("unexpected text after the JSON value") }
        return value
    }

    public static func parse(_ text: String) throws(JSONParseError) -> JSON { try parse(Array(text.utf8)) }

    private struct Parser {
        let bytes: [UInt8]
        var offset = 0

        func error(_ message: String) -> JSONParseError { JSONParseError(message: message, offset: offset) }

        var peek: UInt8? { offset < bytes.count ? bytes[offset] : nil }

        mutating func skipSpace() {
            while let b = peek, b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { offset += 1 }
        }

        mutating func literal(_ word: String, _ value: JSON) throws(JSONParseError) -> JSON {
            let w = Array(word.utf8)
            guard bytes.count - offset >= w.count, Array(bytes[offset..<offset + w.count]) == w else {
                throw error("invalid literal (expected \(word))")
            }
            offset += w.count
            return value
        }

        mutating func value(depth: Int) throws(JSONParseError) -> JSON {
            guard let b = peek else { throw error("the text ends where a value was expected") }
            switch b {
            case UInt8(ascii: "{"): return try object(depth: depth + 1)
            case UInt8(ascii: "["): return try array(depth: depth + 1)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): return try literal("true", .bool(true))
            case UInt8(ascii: "f"): return try literal("false", .bool(false))
            case UInt8(ascii: "n"): return try literal("null", .null)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
            default: throw error("unexpected character '\(Character(Unicode.Scalar(b)))' where a value was expected")
            }
        }

        mutating func object(depth: Int) throws(JSONParseError) -> JSON {
            guard depth <= JSON.maxDepth else { throw error("nesting deeper than \(JSON.maxDepth) levels") }
            offset += 1
            var object = JSONObject()
            skipSpace()
            if peek == UInt8(ascii: "}") { offset += 1; return .object(object) }
            while true {
                skipSpace()
                guard peek == UInt8(ascii: "\"") else { throw error("an object member must start with a quoted name") }
                let at = offset
                let key = try string()
                guard object[key] == nil else { throw JSONParseError(message: "duplicate member name \"\(key)\"", offset: at) }
                skipSpace()
                guard peek == UInt8(ascii: ":") else { throw error("expected ':' after a member name") }
                offset += 1
                skipSpace()
                object[key] = try value(depth: depth)
                skipSpace()
                switch peek {
                case UInt8(ascii: ","): offset += 1
                case UInt8(ascii: "}"): offset += 1; return .object(object)
                default: throw error("expected ',' or '}' in an object")
                }
            }
        }

        mutating func array(depth: Int) throws(JSONParseError) -> JSON {
            guard depth <= JSON.maxDepth else { throw error("nesting deeper than \(JSON.maxDepth) levels") }
            offset += 1
            var items: [JSON] = []
            skipSpace()
            if peek == UInt8(ascii: "]") { offset += 1; return .array(items) }
            while true {
                skipSpace()
                items.append(try value(depth: depth))
                skipSpace()
                switch peek {
                case UInt8(ascii: ","): offset += 1
                case UInt8(ascii: "]"): offset += 1; return .array(items)
                default: throw error("expected ',' or ']' in an array")
                }
            }
        }

        mutating func digits() -> Int {
            let start = offset
            while let b = peek, b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") { offset += 1 }
            return offset - start
        }

        mutating func number() throws(JSONParseError) -> JSON {
            let start = offset
            if peek == UInt8(ascii: "-") { offset += 1 }
            if peek == UInt8(ascii: "0") {
                offset += 1
                if let b = peek, b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") { throw error("a number may not have a leading zero") }
            } else if digits() == 0 {
                throw error("a number needs a digit")
            }
            if peek == UInt8(ascii: ".") {
                offset += 1
                guard digits() > 0 else { throw error("a number needs a digit after the decimal point") }
            }
            if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
                offset += 1
                if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { offset += 1 }
                guard digits() > 0 else { throw error("a number needs a digit in its exponent") }
            }
            return .number(String(decoding: bytes[start..<offset], as: UTF8.self))
        }

        mutating func hex4() throws(JSONParseError) -> UInt32 {
            guard bytes.count - offset >= 4 else { throw error("a \\u escape needs four hex digits") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let b = bytes[offset]
                let d: UInt32
                switch b {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(b - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(b - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(b - UInt8(ascii: "A") + 10)
                default: throw error("a \\u escape needs four hex digits")
                }
                v = v << 4 | d
                offset += 1
            }
            return v
        }

        mutating func string() throws(JSONParseError) -> String {
            offset += 1
            // Fast path: no escape before the closing quote (hex, names, addresses).
            var end = offset
            while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\"), bytes[end] >= 0x20 { end += 1 }
            if end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
                guard let s = String(validating: bytes[offset..<end], as: UTF8.self) else { throw error("a string is not valid UTF-8") }
                offset = end + 1
                return s
            }
            var out: [UInt8] = Array(bytes[offset..<end])
            offset = end
            while true {
                guard let b = peek else { throw error("the text ends inside a string") }
                switch b {
                case UInt8(ascii: "\""):
                    offset += 1
                    guard let s = String(validating: out, as: UTF8.self) else { throw error("a string is not valid UTF-8") }
                    return s
                case UInt8(ascii: "\\"):
                    offset += 1
                    guard let e = peek else { throw error("the text ends inside an escape") }
                    offset += 1
                    switch e {
                    case UInt8(ascii: "\""): out.append(0x22)
                    case UInt8(ascii: "\\"): out.append(0x5C)
                    case UInt8(ascii: "/"): out.append(0x2F)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        var code = try hex4()
                        if (0xD800...0xDBFF).contains(code) {
                            guard bytes.count - offset >= 6, bytes[offset] == UInt8(ascii: "\\"), bytes[offset + 1] == UInt8(ascii: "u") else {
                                throw error("a high surrogate must be followed by a low one")
                            }
                            offset += 2
                            let low = try hex4()
                            guard (0xDC00...0xDFFF).contains(low) else { throw error("a high surrogate must be followed by a low one") }
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        } else if (0xDC00...0xDFFF).contains(code) {
                            throw error("a lone low surrogate")
                        }
                        out.append(contentsOf: Array(String(Unicode.Scalar(code)!).utf8))
                    default: throw error("unknown escape \\\(Character(Unicode.Scalar(e)))")
                    }
                case 0x00..<0x20:
                    throw error("a control character must be escaped inside a string")
                default:
                    out.append(b)
                    offset += 1
                }
            }
        }
    }
}

extension JSON {
    /// The JSON form of an `Encodable` value (through Foundation's encoder, keys sorted).
    public init(encoding value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        self = try JSON.parse(try encoder.encode(value))
    }
}
