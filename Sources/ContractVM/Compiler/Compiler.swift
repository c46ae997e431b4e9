import ChainTypes

/// The result of compiling a contract: the bytecode to deploy and the ABI that clients use.
public struct CompiledContract: Sendable {
    public let program: Program
    /// The canonical encoding of `program`: what a deploy transaction carries.
    public var bytecode: [UInt8] { program.canonicalBytes }
    /// Functions (with parameter names), events and the storage layout, as JSON.
    public let abiJSON: String
    /// The names of the events the contract declares (an event's first topic is SHA-256 of its name).
    public let eventNames: [String]
    /// The contract's `const` declarations, in source order, with their folded values — so
    /// that tools, tests and clients read a contract's codes (flags, document and discrepancy
    /// bits, states) from the contract instead of keeping copies that can drift.
    public let constants: [ContractConstant]

    /// The value of the constant `name`, or nil.
    public func constant(_ name: String) -> ContractConstant.Value? { constants.first { $0.name == name }?.value }

    /// The integer constant `name`; a missing or non-integer name is a programming error of the
    /// caller (it names a constant the contract was written with).
    public func int(_ name: String) -> Int64 {
        guard case .int(let v)? = constant(name) else { preconditionFailure("the contract has no integer constant \(name)") }
        return v
    }
}

/// One `const` of a contract.
public struct ContractConstant: Sendable, Equatable {
    public enum Value: Sendable, Equatable {
        case int(Int64)
        case bool(Bool)
        case bytes([UInt8])
    }
    public let name: String
    public let value: Value
}

/// Compiles the contract language (docs/CONTRACTS.md) to VM bytecode. The output passes the
/// verifier; an error names file:line:column and says what is wrong in a sentence.
public enum Compiler {
    public static func compile(_ source: String, file: String = "<source>") throws(CompileError) -> CompiledContract {
        var lexer = Lexer(source, file: file)
        var parser = Parser(tokens: try lexer.tokens(), file: file)
        let ast = try parser.parseFile()
        var gen = CodeGenerator(file: file, source: ast)
        let compiled = try gen.generate()
        do { _ = try Verifier.verify(compiled.program) } catch {
            // The language's checks keep every program within the verifier's rules except the
            // VM's size limits (e.g. an expression nested past the 64-value operand stack).
            let function = ast.functions.first { error.message.contains("function \($0.name),") }
            throw CompileError(file: file, position: function?.position ?? SourcePosition(line: 1, column: 1),
                               message: "this exceeds a limit of the VM: \(error.message)")
        }
        return compiled
    }
}

enum ConstValue {
    case int(Int64)
    case bool(Bool)
    case bytes([UInt8])

    var type: LType {
        switch self {
        case .int: .int
        case .bool: .bool
        case .bytes: .bytes
        }
    }
}

struct Builtin {
    var params: [LType]
    var result: LType?
    var host: HostFunction?
    var op: Opcode?
}

let builtins: [String: Builtin] = [
    "caller": Builtin(params: [], result: .address, host: .caller),
    "caller_role": Builtin(params: [], result: .int, host: .callerRole),
    "role_of": Builtin(params: [.address], result: .int, host: .roleOf),
    "now": Builtin(params: [], result: .int, host: .now),
    "height": Builtin(params: [], result: .int, host: .height),
    "self": Builtin(params: [], result: .address, host: .this),
    "value": Builtin(params: [], result: .int, host: .value),
    "value_currency": Builtin(params: [], result: .bytes, host: .valueCurrency),
    "balance": Builtin(params: [.address, .bytes], result: .int, host: .balance),
    "pay": Builtin(params: [.address, .bytes, .int], result: nil, host: .pay),
    "sha256": Builtin(params: [.bytes], result: .bytes, op: .sha256),
    "len": Builtin(params: [.bytes], result: .int, op: .len),
    "slice": Builtin(params: [.bytes, .int, .int], result: .bytes, op: .slice),
    "to_bytes": Builtin(params: [.int], result: .bytes, op: .intToBytes),
]

struct CodeGenerator {
    let file: String
    let source: SourceFile
    var code: [UInt8] = []
    var constants: [[UInt8]] = []
    var constantIndex: [[UInt8]: Int] = [:]
    var labels: [Int?] = []
    var fixups: [(at: Int, label: Int)] = []

