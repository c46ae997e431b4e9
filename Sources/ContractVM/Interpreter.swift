import ChainTypes
import Ledger

/// A value on the VM's stack or in a local slot.
enum Value: Sendable, Equatable {
    case int(Int64)
    case bytes([UInt8])
}

/// Why a run stopped early. Every trap undoes the run's changes; gas is still charged.
public enum Trap: Error, Equatable, Sendable, CustomStringConvertible {
    case outOfGas
    case integerOverflow(Opcode)
    case divisionByZero
    case typeMismatch(String)
    case bytesTooLong(Int)
    case sliceOutOfRange(start: Int64, count: Int64, length: Int)
    case callDepthExceeded
    case memoryExceeded
    case storedValueNotInt(Int)
    case revert(String)
    case paymentRefused(String)
    case scheduleRefused
    case eventRefused
    case badInput(String)

    public var description: String {
        switch self {
        case .outOfGas: "out of gas"
        case .integerOverflow(let op): "integer overflow in \(op)"
        case .divisionByZero: "division by zero"
        case .typeMismatch(let what): "type mismatch: \(what)"
        case .bytesTooLong(let n): "a byte string of \(n) bytes exceeds the limit of \(VMLimits.maxBytesLength)"
        case .sliceOutOfRange(let s, let c, let l): "slice of \(c) bytes from \(s) is outside a string of \(l) bytes"
        case .callDepthExceeded: "more than \(VMLimits.maxCallDepth) nested calls"
        case .memoryExceeded: "the run created more than \(VMLimits.maxBytesCreatedPerRun) bytes of byte strings"
        case .storedValueNotInt(let n): "a stored value of \(n) bytes is not an integer"
        case .revert(let m): "revert: \(m)"
        case .paymentRefused(let m): "payment refused: \(m)"
        case .scheduleRefused: "the ledger refused to schedule the call (time not in the future, input too long or too many scheduled calls)"
        case .eventRefused: "the ledger refused the event (too many events or data too long)"
        case .badInput(let m): "bad call input: \(m)"
        }
    }
}

/// Gas, charged before each instruction runs. docs/CONTRACTS.md lists the schedule.
public enum VMGas {
    /// The gas `op` costs before any per-byte or host part.
    public static func base(_ op: Opcode) -> UInt64 { base[Int(op.rawValue)] }

    static let base: [UInt64] = {
        var t = [UInt64](repeating: 1, count: 256)
        for op in Opcode.allCases {
            t[Int(op.rawValue)] = switch op {
            case .pushInt, .pushConst, .pop, .dup, .load, .store, .not: 1
            case .add, .sub, .neg, .eq, .ne, .lt, .le, .gt, .ge: 2
            case .mul, .div, .mod: 3
            case .jump, .jumpIfFalse: 2
            case .len, .intToBytes, .bytesToInt: 2
            case .concat, .slice, .abiEncode: 3
            case .sha256: 30
            case .call: 10
            case .ret, .trap: 2
            case .host: 0
            }
        }
        return t
    }()

    /// Extra gas per started 32 bytes that concat, slice, abi_encode, eq/ne and sha256 handle.
    public static let perWord: UInt64 = 1
    public static let sha256PerWord: UInt64 = 6

    public static func host(_ f: HostFunction) -> UInt64 {
        switch f {
        case .caller, .callerRole, .now, .height, .this, .value, .valueCurrency: 2
        case .roleOf: 100
        case .balance: 200
        case .pay: 2_000
        case .storageLoad: 200
        case .storageStore: 1_000
        case .storageDelete: 500
        case .emit: 400
        case .schedule: 5_000
        }
    }

    /// Per byte written to storage, to an event or to a scheduled call's input.
    public static let perStoredByte: UInt64 = 10

    /// Per local slot a call sets up (on top of `call`'s 10), so deep frames cost what they do.
    public static let perLocal: UInt64 = 1

