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
///
/// Calibrated (review finding 10) so that gas tracks time: for every instruction class and
/// host call, the time per gas is within 2× of plain arithmetic's, measured by `hansa bench
/// gas` in release mode with host calls through the ledger (overlay, Merkle-tree update and
/// store write at the block's end). GasTests pins the key relations.
public enum VMGas {
    /// The gas `op` costs before any per-byte or host part.
    public static func base(_ op: Opcode) -> UInt64 { base[Int(op.rawValue)] }

    static let base: [UInt64] = {
        var t = [UInt64](repeating: 1, count: 256)
        for op in Opcode.allCases {
            t[Int(op.rawValue)] = switch op {
            case .pushInt, .pushConst, .pop, .dup, .load, .not: 1
            case .store: 2 // also releases the value the slot held
            case .add, .sub, .neg, .eq, .ne, .lt, .le, .gt, .ge: 2
            case .mul, .div, .mod: 3
            case .jump, .jumpIfFalse: 2
            case .len, .bytesToInt: 2
            // Each makes a new byte string: an allocation costs several arithmetic instructions.
            case .concat, .slice, .intToBytes, .abiEncode: 8
            case .sha256: 30
            case .call: 10
            case .ret, .trap: 2
            case .host: 0
            }
        }
        return t
    }()

    /// Copying is fast next to an instruction: concat, slice, abi_encode, eq/ne of bytes and
    /// storage_load pay `perChunk` per started `chunkBytes` they handle. push_const copies
    /// nothing (values are immutable and shared).
    public static let chunkBytes = 512
    public static let perChunk: UInt64 = 1
    /// SHA-256 per started 32 bytes.
    public static let sha256PerWord: UInt64 = 5

    public static func host(_ f: HostFunction) -> UInt64 {
        switch f {
        case .callerRole, .now, .height, .value: 2
        case .caller, .this, .valueCurrency: 4 // a new byte string
        case .roleOf: 100
        case .balance: 200
        case .pay: 2_000
        // The first access of a key in a run; later ones cost `warmSlotRead` / `warmSlotWrite`.
        case .storageLoad: 1_100
        case .storageStore: 9_000
        // Only when the key holds a value; the read that finds out is charged as a storage_load.
        case .storageDelete: 7_000
        case .emit: 450
        case .schedule: 20_000
        }
    }

    /// On top of role_of, balance and pay, the first time a run names an account other than
    /// its caller and its contract: the ledger reads and decodes that account (its key
    /// included). Counted per run, from the run's own calls, so every node charges the same.
    public static let accountCold: UInt64 = 2_400
    /// On top of pay, the first payment of a run to an account other than its caller: that
    /// account's leaf of the state tree is rewritten at the end of the block.
    public static let accountFirstPayment: UInt64 = 12_000

    /// storage_load of a key this run has already read or written: the value is in the
    /// block's overlay or the read cache, not in the store.
    public static let warmSlotRead: UInt64 = 400
    /// storage_store or storage_delete of a key this run has already written: only the overlay
    /// changes again; the state tree is updated once per key at the end of the block.
    public static let warmSlotWrite: UInt64 = 500

    /// Per byte of key and value written to storage, and of a scheduled call's input.
    public static let storagePerByte: UInt64 = 2
    /// Per started 32 bytes of an event's name and data.
    public static let eventPerWord: UInt64 = 16

    /// Per local slot a call sets up (on top of `call`'s 10), so deep frames cost what they do.
    public static let perLocal: UInt64 = 1

    /// Per byte of the program's encoding, charged before every run for reading, decoding and
    /// verifying the code (review finding 8). Every run pays it, also when this node's engine
    /// has the program cached: caches differ between nodes, and gas must not. Verification is
    /// linear in the code's size (`Verifier.maxWorkPerByte`); the prices are set by the shapes
    /// that cost most per byte (`hansa bench gas`, "call, code not cached").
    public static let codeLoadPerByte: UInt64 = 8
    /// Per constant, on top: decoding makes one byte string of each, and a pool of 1 024
    /// one-byte constants costs several times more per byte than code does.
    public static let codeLoadPerConstant: UInt64 = 32

    public static func codeLoad(bytes: Int, constants: Int) -> UInt64 {
        UInt64(bytes) * codeLoadPerByte + UInt64(constants) * codeLoadPerConstant
    }

