import ChainTypes
import ContractVM
import Ledger
import Testing

// Shared by the VM's unit tests: a hand assembler, an in-memory ContractHost and run helpers.

/// One engine for all tests (its verified-program cache is thread-safe).
let vm = HansaVM()

/// A tiny assembler: opcodes with big-endian immediates and named labels for jumps.
struct Asm {
    private(set) var bytes: [UInt8] = []
    private var labels: [String: Int] = [:]
    private var fixups: [(at: Int, label: String)] = []

    init() {}

    /// Builds code with `body`.
    static func code(_ body: (inout Asm) -> Void) -> [UInt8] {
        var a = Asm()
        body(&a)
        return a.code
    }

    /// Byte offset of the next instruction.
    var offset: Int { bytes.count }

    /// The code with every label resolved.
    var code: [UInt8] {
        var out = bytes
        for (at, label) in fixups {
            let target = UInt32(labels[label]!)
            for k in 0..<4 { out[at + k] = UInt8(truncatingIfNeeded: target >> UInt32(8 * (3 - k))) }
        }
        return out
    }

    mutating func raw(_ b: UInt8...) { bytes += b }
    mutating func op(_ o: Opcode) { bytes.append(o.rawValue) }
    mutating func imm(_ v: UInt64, _ n: Int) { for k in 0..<n { bytes.append(UInt8(truncatingIfNeeded: v >> UInt64(8 * (n - 1 - k)))) } }

    mutating func pushInt(_ v: Int64) { op(.pushInt); imm(UInt64(bitPattern: v), 8) }
    mutating func pushConst(_ i: Int) { op(.pushConst); imm(UInt64(i), 2) }
    mutating func load(_ slot: Int) { op(.load); imm(UInt64(slot), 1) }
    mutating func store(_ slot: Int) { op(.store); imm(UInt64(slot), 1) }
    mutating func call(_ f: Int) { op(.call); imm(UInt64(f), 2) }
    mutating func host(_ h: HostFunction) { op(.host); imm(UInt64(h.rawValue), 1) }
    mutating func abiEncode(_ t: ValueType) { op(.abiEncode); imm(UInt64(t.rawValue), 1) }
    /// A jump to an absolute byte offset.
    mutating func jump(_ o: Opcode, to target: Int) { op(o); imm(UInt64(target), 4) }
    /// A jump to a label placed before or after.
    mutating func jump(_ o: Opcode, _ label: String) {
        op(o)
        fixups.append((bytes.count, label))
        bytes += [0, 0, 0, 0]
    }
    mutating func label(_ name: String) { labels[name] = bytes.count }
}

/// A function table entry with test defaults: `pub fn f() -> int` at byte 0.
func fn(_ name: String = "f", _ kind: FunctionInfo.Kind = .public, params: [ValueType] = [], result: ValueType? = .int,
        locals: Int? = nil, entry: Int = 0) -> FunctionInfo {
    FunctionInfo(name: name, kind: kind, params: params, result: result, locals: locals ?? params.count, entry: entry)
}

/// A program of one `pub fn f() -> int` (or the given functions) over `code`.
func program(_ code: [UInt8], constants: [[UInt8]] = [], functions: [FunctionInfo] = [fn()]) -> Program {
    Program(constants: constants, functions: functions, code: code)
}

func addr(_ n: UInt8) -> Address { Address(bytes: [UInt8](repeating: n, count: Address.byteCount))! }

let usd = try! CurrencyCode("USD")

/// An in-memory ledger for one contract, with switches to make it refuse things.
final class MockHost: ContractHost {
    struct Payment: Equatable { var to: Address; var currency: CurrencyCode; var amount: UInt64 }
    struct Emitted: Equatable { var topics: [Hash]; var data: [UInt8] }
    struct Scheduled: Equatable { var at: UInt64; var input: [UInt8] }