    /// Per byte of the program's encoding, charged before every run for reading, decoding and
    /// verifying the code (review finding 8). Every run pays it, also when this node's engine
    /// has the program cached: caches differ between nodes, and gas must not. Verification is
    /// linear in the code's size (`Verifier.maxWorkPerByte`); the price is set by the shape
    /// that costs most per byte (`hansa bench gas`, "call, code not cached").
    public static let codeLoadPerByte: UInt64 = 8

    /// Gas for loading and verifying a program of `bytes` bytes.
    public static func codeLoad(bytes: Int) -> UInt64 { UInt64(bytes) * codeLoadPerByte }
}

/// One run of a verified program. Not reused across runs.
struct Machine {
    let program: VerifiedProgram
    let host: any ContractHost
    let gasLimit: UInt64
    var gasUsed: UInt64 = 0
    /// Instructions executed (for benchmarks).
    var steps: UInt64 = 0
    /// Bytes of byte strings created so far (bounded by `VMLimits.maxBytesCreatedPerRun`).
    var bytesCreated = 0
    var stack: [Value] = []
    var locals: [Value] = []
    /// A call in progress. The operand stack needs no base: the verifier proved that each
    /// function leaves exactly its result above its caller's values.
    struct Frame {
        var returnTo: Int
        var localsBase: Int
    }
    var frames: [Frame] = []

    init(program: VerifiedProgram, host: any ContractHost, gasLimit: UInt64) {
        self.program = program
        self.host = host
        self.gasLimit = gasLimit
        stack.reserveCapacity(64)
        locals.reserveCapacity(64)
    }

    @inline(__always)
    mutating func charge(_ amount: UInt64) throws(Trap) {
        let (sum, overflow) = gasUsed.addingReportingOverflow(amount)
        guard !overflow, sum <= gasLimit else { gasUsed = gasLimit; throw .outOfGas }
        gasUsed = sum
    }

    static func words(_ n: Int) -> UInt64 { UInt64((n + 31) / 32) }

    @inline(__always)
    mutating func popInt() throws(Trap) -> Int64 {
        guard case .int(let v) = stack.removeLast() else { throw .typeMismatch("expected an integer, found bytes") }
        return v
    }

    @inline(__always)
    mutating func popBytes() throws(Trap) -> [UInt8] {
        guard case .bytes(let b) = stack.removeLast() else { throw .typeMismatch("expected bytes, found an integer") }
        return b
    }

    /// A new byte string: within the length limit and the run's allocation budget.
    mutating func created(_ b: [UInt8]) throws(Trap) -> Value {
        guard b.count <= VMLimits.maxBytesLength else { throw .bytesTooLong(b.count) }
        bytesCreated += b.count
        guard bytesCreated <= VMLimits.maxBytesCreatedPerRun else { throw .memoryExceeded }
        return .bytes(b)
    }

    func address(_ b: [UInt8]) throws(Trap) -> Address {
        guard let a = Address(bytes: b) else { throw .typeMismatch("an address must be 20 bytes, not \(b.count)") }
        return a
    }

