import ChainTypes

/// One decoded instruction. Jump operands are instruction indices after verification.
struct Instruction: Sendable {
    var op: Opcode
    var operand: Int64
}

/// A program that passed the verifier, decoded once for the interpreter.
public struct VerifiedProgram: Sendable {
    public let program: Program
    let instructions: [Instruction]
    /// Instruction index of each function's entry.
    let entries: [Int]
    /// Byte offset of each instruction (for error messages).
    let offsets: [Int]
    /// Bytes of the program's canonical encoding: what every run pays to load it by
    /// (`VMGas.codeLoad`), whether or not an engine has it cached.
    public let codeBytes: Int
}

/// Why code was refused at deployment. The message is one sentence naming the place.
public struct VerifyError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Checks code before it can be deployed or run: the container decodes strictly; names,
/// kinds and limits hold; every byte belongs to a known instruction with a complete
/// immediate; every jump lands on an instruction; and for each function, an abstract run over
/// every path proves that the operand stack never underflows, never exceeds
/// `VMLimits.maxFrameStack`, has the same height wherever paths meet, that every local slot,
/// constant, function and host function named exists, that a call passes the callee's
/// parameter count, that execution never runs off the end, and that `ret` leaves exactly one
/// value. What the verifier proves, the interpreter does not check again.
///
/// Invariant: verification does at most `maxWorkPerByte` units of work (an instruction
/// decoded, checked or walked; a function or constant checked) per byte of the program's
/// encoding, so that pricing code loading by size (`VMGas.codeLoad`) covers it.
public enum Verifier {
    /// Each instruction (≥ 1 byte) is decoded, has its operand checked and is walked once;
    /// each function (≥ 6 bytes in the table) is checked, given an entry and walked from.
    public static let maxWorkPerByte = 3

    public static func verify(_ code: [UInt8]) throws(VerifyError) -> VerifiedProgram {
        var work = 0
        return try verify(code, work: &work)
    }

    /// `work`: increased by the units of work done (`maxWorkPerByte`), also when it throws.
    public static func verify(_ code: [UInt8], work: inout Int) throws(VerifyError) -> VerifiedProgram {
        let program: Program
        do { program = try Program(canonicalBytes: code, root: "program") } catch {
            throw VerifyError("malformed program: \(error)")
        }
        return try verify(program, codeBytes: code.count, work: &work)
    }

    public static func verify(_ program: Program) throws(VerifyError) -> VerifiedProgram {
        var work = 0
        return try verify(program, work: &work)
    }

    public static func verify(_ program: Program, work: inout Int) throws(VerifyError) -> VerifiedProgram {
        try verify(program, codeBytes: nil, work: &work)
    }

