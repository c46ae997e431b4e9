import ChainTypes

/// The types a value has at a function's boundary (the ABI). Inside the VM there are only
/// two kinds of value, 64-bit integers and byte strings; `bool` is an integer 0 or 1 and
/// `address` a 20-byte string.
public enum ValueType: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case int = 1
    case bool = 2
    case bytes = 3
    case address = 4

    public var description: String {
        switch self {
        case .int: "int"
        case .bool: "bool"
        case .bytes: "bytes"
        case .address: "address"
        }
    }

    public init?(name: String) {
        guard let t = ValueType.allCases.first(where: { $0.description == name }) else { return nil }
        self = t
    }
}

/// One function of a program: its ABI (name, kind, parameter and result types) and where its
/// code starts.
public struct FunctionInfo: Sendable, Equatable {
    /// Who may start a run at this function.
    public enum Kind: UInt8, Sendable, CaseIterable, CustomStringConvertible {
        /// Only other functions of the program call it.
        case `internal` = 0
        /// A transaction may call it.
        case `public` = 1
        /// Only the ledger's scheduler calls it, at the time the contract asked for.
        case scheduled = 2
        /// Runs once, at deployment.
        case constructor = 3

        public var description: String {
            switch self {
            case .internal: "internal"
            case .public: "public"
            case .scheduled: "scheduled"
            case .constructor: "constructor"
            }
        }
    }

    public var name: String
    public var kind: Kind
    public var params: [ValueType]
    /// nil: the function returns nothing (its code returns the integer 0, which is discarded).
    public var result: ValueType?
    /// Local variable slots, parameters first.
    public var locals: Int
    /// Byte offset of the first instruction in `Program.code`.
    public var entry: Int

    public init(name: String, kind: Kind, params: [ValueType], result: ValueType?, locals: Int, entry: Int) {
        self.name = name; self.kind = kind; self.params = params; self.result = result; self.locals = locals; self.entry = entry
    }
}

/// Named bounds of the VM. Every program, run and value stays inside them.
public enum VMLimits {
    public static let maxCodeBytes = 65_536
    public static let maxConstants = 1_024
    public static let maxFunctions = 256
    public static let maxNameBytes = 64
    public static let maxParams = 16
    public static let maxLocals = 255
    /// Operand stack slots one function frame may use (checked by the verifier).
    public static let maxFrameStack = 64
    /// Nested calls within one run.
    public static let maxCallDepth = 64
    /// Longest byte string a value, constant, storage key or stored value may be.
    public static let maxBytesLength = 4_096
    /// Bytes of new byte strings one run may create (concat, slice, abi_encode, sha256,
    /// int_to_bytes, storage loads). With the stack and locals bounds this bounds a run's memory.
    public static let maxBytesCreatedPerRun = 16 * 1_024 * 1_024
}

/// A compiled contract: constants, the function table (the ABI) and the code.
///
/// Encoding: type tag 0x0d, version 1, then `list≤1024` of constants (`bytes≤4096`),
/// `list≤256` of functions (name `string≤64`, kind byte, `list≤16` of parameter type bytes,
/// result type byte or 0, locals uvarint, entry uvarint), then the code (`bytes≤65536`).
public struct Program: Sendable, Equatable, CanonicalCodable {
    public static let version: UInt8 = 1

    public var constants: [[UInt8]]
    public var functions: [FunctionInfo]
    public var code: [UInt8]

    public init(constants: [[UInt8]], functions: [FunctionInfo], code: [UInt8]) {
        self.constants = constants; self.functions = functions; self.code = code
    }

    public func function(named name: String) -> (index: Int, info: FunctionInfo)? {
        guard let i = functions.firstIndex(where: { $0.name == name }) else { return nil }
        return (i, functions[i])
    }

    public func encode(to w: inout CanonicalWriter) {
        w.header(.contractProgram, version: Self.version)
        w.uvarint(constants.count)
        for c in constants { w.lengthPrefixed(c) }
        w.uvarint(functions.count)
        for f in functions {
            w.string(f.name)
            w.byte(f.kind.rawValue)
            w.uvarint(f.params.count)
            for p in f.params { w.byte(p.rawValue) }
            w.byte(f.result?.rawValue ?? 0)
            w.uvarint(f.locals)
            w.uvarint(f.entry)
        }
        w.lengthPrefixed(code)
    }

    public init(from r: inout CanonicalReader) throws(DecodeError) {
        _ = try r.header(.contractProgram, versions: Self.version...Self.version)
        let constantCount = try r.count("constants", limit: VMLimits.maxConstants)
        constants = []
        for i in 0..<constantCount { constants.append(try r.lengthPrefixed("constants[\(i)]", limit: VMLimits.maxBytesLength)) }
        let functionCount = try r.count("functions", limit: VMLimits.maxFunctions)
        functions = []
        for i in 0..<functionCount {
            functions.append(try r.nested("functions[\(i)]") { (r: inout CanonicalReader) throws(DecodeError) -> FunctionInfo in
                let name = try r.string("name", limit: VMLimits.maxNameBytes)
                let kindByte = try r.byte("kind")
                guard let kind = FunctionInfo.Kind(rawValue: kindByte) else { throw r.error("kind", .unknownTag(UInt64(kindByte)), at: r.offset - 1) }
                let paramCount = try r.count("params", limit: VMLimits.maxParams)
                var params: [ValueType] = []
                for j in 0..<paramCount {
                    let b = try r.byte("params[\(j)]")
                    guard let t = ValueType(rawValue: b) else { throw r.error("params[\(j)]", .unknownTag(UInt64(b)), at: r.offset - 1) }
                    params.append(t)
                }
                let resultByte = try r.byte("result")
                var result: ValueType?
                if resultByte != 0 {
                    guard let t = ValueType(rawValue: resultByte) else { throw r.error("result", .unknownTag(UInt64(resultByte)), at: r.offset - 1) }
                    result = t
                }
                let locals = Int(try r.uvarint("locals", maximum: UInt64(VMLimits.maxLocals)))
                let entry = Int(try r.uvarint("entry", maximum: UInt64(VMLimits.maxCodeBytes)))
                return FunctionInfo(name: name, kind: kind, params: params, result: result, locals: locals, entry: entry)
            })
        }
        code = try r.lengthPrefixed("code", limit: VMLimits.maxCodeBytes)
    }
}
