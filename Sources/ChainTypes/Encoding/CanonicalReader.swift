/// Reads Hansa's canonical binary encoding strictly: every deviation from the one accepted
/// form throws a `DecodeError` naming the field path and the byte offset.
///
/// Field names are taken as autoclosures and the path as parts: a name like
/// `"balances[3].amount"` is only built when an error reports it, so decoding a valid value
/// formats no text (on the hot path of every block, account and message read).
public struct CanonicalReader: Sendable {
    /// One step of the field path: a name, or element `index` of the list `name`.
    enum Component: Sendable {
        case name(String)
        case element(String, Int)

        var text: String {
            switch self {
            case .name(let name): name
            case .element(let name, let index): "\(name)[\(index)]"
            }
        }
    }

    public let bytes: [UInt8]
    public private(set) var offset: Int = 0
    private var path: [Component]
    /// The value being decoded, named in errors when no root name was given.
    private let rootType: (any Any.Type)?

    public init(_ bytes: [UInt8], root: String) {
        self.bytes = bytes
        self.path = [.name(root)]
        self.rootType = nil
    }

    /// A reader whose errors name `rootType` (described only when an error is built).
    public init(_ bytes: [UInt8], rootType: any Any.Type) {
        self.bytes = bytes
        self.path = []
        self.rootType = rootType
    }

    public var remaining: Int { bytes.count - offset }

    /// Builds an error for `field` at the current offset (or `at`).
    public func error(_ field: String, _ reason: DecodeError.Reason, at: Int? = nil) -> DecodeError {
        var parts = rootType.map { [String(describing: $0)] } ?? []
        parts += path.map(\.text)
        if !field.isEmpty { parts.append(field) }
        return DecodeError(field: parts.joined(separator: "."), offset: at ?? offset, reason: reason)
    }

    /// Runs `body` with `component` appended to the field path of any error it throws.
    public mutating func nested<T>(_ component: String,
                                   _ body: (inout CanonicalReader) throws(DecodeError) -> T) throws(DecodeError) -> T {
        try nested(.name(component), body)
    }

    mutating func nested<T>(_ component: Component,
                            _ body: (inout CanonicalReader) throws(DecodeError) -> T) throws(DecodeError) -> T {
        path.append(component)
        defer { path.removeLast() }
        return try body(&self)
    }

    public mutating func byte(_ field: @autoclosure () -> String) throws(DecodeError) -> UInt8 {
        guard offset < bytes.count else { throw error(field(), .unexpectedEnd(needed: 1)) }
        defer { offset += 1 }
        return bytes[offset]
    }

    public mutating func bool(_ field: @autoclosure () -> String) throws(DecodeError) -> Bool {
        let start = offset
        switch try byte(field()) {
        case 0: return false
        case 1: return true
        case let b: throw error(field(), .invalidBoolean(b), at: start)
        }
    }

