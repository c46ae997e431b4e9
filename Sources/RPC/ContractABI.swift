import ChainTypes
import ContractVM
import HansaCrypto
import Ledger

/// A contract's ABI as the compiler writes it (`NAME.abi.json`, docs/CONTRACTS.md): functions
/// with named parameters, events with named fields, the storage layout. With it the RPC
/// encodes calls from named arguments and decodes events and storage into named fields — for
/// any contract, so a new one (or a new version of the letter of credit) needs no server change.
public struct ContractABI: Sendable, Equatable {
    public struct Field: Sendable, Equatable {
        public let name: String
        public let type: ValueType
    }
    public struct Function: Sendable, Equatable {
        public let name: String
        public let kind: String
        public let params: [Field]
        public let result: ValueType?
    }
    public struct EventType: Sendable, Equatable {
        public let name: String
        public let fields: [Field]
        public var topic: Hash { SHA256.hash(utf8: name) }
    }
    public struct Slot: Sendable, Equatable {
        public let name: String
        /// nil for a variable; the key type for a map.
        public let keyType: ValueType?
        public let type: ValueType
    }

    /// The contract's name (the file's, e.g. `letter_of_credit`).
    public let name: String
    /// SHA-256 of the bytecode this ABI belongs to (a contract account's `code_hash`).
    public let codeHash: Hash
    public let functions: [Function]
    public let events: [EventType]
    public let storage: [Slot]
    /// The ABI document as read.
    public let document: JSON

    /// Reads an ABI document. `code_hash` comes from the document or, when it has none, from
    /// the caller (who compiled the bytecode).
    public init(json: JSON, name: String, codeHash: Hash? = nil) throws(ABIError) {
        guard let o = json.objectValue else { throw ABIError("an ABI document must be a JSON object") }
        if let given = o["code_hash"]?.stringValue {
            guard let h = Hash(hex: given) else { throw ABIError("code_hash must be 64 hex digits") }
            if let codeHash, codeHash != h { throw ABIError("code_hash \(given) is not the bytecode's \(codeHash.hex)") }
            self.codeHash = h
        } else if let codeHash {
            self.codeHash = codeHash
        } else {
            throw ABIError("the ABI has no code_hash (compile with `hansa contract build`, which writes it)")
        }
        self.name = o["name"]?.stringValue ?? name
        func fields(_ v: JSON?, _ what: String) throws(ABIError) -> [Field] {
            guard let list = v?.arrayValue else { throw ABIError("\(what) must be a list") }
            var out: [Field] = []
            for f in list {
                guard let n = f["name"]?.stringValue, let t = f["type"]?.stringValue.flatMap(ValueType.init(name:)) else {
                    throw ABIError("each of \(what) needs a name and a type (int, bool, bytes or address)")
                }
                out.append(Field(name: n, type: t))
            }
            return out
        }
        var functions: [Function] = []
        for f in o["functions"]?.arrayValue ?? [] {
            guard let n = f["name"]?.stringValue, let kind = f["kind"]?.stringValue else { throw ABIError("each function needs a name and a kind") }
            let result: ValueType? = switch f["result"] {
            case .string(let t)?: ValueType(name: t)
            default: nil
            }
            functions.append(Function(name: n, kind: kind, params: try fields(f["params"], "the parameters of \(n)"), result: result))
        }
        var events: [EventType] = []
        for e in o["events"]?.arrayValue ?? [] {
            guard let n = e["name"]?.stringValue else { throw ABIError("each event needs a name") }
            events.append(EventType(name: n, fields: try fields(e["fields"], "the fields of \(n)")))
        }
        var storage: [Slot] = []
        for s in o["storage"]?.arrayValue ?? [] {
            guard let n = s["name"]?.stringValue, let key = s["key"]?.stringValue,
                  let t = s["type"]?.stringValue.flatMap(ValueType.init(name:)) else { throw ABIError("each storage slot needs a name, a key and a type") }
            var keyType: ValueType? = nil
            if key != n {
                // "name/<abi int>"
                guard key.hasPrefix(n + "/<abi "), key.hasSuffix(">"),
                      let kt = ValueType(name: String(key.dropFirst(n.count + 6).dropLast())) else {
                    throw ABIError("storage slot \(n) has an unreadable key pattern \(key)")
                }
                keyType = kt
            }
            storage.append(Slot(name: n, keyType: keyType, type: t))
        }
        self.functions = functions
        self.events = events
        self.storage = storage
        self.document = json
    }

    public func function(_ name: String) -> Function? { functions.first { $0.name == name } }

    /// The integer `const` named `name` in the ABI document's `constants`, or nil.
    public func constant(_ name: String) -> Int64? {
        for c in document["constants"]?.arrayValue ?? [] where c["name"]?.stringValue == name { return c["value"]?.integer(Int64.self) }
        return nil
    }