    /// The price of loading `code`, from its size and the constant count its header declares
    /// (read before any decoding, at most `VMLimits.maxConstants`; 0 when unreadable).
    public static func codeLoad(_ code: [UInt8]) -> UInt64 {
        var r = CanonicalReader(code, root: "program")
        let constants = (try? r.header(.contractProgram, versions: Program.version...Program.version))
            .flatMap { _ in try? r.count("constants", limit: VMLimits.maxConstants) } ?? 0
        return codeLoad(bytes: code.count, constants: constants)
    }
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
    /// Accounts other than the caller and the contract that this run has named, and paid
    /// (`VMGas.accountCold`, `VMGas.accountFirstPayment`).
    var namedAccounts: Set<Address> = []
    var paidAccounts: Set<Address> = []
    /// Storage keys this run has read or written, and written (`VMGas.warmSlotRead`, `VMGas.warmSlotWrite`).
    var touchedSlots: Set<[UInt8]> = []
    var writtenSlots: Set<[UInt8]> = []

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
    static func chunks(_ n: Int) -> UInt64 { UInt64((n + VMGas.chunkBytes - 1) / VMGas.chunkBytes) }

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
                stack.append(.bytes(constants[Int(ins.operand)]))
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
                case (.bytes(let x), .bytes(let y)): try charge(Self.chunks(min(x.count, y.count)) * VMGas.perChunk)
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
                try charge(Self.chunks(a.count + b.count) * VMGas.perChunk)
                stack.append(try created(a + b))
            case .len:
                let a = try popBytes()
                stack.append(.int(Int64(a.count)))
            case .slice:
                let count = try popInt(), start = try popInt(), a = try popBytes()
                guard start >= 0, count >= 0, start <= Int64(a.count), count <= Int64(a.count) - start else {
                    throw .sliceOutOfRange(start: start, count: count, length: a.count)
                }
                try charge(Self.chunks(Int(count)) * VMGas.perChunk)
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
                try charge(Self.chunks(encoded.count) * VMGas.perChunk)
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
        switch f {
        case .storageLoad, .storageStore, .storageDelete: break // priced by whether the run touched the key
        default: try charge(VMGas.host(f))
        }
        switch f {
        case .caller: stack.append(.bytes(host.caller.bytes))
        case .callerRole: stack.append(.int(Int64(host.callerRole?.rawValue ?? 0)))
        case .roleOf:
            let a = try address(try popBytes())
            try chargeAccount(a)
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
            try chargeAccount(a)
            let b = host.balance(of: a, currency)
            guard b <= UInt64(Int64.max) else { throw .integerOverflow(.host) }
            stack.append(.int(Int64(b)))
        case .pay:
            let amount = try popInt()
            let currency = try self.currency(try popBytes())
            let to = try address(try popBytes())
            guard amount >= 0 else { throw .paymentRefused("a negative amount (\(amount))") }
            try chargeAccount(to)
            if amount > 0 { try chargePayment(to: to) }
            guard amount == 0 || host.transfer(to: to, currency, UInt64(amount)) else {
                throw .paymentRefused("\(amount) \(currency) to \(to): the contract's balance is \(host.balance(of: host.contract, currency)) or the recipient is not an account")
            }
        case .storageLoad:
            let key = try popBytes()
            let v = try read(key) ?? []
            try charge(Self.chunks(v.count) * VMGas.perChunk)
            stack.append(try created(v))
        case .storageStore:
            let value = try popBytes(), key = try popBytes()
            try chargeWrite(key, first: VMGas.host(.storageStore))
            try charge(UInt64(key.count + value.count) * VMGas.storagePerByte)
            host.store(key, value.isEmpty ? nil : value)
        case .storageDelete:
            // Deleting an absent key changes nothing: it costs the read that finds it absent.
            let key = try popBytes()
            guard try read(key) != nil else { break }
            try chargeWrite(key, first: VMGas.host(.storageDelete))
            host.store(key, nil)
        case .emit:
            let data = try popBytes(), name = try popBytes()
            try charge(Self.words(name.count + data.count) * VMGas.eventPerWord)
            guard host.emit(topics: [SHA256.hash(name)], data: data) else { throw .eventRefused }
        case .schedule:
            let input = try popBytes(), at = try popInt()
            // The scheduling run prepays the call's whole budget: scheduled work is paid for by
            // the transaction that asks for it, so a scheduled call (whose budget is exactly
            // one call's) cannot keep a chain of calls alive by itself (hardening finding 6).
            try charge(UInt64(input.count) * VMGas.storagePerByte + GasSchedule.scheduledCallGas)
            guard at > 0, host.scheduleCall(atMillis: UInt64(at), input: input) else { throw .scheduleRefused }
        }
    }

    /// Reads `key` for storage_load and storage_delete: `VMGas.host(.storageLoad)` the first
    /// time the run touches it, `VMGas.warmSlotRead` after, and the key's bytes.
    mutating func read(_ key: [UInt8]) throws(Trap) -> [UInt8]? {
        try charge(touchedSlots.insert(key).inserted ? VMGas.host(.storageLoad) : VMGas.warmSlotRead)
        try charge(Self.chunks(key.count) * VMGas.perChunk)
        return host.load(key)
    }

    /// `first` for the run's first write of `key`, `VMGas.warmSlotWrite` for a later one.
    mutating func chargeWrite(_ key: [UInt8], first: UInt64) throws(Trap) {
        touchedSlots.insert(key)
        try charge(writtenSlots.insert(key).inserted ? first : VMGas.warmSlotWrite)
    }

    /// `VMGas.accountCold` the first time this run names `a`, unless `a` is its caller or contract.
    mutating func chargeAccount(_ a: Address) throws(Trap) {
        guard a != host.caller, a != host.contract, namedAccounts.insert(a).inserted else { return }
        try charge(VMGas.accountCold)
    }

    /// `VMGas.accountFirstPayment` for this run's first payment to `a`, unless `a` is its caller.
    mutating func chargePayment(to a: Address) throws(Trap) {
        guard a != host.caller, paidAccounts.insert(a).inserted else { return }
        try charge(VMGas.accountFirstPayment)
    }

    func currency(_ b: [UInt8]) throws(Trap) -> CurrencyCode {
        guard let c = try? CurrencyCode(String(decoding: b, as: UTF8.self)) else {
            throw .typeMismatch("\"\(String(decoding: b.prefix(16), as: UTF8.self))\" is not a currency code")
        }
        return c
    }
}
