import ChainTypes

/// A value at a contract's boundary: a call's arguments, a function's result, an event's data.
public enum ABIValue: Sendable, Equatable, CustomStringConvertible {
    case int(Int64)
    case bool(Bool)
    case bytes([UInt8])
    case address(Address)

    public var type: ValueType {
        switch self {
        case .int: .int
        case .bool: .bool
        case .bytes: .bytes
        case .address: .address
        }
    }

    public var description: String {
        switch self {
        case .int(let v): "\(v)"
        case .bool(let b): "\(b)"
        case .bytes(let b): String(decoding: b, as: UTF8.self).utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7f }) ? "\"\(String(decoding: b, as: UTF8.self))\"" : "0x" + Hex.encode(b)
        case .address(let a): a.description
        }
    }

    /// A string argument, as the bytes of its UTF-8 form.
    public static func string(_ s: String) -> ABIValue { .bytes(Array(s.utf8)) }
}

/// Why call input or ABI data could not be read.
public struct ABIError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The call-input encoding, also used for event data and scheduled calls:
///
///     call  = u8 name length (1–64) ‖ name (ASCII identifier) ‖ u8 argument count ‖ value*
///     value = 0x01 ‖ int64 big-endian          (int)
///           | 0x02 ‖ 0x00 or 0x01               (bool)
///           | 0x03 ‖ u16 length big-endian ‖ bytes (bytes, ≤ 4096)
///           | 0x04 ‖ 20 bytes                   (address)
public enum ABI {
    public static func encodeCall(_ function: String, _ args: [ABIValue]) -> [UInt8] {
        precondition(!function.isEmpty && function.utf8.count <= VMLimits.maxNameBytes && args.count <= VMLimits.maxParams)
        var out: [UInt8] = [UInt8(function.utf8.count)] + Array(function.utf8) + [UInt8(args.count)]
        for a in args { out += encode(a) }
        return out
    }

    public static func encode(_ value: ABIValue) -> [UInt8] {
        switch value {
        case .int(let v): [ValueType.int.rawValue] + bigEndian(v)
        case .bool(let b): [ValueType.bool.rawValue, b ? 1 : 0]
        case .bytes(let b): [ValueType.bytes.rawValue, UInt8(b.count >> 8), UInt8(b.count & 0xff)] + b
        case .address(let a): [ValueType.address.rawValue] + a.bytes
        }
    }

    public static func encode(_ values: [ABIValue]) -> [UInt8] { values.flatMap { encode($0) } }

    static func bigEndian(_ v: Int64) -> [UInt8] {
        let u = UInt64(bitPattern: v)
        return (0..<8).map { UInt8(truncatingIfNeeded: u >> (56 - 8 * UInt64($0))) }
    }

    public static func decodeCall(_ input: [UInt8]) throws(ABIError) -> (function: String, args: [ABIValue]) {
        guard let n = input.first, n >= 1, Int(n) <= VMLimits.maxNameBytes, input.count >= 1 + Int(n) + 1 else {
            throw ABIError("call input must start with a function name of 1 to \(VMLimits.maxNameBytes) bytes and an argument count")
        }
        let name = String(decoding: input[1...Int(n)], as: UTF8.self)
        guard Verifier.isIdentifier(name) else { throw ABIError("the function name in the call input is not an identifier") }
        let count = Int(input[1 + Int(n)])
        guard count <= VMLimits.maxParams else { throw ABIError("\(count) arguments; at most \(VMLimits.maxParams) are allowed") }
        var reader = ValueReader(bytes: input, offset: 2 + Int(n))
        var args: [ABIValue] = []
        for i in 0..<count {
            do { args.append(try reader.value()) } catch { throw ABIError("argument \(i + 1) of \(name): \(error.message)") }
        }
        guard reader.offset == input.count else { throw ABIError("\(input.count - reader.offset) bytes follow the last argument") }
        return (name, args)
    }

    /// Decodes a sequence of values (an event's data).
    public static func decodeValues(_ data: [UInt8]) throws(ABIError) -> [ABIValue] {
        var reader = ValueReader(bytes: data, offset: 0)
        var values: [ABIValue] = []
        while reader.offset < data.count { values.append(try reader.value()) }
        return values
    }

    struct ValueReader {
        let bytes: [UInt8]
        var offset: Int

        mutating func take(_ n: Int) throws(ABIError) -> ArraySlice<UInt8> {
            guard bytes.count - offset >= n else { throw ABIError("the input ends \(n - (bytes.count - offset)) bytes early at byte \(bytes.count)") }
            defer { offset += n }
            return bytes[offset..<offset + n]
        }

        mutating func value() throws(ABIError) -> ABIValue {
            let tag = try take(1).first!
            switch ValueType(rawValue: tag) {
            case .int: return .int(Int64(bitPattern: try take(8).reduce(0) { $0 << 8 | UInt64($1) }))
            case .bool:
                switch try take(1).first! {
                case 0: return .bool(false)
                case 1: return .bool(true)
                case let b: throw ABIError("a bool must be 0 or 1, not \(b)")
                }
            case .bytes:
                let len = try take(2).reduce(0) { $0 << 8 | Int($1) }
                guard len <= VMLimits.maxBytesLength else { throw ABIError("\(len) bytes; at most \(VMLimits.maxBytesLength) are allowed") }
                return .bytes(Array(try take(len)))
            case .address: return .address(Address(bytes: Array(try take(20)))!)
            case nil: throw ABIError("unknown value tag 0x\(String(tag, radix: 16)) at byte \(offset - 1)")
            }
        }
    }
}