    /// Runs function `index` with `args` and returns its result.
    mutating func run(function index: Int, args: [Value]) throws(Trap) -> Value {
        let info = program.program.functions[index]
        try charge(UInt64(info.locals) * VMGas.perLocal)
        locals = args + [Value](repeating: .int(0), count: info.locals - args.count)
        frames = [Frame(returnTo: -1, localsBase: 0)]
        var pc = program.entries[index]
        var base = 0
        let code = program.instructions
        let constants = program.program.constants
        while true {
            let ins = code[pc]
            pc += 1
            steps &+= 1
            try charge(VMGas.base[Int(ins.op.rawValue)])
            switch ins.op {
            case .pushInt: stack.append(.int(ins.operand))
            case .pushConst:
                let c = constants[Int(ins.operand)]
                try charge(Self.words(c.count) * VMGas.perWord)
                stack.append(.bytes(c))
            case .pop: stack.removeLast()
            case .dup: stack.append(stack[stack.count - 1])
            case .load: stack.append(locals[base + Int(ins.operand)])
            case .store: locals[base + Int(ins.operand)] = stack.removeLast()
            case .add, .sub, .mul, .div, .mod:
                let b = try popInt(), a = try popInt()
                let r: (Int64, Bool)
                switch ins.op {
                case .add: r = a.addingReportingOverflow(b)
                case .sub: r = a.subtractingReportingOverflow(b)
                case .mul: r = a.multipliedReportingOverflow(by: b)
                case .div:
                    guard b != 0 else { throw .divisionByZero }
                    r = a.dividedReportingOverflow(by: b)
                default:
                    guard b != 0 else { throw .divisionByZero }
                    r = a.remainderReportingOverflow(dividingBy: b)
                }
                guard !r.1 else { throw .integerOverflow(ins.op) }
                stack.append(.int(r.0))
            case .neg:
                let a = try popInt()
                guard a != .min else { throw .integerOverflow(.neg) }
                stack.append(.int(-a))
            case .eq, .ne:
                let b = stack.removeLast(), a = stack.removeLast()
                switch (a, b) {
                case (.int, .int): break
                case (.bytes(let x), .bytes(let y)): try charge(Self.words(min(x.count, y.count)) * VMGas.perWord)
                default: throw .typeMismatch("\(ins.op) compares an integer with bytes")
                }
                stack.append(.int((a == b) == (ins.op == .eq) ? 1 : 0))
            case .lt, .le, .gt, .ge:
                let b = try popInt(), a = try popInt()
                let r = switch ins.op {
                case .lt: a < b
                case .le: a <= b
                case .gt: a > b
                default: a >= b
                }
                stack.append(.int(r ? 1 : 0))
            case .not:
                let a = try popInt()
                stack.append(.int(a == 0 ? 1 : 0))
            case .concat:
                let b = try popBytes(), a = try popBytes()
                try charge(Self.words(a.count + b.count) * VMGas.perWord)
                stack.append(try created(a + b))
            case .len:
                let a = try popBytes()
                stack.append(.int(Int64(a.count)))
            case .slice:
                let count = try popInt(), start = try popInt(), a = try popBytes()
                guard start >= 0, count >= 0, start <= Int64(a.count), count <= Int64(a.count) - start else {
                    throw .sliceOutOfRange(start: start, count: count, length: a.count)
                }
                try charge(Self.words(Int(count)) * VMGas.perWord)
                stack.append(try created(Array(a[Int(start)..<Int(start + count)])))
            case .intToBytes:
                stack.append(try created(ABI.bigEndian(try popInt())))
            case .bytesToInt:
                let a = try popBytes()
                switch a.count {
                case 0: stack.append(.int(0))
                case 8: stack.append(.int(Int64(bitPattern: a.reduce(0) { $0 << 8 | UInt64($1) })))
                default: throw .storedValueNotInt(a.count)
                }
            case .sha256:
                let a = try popBytes()
                try charge(Self.words(a.count) * VMGas.sha256PerWord)
                stack.append(try created(SHA256.hash(a).bytes))
            case .abiEncode:
                let v = stack.removeLast()
                let encoded: [UInt8]
                switch (ValueType(rawValue: UInt8(ins.operand))!, v) {
                case (.int, .int(let i)): encoded = ABI.encode(.int(i))
                case (.bool, .int(let i)): encoded = ABI.encode(.bool(i != 0))
                case (.bytes, .bytes(let b)): encoded = ABI.encode(.bytes(b))
                case (.address, .bytes(let b)): encoded = ABI.encode(.address(try address(b)))
                case (let t, _): throw .typeMismatch("abi_encode of \(t) got the other kind of value")
                }
                try charge(Self.words(encoded.count) * VMGas.perWord)
                stack.append(try created(encoded))
            case .jump: pc = Int(ins.operand)
            case .jumpIfFalse:
                if try popInt() == 0 { pc = Int(ins.operand) }
            case .call:
                guard frames.count < VMLimits.maxCallDepth else { throw .callDepthExceeded }
                let callee = Int(ins.operand)
                let f = program.program.functions[callee]
                try charge(UInt64(f.locals) * VMGas.perLocal)
                let newBase = locals.count
                let argStart = stack.count - f.params.count
                locals.append(contentsOf: stack[argStart...])
                locals.append(contentsOf: repeatElement(Value.int(0), count: f.locals - f.params.count))
                stack.removeSubrange(argStart...)
                frames.append(Frame(returnTo: pc, localsBase: newBase))
                base = newBase
                pc = program.entries[callee]
            case .ret:
                let result = stack.removeLast()
                let frame = frames.removeLast()
                guard let caller = frames.last else { return result }
                locals.removeSubrange(frame.localsBase...)
                stack.append(result)
                base = caller.localsBase
                pc = frame.returnTo
            case .trap:
                let message = try popBytes()
                throw .revert(String(decoding: message.prefix(256), as: UTF8.self))
            case .host:
                try hostCall(HostFunction(rawValue: UInt8(ins.operand))!)
            }
        }
    }