    /// Unsigned LEB128 in its shortest form, at most `maximum`.
    public mutating func uvarint(_ field: @autoclosure () -> String, maximum: UInt64 = .max) throws(DecodeError) -> UInt64 {
        let start = offset
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < bytes.count else { throw error(field(), .unexpectedEnd(needed: 1)) }
            let b = bytes[offset]
            offset += 1
            // The tenth byte may carry only the top bit of a 64-bit value.
            if shift == 63 && b > 1 { throw error(field(), .integerOverflow(maximum: maximum), at: start) }
            result |= UInt64(b & 0x7f) << shift
            if b & 0x80 == 0 {
                // A final zero byte (other than a lone 0x00) means a shorter form existed.
                if b == 0 && offset - start > 1 { throw error(field(), .nonCanonicalInteger, at: start) }
                break
            }
            shift += 7
        }
        guard result <= maximum else { throw error(field(), .integerOverflow(maximum: maximum), at: start) }
        return result
    }

    /// A count or length for `field`, refused above `limit`.
    public mutating func count(_ field: @autoclosure () -> String, limit: Int) throws(DecodeError) -> Int {
        let start = offset
        let n = try uvarint(field())
        guard n <= UInt64(limit) else { throw error(field(), .lengthExceedsLimit(length: n, limit: limit), at: start) }
        return Int(n)
    }

    public mutating func fixed(_ field: @autoclosure () -> String, count: Int) throws(DecodeError) -> [UInt8] {
        guard remaining >= count else { throw error(field(), .unexpectedEnd(needed: count - remaining)) }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    public mutating func lengthPrefixed(_ field: @autoclosure () -> String, limit: Int) throws(DecodeError) -> [UInt8] {
        let n = try count(field(), limit: limit)
        return try fixed(field(), count: n)
    }

    public mutating func string(_ field: @autoclosure () -> String, limit: Int) throws(DecodeError) -> String {
        let start = offset
        let raw = try lengthPrefixed(field(), limit: limit)
        guard let text = String(validating: raw, as: UTF8.self) else { throw error(field(), .invalidUTF8, at: start) }
        return text
    }

    /// Checks the version byte of a nested or untagged value (payloads, receipts, accounts, …).
    public mutating func version(_ expected: UInt8) throws(DecodeError) {
        let start = offset
        let v = try byte("version")
        guard v == expected else { throw error("version", .unknownVersion(v), at: start) }
    }

    /// Checks the type tag and that the version is one of `versions`; returns the version.
    public mutating func header(_ type: TypeTag, versions: ClosedRange<UInt8>) throws(DecodeError) -> UInt8 {
        let start = offset
        let tag = try byte("type")
        guard tag == type.rawValue else { throw error("type", .unexpectedType(found: tag, expected: type.rawValue), at: start) }
        let version = try byte("version")
        guard versions.contains(version) else { throw error("version", .unknownVersion(version), at: start + 1) }
        return version
    }

    public mutating func value<T: CanonicalDecodable>(_ field: @autoclosure () -> String, as: T.Type = T.self) throws(DecodeError) -> T {
        try nested(.name(field())) { (r: inout CanonicalReader) throws(DecodeError) -> T in try T(from: &r) }
    }

    /// A counted list of at most `limit` values; element i errors are reported as `field[i]`.
    public mutating func list<T: CanonicalDecodable>(_ field: @autoclosure () -> String, limit: Int,
                                                     as: T.Type = T.self) throws(DecodeError) -> [T] {
        let n = try count(field(), limit: limit)
        var items: [T] = []
        items.reserveCapacity(min(n, 1024))
        for i in 0..<n {
            items.append(try nested(.element(field(), i)) { (r: inout CanonicalReader) throws(DecodeError) -> T in try T(from: &r) })
        }
        return items
    }

    /// Like `list`, and the elements' `key` must be strictly ascending (a canonical set).
    public mutating func sortedList<T: CanonicalDecodable, K: Comparable>(
        _ field: @autoclosure () -> String, limit: Int, by key: (T) -> K
    ) throws(DecodeError) -> [T] {
        let n = try count(field(), limit: limit)
        var items: [T] = []
        items.reserveCapacity(min(n, 1024))
        for i in 0..<n {
            let start = offset
            let item = try nested(.element(field(), i)) { (r: inout CanonicalReader) throws(DecodeError) -> T in try T(from: &r) }
            if let last = items.last, !(key(last) < key(item)) {
                throw error("\(field())[\(i)]", .notStrictlyAscending, at: start)
            }
            items.append(item)
        }
        return items
    }

    public mutating func optional<T>(_ field: @autoclosure () -> String,
                                     _ decode: (inout CanonicalReader) throws(DecodeError) -> T) throws(DecodeError) -> T? {
        try bool(field()) ? try decode(&self) : nil
    }

    /// Refuses bytes left over after a complete value.
    public func finish() throws(DecodeError) {
        guard remaining == 0 else { throw error("", .trailingBytes(count: remaining)) }
    }
}

/// A value with one canonical byte form.
public protocol CanonicalEncodable {
    func encode(to writer: inout CanonicalWriter)
}

/// A value decoded strictly from its canonical byte form.
public protocol CanonicalDecodable {
    init(from reader: inout CanonicalReader) throws(DecodeError)
}

public typealias CanonicalCodable = CanonicalEncodable & CanonicalDecodable

extension CanonicalEncodable {
    /// The canonical encoding of this value.
    public var canonicalBytes: [UInt8] {
        var w = CanonicalWriter()
        encode(to: &w)
        return w.bytes
    }
}

extension CanonicalDecodable {
    /// Decodes a whole buffer; trailing bytes are an error. `root` names the value in errors.
    public init(canonicalBytes bytes: [UInt8], root: String? = nil) throws(DecodeError) {
        var reader = root.map { CanonicalReader(bytes, root: $0) } ?? CanonicalReader(bytes, rootType: Self.self)
        self = try Self(from: &reader)
        try reader.finish()
    }
}