    /// `codeBytes`: the size of the encoding the program was decoded from; nil to encode it
    /// once it is known to be within the limits.
    static func verify(_ program: Program, codeBytes: Int?, work: inout Int) throws(VerifyError) -> VerifiedProgram {
        work += program.functions.count + program.constants.count
        try checkTable(program)
        let code = program.code
        // Linear sweep: every byte is part of exactly one instruction.
        var instructions: [Instruction] = []
        var offsets: [Int] = []
        var indexAt = [Int](repeating: -1, count: code.count + 1)
        var pc = 0
        while pc < code.count {
            guard let op = Opcode(rawValue: code[pc]) else {
                let hex = String(code[pc], radix: 16)
                throw VerifyError("unknown opcode 0x\(hex.count == 1 ? "0" + hex : hex) at byte \(pc)")
            }
            let n = op.immediateBytes
            guard pc + 1 + n <= code.count else { throw VerifyError("instruction \(op) at byte \(pc) is cut off by the end of the code") }
            var operand: UInt64 = 0
            for k in 0..<n { operand = operand << 8 | UInt64(code[pc + 1 + k]) }
            indexAt[pc] = instructions.count
            work += 2 // decoded here, its operand checked below
            instructions.append(Instruction(op: op, operand: Int64(bitPattern: operand)))
            offsets.append(pc)
            pc += 1 + n
        }
        work += program.functions.count // their entries
        // Operands that name things.
        for i in instructions.indices {
            let ins = instructions[i]
            let at = offsets[i]
            switch ins.op {
            case .jump, .jumpIfFalse:
                let target = Int(ins.operand)
                guard target < code.count else { throw VerifyError("jump at byte \(at) goes to byte \(target), outside the code (\(code.count) bytes)") }
                guard indexAt[target] >= 0 else { throw VerifyError("jump at byte \(at) goes to byte \(target), which is not the start of an instruction") }
                instructions[i].operand = Int64(indexAt[target])
            case .pushConst:
                guard Int(ins.operand) < program.constants.count else {
                    throw VerifyError("push_const at byte \(at) names constant \(ins.operand); the program has \(program.constants.count)")
                }
            case .call:
                guard Int(ins.operand) < program.functions.count else {
                    throw VerifyError("call at byte \(at) names function \(ins.operand); the program has \(program.functions.count)")
                }
            case .host:
                guard HostFunction(rawValue: UInt8(ins.operand)) != nil else { throw VerifyError("unknown host function \(ins.operand) at byte \(at)") }
            case .abiEncode:
                guard ValueType(rawValue: UInt8(ins.operand)) != nil else { throw VerifyError("abi_encode at byte \(at) names unknown type \(ins.operand)") }
            default: break
            }
        }
        var entries: [Int] = []
        for f in program.functions {
            guard indexAt[f.entry] >= 0 else { throw VerifyError("function \(f.name) starts at byte \(f.entry), which is not the start of an instruction") }
            entries.append(indexAt[f.entry])
        }
        // One walk over all functions: each instruction belongs to at most one function, so
        // verification is linear in the code's size (shared code would let a program make
        // every function walk the same instructions again, work nobody pays gas for).
        var height = [Int](repeating: -1, count: instructions.count)
        var owner = [Int](repeating: -1, count: instructions.count)
        for (fi, f) in program.functions.enumerated() {
            try checkStack(program, instructions, offsets, entry: entries[fi], function: f, index: fi,
                           height: &height, owner: &owner, work: &work)
        }
        return VerifiedProgram(program: program, instructions: instructions, entries: entries, offsets: offsets,
                               codeBytes: codeBytes ?? program.canonicalBytes.count)
    }

    static func checkTable(_ program: Program) throws(VerifyError) {
        // The limits the container's decoder enforces, again for a program built in memory.
        guard program.code.count <= VMLimits.maxCodeBytes else {
            throw VerifyError("the code is \(program.code.count) bytes; the limit is \(VMLimits.maxCodeBytes)")
        }
        guard program.constants.count <= VMLimits.maxConstants else {
            throw VerifyError("the program has \(program.constants.count) constants; the limit is \(VMLimits.maxConstants)")
        }
        if let i = program.constants.firstIndex(where: { $0.count > VMLimits.maxBytesLength }) {
            throw VerifyError("constant \(i) is \(program.constants[i].count) bytes; the limit is \(VMLimits.maxBytesLength)")
        }
        guard program.functions.count <= VMLimits.maxFunctions else {
            throw VerifyError("the program has \(program.functions.count) functions; the limit is \(VMLimits.maxFunctions)")
        }
        var names = Set<String>()
        var constructors = 0
        for f in program.functions {
            guard isIdentifier(f.name) else { throw VerifyError("function name \"\(f.name)\" is not an identifier") }
            guard f.name.utf8.count <= VMLimits.maxNameBytes else {
                throw VerifyError("function name \(f.name) is \(f.name.utf8.count) bytes; the limit is \(VMLimits.maxNameBytes)")
            }
            guard names.insert(f.name).inserted else { throw VerifyError("two functions are named \(f.name)") }
            guard f.params.count <= VMLimits.maxParams else {
                throw VerifyError("function \(f.name) has \(f.params.count) parameters; the limit is \(VMLimits.maxParams)")
            }
            guard f.locals >= f.params.count else { throw VerifyError("function \(f.name) has \(f.params.count) parameters but only \(f.locals) local slots") }
            guard f.locals <= VMLimits.maxLocals else {
                throw VerifyError("function \(f.name) has \(f.locals) local slots; the limit is \(VMLimits.maxLocals)")
            }
            guard f.entry >= 0, f.entry < program.code.count else {
                throw VerifyError("function \(f.name) starts at byte \(f.entry), outside the code (\(program.code.count) bytes)")
            }
            if f.kind == .constructor { constructors += 1 }
        }
        guard constructors <= 1 else { throw VerifyError("the program has \(constructors) constructors; at most one is allowed") }
    }