    mutating func hostCall(_ f: HostFunction) throws(Trap) {
        try charge(VMGas.host(f))
        switch f {
        case .caller: stack.append(.bytes(host.caller.bytes))
        case .callerRole: stack.append(.int(Int64(host.callerRole?.rawValue ?? 0)))
        case .roleOf:
            let a = try address(try popBytes())
            stack.append(.int(Int64(host.roleOf(a)?.rawValue ?? 0)))
        case .now: stack.append(.int(Int64(clamping: host.blockTimeMillis)))
        case .height: stack.append(.int(Int64(clamping: host.blockHeight)))
        case .this: stack.append(.bytes(host.contract.bytes))
        case .value:
            let v = host.callValue?.minorUnits ?? 0
            guard v <= UInt64(Int64.max) else { throw .integerOverflow(.host) }
            stack.append(.int(Int64(v)))
        case .valueCurrency: stack.append(.bytes(host.callValue.map { Array($0.currency.value.utf8) } ?? []))
        case .balance:
            let currency = try self.currency(try popBytes())
            let a = try address(try popBytes())
            let b = host.balance(of: a, currency)
            guard b <= UInt64(Int64.max) else { throw .integerOverflow(.host) }
            stack.append(.int(Int64(b)))
        case .pay:
            let amount = try popInt()
            let currency = try self.currency(try popBytes())
            let to = try address(try popBytes())
            guard amount >= 0 else { throw .paymentRefused("a negative amount (\(amount))") }
            guard amount == 0 || host.transfer(to: to, currency, UInt64(amount)) else {
                throw .paymentRefused("\(amount) \(currency) to \(to): the contract's balance is \(host.balance(of: host.contract, currency)) or the recipient is not an account")
            }
        case .storageLoad:
            let key = try popBytes()
            try charge(Self.words(key.count) * VMGas.perWord)
            let v = host.load(key) ?? []
            try charge(Self.words(v.count) * VMGas.perWord)
            stack.append(try created(v))
        case .storageStore:
            let value = try popBytes(), key = try popBytes()
            try charge(UInt64(key.count + value.count) * VMGas.perStoredByte)
            host.store(key, value.isEmpty ? nil : value)
        case .storageDelete:
            host.store(try popBytes(), nil)
        case .emit:
            let data = try popBytes(), name = try popBytes()
            try charge(UInt64(name.count + data.count) * VMGas.perStoredByte)
            guard host.emit(topics: [SHA256.hash(name)], data: data) else { throw .eventRefused }
        case .schedule:
            let input = try popBytes(), at = try popInt()
            try charge(UInt64(input.count) * VMGas.perStoredByte)
            guard at > 0, host.scheduleCall(atMillis: UInt64(at), input: input) else { throw .scheduleRefused }
        }
    }

    func currency(_ b: [UInt8]) throws(Trap) -> CurrencyCode {
        guard let c = try? CurrencyCode(String(decoding: b, as: UTF8.self)) else {
            throw .typeMismatch("\"\(String(decoding: b.prefix(16), as: UTF8.self))\" is not a currency code")
        }
        return c
    }
}
