/// Why canonical bytes were refused, with the field (a dotted path) and the byte offset.
///
/// A decoder that throws this has changed nothing: decoding is a pure function of the bytes.
public struct DecodeError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Reason: Equatable, Sendable {
        /// The input ended `needed` bytes too early.
        case unexpectedEnd(needed: Int)
        /// Bytes were left after a complete value.
        case trailingBytes(count: Int)
        /// A length or count above the named limit for that field.
        case lengthExceedsLimit(length: UInt64, limit: Int)
        /// An integer encoded in more bytes than its minimal LEB128 form.
        case nonCanonicalInteger
        /// An integer that does not fit the field's range.
        case integerOverflow(maximum: UInt64)
        /// A value of another type where this one was expected.
        case unexpectedType(found: UInt8, expected: UInt8)
        /// A version this implementation does not know.
        case unknownVersion(UInt8)
        /// An enumeration tag with no meaning.
        case unknownTag(UInt64)
        /// A boolean byte other than 0 or 1.
        case invalidBoolean(UInt8)
        /// Elements of a set that must be strictly ascending were not (unsorted or duplicate).
        case notStrictlyAscending
        /// A string that is not valid UTF-8.
        case invalidUTF8
        /// A signature with s > n/2: only low-S signatures are accepted.
        case highS
        /// Well-formed bytes that do not make a valid value (e.g. a point not on the curve).
        case invalidValue(String)

        /// The reason's stable name (docs/PROTOCOL.md §1 "Refusal reasons"; the vectors' `reason`).
        public var name: String {
            switch self {
            case .unexpectedEnd: "unexpected_end"
            case .trailingBytes: "trailing_bytes"
            case .lengthExceedsLimit: "length_exceeds_limit"
            case .nonCanonicalInteger: "non_canonical"
            case .integerOverflow: "overflow"
            case .unexpectedType: "unexpected_type"
            case .unknownVersion: "unknown_version"
            case .unknownTag: "unknown_tag"
            case .invalidBoolean: "invalid_boolean"
            case .notStrictlyAscending: "not_strictly_ascending"
            case .invalidUTF8: "invalid_utf8"
            case .highS: "high_s"
            case .invalidValue: "invalid_value"
            }
        }
    }

    public let field: String
    public let offset: Int
    public let reason: Reason

    public init(field: String, offset: Int, reason: Reason) {
        self.field = field
        self.offset = offset
        self.reason = reason
    }

    public var description: String {
        let what: String = switch reason {
        case .unexpectedEnd(let needed): "input ends \(needed) byte(s) too early"
        case .trailingBytes(let count): "\(count) trailing byte(s) after a complete value"
        case .lengthExceedsLimit(let length, let limit): "length \(length) exceeds the limit of \(limit)"
        case .nonCanonicalInteger: "integer is not in its shortest (canonical) LEB128 form"
        case .integerOverflow(let maximum): "integer exceeds the maximum of \(maximum)"
        case .unexpectedType(let found, let expected):
            "type tag 0x\(hexByte(found)) where 0x\(hexByte(expected)) was expected"
        case .unknownVersion(let version): "unknown version \(version)"
        case .unknownTag(let tag): "unknown tag \(tag)"
        case .invalidBoolean(let byte): "boolean byte must be 0 or 1, got \(byte)"
        case .notStrictlyAscending: "elements are not in strictly ascending order (unsorted or duplicate)"
        case .invalidUTF8: "string is not valid UTF-8"
        case .highS: "signature has a high S value (s > n/2); only low-S signatures are accepted"
        case .invalidValue(let why): why
        }
        return "\(field) at byte \(offset): \(what)"
    }
}

private func hexByte(_ b: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(b >> 4)], digits[Int(b & 15)]])
}