    static func isIdentifier(_ s: String) -> Bool {
        guard let first = s.utf8.first, first == UInt8(ascii: "_") || (first | 0x20) >= UInt8(ascii: "a") && (first | 0x20) <= UInt8(ascii: "z") else { return false }
        return s.utf8.allSatisfy { c in
            c == UInt8(ascii: "_") || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || ((c | 0x20) >= UInt8(ascii: "a") && (c | 0x20) <= UInt8(ascii: "z"))
        }
    }

    /// Stack effect of an instruction: (pops, pushes).
    static func effect(_ ins: Instruction, _ program: Program) -> (Int, Int) {
        switch ins.op {
        case .pushInt, .pushConst, .load: (0, 1)
        case .pop, .store, .jumpIfFalse: (1, 0)
        case .dup: (1, 2)
        case .add, .sub, .mul, .div, .mod, .eq, .ne, .lt, .le, .gt, .ge, .concat: (2, 1)
        case .neg, .not, .len, .intToBytes, .bytesToInt, .sha256, .abiEncode: (1, 1)
        case .slice: (3, 1)
        case .jump: (0, 0)
        case .call: (program.functions[Int(ins.operand)].params.count, 1)
        case .ret, .trap: (1, 0)
        case .host:
            HostFunction(rawValue: UInt8(ins.operand))!.stackEffect
        }
    }

    /// `height`: the stack height before each instruction reached so far (-1: not reached);
    /// `owner`: the function whose walk reached it; `work`: one unit per instruction walked.
    static func checkStack(_ program: Program, _ instructions: [Instruction], _ offsets: [Int], entry: Int,
                           function f: FunctionInfo, index: Int, height: inout [Int], owner: inout [Int],
                           work: inout Int) throws(VerifyError) {
        var pending: [Int] = []
        func reach(_ target: Int, _ h: Int, from at: Int?) throws(VerifyError) {
            if owner[target] >= 0 && owner[target] != index {
                let other = program.functions[owner[target]].name
                throw VerifyError("functions \(other) and \(f.name) share the instruction at byte \(offsets[target]); each function must have its own code")
            }
            owner[target] = index
            let seen = height[target]
            if seen >= 0 {
                guard seen == h else {
                    throw VerifyError("in function \(f.name), the stack holds \(seen) values at byte \(offsets[target]) on one path and \(h) on another (from byte \(at ?? offsets[target]))")
                }
            } else {
                height[target] = h
                pending.append(target)
            }
        }
        try reach(entry, 0, from: nil)
        while let i = pending.popLast() {
            work += 1
            let ins = instructions[i]
            let at = offsets[i]
            let h = height[i]
            let (pops, pushes) = effect(ins, program)
            guard h >= pops else { throw VerifyError("in function \(f.name), \(ins.op) at byte \(at) needs \(pops) values but the stack holds \(h) (stack underflow)") }
            let after = h - pops + pushes
            guard after <= VMLimits.maxFrameStack else {
                throw VerifyError("in function \(f.name), the stack grows past \(VMLimits.maxFrameStack) values at byte \(at) (stack overflow)")
            }
            switch ins.op {
            case .load, .store:
                guard Int(ins.operand) < f.locals else {
                    throw VerifyError("in function \(f.name), \(ins.op) at byte \(at) uses local \(ins.operand); the function has \(f.locals)")
                }
            case .ret:
                guard h == 1 else { throw VerifyError("in function \(f.name), ret at byte \(at) leaves \(h) values on the stack; it must leave exactly 1") }
            default: break
            }
            switch ins.op {
            case .ret, .trap: continue
            case .jump: try reach(Int(ins.operand), after, from: at)
            case .jumpIfFalse:
                try reach(Int(ins.operand), after, from: at)
                fallthrough
            default:
                guard i + 1 < instructions.count else {
                    throw VerifyError("in function \(f.name), execution runs past the end of the code after byte \(at)")
                }
                try reach(i + 1, after, from: at)
            }
        }
    }
}