    var constValues: [String: ConstValue] = [:]
    var storage: [String: LType] = [:]
    var maps: [String: (LType, LType)] = [:]
    var events: [String: [Param]] = [:]
    var functionIndex: [String: Int] = [:]

    // Per function.
    var scopes: [[String: (slot: Int, type: LType, position: SourcePosition)]] = []
    var nextSlot = 0
    var maxSlots = 0
    var current: FunctionDecl!

    init(file: String, source: SourceFile) {
        self.file = file
        self.source = source
    }

    func error(_ message: String, _ p: SourcePosition) -> CompileError { CompileError(file: file, position: p, message: message) }

    // MARK: Emitting

    mutating func emit(_ op: Opcode) { code.append(op.rawValue) }
    mutating func emit(_ op: Opcode, _ operand: Int64) {
        code.append(op.rawValue)
        let n = op.immediateBytes
        for k in 0..<n { code.append(UInt8(truncatingIfNeeded: UInt64(bitPattern: operand) >> UInt64(8 * (n - 1 - k)))) }
    }
    mutating func host(_ f: HostFunction) { emit(.host, Int64(f.rawValue)) }
    mutating func newLabel() -> Int { labels.append(nil); return labels.count - 1 }
    mutating func place(_ label: Int) { labels[label] = code.count }
    mutating func jump(_ op: Opcode, to label: Int) {
        code.append(op.rawValue)
        fixups.append((code.count, label))
        code += [0, 0, 0, 0]
    }

    mutating func pushConstant(_ bytes: [UInt8], at p: SourcePosition) throws(CompileError) {
        guard bytes.count <= VMLimits.maxBytesLength else { throw error("this string is \(bytes.count) bytes; the limit is \(VMLimits.maxBytesLength)", p) }
        if let i = constantIndex[bytes] { emit(.pushConst, Int64(i)); return }
        guard constants.count < VMLimits.maxConstants else { throw error("more than \(VMLimits.maxConstants) distinct strings", p) }
        constantIndex[bytes] = constants.count
        constants.append(bytes)
        emit(.pushConst, Int64(constants.count - 1))
    }

    // MARK: Declarations

    mutating func generate() throws(CompileError) -> CompiledContract {
        var taken: [String: SourcePosition] = [:]
        func claim(_ name: String, _ p: SourcePosition) throws(CompileError) {
            if let first = taken[name] { throw error("\(name) is already declared at \(first)", p) }
            if builtins[name] != nil { throw error("\(name) is a built-in function and cannot be redeclared", p) }
            taken[name] = p
        }
        for (name, expr, p) in source.constants {
            try claim(name, p)
            constValues[name] = try fold(expr)
        }
        for (name, t, p) in source.storage { try claim(name, p); storage[name] = t }
        for (name, k, v, p) in source.maps { try claim(name, p); maps[name] = (k, v) }
        for (name, ps, p) in source.events {
            try claim(name, p)
            guard ps.count <= VMLimits.maxParams else { throw error("an event has at most \(VMLimits.maxParams) fields", p) }
            events[name] = ps
        }
        guard source.functions.count <= VMLimits.maxFunctions else { throw error("more than \(VMLimits.maxFunctions) functions", source.functions[VMLimits.maxFunctions].position) }
        for (i, f) in source.functions.enumerated() {
            try claim(f.name, f.position)
            guard f.params.count <= VMLimits.maxParams else { throw error("\(f.name) has \(f.params.count) parameters; at most \(VMLimits.maxParams) are allowed", f.position) }
            if f.kind == .scheduled && f.result != nil { throw error("a sched fn returns nothing: the scheduler discards results", f.position) }
            functionIndex[f.name] = i
        }
        var infos: [FunctionInfo] = []
        for f in source.functions {
            let entry = code.count
            let locals = try function(f)
            infos.append(FunctionInfo(name: f.name, kind: f.kind, params: f.params.map(\.type.valueType), result: f.result?.valueType,
                                      locals: locals, entry: entry))
        }
        guard code.count <= VMLimits.maxCodeBytes else { throw error("the contract compiles to \(code.count) bytes of code; the limit is \(VMLimits.maxCodeBytes)", SourcePosition(line: 1, column: 1)) }
        for (at, label) in fixups {
            let target = UInt32(labels[label]!)
            for k in 0..<4 { code[at + k] = UInt8(truncatingIfNeeded: target >> UInt32(8 * (3 - k))) }
        }
        let program = Program(constants: constants, functions: infos, code: code)
        return CompiledContract(program: program, abiJSON: abiJSON(), eventNames: source.events.map(\.0), constants: exportedConstants())
    }