    let contract: Address
    var caller: Address
    var callerRole: Role?
    var blockTimeMillis: UInt64 = 1_700_000_000_000
    var blockHeight: UInt64 = 42
    var storage: [[UInt8]: [UInt8]] = [:]
    var balances: [Address: [CurrencyCode: UInt64]] = [:]
    var roles: [Address: Role] = [:]
    var payments: [Payment] = []
    var events: [Emitted] = []
    var schedules: [Scheduled] = []
    var refuseTransfers = false
    var refuseEvents = false
    var refuseSchedules = false
    /// Host calls in order, by name (to see that a short-circuited call did not happen, etc.).
    var log: [String] = []

    init(contract: Address = addr(0xc0), caller: Address = addr(0x11), callerRole: Role? = .exporter) {
        self.contract = contract
        self.caller = caller
        self.callerRole = callerRole
        roles[caller] = callerRole
        balances[contract] = [usd: 1_000]
        balances[caller] = [:]
    }

    func load(_ key: [UInt8]) -> [UInt8]? { log.append("load"); return storage[key] }
    func store(_ key: [UInt8], _ value: [UInt8]?) { log.append("store"); storage[key] = value }
    func balance(of account: Address, _ currency: CurrencyCode) -> UInt64 { balances[account]?[currency] ?? 0 }
    func roleOf(_ account: Address) -> Role? { roles[account] }

    func transfer(to: Address, _ currency: CurrencyCode, _ amount: UInt64) -> Bool {
        log.append("transfer")
        let have = balance(of: contract, currency)
        guard !refuseTransfers, balances[to] != nil, to != contract, have >= amount else { return false }
        balances[contract]![currency] = have - amount
        balances[to]![currency, default: 0] += amount
        payments.append(Payment(to: to, currency: currency, amount: amount))
        return true
    }

    func emit(topics: [Hash], data: [UInt8]) -> Bool {
        log.append("emit")
        guard !refuseEvents, data.count <= Event.maxDataBytes else { return false }
        events.append(Emitted(topics: topics, data: data))
        return true
    }

    func scheduleCall(atMillis: UInt64, input: [UInt8]) -> Bool {
        log.append("schedule")
        guard !refuseSchedules, atMillis > blockTimeMillis else { return false }
        schedules.append(Scheduled(at: atMillis, input: input))
        return true
    }

    /// Everything a run can change, for comparing two hosts.
    var snapshot: String { "\(storage.sorted { $0.key.lexicographicallyPrecedes($1.key) }) \(balances.sorted { $0.key < $1.key }) \(payments) \(events) \(schedules)" }
}

/// Runs `function(args)` of `code` (canonical bytes) on `host`.
func run(_ code: [UInt8], _ function: String = "f", _ args: [ABIValue] = [], entry: ContractEntry = .call,
         gas: UInt64 = 1_000_000, host: MockHost = MockHost()) -> ContractOutcome {
    vm.run(code: code, entry: entry, input: ABI.encodeCall(function, args), gasLimit: gas, host: host)
}

func run(_ p: Program, _ function: String = "f", _ args: [ABIValue] = [], entry: ContractEntry = .call,
         gas: UInt64 = 1_000_000, host: MockHost = MockHost()) -> ContractOutcome {
    run(p.canonicalBytes, function, args, entry: entry, gas: gas, host: host)
}

func run(_ c: CompiledContract, _ function: String = "f", _ args: [ABIValue] = [], entry: ContractEntry = .call,
         gas: UInt64 = 1_000_000, host: MockHost = MockHost()) -> ContractOutcome {
    run(c.bytecode, function, args, entry: entry, gas: gas, host: host)
}

/// Compiles `source` (file name "t.hc"), failing the test on a compile error.
func compile(_ source: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> CompiledContract {
    do { return try Compiler.compile(source, file: "t.hc") } catch {
        Issue.record("compile error: \(error)", sourceLocation: sourceLocation)
        throw error
    }
}

/// The compile error of `source` (file "t.hc"), or nil when it compiles.
func compileError(_ source: String) -> CompileError? {
    do { _ = try Compiler.compile(source, file: "t.hc"); return nil } catch { return error }
}

/// The decoded output values of a run.
func outputValues(_ o: ContractOutcome) -> [ABIValue]? { try? ABI.decodeValues(o.output) }

