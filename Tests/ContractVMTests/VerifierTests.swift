import ChainTypes
import ContractVM
import Ledger
import HansaTestSupport
import Testing

/// push_int 0; ret — the smallest function body that verifies (10 bytes).
let returnZero: [UInt8] = Asm.code { $0.pushInt(0); $0.op(.ret) }

/// The message `Verifier.verify` gives, or nil when it accepts.
func verifyMessage(_ p: Program) -> String? {
    do { _ = try Verifier.verify(p); return nil } catch { return error.message }
}

func verifyMessage(_ bytes: [UInt8]) -> String? {
    do { _ = try Verifier.verify(bytes); return nil } catch { return error.message }
}

/// A rejected program and the verifier's sentence.
struct Rejection: Sendable, CustomTestStringConvertible {
    var name: String
    var program: Program
    var message: String
    var testDescription: String { name }

    init(_ name: String, _ program: Program, _ message: String) {
        self.name = name; self.program = program; self.message = message
    }
}

@Suite("Verifier")
struct VerifierTests {
    // MARK: The container

    /// The canonical bytes of `pub fn f() -> int { return 0 }`:
    /// 0d 01 | 00 constants | 01 function: 01 'f', kind 01, 00 params, result 01, locals 00, entry 00 | 0a code…
    static let base = program(returnZero).canonicalBytes

    /// Raw container bytes written field by field (to break what `Program.encode` never breaks).
    static func raw(_ body: (inout CanonicalWriter) -> Void) -> [UInt8] {
        var w = CanonicalWriter()
        w.header(.contractProgram, version: 1)
        body(&w)
        return w.bytes
    }

    /// The header, no constants and one function named "f" up to (not including) `stop`.
    static func oneFunction(kind: UInt8 = 1, params: [UInt8] = [], result: UInt8 = 1, locals: UInt64 = 0, entry: UInt64 = 0,
                            code: [UInt8] = returnZero) -> [UInt8] {
        raw { w in
            w.uvarint(0)
            w.uvarint(1)
            w.string("f")
            w.byte(kind)
            w.uvarint(params.count)
            for p in params { w.byte(p) }
            w.byte(result)
            w.uvarint(locals)
            w.uvarint(entry)
            w.lengthPrefixed(code)
        }
    }

    @Test func theBaseProgramVerifiesAndItsLayoutIsAsDocumented() {
        #expect(Self.base == [0x0d, 0x01, 0x00, 0x01, 0x01, UInt8(ascii: "f"), 0x01, 0x00, 0x01, 0x00, 0x00, 0x0a] + returnZero)
        #expect(verifyMessage(Self.base) == nil)
        #expect(Self.oneFunction() == Self.base)
    }

    @Test func wrongTypeTagOrVersion() {
        var b = Self.base
        b[0] = 0x0e
        #expect(verifyMessage(b) == "malformed program: program.type at byte 0: type tag 0x0e where 0x0d was expected")
        b = Self.base
        b[1] = 2
        #expect(verifyMessage(b) == "malformed program: program.version at byte 1: unknown version 2")
    }

    @Test func emptyTruncatedOrTrailingBytes() {
        #expect(verifyMessage([]) == "malformed program: program.type at byte 0: input ends 1 byte(s) too early")
        #expect(verifyMessage(Array(Self.base.dropLast())) == "malformed program: program.code at byte 12: input ends 1 byte(s) too early")
        #expect(verifyMessage(Array(Self.base.prefix(5))) == "malformed program: program.functions[0].name at byte 5: input ends 1 byte(s) too early")
        #expect(verifyMessage(Self.base + [0]) == "malformed program: program at byte 22: 1 trailing byte(s) after a complete value")
    }

