/// Appends values in Hansa's canonical binary encoding (docs/PROTOCOL.md §1).
///
/// Invariant: the writer produces only bytes that `CanonicalReader` accepts and decodes
/// back to the same value; encoders must respect the same limits the decoders enforce.
public struct CanonicalWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func byte(_ value: UInt8) { bytes.append(value) }

    public mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }

    /// Unsigned LEB128, shortest form: 7 bits a byte, least significant first.
    public mutating func uvarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    public mutating func uvarint(_ value: Int) {
        precondition(value >= 0, "negative value passed to uvarint")
        uvarint(UInt64(value))
    }

    /// Raw bytes of a fixed-size field (no length prefix).
    public mutating func fixed(_ raw: [UInt8]) { bytes.append(contentsOf: raw) }

    /// A length-prefixed byte string.
    public mutating func lengthPrefixed(_ raw: [UInt8]) {
        uvarint(raw.count)
        bytes.append(contentsOf: raw)
    }

    /// A length-prefixed UTF-8 string.
    public mutating func string(_ text: String) { lengthPrefixed(Array(text.utf8)) }

    /// The type tag and version that open every top-level value.
    public mutating func header(_ type: TypeTag, version: UInt8) {
        bytes.append(type.rawValue)
        bytes.append(version)
    }

    public mutating func value(_ v: some CanonicalEncodable) { v.encode(to: &self) }

    /// A counted list of values.
    public mutating func list<T: CanonicalEncodable>(_ items: [T]) {
        uvarint(items.count)
        for item in items { item.encode(to: &self) }
    }

    /// 0x00 for none, 0x01 followed by the value for some.
    /// Inlinable, so that callers in other modules get it specialized (unspecialized, each
    /// call looked up generic metadata at run time).
    @inlinable
    public mutating func optional<T>(_ value: T?, _ encode: (inout CanonicalWriter, T) -> Void) {
        if let value {
            byte(1)
            encode(&self, value)
        } else {
            byte(0)
        }
    }
}

/// Type tags: the first byte of every top-level encoding, so that the bytes (and so the hash)
/// of one kind of value can never be read as another kind.
public enum TypeTag: UInt8, Sendable, CaseIterable {
    case transaction = 0x01
    case blockHeader = 0x02
    case block = 0x03
    case vote = 0x04
    case commitCertificate = 0x05
    case genesis = 0x06
    // PBFT messages (docs/PROTOCOL.md part 2).
    case prePrepare = 0x07
    case checkpoint = 0x08
    case viewChange = 0x09
    case newView = 0x0a
    case newViewRequest = 0x0b
    case preparedCertificate = 0x0c
    // Contract bytecode (docs/CONTRACTS.md).
    case contractProgram = 0x0d
}