    /// The ABI disagrees with the program deployed under its code hash: a wrong file.
    public func check(against program: Program) throws(ABIError) {
        for f in functions {
            guard let (_, info) = program.function(named: f.name) else { throw ABIError("the code has no function \(f.name)") }
            guard info.params == f.params.map(\.type), info.result == f.result, "\(info.kind)" == f.kind else {
                throw ABIError("function \(f.name) differs between the ABI and the code")
            }
        }
        let callable = program.functions.filter { $0.kind != .internal }.map(\.name)
        for n in callable where function(n) == nil { throw ABIError("the ABI leaves out function \(n)") }
    }

    // MARK: Named values

    /// A call's input from named arguments: each parameter exactly once, by name.
    public func encodeCall(_ function: String, args: JSONObject) throws(ABIError) -> [UInt8] {
        guard let f = self.function(function) else {
            throw ABIError("\(name) has no function \(function); it has \(functions.map(\.name).joined(separator: ", "))")
        }
        for key in args.keys where !f.params.contains(where: { $0.name == key }) {
            throw ABIError("\(function) has no parameter \(key); its parameters are \(f.params.map { "\($0.name): \($0.type)" }.joined(separator: ", "))")
        }
        var values: [ABIValue] = []
        for p in f.params {
            guard let v = args[p.name] else { throw ABIError("\(function) needs \(p.name) (\(p.type))") }
            values.append(try Self.value(v, as: p.type, name: p.name))
        }
        return ABI.encodeCall(function, values)
    }

    /// A JSON value as an ABI value of `type`: an int as a number or a decimal string; a bool;
    /// bytes as a string (its UTF-8) or `{"hex": "…"}`; an address as `hx…`.
    public static func value(_ v: JSON, as type: ValueType, name: String) throws(ABIError) -> ABIValue {
        switch type {
        case .int:
            if let n = v.integer(Int64.self) { return .int(n) }
            if let s = v.stringValue, let n = Int64(s) { return .int(n) }
            throw ABIError("\(name) must be an integer (a number or a decimal string)")
        case .bool:
            guard let b = v.boolValue else { throw ABIError("\(name) must be true or false") }
            return .bool(b)
        case .bytes:
            let bytes: [UInt8]
            if let s = v.stringValue {
                bytes = Array(s.utf8)
            } else if let h = v["hex"]?.stringValue, let b = Hex.decode(h) {
                bytes = b
            } else {
                throw ABIError("\(name) must be text or {\"hex\": \"…\"}")
            }
            guard bytes.count <= VMLimits.maxBytesLength else { throw ABIError("\(name) is \(bytes.count) bytes; at most \(VMLimits.maxBytesLength)") }
            return .bytes(bytes)
        case .address:
            guard let s = v.stringValue, let a = Address(text: s) else { throw ABIError("\(name) must be an address (hx…)") }
            return .address(a)
        }
    }

    /// An ABI value as JSON: ints as decimal strings, printable bytes as text, other bytes as
    /// `{"hex": "…"}`, addresses as `hx…`.
    public static func json(_ v: ABIValue) -> JSON {
        switch v {
        case .int(let n): return .string(String(n))
        case .bool(let b): return .bool(b)
        case .address(let a): return .string(a.text)
        case .bytes(let b):
            if !b.isEmpty, b.allSatisfy({ $0 >= 0x20 && $0 < 0x7f }) { return .string(String(decoding: b, as: UTF8.self)) }
            return .object(["hex": .string(Hex.encode(b))])
        }
    }

    /// A storage value (as the compiler lays it out: ints and bools as 8 bytes, the rest raw).
    public static func storageValue(_ bytes: [UInt8]?, _ type: ValueType) -> JSON {
        let b = bytes ?? []
        switch type {
        case .int, .bool:
            let n: Int64 = b.count == 8 ? Int64(bitPattern: b.reduce(0) { $0 << 8 | UInt64($1) }) : 0
            return type == .bool ? .bool(n != 0) : .string(String(n))
        case .address:
            return Address(bytes: b).map { .string($0.text) } ?? .null
        case .bytes:
            return json(.bytes(b))
        }
    }

    /// An event this ABI declares, decoded into named fields; nil when it is not one of them.
    public func decode(_ event: Event) -> JSON? {
        guard let topic = event.topics.first, let type = events.first(where: { $0.topic == topic }),
              let values = try? ABI.decodeValues(event.data), values.count == type.fields.count,
              zip(values, type.fields).allSatisfy({ $0.type == $1.type }) else { return nil }
        var fields = JSONObject()
        for (v, f) in zip(values, type.fields) { fields[f.name] = Self.json(v) }
        return .object(["name": .string(type.name), "fields": .object(fields)])
    }
}
