import ChainTypes
import HansaCrypto
import Ledger

/// The ledger's contract engine: verifies code at deployment and runs it with gas.
///
/// A run decodes the call input (ABI), finds the function and checks that the entry may start
/// there (transactions call `pub` functions, the scheduler `sched` functions, deployment the
/// constructor) and that the arguments have the declared types; then it interprets the
/// function. The result is ABI-encoded as the output. Everything is deterministic: the same
/// code, input and host state give the same result and the same gas on every node.
public final class HansaVM: ContractEngine {
    /// Verified programs by code hash, so a contract is decoded and verified once, not per
    /// call; the least recently used is dropped when full.
    private let cache = Locked(ProgramCache())
    public static let maxCachedPrograms = 256

    struct ProgramCache {
        var programs: [Hash: VerifiedProgram] = [:]
        /// Least recently used first.
        var order: [Hash] = []

        mutating func get(_ key: Hash) -> VerifiedProgram? {
            guard let p = programs[key] else { return nil }
            if order.last != key, let i = order.firstIndex(of: key) { order.remove(at: i); order.append(key) }
            return p
        }

        mutating func put(_ key: Hash, _ p: VerifiedProgram) {
            guard programs[key] == nil else { return }
            if programs.count >= HansaVM.maxCachedPrograms { programs[order.removeFirst()] = nil }
            programs[key] = p
            order.append(key)
        }
    }

    public init() {}

    public func verify(code: [UInt8]) -> String? {
        do { _ = try verified(code); return nil } catch { return error.message }
    }

    /// `hash`: the code's SHA-256 when the caller knows it (the ledger keeps it per contract).
    func verified(_ code: [UInt8], hash: Hash? = nil) throws(VerifyError) -> VerifiedProgram {
        let key = hash ?? SHA256.hash(code)
        if let p = cache.withLock({ $0.get(key) }) { return p }
        let p = try Verifier.verify(code)
        cache.withLock { $0.put(key, p) }
        return p
    }

    public func run(code: [UInt8], entry: ContractEntry, input: [UInt8], gasLimit: UInt64, host: any ContractHost) -> ContractOutcome {
        run(code: code, codeHash: SHA256.hash(code), entry: entry, input: input, gasLimit: gasLimit, host: host)
    }

    /// Loading the code is charged first (`VMGas.codeLoad`), by its size, hit or miss: a budget
    /// that cannot pay for it is not spent on verifying it.
    public func run(code: [UInt8], codeHash: Hash, entry: ContractEntry, input: [UInt8], gasLimit: UInt64,
                    host: any ContractHost) -> ContractOutcome {
        let loading = VMGas.codeLoad(code)
        guard loading <= gasLimit else { return ContractOutcome(succeeded: false, failure: Trap.outOfGas.description, gasUsed: gasLimit) }
        let program: VerifiedProgram
        do { program = try verified(code, hash: codeHash) } catch {
            return ContractOutcome(succeeded: false, failure: "code refused by the verifier: \(error.message)", gasUsed: loading)
        }
        return run(program, entry: entry, input: input, gasLimit: gasLimit, host: host)
    }

    /// Gas for reading the call input, charged before anything else.
    public static func inputGas(_ input: [UInt8]) -> UInt64 { 20 + UInt64((input.count + 31) / 32) }

    public func run(_ program: VerifiedProgram, entry: ContractEntry, input: [UInt8], gasLimit: UInt64,
                    host: any ContractHost) -> ContractOutcome {
        runCounting(program, entry: entry, input: input, gasLimit: gasLimit, host: host).outcome
    }

    /// `run`, also returning the number of instructions executed.
    public func runCounting(_ program: VerifiedProgram, entry: ContractEntry, input: [UInt8], gasLimit: UInt64,
                            host: any ContractHost) -> (outcome: ContractOutcome, instructions: UInt64) {
        var machine = Machine(program: program, host: host, gasLimit: gasLimit)
        let outcome = execute(&machine, program, entry: entry, input: input)
        return (outcome, machine.steps)
    }

    func execute(_ machine: inout Machine, _ program: VerifiedProgram, entry: ContractEntry, input: [UInt8]) -> ContractOutcome {
        do {
            try machine.charge(VMGas.codeLoad(bytes: program.codeBytes, constants: program.program.constants.count))
            try machine.charge(Self.inputGas(input))
            if entry == .constructor && input.isEmpty && !program.program.functions.contains(where: { $0.kind == .constructor }) {
                return ContractOutcome(succeeded: true, gasUsed: machine.gasUsed)
            }
            let (index, args) = try Self.bind(program.program, entry: entry, input: input)
            let result = try machine.run(function: index, args: args)
            var output: [UInt8] = []
            if let type = program.program.functions[index].result { output = try Self.encodeResult(result, type) }
            return ContractOutcome(succeeded: true, output: output, gasUsed: machine.gasUsed)
        } catch {
            return ContractOutcome(succeeded: false, failure: error.description, gasUsed: machine.gasUsed)
        }
    }

    static func bind(_ program: Program, entry: ContractEntry, input: [UInt8]) throws(Trap) -> (Int, [Value]) {
        let call: (function: String, args: [ABIValue])
        do { call = try ABI.decodeCall(input) } catch { throw .badInput(error.message) }
        guard let (index, f) = program.function(named: call.function) else { throw .badInput("the contract has no function \(call.function)") }
        let wanted: FunctionInfo.Kind = switch entry {
        case .constructor: .constructor
        case .call: .public
        case .scheduled: .scheduled
        }
        guard f.kind == wanted else {
            throw .badInput("\(call.function) is \(f.kind == .internal ? "an" : "a") \(f.kind) function; a \(entry == .call ? "transaction" : entry == .scheduled ? "scheduled call" : "deployment") cannot start it")
        }
        guard call.args.count == f.params.count else {
            throw .badInput("\(call.function) takes \(f.params.count == 1 ? "1 argument" : "\(f.params.count) arguments"), not \(call.args.count)")
        }
        var values: [Value] = []
        for (i, (arg, type)) in zip(call.args, f.params).enumerated() {
            guard arg.type == type else { throw .badInput("argument \(i + 1) of \(call.function) must be \(type), not \(arg.type)") }
            switch arg {
            case .int(let v): values.append(.int(v))
            case .bool(let b): values.append(.int(b ? 1 : 0))
            case .bytes(let b): values.append(.bytes(b))
            case .address(let a): values.append(.bytes(a.bytes))
            }
        }
        return (index, values)
    }

    static func encodeResult(_ v: Value, _ type: ValueType) throws(Trap) -> [UInt8] {
        switch (type, v) {
        case (.int, .int(let i)): return ABI.encode(.int(i))
        case (.bool, .int(let i)): return ABI.encode(.bool(i != 0))
        case (.bytes, .bytes(let b)): return ABI.encode(.bytes(b))
        case (.address, .bytes(let b)):
            guard let a = Address(bytes: b) else { throw .typeMismatch("the result must be a 20-byte address, not \(b.count) bytes") }
            return ABI.encode(.address(a))
        default: throw .typeMismatch("the result is not \(type == .int || type == .address ? "an" : "a") \(type)")
        }
    }
}