    func exportedConstants() -> [ContractConstant] {
        source.constants.map { name, _, _ in
            let value: ContractConstant.Value = switch constValues[name]! {
            case .int(let v): .int(v)
            case .bool(let v): .bool(v)
            case .bytes(let v): .bytes(v)
            }
            return ContractConstant(name: name, value: value)
        }
    }

    func abiJSON() -> String {
        func params(_ ps: [Param]) -> String {
            "[" + ps.map { "{\"name\": \"\($0.name)\", \"type\": \"\($0.type)\"}" }.joined(separator: ", ") + "]"
        }
        var lines: [String] = ["{", "  \"functions\": ["]
        let fs = source.functions.filter { $0.kind != .internal }
        lines += fs.enumerated().map { i, f in
            "    {\"name\": \"\(f.name)\", \"kind\": \"\(f.kind)\", \"params\": \(params(f.params)), \"result\": \(f.result.map { "\"\($0)\"" } ?? "null")}"
                + (i == fs.count - 1 ? "" : ",")
        }
        lines.append("  ],")
        lines.append("  \"events\": [")
        lines += source.events.enumerated().map { i, e in
            "    {\"name\": \"\(e.0)\", \"fields\": \(params(e.1))}" + (i == source.events.count - 1 ? "" : ",")
        }
        lines.append("  ],")
        lines.append("  \"storage\": [")
        let slots = source.storage.map { "    {\"name\": \"\($0.0)\", \"key\": \"\($0.0)\", \"type\": \"\($0.1)\"}" }
            + source.maps.map { "    {\"name\": \"\($0.0)\", \"key\": \"\($0.0)/<abi \($0.1)>\", \"type\": \"\($0.2)\"}" }
        lines += slots.enumerated().map { i, s in s + (i == slots.count - 1 ? "" : ",") }
        lines.append("  ],")
        lines.append("  \"constants\": [")
        let consts = exportedConstants().map { c -> String in
            let (type, value): (String, String) = switch c.value {
            case .int(let v): ("int", String(v))
            case .bool(let v): ("bool", v ? "true" : "false")
            case .bytes(let v): ("bytes", "\"" + Hex.encode(v) + "\"")
            }
            return "    {\"name\": \"\(c.name)\", \"type\": \"\(type)\", \"value\": \(value)}"
        }
        lines += consts.enumerated().map { i, s in s + (i == consts.count - 1 ? "" : ",") }
        lines.append("  ]")
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    func fold(_ e: Expr) throws(CompileError) -> ConstValue {
        switch e {
        case .integer(let v, _): return .int(v)
        case .string(let s, _): return .bytes(s)
        case .boolean(let b, _): return .bool(b)
        case .name(let n, let p):
            guard let v = constValues[n] else { throw error("a constant's value may use only literals and earlier constants; \(n) is not one", p) }
            return v
        case .unary("-", let x, let p):
            guard case .int(let v) = try fold(x), v != .min else { throw error("'-' needs an integer", p) }
            return .int(-v)
        case .binary(let op, let a, let b, let p):
            switch (try fold(a), try fold(b)) {
            case (.int(let x), .int(let y)):
                let r: (Int64, Bool)
                switch op {
                case "+": r = x.addingReportingOverflow(y)
                case "-": r = x.subtractingReportingOverflow(y)
                case "*": r = x.multipliedReportingOverflow(by: y)
                case "/", "%":
                    guard y != 0 else { throw error("division by zero in a constant", p) }
                    r = op == "/" ? x.dividedReportingOverflow(by: y) : x.remainderReportingOverflow(dividingBy: y)
                default: throw error("a constant may use only + - * / %", p)
                }
                guard !r.1 else { throw error("this constant overflows 64 bits", p) }
                return .int(r.0)
            case (.bytes(let x), .bytes(let y)) where op == "+": return .bytes(x + y)
            default: throw error("a constant may combine only integers with + - * / % or strings with +", p)
            }
        default: throw error("a constant's value must be a literal or arithmetic on literals and earlier constants", e.position)
        }
    }

    // MARK: Functions

    /// Generates one function; returns its number of local slots.
    mutating func function(_ f: FunctionDecl) throws(CompileError) -> Int {
        current = f
        scopes = [[:]]
        nextSlot = 0
        maxSlots = 0
        for p in f.params { try declare(p.name, p.type, p.position) }
        try block(f.body, newScope: false)
        if !Self.alwaysReturns(f.body) {
            guard f.result == nil else { throw error("\(f.name) must return \(f.result!.withArticle) on every path; add a return at the end", f.position) }
            emit(.pushInt, 0)
            emit(.ret)
        } else {
            // No run gets here (every path returns or traps), but the code must not end: a
            // label after a final if/else, or statements after require(false, …), would
            // point past it, and the verifier follows every edge.
            emit(.pushInt, 0)
            emit(.ret)
        }
        return maxSlots
    }

    static func alwaysReturns(_ body: [Stmt]) -> Bool {
        body.contains { s in
            switch s {
            case .ret: true
            case .require(.boolean(false, _), _, _): true
            case .ifElse(_, let a, let b?, _): alwaysReturns(a) && alwaysReturns(b)
            default: false
            }
        }
    }

    mutating func declare(_ name: String, _ type: LType, _ p: SourcePosition) throws(CompileError) {
        if let existing = lookupLocal(name) { throw error("\(name) is already declared at \(existing.position)", p) }
        if constValues[name] != nil || storage[name] != nil || maps[name] != nil || builtins[name] != nil || functionIndex[name] != nil {
            throw error("\(name) already names a constant, storage variable, map or function; choose another name", p)
        }
        guard nextSlot < VMLimits.maxLocals else { throw error("more than \(VMLimits.maxLocals) local variables in \(current.name)", p) }
        scopes[scopes.count - 1][name] = (nextSlot, type, p)
        nextSlot += 1
        maxSlots = max(maxSlots, nextSlot)
    }

    func lookupLocal(_ name: String) -> (slot: Int, type: LType, position: SourcePosition)? {
        for scope in scopes.reversed() { if let v = scope[name] { return v } }
        return nil
    }

    mutating func block(_ body: [Stmt], newScope: Bool = true) throws(CompileError) {
        let saved = nextSlot
        if newScope { scopes.append([:]) }
        for s in body { try statement(s) }
        if newScope { scopes.removeLast(); nextSlot = saved }
    }

    mutating func expect(_ e: Expr, _ type: LType, _ context: String) throws(CompileError) {
        let t = try expression(e)
        guard t == type else { throw error("\(context) must be \(type), not \(t.map(\.description) ?? "nothing")", e.position) }
    }

    mutating func statement(_ s: Stmt) throws(CompileError) {
        switch s {
        case .declare(let name, let declared, let value, let p):
            guard let t = try expression(value) else { throw error("\(name) cannot hold the result of a function that returns nothing", value.position) }
            if let declared, declared != t { throw error("\(name) is declared \(declared) but its value is \(t)", value.position) }
            try declare(name, t, p)
            emit(.store, Int64(lookupLocal(name)!.slot))
        case .assign(let name, let value, let p):
            if let local = lookupLocal(name) {
                try expect(value, local.type, "the value assigned to \(name)")
                emit(.store, Int64(local.slot))
            } else if let t = storage[name] {
                try pushConstant(Array(name.utf8), at: p)
                try expect(value, t, "the value assigned to \(name)")
                encodeForStorage(t)
                host(.storageStore)
            } else if constValues[name] != nil {
                throw error("\(name) is a constant and cannot be assigned", p)
            } else {
                throw error("unknown variable \(name); declare it with let", p)
            }
        case .assignIndex(let name, let key, let value, let p):
            guard let (_, v) = maps[name] else { throw error("\(name) is not a map", p) }
            try mapKey(name, key, p)
            try expect(value, v, "a value stored in \(name)")
            encodeForStorage(v)
            host(.storageStore)
        case .delete(let name, let key, let p):
            guard maps[name] != nil else { throw error("\(name) is not a map", p) }
            try mapKey(name, key, p)
            host(.storageDelete)
        case .ifElse(let cond, let then, let otherwise, _):
            try expect(cond, .bool, "an if condition")
            let elseLabel = newLabel(), end = newLabel()
            jump(.jumpIfFalse, to: elseLabel)
            try block(then)
            if let otherwise {
                jump(.jump, to: end)
                place(elseLabel)
                try block(otherwise)
            } else {
                place(elseLabel)
            }
            place(end)
        case .loop(let cond, let body, _):
            let top = newLabel(), end = newLabel()
            place(top)
            try expect(cond, .bool, "a while condition")
            jump(.jumpIfFalse, to: end)
            try block(body)
            jump(.jump, to: top)
            place(end)
        case .ret(let value, let p):
            switch (value, current.result) {
            case (nil, nil): emit(.pushInt, 0)
            case (let v?, let t?): try expect(v, t, "the value \(current.name) returns")
            case (nil, let t?): throw error("\(current.name) must return \(t.withArticle)", p)
            case (_?, nil): throw error("\(current.name) returns nothing; remove the value or declare '-> type'", p)
            }
            emit(.ret)
        case .require(let cond, let message, _):
            // cond; jump_if_false → failing; jump → passed; failing: message; trap; passed:
            try expect(cond, .bool, "require's condition")
            let failing = newLabel(), passed = newLabel()
            jump(.jumpIfFalse, to: failing)
            jump(.jump, to: passed)
            place(failing)
            try expect(message, .bytes, "require's message")
            emit(.trap)
            place(passed)
        case .emit(let name, let args, let p):
            guard let fields = events[name] else { throw error("unknown event \(name); declare it with 'event \(name)(...);'", p) }
            guard args.count == fields.count else { throw error("event \(name) has \(counted(fields.count, "field")), not \(args.count)", p) }
            try pushConstant(Array(name.utf8), at: p)
            try encodeValues(args, fields.map(\.type), what: "field", of: "event \(name)", fields.map(\.name), p)
            host(.emit)
        case .schedule(let name, let args, let time, let p):
            guard let index = functionIndex[name] else { throw error("unknown function \(name)", p) }
            let f = source.functions[index]
            guard f.kind == .scheduled else { throw error("\(name) must be declared 'sched fn' to be scheduled", p) }
            guard args.count == f.params.count else { throw error("\(name) takes \(counted(f.params.count, "argument")), not \(args.count)", p) }
            try expect(time, .int, "the time of a scheduled call")
            try pushConstant([UInt8(name.utf8.count)] + Array(name.utf8) + [UInt8(args.count)], at: p)
            if !args.isEmpty {
                try encodeValues(args, f.params.map(\.type), what: "argument", of: name, f.params.map(\.name), p)
                emit(.concat)
            }
            host(.schedule)
        case .expression(let e, _):
            if try expression(e) != nil { emit(.pop) }
        }
    }

    /// Pushes the ABI encodings of `args`, concatenated (one byte string; empty when no args).
    mutating func encodeValues(_ args: [Expr], _ types: [LType], what: String, of owner: String, _ names: [String],
                               _ p: SourcePosition) throws(CompileError) {
        if args.isEmpty { try pushConstant([], at: p); return }
        for (i, (arg, t)) in zip(args, types).enumerated() {
            try expect(arg, t, "\(what) \(names[i]) of \(owner)")
            emit(.abiEncode, Int64(t.valueType.rawValue))
            if i > 0 { emit(.concat) }
        }
    }

    mutating func mapKey(_ name: String, _ key: Expr, _ p: SourcePosition) throws(CompileError) {
        let (k, _) = maps[name]!
        try pushConstant(Array(name.utf8) + [UInt8(ascii: "/")], at: p)
        try expect(key, k, "the key of \(name)")
        emit(.abiEncode, Int64(k.valueType.rawValue))
        emit(.concat)
    }

    mutating func encodeForStorage(_ t: LType) {
        if t == .int || t == .bool { emit(.intToBytes) }
    }

    mutating func decodeFromStorage(_ t: LType) {
        if t == .int || t == .bool { emit(.bytesToInt) }
    }

    // MARK: Expressions

    /// Generates `e`, leaving its value on the stack; returns its type (nil: nothing).
    @discardableResult
    mutating func expression(_ e: Expr) throws(CompileError) -> LType? {
        switch e {
        case .integer(let v, _): emit(.pushInt, v); return .int
        case .string(let s, let p): try pushConstant(s, at: p); return .bytes
        case .boolean(let b, _): emit(.pushInt, b ? 1 : 0); return .bool
        case .name(let n, let p):
            if let local = lookupLocal(n) { emit(.load, Int64(local.slot)); return local.type }
            if let c = constValues[n] {
                switch c {
                case .int(let v): emit(.pushInt, v)
                case .bool(let b): emit(.pushInt, b ? 1 : 0)
                case .bytes(let b): try pushConstant(b, at: p)
                }
                return c.type
            }
            if let t = storage[n] {
                try pushConstant(Array(n.utf8), at: p)
                host(.storageLoad)
                decodeFromStorage(t)
                return t
            }
            if maps[n] != nil { throw error("\(n) is a map; read an entry with \(n)[key]", p) }
            throw error("unknown name \(n)", p)
        case .index(let n, let key, let p):
            guard let (_, v) = maps[n] else { throw error("\(n) is not a map", p) }
            try mapKey(n, key, p)
            host(.storageLoad)
            decodeFromStorage(v)
            return v
        case .call(let n, let args, let p):
            return try call(n, args, p)
        case .unary(let op, let x, let p):
            if op == "-" {
                try expect(x, .int, "the operand of '-'")
                emit(.neg)
                return .int
            }
            guard try expression(x) == .bool else { throw error("'!' needs a bool", p) }
            emit(.not)
            return .bool
        case .binary(let op, let a, let b, let p):
            switch op {
            case "&&", "||":
                try expect(a, .bool, "the left side of '\(op)'")
                let skip = newLabel(), end = newLabel()
                jump(.jumpIfFalse, to: skip)
                if op == "&&" {
                    try expect(b, .bool, "the right side of '&&'")
                    jump(.jump, to: end)
                    place(skip)
                    emit(.pushInt, 0)
                } else {
                    emit(.pushInt, 1)
                    jump(.jump, to: end)
                    place(skip)
                    try expect(b, .bool, "the right side of '||'")
                }
                place(end)
                return .bool
            case "==", "!=":
                guard let ta = try expression(a) else { throw error("the left side of '\(op)' has no value", p) }
                try expect(b, ta, "the right side of '\(op)' (the left side is \(ta))")
                emit(op == "==" ? .eq : .ne)
                return .bool
            case "+":
                let ta = try expression(a)
                if ta == .bytes {
                    try expect(b, .bytes, "the right side of '+' on bytes")
                    emit(.concat)
                    return .bytes
                }
                guard ta == .int else { throw error("'+' adds integers or joins bytes, not \(ta.map(\.description) ?? "nothing")", p) }
                try expect(b, .int, "the right side of '+'")
                emit(.add)
                return .int
            default:
                try expect(a, .int, "the left side of '\(op)'")
                try expect(b, .int, "the right side of '\(op)'")
                let table: [String: (Opcode, LType)] = ["-": (.sub, .int), "*": (.mul, .int), "/": (.div, .int), "%": (.mod, .int),
                                                        "<": (.lt, .bool), "<=": (.le, .bool), ">": (.gt, .bool), ">=": (.ge, .bool)]
                let (opcode, type) = table[op]!
                emit(opcode)
                return type
            }
        }
    }

    mutating func call(_ n: String, _ args: [Expr], _ p: SourcePosition) throws(CompileError) -> LType? {
        if n == "len", args.count == 1 {
            // len accepts bytes or an address (0 for an address never set).
            let t = try expression(args[0])
            guard t == .bytes || t == .address else { throw error("len takes bytes or an address", args[0].position) }
            emit(.len)
            return .int
        }
        if let b = builtins[n] {
            guard args.count == b.params.count else { throw error("\(n) takes \(counted(b.params.count, "argument")), not \(args.count)", p) }
            for (i, (arg, t)) in zip(args, b.params).enumerated() { try expect(arg, t, "argument \(i + 1) of \(n)") }
            if let h = b.host { host(h) } else { emit(b.op!) }
            return b.result
        }
        guard let index = functionIndex[n] else { throw error("unknown function \(n)", p) }
        let f = source.functions[index]
        guard f.kind == .internal else { throw error("\(n) is a \(f.kind) function; only plain 'fn' functions can be called from code", p) }
        guard args.count == f.params.count else { throw error("\(n) takes \(counted(f.params.count, "argument")), not \(args.count)", p) }
        for (arg, param) in zip(args, f.params) { try expect(arg, param.type, "argument \(param.name) of \(n)") }
        emit(.call, Int64(index))
        // A function without a result returns 0, which is dropped here.
        if f.result == nil { emit(.pop) }
        return f.result
    }
}
