@_exported import HansaCrypto

/// A SHA-256 digest naming a block, transaction or state. The hash of any value is
/// SHA-256 of its canonical encoding (docs/PROTOCOL.md §2).
public typealias Hash = Digest32

/// A participant's account: the first 20 bytes of SHA-256("hansa/address/v1"-prefixed
/// compressed public key) — see `Address.derive(from:)` and docs/PROTOCOL.md §3.
/// Text form: `hx` followed by 40 lowercase hex digits.
///
/// Invariant: exactly 20 bytes.
public struct Address: Hashable, Sendable, Comparable {
    public static let byteCount = 20
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.byteCount else { return nil }
        self.bytes = bytes
    }

    /// Parses `hx` + 40 hex digits.
    public init?(text: String) {
        guard text.hasPrefix("hx"), let raw = Hex.decode(String(text.dropFirst(2))) else { return nil }
        self.init(bytes: raw)
    }

    /// The address of `key`.
    public static func derive(from key: PublicKey) -> Address {
        var w = CanonicalWriter(capacity: 64)
        w.string("hansa/address/v1")
        w.fixed(key.bytes)
        return Address(bytes: Array(SHA256.hash(w.bytes).bytes.prefix(byteCount)))!
    }

    public var text: String { "hx" + Hex.encode(bytes) }

    public static func < (a: Address, b: Address) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }

    public static func == (a: Address, b: Address) -> Bool { a.bytes == b.bytes }

    /// Feeds the hasher three words rather than 20 single bytes (addresses key the hot maps).
    public func hash(into hasher: inout Hasher) {
        var words: (UInt64, UInt64, UInt64) = (0, 0, 0)
        for (i, b) in bytes.enumerated() {
            switch i >> 3 {
            case 0: words.0 = words.0 << 8 | UInt64(b)
            case 1: words.1 = words.1 << 8 | UInt64(b)
            default: words.2 = words.2 << 8 | UInt64(b)
            }
        }
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
    }
}

extension Address: CustomStringConvertible {
    public var description: String { text }
}

extension PublicKey {
    /// The account address of this key.
    public var address: Address { Address.derive(from: self) }
}

/// The name of a chain: 1 to 64 characters of `a-z`, `0-9` and `-`, starting with a letter.
/// It is part of every signed message (domain separation), so a signature made for one chain
/// never verifies on another.
public struct ChainID: Hashable, Sendable, CustomStringConvertible {
    public static let maxBytes = 64
    public let value: String

    public init(_ value: String) throws(ValueError) {
        guard let problem = ChainID.problem(value) else { self.value = value; return }
        throw ValueError("chain id \"\(value)\" \(problem)")
    }

    static func problem(_ value: String) -> String? {
        let utf8 = Array(value.utf8)
        if utf8.isEmpty { return "is empty" }
        if utf8.count > maxBytes { return "is longer than \(maxBytes) characters" }
        guard (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(utf8[0]) else { return "must start with a lowercase letter" }
        let allowed = utf8.allSatisfy {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                || $0 == UInt8(ascii: "-")
        }
        return allowed ? nil : "may contain only a-z, 0-9 and '-'"
    }

    public var description: String { value }
}

/// A value that failed a rule of its type; the message is a sentence.
public struct ValueError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// An ISO 4217 alphabetic currency code: three uppercase ASCII letters (e.g. USD, EUR, JPY).
public struct CurrencyCode: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let value: String

    public init(_ value: String) throws(ValueError) {
        let utf8 = Array(value.utf8)
        guard utf8.count == 3, utf8.allSatisfy({ (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }) else {
            throw ValueError("currency code \"\(value)\" must be three uppercase letters (ISO 4217), e.g. USD")
        }
        self.value = value
    }

    public static func < (a: CurrencyCode, b: CurrencyCode) -> Bool { a.value < b.value }
    public var description: String { value }
}

/// Roles a participant may hold (../shared/DOMAIN.md, "Who uses the network").
/// The raw value is the canonical tag; `name` is the text form in TOML, JSON and the CLI.
public enum Role: UInt8, Sendable, CaseIterable, Comparable {
    case validatorBank = 1
    case bank = 2
    case exporter = 3
    case importer = 4
    case carrier = 5
    case inspector = 6
    case auditor = 7
    case regulator = 8

    public var name: String {
        switch self {
        case .validatorBank: "validator_bank"
        case .bank: "bank"
        case .exporter: "exporter"
        case .importer: "importer"
        case .carrier: "carrier"
        case .inspector: "inspector"
        case .auditor: "auditor"
        case .regulator: "regulator"
        }
    }

    public init?(name: String) {
        guard let role = Role.allCases.first(where: { $0.name == name }) else { return nil }
        self = role
    }

    /// Banks hold deposits for customers and may mint and burn them.
    public var isBank: Bool { self == .validatorBank || self == .bank }

    public static func < (a: Role, b: Role) -> Bool { a.rawValue < b.rawValue }
}

// MARK: - Canonical forms of the primitives

extension CanonicalWriter {
    public mutating func hash(_ h: Hash) {
        var raw = [UInt8]()
        raw.reserveCapacity(32)
        h.appendBytes(to: &raw)
        fixed(raw)
    }
    public mutating func address(_ a: Address) { fixed(a.bytes) }
    public mutating func publicKey(_ k: PublicKey) { fixed(k.bytes) }
    public mutating func signature(_ s: Signature) { fixed(s.compact) }
    public mutating func currency(_ c: CurrencyCode) { fixed(Array(c.value.utf8)) }
    public mutating func role(_ r: Role) { byte(r.rawValue) }
}

extension CanonicalReader {
    public mutating func hash(_ field: @autoclosure () -> String) throws(DecodeError) -> Hash {
        Hash(bytes: try fixed(field(), count: Hash.byteCount))!
    }

    public mutating func address(_ field: @autoclosure () -> String) throws(DecodeError) -> Address {
        Address(bytes: try fixed(field(), count: Address.byteCount))!
    }

    public mutating func publicKey(_ field: @autoclosure () -> String) throws(DecodeError) -> PublicKey {
        let start = offset
        let raw = try fixed(field(), count: PublicKey.byteCount)
        do { return try PublicKey(bytes: raw) } catch { throw self.error(field(), .invalidValue(error.description), at: start) }
    }

    public mutating func signature(_ field: @autoclosure () -> String) throws(DecodeError) -> Signature {
        let start = offset
        let raw = try fixed(field(), count: Signature.byteCount)
        do { return try Signature(compact: raw) } catch {
            throw self.error(field(), error == .highS ? .highS : .invalidValue(error.description), at: start)
        }
    }

    public mutating func currency(_ field: @autoclosure () -> String) throws(DecodeError) -> CurrencyCode {
        let start = offset
        let raw = try fixed(field(), count: 3)
        do { return try CurrencyCode(String(decoding: raw, as: UTF8.self)) } catch {
            throw self.error(field(), .invalidValue(error.message), at: start)
        }
    }

    public mutating func role(_ field: @autoclosure () -> String) throws(DecodeError) -> Role {
        let start = offset
        let tag = try byte(field())
        guard let role = Role(rawValue: tag) else { throw error(field(), .unknownTag(UInt64(tag)), at: start) }
        return role
    }

    public mutating func chainID(_ field: @autoclosure () -> String) throws(DecodeError) -> ChainID {
        let start = offset
        let text = try string(field(), limit: ChainID.maxBytes)
        do { return try ChainID(text) } catch { throw self.error(field(), .invalidValue(error.message), at: start) }
    }
}