    @Test func countsAndLengthsOverTheLimits() {
        #expect(verifyMessage(Self.raw { $0.uvarint(1_025) })
            == "malformed program: program.constants at byte 2: length 1025 exceeds the limit of 1024")
        #expect(verifyMessage(Self.raw { $0.uvarint(1); $0.uvarint(4_097) })
            == "malformed program: program.constants[0] at byte 3: length 4097 exceeds the limit of 4096")
        #expect(verifyMessage(Self.raw { $0.uvarint(0); $0.uvarint(257) })
            == "malformed program: program.functions at byte 3: length 257 exceeds the limit of 256")
        #expect(verifyMessage(Self.raw { $0.uvarint(0); $0.uvarint(1); $0.string(String(repeating: "a", count: 65)) })
            == "malformed program: program.functions[0].name at byte 4: length 65 exceeds the limit of 64")
        #expect(verifyMessage(Self.oneFunction(params: [UInt8](repeating: 1, count: 17)))
            == "malformed program: program.functions[0].params at byte 7: length 17 exceeds the limit of 16")
        #expect(verifyMessage(Self.oneFunction(locals: 256))
            == "malformed program: program.functions[0].locals at byte 9: integer exceeds the maximum of 255")
        #expect(verifyMessage(Self.oneFunction(entry: 65_537))
            == "malformed program: program.functions[0].entry at byte 10: integer exceeds the maximum of 65536")
        #expect(verifyMessage(Self.raw { $0.uvarint(0); $0.uvarint(0); $0.uvarint(65_537) })
            == "malformed program: program.code at byte 4: length 65537 exceeds the limit of 65536")
        // The limits themselves are fine.
        #expect(verifyMessage(Self.oneFunction(params: [UInt8](repeating: 1, count: 16), locals: 255)) == nil)
        #expect(verifyMessage(program(returnZero, constants: [[UInt8]](repeating: [UInt8](repeating: 7, count: 4_096), count: 2)).canonicalBytes) == nil)
    }

    @Test func unknownKindOrTypeBytes() {
        #expect(verifyMessage(Self.oneFunction(kind: 4)) == "malformed program: program.functions[0].kind at byte 6: unknown tag 4")
        #expect(verifyMessage(Self.oneFunction(params: [1, 5], locals: 2)) == "malformed program: program.functions[0].params[1] at byte 9: unknown tag 5")
        #expect(verifyMessage(Self.oneFunction(params: [0], locals: 1)) == "malformed program: program.functions[0].params[0] at byte 8: unknown tag 0")
        #expect(verifyMessage(Self.oneFunction(result: 9)) == "malformed program: program.functions[0].result at byte 8: unknown tag 9")
    }

    @Test func nonCanonicalIntegersAndBadUTF8() {
        #expect(verifyMessage(Self.raw { $0.fixed([0x80, 0x00]) })
            == "malformed program: program.constants at byte 2: integer is not in its shortest (canonical) LEB128 form")
        #expect(verifyMessage(Self.raw { $0.uvarint(0); $0.uvarint(1); $0.lengthPrefixed([0xff]) })
            == "malformed program: program.functions[0].name at byte 4: string is not valid UTF-8")
    }

    // MARK: The function table and the code

    static let twoPush = Asm.code { $0.pushInt(1); $0.pushInt(2); $0.op(.ret) }

    static let rejections: [Rejection] = [
        // Names, kinds, slots and entries.
        Rejection("name starting with a digit", program(returnZero, functions: [fn("1f")]), "function name \"1f\" is not an identifier"),
        Rejection("empty name", program(returnZero, functions: [fn("")]), "function name \"\" is not an identifier"),
        Rejection("name with a dash", program(returnZero, functions: [fn("a-b")]), "function name \"a-b\" is not an identifier"),
        Rejection("non-ASCII name", program(returnZero, functions: [fn("prüfen")]), "function name \"prüfen\" is not an identifier"),
        Rejection("duplicate names", program(returnZero, functions: [fn("f"), fn("f")]), "two functions are named f"),
        Rejection("two constructors", program(returnZero, functions: [fn("init", .constructor, result: nil), fn("setup", .constructor, result: nil)]),
                  "the program has 2 constructors; at most one is allowed"),
        Rejection("fewer locals than parameters", program(returnZero, functions: [fn(params: [.int, .bytes], locals: 1)]),
                  "function f has 2 parameters but only 1 local slots"),
        Rejection("entry at the end of the code", program(returnZero, functions: [fn(entry: 10)]), "function f starts at byte 10, outside the code (10 bytes)"),
        Rejection("entry far outside", program(returnZero, functions: [fn(entry: 60_000)]), "function f starts at byte 60000, outside the code (10 bytes)"),
        Rejection("negative entry", program(returnZero, functions: [fn(entry: -1)]), "function f starts at byte -1, outside the code (10 bytes)"),
        Rejection("entry inside an immediate", program(returnZero, functions: [fn(entry: 1)]),
                  "function f starts at byte 1, which is not the start of an instruction"),
        Rejection("a function but no code", program([], functions: [fn()]), "function f starts at byte 0, outside the code (0 bytes)"),
        // Limits of a program built in memory (the decoder enforces them on bytes).
        Rejection("name too long", program(returnZero, functions: [fn(String(repeating: "n", count: 65))]),
                  "function name \(String(repeating: "n", count: 65)) is 65 bytes; the limit is 64"),
        Rejection("too many parameters", program(returnZero, functions: [fn(params: [ValueType](repeating: .int, count: 17))]),
                  "function f has 17 parameters; the limit is 16"),
        Rejection("too many locals", program(returnZero, functions: [fn(locals: 256)]), "function f has 256 local slots; the limit is 255"),
        Rejection("too many constants", program(returnZero, constants: [[UInt8]](repeating: [], count: 1_025)),
                  "the program has 1025 constants; the limit is 1024"),
        Rejection("constant too long", program(returnZero, constants: [[1], [UInt8](repeating: 0, count: 4_097)]),
                  "constant 1 is 4097 bytes; the limit is 4096"),
        Rejection("too many functions", program(returnZero, functions: (0...256).map { fn("f\($0)") }),
                  "the program has 257 functions; the limit is 256"),
        Rejection("code too long", program(returnZero + [UInt8](repeating: Opcode.pop.rawValue, count: 65_536 - 9)),
                  "the code is 65537 bytes; the limit is 65536"),
        // Decoding the instructions.
        Rejection("unknown opcode", program([0xff]), "unknown opcode 0xff at byte 0"),
        Rejection("unknown opcode after a valid one", program(returnZero + [0x07]), "unknown opcode 0x07 at byte 10"),
        Rejection("push_int cut off", program([Opcode.pushInt.rawValue, 0, 0]), "instruction push_int at byte 0 is cut off by the end of the code"),
        Rejection("jump cut off", program(returnZero + [Opcode.jump.rawValue, 0, 0, 0]), "instruction jump at byte 10 is cut off by the end of the code"),
        Rejection("push_const cut off", program(returnZero + [Opcode.pushConst.rawValue, 0]),
                  "instruction push_const at byte 10 is cut off by the end of the code"),
        // Operands.
        Rejection("jump outside the code", program(Asm.code { $0.jump(.jump, to: 100); $0.pushInt(0); $0.op(.ret) }),
                  "jump at byte 0 goes to byte 100, outside the code (15 bytes)"),
        Rejection("jump to the end of the code", program(Asm.code { $0.pushInt(0); $0.jump(.jumpIfFalse, to: 24); $0.pushInt(0); $0.op(.ret) }),
                  "jump at byte 9 goes to byte 24, outside the code (24 bytes)"),
        Rejection("jump into an immediate", program(Asm.code { $0.jump(.jump, to: 6); $0.pushInt(0); $0.op(.ret) }),
                  "jump at byte 0 goes to byte 6, which is not the start of an instruction"),
        Rejection("unknown constant", program(Asm.code { $0.pushConst(1); $0.op(.ret) }, constants: [[1]]),
                  "push_const at byte 0 names constant 1; the program has 1"),
        Rejection("constant of an empty table", program(Asm.code { $0.pushConst(0); $0.op(.ret) }),
                  "push_const at byte 0 names constant 0; the program has 0"),
        Rejection("unknown function", program(Asm.code { $0.call(1); $0.op(.ret) }), "call at byte 0 names function 1; the program has 1"),
        Rejection("unknown host function", program(Asm.code { $0.op(.host); $0.raw(15); $0.pushInt(0); $0.op(.ret) }),
                  "unknown host function 15 at byte 0"),
        Rejection("unknown ABI type 0", program(Asm.code { $0.pushInt(0); $0.op(.abiEncode); $0.raw(0); $0.op(.ret) }),
                  "abi_encode at byte 9 names unknown type 0"),
        Rejection("unknown ABI type 5", program(Asm.code { $0.pushInt(0); $0.op(.abiEncode); $0.raw(5); $0.op(.ret) }),
                  "abi_encode at byte 9 names unknown type 5"),
        // The abstract run over every path.
        Rejection("add with one value", program(Asm.code { $0.pushInt(1); $0.op(.add); $0.op(.ret) }),
                  "in function f, add at byte 9 needs 2 values but the stack holds 1 (stack underflow)"),
        Rejection("ret on an empty stack", program([Opcode.ret.rawValue]),
                  "in function f, ret at byte 0 needs 1 values but the stack holds 0 (stack underflow)"),
        Rejection("pop on an empty stack", program([Opcode.pop.rawValue] + returnZero),
                  "in function f, pop at byte 0 needs 1 values but the stack holds 0 (stack underflow)"),
        Rejection("slice with two values", program(Asm.code { $0.pushInt(1); $0.pushInt(1); $0.op(.slice); $0.op(.ret) }),
                  "in function f, slice at byte 18 needs 3 values but the stack holds 2 (stack underflow)"),
        Rejection("host pay with two values", program(Asm.code { $0.pushInt(1); $0.pushInt(1); $0.host(.pay); $0.pushInt(0); $0.op(.ret) }),
                  "in function f, host at byte 18 needs 3 values but the stack holds 2 (stack underflow)"),
        Rejection("call with too few arguments",
                  program(Asm.code { $0.pushInt(1); $0.call(1); $0.op(.ret); $0.load(0); $0.op(.ret) },
                          functions: [fn(), fn("g", .internal, params: [.int, .int], entry: 13)]),
                  "in function f, call at byte 9 needs 2 values but the stack holds 1 (stack underflow)"),
        Rejection("underflow in a second function",
                  program(returnZero + [Opcode.neg.rawValue, Opcode.ret.rawValue], functions: [fn(), fn("g", entry: 10)]),
                  "in function g, neg at byte 10 needs 1 values but the stack holds 0 (stack underflow)"),
        Rejection("stack overflow", program(Asm.code { for _ in 0...64 { $0.pushInt(1) }; $0.op(.ret) }),
                  "in function f, the stack grows past 64 values at byte 576 (stack overflow)"),
        Rejection("dup past the limit", program(Asm.code { $0.pushInt(1); for _ in 0..<64 { $0.op(.dup) }; $0.op(.ret) }),
                  "in function f, the stack grows past 64 values at byte 72 (stack overflow)"),
        Rejection("heights differ where an if meets", program(Asm.code {
            $0.pushInt(1); $0.jump(.jumpIfFalse, "join"); $0.pushInt(5); $0.label("join"); $0.pushInt(0); $0.op(.ret)
        }), "in function f, the stack holds 0 values at byte 23 on one path and 1 on another (from byte 14)"),
        Rejection("a loop that grows the stack", program(Asm.code { $0.label("top"); $0.pushInt(1); $0.jump(.jump, "top") }),
                  "in function f, the stack holds 0 values at byte 0 on one path and 1 on another (from byte 9)"),
        Rejection("running off the end", program(Asm.code { $0.pushInt(1) }),
                  "in function f, execution runs past the end of the code after byte 0"),
        Rejection("running off the end after a branch", program(Asm.code {
            $0.pushInt(0); $0.jump(.jumpIfFalse, "out"); $0.pushInt(0); $0.op(.ret); $0.label("out"); $0.pushInt(7); $0.op(.pop)
        }), "in function f, execution runs past the end of the code after byte 33"),
        Rejection("ret with two values", program(twoPush), "in function f, ret at byte 18 leaves 2 values on the stack; it must leave exactly 1"),
        Rejection("load of a missing local", program(Asm.code { $0.load(2); $0.op(.ret) }, functions: [fn(params: [.int], locals: 2)]),
                  "in function f, load at byte 0 uses local 2; the function has 2"),
        Rejection("store with no locals", program(Asm.code { $0.pushInt(1); $0.store(0); $0.pushInt(0); $0.op(.ret) }),
                  "in function f, store at byte 9 uses local 0; the function has 0"),
    ]

    @Test(arguments: rejections)
    func rejects(_ r: Rejection) {
        #expect(verifyMessage(r.program) == r.message)
        // Through the bytes (when they encode) the message is the same, and the engine refuses the code at deploy.
        if let bytes = Self.encodable(r.program) {
            let fromBytes = verifyMessage(bytes)
            #expect(fromBytes == r.message || fromBytes?.hasPrefix("malformed program:") == true)
            #expect(vm.verify(code: bytes) == fromBytes)
        }
    }

    /// The canonical bytes of `p`, when its fields fit the encoding (uvarints are not negative).
    static func encodable(_ p: Program) -> [UInt8]? {
        p.functions.allSatisfy({ $0.entry >= 0 && $0.locals >= 0 }) ? p.canonicalBytes : nil
    }

    @Test func acceptsWhatTheRulesAllow() {
        // Exactly 64 values on the stack.
        #expect(verifyMessage(program(Asm.code {
            for _ in 0..<64 { $0.pushInt(1) }
            for _ in 0..<63 { $0.op(.pop) }
            $0.op(.ret)
        })) == nil)
        // Unreachable code is decoded but not run abstractly.
        #expect(verifyMessage(program(returnZero + [Opcode.add.rawValue, Opcode.pop.rawValue])) == nil)
        // A loop whose height is the same around the back edge; trap ends a path.
        #expect(verifyMessage(program(Asm.code {
            $0.label("top"); $0.pushInt(1); $0.jump(.jumpIfFalse, "end"); $0.jump(.jump, "top")
            $0.label("end"); $0.pushConst(0); $0.op(.trap)
        }, constants: [Array("no".utf8)])) == nil)
        // No functions at all; every host function and ABI type is known.
        #expect(verifyMessage(program([], functions: [])) == nil)
        for h in HostFunction.allCases {
            let (pops, pushes) = h.stackEffect
            #expect(verifyMessage(program(Asm.code {
                for _ in 0..<pops { $0.pushInt(0) }
                $0.host(h)
                for _ in 0..<pushes { $0.op(.pop) }
                $0.pushInt(0); $0.op(.ret)
            })) == nil, "\(h)")
        }
        for t in ValueType.allCases {
            #expect(verifyMessage(program(Asm.code { $0.pushInt(0); $0.abiEncode(t); $0.op(.ret) })) == nil)
        }
    }

    // MARK: The compiler's output

    static let sources = [
        "pub fn f() -> int { return 1 + 2 * 3; }",
        """
        storage n: int;
        map owners: bytes => address;
        event Set(k: bytes, who: address, n: int);
        init(start: int) { n = start; }
        pub fn set(k: bytes) -> bool {
            require(len(k) > 0, "empty key");
            owners[k] = caller();
            n = n + 1;
            emit Set(k, caller(), n);
            schedule later(k) at now() + 1000;
            return true;
        }
        sched fn later(k: bytes) { delete owners[k]; }
        fn helper(a: int, b: int) -> int { if a > b { return a; } else { return b; } }
        """,
        // An if/else whose branches both return, as the last statement of the last function.
        "pub fn f(x: int) -> int { if x > 0 { return 1; } else if x < 0 { return -1; } else { return 0; } }",
        "fn g() -> int { require(false, \"never\"); } pub fn f() -> int { return 1; } fn h() -> int { require(false, \"no\"); }",
        "pub fn f() { let i = 0; while i < 10 { if i == 5 { return; } i = i + 1; } }",
    ]

    @Test(arguments: sources)
    func compilerOutputVerifies(_ source: String) throws {
        let c = try compile(source)
        #expect(verifyMessage(c.bytecode) == nil)
        #expect(try Program(canonicalBytes: c.bytecode) == c.program)
        #expect(vm.verify(code: c.bytecode) == nil)
    }

    @Test func theLetterOfCreditVerifies() throws {
        let c = TradeChain.letterOfCredit
        #expect(verifyMessage(c.bytecode) == nil)
        #expect(c.program.function(named: "present")?.info.params.count == 16)
    }

    @Test func ifElseReturningAtTheEndOfTheCodeRuns() throws {
        // Regression: the jump past the else branch used to target the end of the code, and
        // compiling crashed on the compiler's own verifier check.
        let c = try compile("pub fn f(x: int) -> int { if x > 0 { return 1; } else if x < 0 { return -1; } else { return 0; } }")
        #expect(outputValues(run(c, "f", [.int(5)])) == [.int(1)])
        #expect(outputValues(run(c, "f", [.int(-5)])) == [.int(-1)])
        #expect(outputValues(run(c, "f", [.int(0)])) == [.int(0)])
        let r = try compile("pub fn f() -> int { require(false, \"always\"); }")
        #expect(run(r).failure == "revert: always")
    }

    // MARK: Robustness

    /// Runs every function of a verified program with arguments of the right types (internal
    /// functions too, by starting a copy in which every function is public).
    static func exercise(_ p: VerifiedProgram) {
        var open = p.program
        for i in open.functions.indices { open.functions[i].kind = .public }
        guard let bytes = encodable(open) else { return }
        #expect(verifyMessage(bytes) == nil, "making functions public changed verification")
        for f in open.functions {
            let args: [ABIValue] = f.params.map {
                switch $0 {
                case .int: .int(3)
                case .bool: .bool(true)
                case .bytes: .bytes(Array("ab".utf8))
                case .address: .address(addr(1))
                }
            }
            let host = MockHost()
            let o = run(bytes, f.name, args, gas: 3_000, host: host)
            #expect(o.gasUsed <= 3_000)
            #expect(o.succeeded || o.failure != nil)
        }
    }

    @Test func randomBytesNeverCrashTheVerifier() {
        var rng = SplitMix64(seed: 0x5eed_0001)
        var verified = 0
        for i in 0..<4_000 {
            var bytes = (0..<Int.random(in: 0...48, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            // Half start with a valid header and small counts, to get past the first fields.
            if i % 2 == 0 { bytes = [0x0d, 0x01, UInt8.random(in: 0...2, using: &rng), 0x01, 0x01, UInt8(ascii: "f")] + bytes }
            if let p = try? Verifier.verify(bytes) {
                verified += 1
                Self.exercise(p)
            }
        }
        #expect(verified < 4_000)
    }

    @Test func randomInstructionStreamsVerifyOrNotAndRunSafely() {
        // Code made of real opcodes with small immediates. Most streams keep the stack balanced
        // (so they verify and run, mixing integers and bytes at random); the rest are free.
        var rng = SplitMix64(seed: 0x5eed_0002)
        let ops = Opcode.allCases.filter { $0 != .ret && $0 != .jump && $0 != .jumpIfFalse }
        var verified = 0
        for round in 0..<3_000 {
            let balanced = round % 4 != 0
            var a = Asm()
            var height = 0
            var skips = 0
            for _ in 0..<Int.random(in: 1...24, using: &rng) {
                let op = ops.randomElement(using: &rng)!
                let (pops, pushes): (Int, Int) = switch op {
                case .pushInt, .pushConst, .load: (0, 1)
                case .pop, .store, .trap: (1, 0)
                case .dup: (1, 2)
                case .neg, .not, .len, .intToBytes, .bytesToInt, .sha256, .abiEncode: (1, 1)
                case .slice: (3, 1)
                case .call: (1, 1)
                case .host: (0, 0)
                default: (2, 1)
                }
                if balanced && (height < pops || height - pops + pushes > 8) { continue }
                switch op {
                case .pushInt: a.pushInt([0, 1, -1, 3, 20, .max, .min].randomElement(using: &rng)!)
                case .pushConst: a.pushConst(Int.random(in: 0...(balanced ? 1 : 2), using: &rng))
                case .load: a.load(Int.random(in: 0...(balanced ? 2 : 3), using: &rng))
                case .store: a.store(Int.random(in: 0...(balanced ? 2 : 3), using: &rng))
                case .call: a.call(Int.random(in: 0...(balanced ? 1 : 2), using: &rng))
                case .host:
                    let h = HostFunction.allCases.randomElement(using: &rng)!
                    if balanced && height < h.stackEffect.pops { continue }
                    a.host(h)
                    height += h.stackEffect.pushes - h.stackEffect.pops
                    continue
                case .abiEncode: a.op(.abiEncode); a.raw(UInt8.random(in: balanced ? 1...4 : 0...4, using: &rng))
                default: a.op(op)
                }
                height += pushes - pops
                if op == .trap { break }
                // Now and then, a forward branch over a balanced push/pop.
                if balanced && height < 8 && Int.random(in: 0..<6, using: &rng) == 0 {
                    a.pushInt(Int64.random(in: 0...1, using: &rng))
                    a.jump(.jumpIfFalse, "skip\(skips)")
                    a.pushInt(9); a.op(.pop)
                    a.label("skip\(skips)")
                    skips += 1
                }
            }
            if balanced {
                while height > 1 { a.op(.pop); height -= 1 }
                if height == 0 { a.pushInt(0) }
                a.op(.ret)
            } else if Bool.random(using: &rng) {
                a.jump(.jump, to: Int.random(in: 0...(a.offset + 4), using: &rng))
            }
            // g has code of its own (functions may not share instructions).
            let gEntry = a.offset
            a.load(0); a.op(.ret)
            let code = a.code
            let p = Program(constants: [Array("USD".utf8), [UInt8](repeating: 0xaa, count: 20)],
                            functions: [fn("f", params: [.int], result: [.int, .bytes, .bool, .address].randomElement(using: &rng)!, locals: 3, entry: 0),
                                        fn("g", .internal, params: [.bytes], result: .bytes, locals: 2,
                                           entry: balanced ? gEntry : Int.random(in: 0..<code.count, using: &rng))],
                            code: code)
            if let v = try? Verifier.verify(p.canonicalBytes) {
                verified += 1
                Self.exercise(v)
            }
        }
        #expect(verified > 1_000, "too few random programs verified (\(verified)) to exercise the interpreter")
    }

    @Test func mutatedCompiledProgramsNeverCrash() throws {
        var rng = SplitMix64(seed: 0x5eed_0003)
        let small = try compile(Self.sources[1]).bytecode
        var verified = 0
        // Every byte of a small contract, three random values each.
        for i in small.indices {
            for _ in 0..<3 {
                var b = small
                b[i] = UInt8.random(in: 0...255, using: &rng)
                if b == small { continue }
                if let p = try? Verifier.verify(b) {
                    verified += 1
                    Self.exercise(p)
                }
            }
        }
        // Random single-byte mutations of the letter of credit.
        let big = TradeChain.letterOfCredit.bytecode
        for _ in 0..<300 {
            var b = big
            b[Int.random(in: b.indices, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            if let p = try? Verifier.verify(b) {
                verified += 1
                if verified % 4 == 0 { Self.exercise(p) }
            }
        }
        #expect(verified > 0)
    }
}
